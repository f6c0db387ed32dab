package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	proctab "github.com/paraider/paraider/internal/proc"
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

func gone(pid int) bool { return !proctab.Running(pid) }

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
