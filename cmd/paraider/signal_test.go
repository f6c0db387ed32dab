package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// blockedHelper is the test binary run as a paraider command that blocks
// where no context reaches (here: forever) once told to stop.
const blockedHelper = "PARAIDER_TEST_BLOCKED"

func runBlockedHelper() {
	ctx, stop := signalContext(300*time.Millisecond, os.Stderr)
	defer stop()
	os.WriteFile(os.Getenv(blockedHelper), nil, 0o644) // ready
	<-ctx.Done()
	select {} // a read that never returns
}

// Ctrl-C always ends a paraider command: one stuck where its context does
// not reach exits with 130 once the bound after the signal has passed.
func TestSignalAlwaysEnds(t *testing.T) {
	ready := t.TempDir() + "/ready"
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), blockedHelper+"="+ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the helper never got ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("ended with %v; want exit %d", err, exitInterrupted)
		}
	case <-time.After(time.Minute):
		t.Fatal("still running a minute after SIGINT")
	}
}
