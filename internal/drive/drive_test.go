//go:build unix

package drive

import (
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestArgs(t *testing.T) {
	for _, c := range []struct {
		outer string
		want  string
	}{
		{"ninja", "-j 9 -f b.ninja report"},
		{"/usr/bin/ninja -j 2", "-j 2 -f b.ninja report"},
		{"ninja -j2 -k0", "-j 2 -k 0 -f b.ninja report"},
		{"ninja -C sub -f other.ninja -k 0", "-j 9 -k 0 -f b.ninja report"},
		{"ninja -vj3 -d explain", "-v -j 3 -d explain -f b.ninja report"},
		{"ninja --verbose -l 4 -w dupbuild=err", "-j 9 --verbose -l 4 -w dupbuild=err -f b.ninja report"},
		{"ninja .paraider/ninja -j 5 --quiet", "-j 5 --quiet -f b.ninja report"},
		{"ninja -- -j 5", "-j 9 -f b.ninja report"},
	} {
		got := strings.Join(Args(strings.Fields(c.outer), 9, "b.ninja", []string{"report"}), " ")
		if got != c.want {
			t.Errorf("Args(%q) = %q; want %q", c.outer, got, c.want)
		}
	}
}

func TestParseOwn(t *testing.T) {
	jobs, file, targets, err := parseOwn([]string{"-j", "7", "-f", "build.ninja", "report"})
	if err != nil || jobs != 7 || file != "build.ninja" || !slices.Equal(targets, []string{"report"}) {
		t.Fatalf("parseOwn = %d %q %q %v", jobs, file, targets, err)
	}
	for _, bad := range [][]string{nil, {"-j", "x", "-f", "b", "t"}, {"-j", "0", "-f", "b", "t"}, {"-j", "3", "t"}, {"-j", "3", "-f", "b"}} {
		if _, _, _, err := parseOwn(bad); err == nil {
			t.Errorf("parseOwn(%q): no error", bad)
		}
	}
}

// TestBroken: a pipe whose reader closed is broken; one that is read is
// not.
func TestBroken(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if broken(int(w.Fd())) {
		t.Fatal("a pipe with its reader open reads as broken")
	}
	r.Close()
	if !broken(int(w.Fd())) {
		t.Fatal("a pipe whose reader closed does not read as broken")
	}
}

// TestWatchedPipes: an inherited write-only pipe is watched; one already
// broken, or one this process reads, is not.
func TestWatchedPipes(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	r2, w2, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r2.Close()
	defer w2.Close()
	got := watchedPipes()
	if !slices.Contains(got, int(w.Fd())) || slices.Contains(got, int(r.Fd())) || slices.Contains(got, int(w2.Fd())) {
		t.Errorf("watchedPipes = %v; want %d among them, not %d (read end) nor %d (broken)", got, w.Fd(), r.Fd(), w2.Fd())
	}
}

// TestRunStopsWhenOuterCloses: the outer Ninja closing its end of the
// console pipe interrupts the inner one, whose exit code comes back.
func TestRunStopsWhenOuterCloses(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := exec.Command("sleep", "60")
	code := make(chan int, 1)
	go func() { code <- run(cmd, os.Getppid(), []int{int(w.Fd())}, io.Discard) }()
	r.Close()
	wantStopped(t, cmd, code, "the pipe closing")
}

// wantStopped: run returns, within 30 s, the exit code of a process
// stopped by SIGTERM.
func wantStopped(t *testing.T, cmd *exec.Cmd, code <-chan int, after string) {
	t.Helper()
	select {
	case c := <-code:
		if c != 128+int(syscall.SIGTERM) {
			t.Errorf("exit code %d; want %d (SIGTERM)", c, 128+int(syscall.SIGTERM))
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the inner process was not stopped within 30s of %s", after)
	}
}

func TestRunExitCode(t *testing.T) {
	if c := run(exec.Command("sh", "-c", "exit 3"), os.Getppid(), nil, io.Discard); c != 3 {
		t.Errorf("exit code %d; want 3", c)
	}
	if c := run(exec.Command("/nonexistent/ninja"), os.Getppid(), nil, io.Discard); c != 1 {
		t.Errorf("exit code %d for a Ninja that cannot start; want 1", c)
	}
}

// TestRunStopsWhenOuterDies: a parent other than the outer Ninja (it died,
// and this process was handed to another) interrupts the inner Ninja, also
// where no pipe is watched.
func TestRunStopsWhenOuterDies(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	code := make(chan int, 1)
	go func() { code <- run(cmd, -1, nil, io.Discard) }()
	wantStopped(t, cmd, code, "the parent's change")
}
