//go:build linux && !paraider_portable

package treelog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/paraider/paraider/internal/treewatch"
)

// host is a journal kept as runner.HostTreeLog keeps it, of a tree in
// root with the journal's directory in root/.j.
type host struct {
	t    *testing.T
	root string
	dir  string
	jw   *Writer
	w    *treewatch.Watch
}

func newHost(t *testing.T, root string, release func()) *host {
	t.Helper()
	h := &host{t: t, root: root, dir: filepath.Join(root, ".j")}
	if release == nil {
		var err error
		if release, err = Lock(h.dir); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(release)
	h.start()
	return h
}

// start begins a generation.
func (h *host) start() {
	h.t.Helper()
	jw, err := Create(h.dir)
	if err != nil {
		h.t.Fatal(err)
	}
	w, err := treewatch.Stream(h.root, treewatch.SkipUnder(".j"), jw)
	if err != nil {
		h.t.Fatal(err)
	}
	if err := w.Mark(filepath.Join(h.dir, cookiesName)); err != nil {
		h.t.Fatal(err)
	}
	if err := jw.Ready(); err != nil {
		h.t.Fatal(err)
	}
	h.jw, h.w = jw, w
	h.t.Cleanup(h.end)
}

// end ends the generation, as the host does.
func (h *host) end() {
	if h.w != nil {
		h.w.Stop()
		h.jw.Close()
		h.w = nil
	}
}

func write(t *testing.T, root, rel string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
		t.Fatal(err)
	}
}

func since(t *testing.T, r *Reader, from Token) ([]string, Token, bool) {
	t.Helper()
	paths, now, ok, err := r.Since(context.Background(), from)
	if err != nil {
		t.Fatalf("Since: %v", err)
	}
	return paths, now, ok
}

// Since names what was written between two of its tokens, every write
// made before it included, and nothing from before the first; from no
// token, or one of another generation, it cannot tell.
func TestSinceNamesWritesBetweenTokens(t *testing.T) {
	root := t.TempDir()
	write(t, root, "old.txt")
	h := newHost(t, root, nil)
	r := Open(h.dir)
	if r == nil {
		t.Fatal("Open found no host")
	}
	paths, t0, ok := since(t, r, Token{})
	if ok || paths != nil {
		t.Errorf("from no token: %q, %v; want nothing, false", paths, ok)
	}
	for i := 0; i < 50; i++ {
		// A write just before Since is never missed.
		write(t, root, "old.txt")
		write(t, root, "src/new/deep.txt")
		paths, t1, ok := since(t, r, t0)
		if !ok || !slices.Equal(paths, []string{"old.txt", "src"}) {
			t.Fatalf("round %d: %q, %v; want [old.txt src], true", i, paths, ok)
		}
		os.RemoveAll(filepath.Join(root, "src"))
		paths, t2, ok := since(t, r, t1)
		if !ok || !slices.Equal(paths, []string{"src"}) {
			t.Fatalf("round %d: after the removal %q, %v; want [src], true", i, paths, ok)
		}
		if paths, _, ok := since(t, r, t2); !ok || len(paths) != 0 {
			t.Fatalf("round %d: nothing written, yet %q, %v", i, paths, ok)
		}
		// The same token read again says the same.
		if again, _, ok := since(t, r, t1); !ok || !slices.Equal(again, []string{"src"}) {
			t.Fatalf("round %d: read again %q, %v", i, again, ok)
		}
		t0 = t2
	}
	// Every cookie was a link to one file: none left, and no file made
	// and removed for each.
	seed, err := os.Stat(filepath.Join(h.dir, seedName))
	if err != nil {
		t.Fatalf("no seed file: the cookies were not links to it: %v", err)
	}
	if st, ok := seed.Sys().(*syscall.Stat_t); !ok || st.Nlink != 1 {
		t.Errorf("the seed has %v links after the readers: cookies left behind", seed.Sys())
	}
	if left, _ := os.ReadDir(filepath.Join(h.dir, cookiesName)); len(left) != 0 {
		t.Errorf("cookies left: %v", left)
	}
	// A .gitignore written: what git ignores may have changed.
	write(t, root, "sub/.gitignore")
	if paths, _, ok := since(t, r, t0); ok {
		t.Errorf("a .gitignore written, yet the journal vouched for %q", paths)
	}
	select {
	case why := <-h.jw.Trouble():
		t.Logf("the host starts again: %s", why)
	case <-time.After(10 * time.Second):
		t.Error("a .gitignore written: the host was not told to start again")
	}

	// A new generation: a token of the last one cannot tell.
	h.end()
	h.start()
	write(t, root, "old.txt")
	if paths, _, ok := since(t, r, t0); ok {
		t.Errorf("a token of another generation: the journal vouched for %q", paths)
	}
}

