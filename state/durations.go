package state

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A task's working time is a fact about the task that orders the next run
// (longest chain first), not a result to forget: `paraider reset` removes
// a task's result so that it runs again, and keeps how long its last
// success worked here first.

// Durations are seconds of working time of each task's last success.
type Durations map[string]float64

// Durations reads the working times kept across resets; none when there
// are none (or they cannot be read: they only order a run).
func (l Layout) Durations() Durations {
	d := Durations{}
	ReadJSON(l.Path(DurationsPath), &d)
	return d
}

// KeepDurations keeps the working time of each of tasks whose result is a
// success, before the results are removed.
func (l Layout) KeepDurations(tasks []string) error {
	d := l.Durations()
	changed := false
	for _, id := range tasks {
		var r Result
		if ReadJSON(l.Path(ResultPath(id)), &r) != nil || r.Status != StatusOK || r.Working() <= 0 {
			continue
		}
		d[id] = r.Working().Seconds()
		changed = true
	}
	if !changed {
		return nil
	}
	return WriteJSON(l.Path(DurationsPath), d)
}

// WorkedCachePath caches what Worked read from each result: gen weighs
// every task at each run, and reading ten thousand results was a third
// of a gen that changed nothing.
const WorkedCachePath = Dir + "/worked.cache"

// Worked returns the working seconds of each task whose result is a
// success. A result is read only when it is not in the cache with the
// same size and time (a listing of the results and a look at each
// file's size and time, instead of ten thousand opens and parses); the
// cache is written back when it changed. It only orders a run: what
// cannot be read is left out.
func (l Layout) Worked() map[string]float64 {
	dir := l.Path(Dir + "/results")
	entries, _ := os.ReadDir(dir)
	cache := readWorkedCache(l.Path(WorkedCachePath))
	next := make(map[string]workedEntry, len(entries))
	out := make(map[string]float64, len(entries))
	changed := len(cache) != len(entries)
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		c, hit := cache[id]
		if !hit || c.size != fi.Size() || c.mtime != fi.ModTime().UnixNano() {
			changed = true
			c = workedEntry{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
			var r Result
			if ReadJSON(filepath.Join(dir, e.Name()), &r) == nil && r.Status == StatusOK && r.Working() > 0 {
				c.seconds = r.Working().Seconds()
			}
		}
		next[id] = c
		if c.seconds > 0 {
			out[id] = c.seconds
		}
	}
	if changed {
		writeWorkedCache(l.Path(WorkedCachePath), next)
	}
	return out
}

type workedEntry struct {
	size, mtime int64
	seconds     float64 // 0: not a success
}

// readWorkedCache reads lines of ID, size, time (unix ns) and seconds,
// tab-separated; a line it cannot read is left out (read again).
func readWorkedCache(path string) map[string]workedEntry {
	out := map[string]workedEntry{}
	data, err := ReadOwn(path, 64<<20)
	if err != nil {
		return out
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 4 {
			continue
		}
		size, err1 := strconv.ParseInt(f[1], 10, 64)
		mtime, err2 := strconv.ParseInt(f[2], 10, 64)
		secs, err3 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out[f[0]] = workedEntry{size, mtime, secs}
	}
	return out
}

func writeWorkedCache(path string, m map[string]workedEntry) {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		c := m[id]
		fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", id, c.size, c.mtime, strconv.FormatFloat(c.seconds, 'g', -1, 64))
	}
	WriteIfChanged(path, []byte(b.String()))
}
