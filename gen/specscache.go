package gen

import (
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/paraider/paraider/state"
)

// specsCachePath remembers, for each spec gen wrote, the sum of its
// compact JSON, the sum of the bytes on disk, and the file's size and
// time then. A gen that finds the same compact JSON and the file as it
// left it neither indents nor reads it: at ten thousand tasks those were
// a third of a gen that changed nothing, or one task.
const specsCachePath = state.Dir + "/specs.cache"

type specMemo struct {
	key, sum    string // sums of the compact JSON and of the file's bytes
	size, mtime int64
}

// readSpecsCache reads lines of ID, key, sum, size and time (unix ns),
// tab-separated; what it cannot read is left out (the spec is compared
// by its bytes, as without a cache).
func readSpecsCache(path string) map[string]specMemo {
	out := map[string]specMemo{}
	data, err := state.ReadOwn(path, 256<<20)
	if err != nil {
		return out
	}
	for line := range strings.Lines(string(data)) {
		f := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		if len(f) != 5 {
			continue
		}
		size, err1 := strconv.ParseInt(f[3], 10, 64)
		mtime, err2 := strconv.ParseInt(f[4], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		out[f[0]] = specMemo{key: f[1], sum: f[2], size: size, mtime: mtime}
	}
	return out
}

func writeSpecsCache(path string, m map[string]specMemo) error {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		c := m[id]
		b.WriteString(id + "\t" + c.key + "\t" + c.sum + "\t" + strconv.FormatInt(c.size, 10) + "\t" + strconv.FormatInt(c.mtime, 10) + "\n")
	}
	_, err := state.WriteIfChanged(path, []byte(b.String()))
	return err
}

// specsOnDisk is the size and time of each file in the specs directory.
func specsOnDisk(dir string) map[string]os.FileInfo {
	out := map[string]os.FileInfo{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			out[e.Name()] = fi
		}
	}
	return out
}

// memoOf is what the cache keeps of a spec file just written or found
// unchanged.
func memoOf(file, key, sum string) (specMemo, bool) {
	fi, err := os.Lstat(file)
	if err != nil || !fi.Mode().IsRegular() {
		return specMemo{}, false
	}
	return specMemo{key: key, sum: sum, size: fi.Size(), mtime: fi.ModTime().UnixNano()}, true
}