// A reader asks the host to start again through the cookies' directory.
func TestRestartAsks(t *testing.T) {
	h := newHost(t, t.TempDir(), nil)
	Open(h.dir).Restart()
	select {
	case <-h.jw.Trouble():
	case <-time.After(10 * time.Second):
		t.Fatal("Restart did not reach the host")
	}
}

// Where the journal cannot answer, Since says so within its bound: no
// host (Open finds none), a host whose watch lost track, a host that
// holds the lock but never writes; and it waits for a host between two
// generations.
func TestSinceWithoutAnAnswer(t *testing.T) {
	defer func(d time.Duration) { syncWait = d }(syncWait)
	syncWait = 300 * time.Millisecond
	root := t.TempDir()
	dir := filepath.Join(root, ".j")
	if Open(dir) != nil {
		t.Error("Open found a host where none ever was")
	}
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(dir); err == nil {
		t.Error("a second host took the lock")
	}
	// Held, but no journal yet: Since waits for one, then gives up.
	r := Open(dir)
	if r == nil {
		t.Fatal("Open did not see the lock held")
	}
	start := time.Now()
	if _, _, _, err := r.Since(context.Background(), Token{}); !errors.Is(err, ErrNoHost) {
		t.Errorf("no journal: %v, want ErrNoHost", err)
	}
	if d := time.Since(start); d < syncWait {
		t.Errorf("gave up after %v, before syncWait", d)
	}

	// A journal that ends (the watch lost track) while a host holds the
	// lock: Since waits for the next generation and reads it (however
	// long a busy machine takes to start one, within the bound).
	syncWait = time.Minute
	write(t, root, "dir/f.txt")
	h := newHost(t, root, release)
	_, t0, _ := since(t, r, Token{})
	// A directory renamed: its watch would go on under the old name.
	if err := os.Rename(filepath.Join(root, "dir"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.jw.Trouble():
	case <-time.After(10 * time.Second):
		t.Fatal("a directory renamed: the host was not told")
	}
	done := make(chan error, 1)
	go func() {
		_, _, ok, err := r.Since(context.Background(), t0)
		if err == nil && ok {
			err = errors.New("vouched across generations")
		}
		done <- err
	}()
	h.end()
	h.start()
	if err := <-done; err != nil {
		t.Errorf("across a new generation: %v", err)
	}

	// The host gone: Open finds none.
	h.end()
	release()
	if Open(dir) != nil {
		t.Error("Open found a host after its lock went")
	}
}

// A generation that ends before it is ready (a run over before its watch
// covered the tree) leaves no file behind.
func TestUnreadyGenerationLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".j")
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	jw, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	jw.Close()
	for _, name := range []string{journalName, journalName + ".new"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is left", name)
		}
	}
}

// A journal its host left without its end (a run killed with -9): a
// reader that waits there for its cookie moves on to the next run's
// journal once that is in place (its host starts it when the reader
// calls), not at its deadline.
func TestSinceLeavesADeadJournal(t *testing.T) {
	defer func(d time.Duration) { syncWait = d }(syncWait)
	syncWait = 10 * time.Second
	root := t.TempDir()
	dir := filepath.Join(root, ".j")
	release, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	dead, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := dead.Ready(); err != nil {
		t.Fatal(err)
	}
	dead.Flush()
	release() // killed: the lock goes, no end is written
	release, err = Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	started := make(chan error, 1)
	var w *treewatch.Watch
	go func() {
		if !AwaitReader(context.Background(), dir) {
			started <- errors.New("no reader called")
			return
		}
		jw, err := Create(dir)
		if err == nil {
			if w, err = treewatch.Stream(root, treewatch.SkipUnder(".j"), jw); err == nil {
				if err = w.Mark(filepath.Join(dir, cookiesName)); err == nil {
					err = jw.Ready()
				}
			}
		}
		started <- err
	}()
	r := Open(dir)
	if r == nil {
		t.Fatal("no host after Lock")
	}
	start := time.Now()
	_, _, _, err = r.Since(context.Background(), Token{})
	if serr := <-started; serr != nil {
		t.Fatal(serr)
	}
	if w != nil {
		defer w.Stop()
	}
	if err != nil {
		t.Fatalf("Since after %v: %v, want the new journal's answer", time.Since(start).Round(time.Millisecond), err)
	}
}
