package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Grace is how long a process group has between SIGTERM and SIGKILL.
var Grace = 5 * time.Second

// proc is one child process run in its own process group, so that it and
// everything it starts can be stopped together.
type proc struct {
	Path    string // the program; Argv[0] when empty
	Argv    []string
	Dir     string
	Env     []string
	Out     io.Writer // stdout and stderr, interleaved as written
	Timeout time.Duration
	// Sweep also stops every other child of this process once the leader
	// has exited: with paraider exec as subreaper, those are the agent's
	// orphans that left its group. Only safe where the agent is our only
	// child.
	Sweep bool
	// Sup is a supervisor started ahead (startSupervisor), waiting for
	// this process to run; nil: run starts one itself.
	Sup *supervisor
}

// outcome is how a proc ended.
type outcome struct {
	ExitCode    int // -1 when killed by a signal or never started
	Signal      string
	TimedOut    bool
	Interrupted bool  // ctx was cancelled: paraider itself was told to stop
	StartErr    error // the process could not be started
}

// run starts p and waits for it, its timeout, or ctx. On every path out the
// whole process group is stopped: SIGTERM, then SIGKILL after Grace.
func (p *proc) run(ctx context.Context) outcome {
	if Supervisor != nil {
		return p.runSupervised(ctx)
	}
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	if p.Path != "" {
		cmd.Path, cmd.Err = p.Path, nil
	}
	cmd.Dir = p.Dir
	// PWD must name the directory the child runs in: some agents
	// (opencode) take their working directory from it, and would work in
	// the directory ninja was started from, not the worktree.
	cmd.Env = withPWD(p.Env, p.Dir)
	// Stdin stays nil: the child reads /dev/null, as under Ninja.
	pr, pw, err := os.Pipe()
	if err != nil {
		return outcome{ExitCode: -1, StartErr: err}
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return outcome{ExitCode: -1, StartErr: err}
	}
	pw.Close()
	return p.wait(ctx, cmd, pr)
}

// runSupervised runs p under a supervisor that leads the group in its
// place and ends it should this process be killed (see Supervise): the
// one started ahead, or a new one. The supervisor is told what to run
// through its gate.
func (p *proc) runSupervised(ctx context.Context) outcome {
	sup := p.Sup
	p.Sup = nil
	if sup == nil {
		var err error
		if sup, err = startSupervisor(); err != nil {
			return outcome{ExitCode: -1, StartErr: err}
		}
	}
	cmd := exec.Command(p.Argv[0], p.Argv[1:]...)
	if p.Path != "" {
		cmd.Path, cmd.Err = p.Path, nil
	}
	// What cannot start is said here, not by the supervisor's exit.
	prog := cmd.Path
	if !filepath.IsAbs(prog) && p.Dir != "" {
		prog = filepath.Join(p.Dir, prog)
	}
	if cmd.Err == nil {
		_, cmd.Err = exec.LookPath(prog)
	}
	if cmd.Err != nil {
		sup.abort()
		return outcome{ExitCode: -1, StartErr: cmd.Err}
	}
	// PWD must name the directory the child runs in (see run).
	job := superviseJob{Path: cmd.Path, Argv: p.Argv, Dir: p.Dir, Env: withPWD(p.Env, p.Dir)}
	err := json.NewEncoder(sup.gate).Encode(job)
	sup.gate.Close()
	if err != nil {
		sup.abort()
		return outcome{ExitCode: -1, StartErr: fmt.Errorf("telling the supervisor what to run: %w", err)}
	}
	defer sup.lifeline.Close()
	return p.wait(ctx, sup.cmd, sup.out)
}

// wait waits for the started cmd under p's timeout and ctx, stops its
// group on every way out, and copies its output from pr to p.Out.
func (p *proc) wait(ctx context.Context, cmd *exec.Cmd, pr *os.File) outcome {
	pgid := cmd.Process.Pid

	copied := make(chan struct{})
	go func() {
		io.Copy(p.Out, pr)
		close(copied)
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	var timeout <-chan time.Time
	if p.Timeout > 0 {
		t := time.NewTimer(p.Timeout)
		defer t.Stop()
		timeout = t.C
	}

	var o outcome
	var werr error
	select {
	case werr = <-waited:
		// The leader is done; anything it left behind goes.
		stopGroup(pgid, Grace, p.Sweep)
	case <-timeout:
		o.TimedOut = true
		werr = stopLeader(pgid, waited, p.Sweep)
	case <-ctx.Done():
		o.Interrupted = true
		werr = stopLeader(pgid, waited, p.Sweep)
	}

	// Everyone holding the pipe is gone now, unless a process left the
	// group (setsid); don't wait for those forever.
	select {
	case <-copied:
	case <-time.After(2 * time.Second):
	}
	pr.Close()

	o.ExitCode = -1
	var ee *exec.ExitError
	switch {
	case werr == nil:
		o.ExitCode = 0
	case errors.As(werr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.Signal = ws.Signal().String()
		} else {
			o.ExitCode = ee.ExitCode()
		}
	}
	return o
}

// stopLeader stops the group while the leader still runs and returns the
// leader's wait error.
// The whole sequence takes at most Grace and a few seconds: the rest of
// the group shares the leader's grace, and a leader that SIGKILL does not
// end (stuck in the kernel) is not waited for long.
func stopLeader(pgid int, waited <-chan error, sweep bool) error {
	start := time.Now()
	signalAll(pgid, sweep, syscall.SIGTERM)
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(Grace):
		signalAll(pgid, sweep, syscall.SIGKILL)
		select {
		case werr = <-waited:
		case <-time.After(2 * time.Second):
			werr = errors.New("still running after SIGKILL")
		}
	}
	stopGroup(pgid, max(Grace-time.Since(start), 0), sweep)
	return werr
}

// stopGroup ends every process left in the group (and, with sweep, every
// other child of ours): SIGTERM, up to grace to go, then SIGKILL. It returns
// when none is left or, should one be unkillable, after a bounded wait.
func stopGroup(pgid int, grace time.Duration, sweep bool) {
	if len(leftovers(pgid, sweep)) == 0 {
		return
	}
	signalAll(pgid, sweep, syscall.SIGTERM)
	if waitGone(pgid, sweep, grace) {
		return
	}
	signalAll(pgid, sweep, syscall.SIGKILL)
	waitGone(pgid, sweep, 2*time.Second)
}

func signalAll(pgid int, sweep bool, sig syscall.Signal) {
	syscall.Kill(-pgid, sig)
	for _, pid := range leftovers(pgid, sweep) {
		syscall.Kill(pid, sig)
	}
}

func waitGone(pgid int, sweep bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if len(leftovers(pgid, sweep)) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (o outcome) String() string {
	switch {
	case o.StartErr != nil:
		return "could not start: " + o.StartErr.Error()
	case o.Signal != "":
		return "killed by signal " + o.Signal
	default:
		return fmt.Sprintf("exit status %d", o.ExitCode)
	}
}

// withPWD returns env with PWD set to dir (absolute), when dir is set.
func withPWD(env []string, dir string) []string {
	if dir == "" {
		return env
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return env
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PWD=") {
			out = append(out, kv)
		}
	}
	return append(out, "PWD="+abs)
}
