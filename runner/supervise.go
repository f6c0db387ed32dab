package runner

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// SuperviseArg is the hidden first argument that makes the paraider binary
// a supervisor (see Supervise).
const SuperviseArg = "__supervise"

// Supervisor is the command that starts a supervisor: the running binary
// with SuperviseArg. When nil, children are started directly, and a kill
// -9 of paraider leaves what the agent started to the next run's sweep.
var Supervisor []string

// The supervisor sits between paraider exec and the agent, and outlives a
// kill -9 of paraider exec long enough to end everything the agent
// started. It leads the agent's process group and is the subreaper of the
// agent's orphans, so it finds them all: the group's members, and
// processes that left the group (setsid) and whose parents died. It learns
// of exec's death from a pipe whose write end only exec holds: the read
// end sees EOF the moment exec dies, however it died. Signals to the group
// (a timeout, Ctrl-C) reach the agent directly; the supervisor lets the
// agent handle them and ends with the agent's own status, so exec sees
// the agent's exit code or signal.
//
// Supervise runs the supervisor: args are the program's path, then its
// argv. Fd 3 is the lifeline. It never returns.
func Supervise(args []string) {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "paraider: "+SuperviseArg+" PATH ARGV0 [ARGS...]")
		os.Exit(2)
	}
	becomeSubreaper()
	lifeline := os.NewFile(3, "lifeline")
	syscall.CloseOnExec(3)
	// The group's signals are for the agent; the supervisor waits for it.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	cmd := exec.Command(args[0])
	cmd.Args = args[1:]
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Should the supervisor itself be killed, the agent goes too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "paraider: cannot start %s: %v\n", args[0], err)
		os.Exit(127)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	orphaned := make(chan struct{})
	go func() {
		io.Copy(io.Discard, lifeline)
		close(orphaned)
	}()
	for {
		select {
		case <-sigs:
			continue
		case err := <-waited:
			exitLike(err)
		case <-orphaned:
			// paraider exec is gone: nobody will judge this attempt.
			endAll()
			os.Exit(137)
		}
	}
}

// endAll kills every other process of this group and every child of ours
// (orphans that came to us), until none is left or five seconds passed.
func endAll() {
	self := os.Getpid()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		left := 0
		for _, pid := range leftovers(self, true) {
			if pid != self && pid != -self {
				syscall.Kill(pid, syscall.SIGKILL)
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exitLike ends the supervisor as the agent ended: with its exit status,
// or killed by the same signal.
func exitLike(err error) {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			signal.Reset(ws.Signal())
			syscall.Kill(os.Getpid(), ws.Signal())
			time.Sleep(time.Second) // a signal that does not end us
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ee.ExitCode())
	}
	if err != nil {
		os.Exit(127)
	}
	os.Exit(0)
}
