//go:build linux && !paraider_portable

package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/internal/treelog"
	"github.com/paraider/paraider/internal/treewatch"
	"github.com/paraider/paraider/state"
)

func gitRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	// .paraider/specs as gen leaves it: the host watches it for the guard.
	if err := os.MkdirAll(filepath.Join(root, state.Dir, "specs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, d, "f.txt"), []byte(d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"}} {
		if out, err := exec.Command("git", append([]string{"-C", root}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return root
}

// hostGone waits (bounded) for the journal's lock to be free.
func hostGone(t *testing.T, dir string) bool {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if treelog.Open(dir) == nil {
			return true
		}
	}
	return false
}

// The run's journal: none made until a reader asks (a run with nothing
// to do looks at nothing), then kept while the host runs, a reader's
// token answered; and where the watch cannot be kept (a tree of more
// directories than a watch takes), the host lets go of the lock once
// asked and makes no journal, so that no attempt waits for one.
func TestHostTreeLog(t *testing.T) {
	root := gitRepo(t)
	dir := state.Layout{Root: root}.Path(state.TreeLogDir)
	stop := HostTreeLog(root)
	j := treelog.Open(dir)
	if j == nil {
		t.Fatal("no host after HostTreeLog")
	}
	// None is made before the reader asks. (A wait can only let a
	// host that starts at once pass unseen, never fail this one: a
	// look at this tree takes a few milliseconds.)
	time.Sleep(50 * time.Millisecond)
	for _, name := range []string{"journal", "journal.new"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s made before any reader asked", name)
		}
	}
	if _, _, _, err := j.Since(t.Context(), treelog.Token{}); err != nil {
		t.Fatalf("the host did not answer: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "journal")); err != nil {
		t.Errorf("no journal after a reader asked: %v", err)
	}
	stop()
	if treelog.Open(dir) != nil {
		t.Error("the host's lock is still held after stop")
	}
	// Stopped before any reader asked: nothing made, the lock let go.
	root = gitRepo(t)
	dir = state.Layout{Root: root}.Path(state.TreeLogDir)
	HostTreeLog(root)()
	if _, err := os.Stat(filepath.Join(dir, "journal")); err == nil || treelog.Open(dir) != nil {
		t.Errorf("a run that asked nothing: journal %v, host %v", err, treelog.Open(dir) != nil)
	}

	defer func(n int) { treewatch.MaxDirs = n }(treewatch.MaxDirs)
	treewatch.MaxDirs = 2
	root = gitRepo(t)
	dir = state.Layout{Root: root}.Path(state.TreeLogDir)
	stop = HostTreeLog(root)
	defer stop()
	if j = treelog.Open(dir); j == nil {
		t.Fatal("no host after HostTreeLog")
	}
	if _, _, _, err := j.Since(t.Context(), treelog.Token{}); err != treelog.ErrNoHost {
		t.Errorf("a tree the watch cannot take: Since said %v, want %v", err, treelog.ErrNoHost)
	}
	if !hostGone(t, dir) {
		t.Fatal("a tree the watch cannot take: the host still holds the lock")
	}
	if _, err := os.Stat(filepath.Join(dir, "journal")); err == nil {
		t.Error("a tree the watch cannot take: a journal was made")
	}
}

// The guard, where the run keeps a journal, learns from it which specs an
// attempt wrote; where the journal cannot tell by the attempt's end (its
// host stopped), it holds every spec to what gen last wrote: the forged
// one is found, the others are not named.
func TestGuardSpecsFromTheJournal(t *testing.T) {
	for _, hostStops := range []bool{false, true} {
		root := gitRepo(t)
		written := state.Written{}
		for _, id := range []string{"a", "b"} {
			p := filepath.Join(root, filepath.FromSlash(state.SpecPath(id)))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(`{"id":"`+id+`"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			sum, err := state.OwnSum(p)
			if err != nil {
				t.Fatal(err)
			}
			written[state.SpecPath(id)] = sum
		}
		if err := state.WriteJSON(filepath.Join(root, filepath.FromSlash(state.WrittenPath)), written); err != nil {
			t.Fatal(err)
		}
		stop := HostTreeLog(root)
		g := newGuard(t.Context(), root, []string{"a", "b"})
		before := g.take()
		if g.log == nil {
			stop()
			t.Fatal("the guard did not take the journal (the test's premise)")
		}
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(state.SpecPath("b"))), []byte(`{"id":"b","agent":"forged"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if hostStops {
			stop()
		}
		tp := g.settle(before, filepath.Join(t.TempDir(), "kept"))
		stop()
		if tp == nil || !strings.Contains(tp.String(), "specs/b.json") || strings.Contains(tp.String(), "specs/a.json") {
			t.Errorf("host stops %v: tamper %v; want specs/b.json alone", hostStops, tp)
		}
	}
}
