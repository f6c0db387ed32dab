package gen

import (
	"os"
	"strings"

	"github.com/paraider/paraider/state"
)

// specsCachePath remembers, for each spec gen wrote, the sum of its
// compact JSON and the sum of the bytes on disk, with the file's size and
// time then (a state.FileMemo whose value is "KEY SUM"). A gen that finds
// the same compact JSON and the file as it left it neither indents nor
// reads it: at ten thousand tasks those were a third of a gen that
// changed nothing, or one task.
const specsCachePath = state.Dir + "/specs.cache"

// specMemo is a spec's line of the cache.
type specMemo struct {
	key, sum string // sums of the compact JSON and of the file's bytes
	file     state.FileMemo
}

func readSpecsCache(path string) map[string]specMemo {
	out := map[string]specMemo{}
	for id, m := range state.ReadMemos(path) {
		if key, sum, ok := strings.Cut(m.Value, " "); ok {
			out[id] = specMemo{key: key, sum: sum, file: m}
		}
	}
	return out
}

func writeSpecsCache(path string, m map[string]specMemo) error {
	memos := make(map[string]state.FileMemo, len(m))
	for id, c := range m {
		c.file.Value = c.key + " " + c.sum
		memos[id] = c.file
	}
	return state.WriteMemos(path, memos)
}

// specsOnDisk is the size and time of each file in the specs directory.
func specsOnDisk(dir string) map[string]os.FileInfo {
	files := state.RegularFiles(dir)
	out := make(map[string]os.FileInfo, len(files))
	for _, fi := range files {
		out[fi.Name()] = fi
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
	return specMemo{key: key, sum: sum, file: state.MemoOf(fi, "")}, true
}
