// Package ninja owns Ninja: Writer writes Ninja files (the one place
// paraider spells Ninja's syntax), and Run runs the ninja binary for
// `paraider run`: found on PATH, run in the plan's directory with the
// terminal passed through (so NINJA_STATUS, colours and the console pool
// work), and stopped cleanly when paraider is told to stop.
package ninja

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// ErrMissing says ninja is not installed.
var ErrMissing = errors.New("ninja is not installed")

// Result is how a ninja run ended.
type Result struct {
	ExitCode int
	// Interrupted is set when ninja was stopped by a signal, ours or the
	// terminal's (ninja exits 2 with "interrupted by user").
	Interrupted bool
}

// StopGrace is how long ninja has to stop its jobs after SIGTERM.
var StopGrace = 2 * time.Minute

// Run runs ninja with args in dir. When ctx ends, ninja gets SIGTERM, which
// it passes to every job's process group, and, should it not exit within
// StopGrace, SIGKILL.
func Run(ctx context.Context, dir string, args []string, stdout, stderr io.Writer) (Result, error) {
	path, err := exec.LookPath("ninja")
	if err != nil {
		return Result{}, ErrMissing
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return Result{}, fmt.Errorf("starting ninja: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var werr error
	signalled := false
	select {
	case werr = <-done:
	case <-ctx.Done():
		signalled = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case werr = <-done:
		case <-time.After(StopGrace):
			cmd.Process.Kill()
			werr = <-done
		}
	}
	res := Result{}
	var ee *exec.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		res.ExitCode = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode, res.Interrupted = 128+int(ws.Signal()), true
		}
	default:
		return res, werr
	}
	// Ninja exits 2 when interrupted; 2 is also its code for a bad build
	// file, so only a signal we saw counts.
	if signalled || ctx.Err() != nil {
		res.Interrupted = true
	}
	return res, nil
}
