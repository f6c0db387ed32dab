package runner

import (
	"encoding/json"
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
// A supervisor is started ahead of its agent (startSupervisor), while
// paraider exec still prepares the attempt (the snapshot, git status):
// its start costs a process of its own. It learns what to run from its
// gate, fd 4: a superviseJob in JSON, then EOF; a gate closed without a
// job (the attempt ended before its agent ran, or exec died) ends it.
//
// Supervise runs the supervisor; fd 3 is the lifeline, fd 4 the gate.
// It never returns.
func Supervise([]string) {
	// Run by hand, fds 3 and 4 are whatever the shell or another tool
	// left open (perf's event fds once): reading a job from one could
	// wait forever.
	if !isPipe(3) || !isPipe(4) {
		fmt.Fprintf(os.Stderr, "paraider: %s is run by paraider exec, which hands it a job through pipes on fds 3 and 4\n", SuperviseArg)
		os.Exit(2)
	}
	becomeSubreaper()
	lifeline := os.NewFile(3, "lifeline")
	syscall.CloseOnExec(3)
	gate := os.NewFile(4, "gate")
	syscall.CloseOnExec(4)
	// The group's signals are for the agent; the supervisor waits for it.
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	var job superviseJob
	if err := json.NewDecoder(gate).Decode(&job); err != nil || len(job.Argv) == 0 {
		os.Exit(0)
	}
	gate.Close()
	// The path as exec found it (a relative one is taken from Dir).
	cmd := &exec.Cmd{Path: job.Path, Args: job.Argv, Dir: job.Dir, Env: job.Env, Stdout: os.Stdout, Stderr: os.Stderr}
	// Should the supervisor itself be killed, the agent goes too (Linux;
	// elsewhere the lifeline and the group's sweep see to it).
	cmd.SysProcAttr = agentProcAttr()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "paraider: cannot start %s: %v\n", job.Path, err)
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

// superviseJob is what a supervisor runs.
type superviseJob struct {
	Path string   `json:"path"`
	Argv []string `json:"argv"`
	Dir  string   `json:"dir"`
	Env  []string `json:"env"`
}

// supervisor is a supervisor started and waiting at its gate.
type supervisor struct {
	cmd      *exec.Cmd
	out      *os.File // the read end of its output (the agent's, then)
	lifeline *os.File // the write end: it dies with this process
	gate     *os.File // the write end: the job, then EOF
}

// startSupervisor starts a supervisor (Supervisor, in a process group of
// its own: not killed with this process, which it must outlive to end
// the agent's processes).
func startSupervisor() (*supervisor, error) {
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err == nil {
			files = append(files, r, w)
		}
		return r, w, err
	}
	lr, lw, err1 := pipe()
	gr, gw, err2 := pipe()
	pr, pw, err3 := pipe()
	if err := errors.Join(err1, err2, err3); err != nil {
		closeAll()
		return nil, err
	}
	cmd := exec.Command(Supervisor[0], Supervisor[1:]...)
	cmd.ExtraFiles = []*os.File{lr, gr}
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		closeAll()
		return nil, err
	}
	// The child has its copies of these.
	lr.Close()
	gr.Close()
	pw.Close()
	return &supervisor{cmd: cmd, out: pr, lifeline: lw, gate: gw}, nil
}

// abort ends a supervisor that will run nothing: its gate closes without
// a job, and it is waited for (killed, should it not end).
func (s *supervisor) abort() {
	if s == nil {
		return
	}
	s.gate.Close()
	s.lifeline.Close()
	done := make(chan struct{})
	go func() {
		s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	s.out.Close()
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

// isPipe reports whether fd is open on a pipe.
func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}
