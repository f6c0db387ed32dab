// Package drive runs Ninja again, inside the Ninja that a plain `ninja`
// started, with a -j that lets the plan's agents run as its jobs says.
//
// paraider's places queue (runner/places.go) holds the agents to jobs and
// picks the longest chain first, which needs Ninja to start more tasks
// than jobs: the ones waiting for a place wait in the queue, where the
// chain goes first. Ninja's own -j is ncpu+2 (3 on two cores), below jobs
// on a small machine, and a build file cannot raise it. So when gen finds
// Ninja's default too low for the plan, the default target of the build
// file is one edge in the console pool that runs this: the same Ninja
// binary, the same build file, the real targets, and the -j the queue
// needs (or the -j, -k, -l, -d, -w, -v the outer Ninja was given).
//
// The inner Ninja has the terminal (console pool), so its progress shows
// as it goes. A console job is not signalled by Ninja: Ctrl-C reaches the
// whole foreground group, but a signal sent to the outer Ninja alone (kill
// PID, a CI runner's cancel) or its death would leave the inner one
// running. The outer Ninja, interrupted, closes its end of the pipe it
// watches its console job by; this process watches for that, and for its
// parent's death, and then interrupts the inner Ninja, which stops its
// tasks as on Ctrl-C.
//
// drive owns the inner Ninja's command line and its lifetime; it knows
// nothing of plans or tasks (gen writes the edge, cmd/paraider calls Main).
package drive

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paraider/paraider/internal/proc"
)

// Arg is the hidden command Ninja runs: paraider __ninja -j N -f FILE
// TARGET...
const Arg = "__ninja"

// checkEvery is how often the outer Ninja is looked at.
const checkEvery = 100 * time.Millisecond

// stopWithin is how long the inner Ninja has to stop its tasks once
// interrupted before it is killed (paraider exec stops an agent within
// seconds; Ninja waits for every task it started).
const stopWithin = 2 * time.Minute

