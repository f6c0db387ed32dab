//go:build !linux || paraider_portable

package runner

import (
	"path/filepath"
	"sort"

	"github.com/paraider/paraider/state"
)

// The spec watch without inotify (macOS, and the paraider_portable build
// that runs this code on Linux in CI): the specs directory is listed
// before and after an attempt. (kqueue on a directory sees entries added
// and renamed, not a spec written in place: the listing sees both.)

// watchSpecs notes each spec's size and time, anew.
func (g *guard) watchSpecs() {
	g.specSnap = listSpecs(filepath.Join(g.root, state.Dir, "specs"))
}

func (g *guard) stopSpecs() { g.specSnap = nil }

// writtenSpecs lists the spec files written (or made) since watchSpecs.
func (g *guard) writtenSpecs() []string {
	if g.specSnap == nil {
		return nil
	}
	defer g.stopSpecs()
	dir := filepath.Join(g.root, state.Dir, "specs")
	var out []string
	for name, now := range listSpecs(dir) {
		if was, ok := g.specSnap[name]; !ok || was != now {
			out = append(out, filepath.Join(dir, name))
		}
	}
	sort.Strings(out)
	return out
}
