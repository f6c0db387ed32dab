package runner

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		data, err := os.ReadFile(path)
		if err == nil && len(bytes.TrimSpace(data)) > 0 {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never written", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func gone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func waitPidGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A child left running in the background after the leader exits is stopped.
func TestProcStopsLeftovers(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	var out bytes.Buffer
	p := &proc{Argv: []string{"/bin/sh", "-c", "sleep 300 & echo $! > " + pidFile + "; echo done"}, Out: &out, Timeout: time.Minute}
	o := p.run(context.Background())
	if o.ExitCode != 0 || o.TimedOut {
		t.Fatalf("outcome %+v", o)
	}
	waitPidGone(t, readPid(t, pidFile))
	if !strings.Contains(out.String(), "done") {
		t.Fatalf("output %q", out.String())
	}
}

// A timeout stops the leader and its grandchildren, even ones that ignore
// SIGTERM.
func TestProcTimeout(t *testing.T) {
	old := Grace
	Grace = 300 * time.Millisecond
	defer func() { Grace = old }()
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	script := "trap '' TERM; (trap '' TERM; sleep 300) & echo $! > " + pidFile + "; sleep 300"
	p := &proc{Argv: []string{"/bin/sh", "-c", script}, Out: &bytes.Buffer{}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	o := p.run(context.Background())
	if !o.TimedOut || o.ExitCode != -1 || o.Signal == "" {
		t.Fatalf("outcome %+v; want a timeout ended by a signal", o)
	}
	waitPidGone(t, readPid(t, pidFile))
	t.Logf("stopped in %s", time.Since(start))
}

// Cancelling the context (paraider was told to stop) stops the group too.
func TestProcInterrupt(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	ctx, cancel := context.WithCancel(context.Background())
	p := &proc{Argv: []string{"/bin/sh", "-c", "sleep 300 & echo $! > " + pidFile + "; wait"}, Out: &bytes.Buffer{}, Timeout: time.Minute}
	done := make(chan outcome)
	go func() { done <- p.run(ctx) }()
	pid := readPid(t, pidFile)
	cancel()
	select {
	case o := <-done:
		if !o.Interrupted {
			t.Fatalf("outcome %+v; want interrupted", o)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	waitPidGone(t, pid)
}

func TestProcStartError(t *testing.T) {
	p := &proc{Argv: []string{"/nonexistent/agent"}, Out: &bytes.Buffer{}}
	if o := p.run(context.Background()); o.StartErr == nil || o.ExitCode != -1 {
		t.Fatalf("outcome %+v; want a start error", o)
	}
}

// The child's PWD names where it runs, not where paraider was started.
func TestProcSetsPWD(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	// env(1) prints the environment as given; a shell would mend PWD itself.
	p := &proc{Argv: []string{"/usr/bin/env"}, Dir: dir, Env: []string{"PWD=/somewhere/else", "PATH=/usr/bin:/bin"}, Out: &out}
	if o := p.run(context.Background()); o.ExitCode != 0 {
		t.Fatalf("outcome %+v", o)
	}
	if !strings.Contains(out.String(), "PWD="+dir+"\n") || strings.Contains(out.String(), "/somewhere/else") {
		t.Errorf("environment:\n%s\nwant PWD=%s", out.String(), dir)
	}
}

// TestNothingLeft: the quick look before a scan of /proc says "nothing
// left" only when no process of the group is left, not even a zombie, and
// (with sweep) this process has no child.
func TestNothingLeft(t *testing.T) {
	if _, ok := children(os.Getpid()); !ok {
		t.Skip("no /proc/PID/task/TID/children here")
	}
	// A group of its own whose leader runs: something is left.
	c := exec.Command("sleep", "30")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := c.Process.Pid
	if nothingLeft(pgid, false) || nothingLeft(pgid, true) {
		t.Fatal("a running leader: nothing left, says the quick look")
	}
	c.Process.Kill()
	// Killed but not reaped: a zombie child is still something.
	waitPidGone(t, pgid)
	if nothingLeft(pgid, true) {
		t.Fatal("a zombie child: nothing left, says the quick look")
	}
	if got := leftovers(pgid, false); len(got) != 0 {
		t.Fatalf("leftovers of a group with only a zombie: %v", got)
	}
	c.Wait()
	if !nothingLeft(pgid, false) || !nothingLeft(pgid, true) {
		t.Fatal("the group is gone and no child is left, yet the quick look sees something")
	}
	// This process's own group always holds this process: with sweep,
	// only its children count.
	if !nothingLeft(os.Getpid(), true) {
		t.Fatal("no child of ours, yet something left in our own group")
	}
	d := exec.Command("sleep", "30")
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()
	if nothingLeft(os.Getpid(), true) {
		t.Fatal("a child of ours runs: nothing left, says the quick look")
	}
}

// TestSuperviseWithoutGate: the supervisor run without its pipes (by
// hand, fd 4 an event fd another tool left open) says so and ends at once,
// rather than waiting for a job forever.
func TestSuperviseWithoutGate(t *testing.T) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Skip("no eventfd here")
	}
	ev := os.NewFile(uintptr(efd), "eventfd")
	defer ev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], SuperviseArg)
	cmd.ExtraFiles = []*os.File{ev, ev}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("the supervisor waited for a job on an event fd")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "pipes on fds 3 and 4") {
		t.Fatalf("exit %v, output %q; want exit 2 and what it needs", err, out)
	}
}
