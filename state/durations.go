package state

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/paraider/paraider/internal/par"
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
// success. A result is read only when it changed (see MemoDir).
func (l Layout) Worked() map[string]float64 {
	out := map[string]float64{}
	for id, v := range MemoDir(l.Path(Dir+"/results"), l.Path(WorkedCachePath), func(path string) string {
		var r Result
		if ReadJSON(path, &r) == nil && r.Status == StatusOK && r.Working() > 0 {
			return strconv.FormatFloat(r.Working().Seconds(), 'g', -1, 64)
		}
		return ""
	}) {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && secs > 0 {
			out[id] = secs
		}
	}
	return out
}

// SpecHashCachePath caches each spec's Hash, for SpecHashes.
const SpecHashCachePath = Dir + "/spechash.cache"

// SpecHashes returns the Hash of each task's spec on disk, which a result
// names (Result.SpecHash) to say which spec it is the result of. A spec is
// read only when it changed (see MemoDir): a report read every spec of
// ten thousand tasks to tell which results still hold.
func (l Layout) SpecHashes() map[string]string {
	return MemoDir(l.Path(Dir+"/specs"), l.Path(SpecHashCachePath), func(path string) string {
		var s Spec
		if ReadJSON(path, &s) != nil {
			return ""
		}
		return s.Hash()
	})
}

// MemoDir returns derive's value for each ID.json in dir (non-empty
// values only), derived again only for the files whose size or time
// differ from the cache's (side by side), which is written back when it
// changed: a listing, a look at each file's size and time, and one file
// read, instead of an open and a parse a file. What cannot be read is
// left out; the cache only saves work (its values have no tab nor
// newline).
func MemoDir(dir, cachePath string, derive func(path string) string) map[string]string {
	files := RegularFiles(dir)
	cache := ReadMemos(cachePath)
	next := make(map[string]FileMemo, len(files))
	var missed []os.FileInfo // to derive again
	for _, fi := range files {
		id, ok := strings.CutSuffix(fi.Name(), ".json")
		if !ok {
			continue
		}
		if c, hit := cache[id]; hit && c.Same(fi) {
			next[id] = c
			continue
		}
		missed = append(missed, fi)
	}
	derived := make([]string, len(missed))
	par.Each(len(missed), func(i int) { derived[i] = derive(filepath.Join(dir, missed[i].Name())) })
	for i, fi := range missed {
		next[strings.TrimSuffix(fi.Name(), ".json")] = MemoOf(fi, derived[i])
	}
	changed := len(missed) > 0 || len(cache) != len(files)
	out := make(map[string]string, len(next))
	for id, c := range next {
		if c.Value != "" {
			out[id] = c.Value
		}
	}
	if changed {
		WriteMemos(cachePath, next)
	}
	return out
}

// RegularFiles is the Lstat of each regular file in dir, taken side by
// side: ten thousand looks one after another were a tenth of a gen.
func RegularFiles(dir string) []os.FileInfo {
	entries, _ := os.ReadDir(dir)
	infos := make([]os.FileInfo, len(entries))
	par.Each(len(entries), func(i int) {
		if e := entries[i]; e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
				infos[i] = fi
			}
		}
	})
	out := infos[:0]
	for _, fi := range infos {
		if fi != nil {
			out = append(out, fi)
		}
	}
	return out
}

// FileMemo is what a cache of paraider's keeps of one file: its size and
// time when the value was derived from it, and the value.
type FileMemo struct {
	Size, Mtime int64
	Value       string // no tab nor newline; "": nothing to say of it
}

// MemoOf is value, remembered for the file fi describes.
func MemoOf(fi os.FileInfo, value string) FileMemo {
	return FileMemo{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Value: value}
}

// Same reports whether fi is the file as it was when m was made (by its
// size and time).
func (m FileMemo) Same(fi os.FileInfo) bool {
	return m.Size == fi.Size() && m.Mtime == fi.ModTime().UnixNano()
}

// ReadMemos reads a cache of FileMemos: lines of ID, size, time (unix ns)
// and value, tab-separated; a line it cannot read is left out (derived
// again).
func ReadMemos(path string) map[string]FileMemo {
	out := map[string]FileMemo{}
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
		if err1 != nil || err2 != nil {
			continue
		}
		out[f[0]] = FileMemo{size, mtime, f[3]}
	}
	return out
}

// WriteMemos writes a cache of FileMemos (when it changed).
func WriteMemos(path string, m map[string]FileMemo) error {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		c := m[id]
		fmt.Fprintf(&b, "%s\t%d\t%d\t%s\n", id, c.Size, c.Mtime, c.Value)
	}
	_, err := WriteIfChanged(path, []byte(b.String()))
	return err
}
