//go:build !linux || paraider_portable

package runner

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/state"
)

// The watches without inotify (macOS, and the paraider_portable build
// that runs this code on Linux in CI): the specs directory is listed
// before and after an attempt, and a waiting task looks at its queue
// entry's time every few milliseconds.

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

func listSpecs(dir string) map[string]specStat {
	m := map[string]specStat{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			m[e.Name()] = specStat{fi.Size(), fi.ModTime()}
		}
	}
	return m
}

// waker wakes a waiting task when its queue entry is touched (see
// wakeNext): by its time, looked at every wakerPoll.
type waker struct {
	entry string
	mod   time.Time
}

// wakerPoll is how often a waiting task looks at its entry's time.
const wakerPoll = 5 * time.Millisecond

func newWaker(entry string) *waker {
	w := &waker{entry: entry}
	if fi, err := os.Stat(entry); err == nil {
		w.mod = fi.ModTime()
	}
	return w
}

// wait returns once the entry was touched, or after d.
func (w *waker) wait(d time.Duration) {
	sleeping()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(min(wakerPoll, time.Until(deadline)))
		if fi, err := os.Stat(w.entry); err == nil && !fi.ModTime().Equal(w.mod) {
			w.mod = fi.ModTime()
			return
		}
	}
}

func (w *waker) close() {}