// Main runs the inner Ninja for the command line gen wrote (args after
// Arg) and returns the exit code for the outer Ninja. beside, when not
// nil, starts what should run as long as the inner Ninja does, and
// returns what stops it: it starts once the pipes this process inherited
// are known (its own are not the outer Ninja's).
func Main(args []string, stderr io.Writer, beside func() (stop func())) int {
	jobs, file, targets, err := parseOwn(args)
	if err != nil {
		fmt.Fprintf(stderr, "paraider %s: %v (this is what the build file paraider gen writes runs; run ninja)\n", Arg, err)
		return 2
	}
	ppid := os.Getppid()
	ninja, outer := outerNinja(ppid)
	cmd := exec.Command(ninja, Args(outer, jobs, file, targets)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	pipes := watchedPipes()
	if beside != nil {
		defer beside()()
	}
	return run(cmd, ppid, pipes, stderr)
}

// parseOwn reads gen's command line: -j N -f FILE TARGET...
func parseOwn(args []string) (jobs int, file string, targets []string, err error) {
	for len(args) >= 2 && (args[0] == "-j" || args[0] == "-f") {
		switch args[0] {
		case "-j":
			if jobs, err = strconv.Atoi(args[1]); err != nil || jobs < 1 {
				return 0, "", nil, fmt.Errorf("-j %q: want a number of 1 or more", args[1])
			}
		case "-f":
			file = args[1]
		}
		args = args[2:]
	}
	if jobs == 0 || file == "" || len(args) == 0 {
		return 0, "", nil, errors.New("usage: -j N -f FILE TARGET...")
	}
	return jobs, file, args, nil
}

// outerNinja is the Ninja binary that started this process, and its
// arguments; "ninja" from PATH when the parent is not a Ninja (run by
// hand, or the table cannot be read).
func outerNinja(ppid int) (string, []string) {
	outer, err := proc.Args(ppid)
	if err != nil || len(outer) == 0 {
		return "ninja", nil
	}
	exe, err := proc.ExeOf(ppid)
	if err != nil || !filepath.IsAbs(exe) {
		exe = outer[0]
		if !strings.Contains(exe, "/") {
			if p, err := exec.LookPath(exe); err == nil {
				exe = p
			}
		} else if !filepath.IsAbs(exe) {
			exe = "" // relative to where Ninja started, before its -C
		}
	}
	base := filepath.Base(exe)
	if exe == "" || !(strings.Contains(base, "ninja") || strings.HasPrefix(base, "samu")) {
		return "ninja", nil
	}
	return exe, outer
}

// Args is the inner Ninja's command line: the flags of the outer Ninja's
// (its argv) that say how to build — -j, -k, -l, -d, -w, -v, --verbose,
// --quiet — with -j jobs when it was given none, then -f file and
// targets. -C is not passed on (this process runs where the outer Ninja
// went), nor -f and the targets (they named this edge), nor -n and -t
// (with them the outer Ninja runs no edge).
func Args(outer []string, jobs int, file string, targets []string) []string {
	var out []string
	hasJ := false
	// Ninja's getopt string: "d:f:j:k:l:nt:vw:C:h".
	const withValue = "dfjklt" + "wC"
	for i := 1; i < len(outer); i++ {
		a := outer[i]
		if a == "--" {
			break
		}
		if strings.HasPrefix(a, "--") {
			if a == "--verbose" || a == "--quiet" {
				out = append(out, a)
			}
			continue
		}
		if len(a) < 2 || a[0] != '-' {
			continue // a target: getopt lets options follow them
		}
		for k := 1; k < len(a); k++ {
			c := a[k]
			if !strings.ContainsRune(withValue, rune(c)) {
				if c == 'v' {
					out = append(out, "-v")
				}
				continue
			}
			v := a[k+1:]
			if v == "" && i+1 < len(outer) {
				i++
				v = outer[i]
			}
			switch c {
			case 'j':
				hasJ = true
				fallthrough
			case 'k', 'l', 'd', 'w':
				out = append(out, "-"+string(c), v)
			}
			break
		}
	}
	if !hasJ {
		out = append([]string{"-j", strconv.Itoa(jobs)}, out...)
	}
	out = append(out, "-f", file)
	return append(out, targets...)
}

// run starts the inner Ninja and waits for it: signals sent to this
// process are passed on, and the outer Ninja's interruption or death
// interrupts it. It returns the inner Ninja's exit code.
func run(cmd *exec.Cmd, ppid int, pipes []int, stderr io.Writer) int {
	// The pipes are the outer Ninja's plumbing: neither the inner Ninja
	// nor the agents under it may keep them open, or the outer Ninja
	// would wait for the last of them to exit.
	for _, fd := range pipes {
		syscall.CloseOnExec(fd)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "paraider: starting Ninja again with the -j the plan needs: %v\n", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	var kill <-chan time.Time
	interrupted := false
	interrupt := func(s os.Signal) {
		cmd.Process.Signal(s)
		if !interrupted {
			interrupted = true
			kill = time.After(stopWithin)
		}
	}
	for {
		select {
		case err := <-done:
			return exitCode(err)
		case s := <-sigs:
			interrupt(s)
		case <-tick.C:
			if !interrupted && outerGone(ppid, pipes) {
				fmt.Fprintln(stderr, "paraider: ninja was interrupted: stopping the tasks")
				interrupt(syscall.SIGTERM)
			}
		case <-kill:
			fmt.Fprintf(stderr, "paraider: Ninja did not stop within %s: killing it\n", stopWithin)
			cmd.Process.Kill()
		}
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 1
}

// outerGone reports whether the outer Ninja died (this process has
// another parent now) or closed its end of one of pipes.
func outerGone(ppid int, pipes []int) bool {
	if os.Getppid() != ppid {
		return true
	}
	for _, fd := range pipes {
		if broken(fd) {
			return true
		}
	}
	return false
}
