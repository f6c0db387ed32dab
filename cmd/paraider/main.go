// Command paraider runs many coding-agent tasks at once, over their
// dependency graph, with Ninja.
//
//	paraider gen && ninja
//
// See README.md for the plan format. Exit codes:
//
//	0    success
//	1    a task or a final check failed (report, run: the run failed)
//	2    the plan is invalid, or the command line is wrong
//	3    a task cannot start: its agent is missing or its API key is not set
//	124  a task's last attempt timed out
//	130  interrupted
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/buildinfo"
	"github.com/paraider/paraider/internal/drive"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/proc"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// Exit codes, mapped from errors in one place: exitCode.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitPreflight   = 3
	exitTimeout     = 124
	exitInterrupted = 130
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == runner.SuperviseArg {
		runner.Supervise(os.Args[2:])
	}
	if len(os.Args) > 1 && os.Args[1] == drive.Arg {
		// Plain ninja's inner Ninja: the run's watch of the main tree
		// lives as long as it does (runner.HostTreeLog).
		os.Exit(drive.Main(os.Args[2:], os.Stderr, func() func() { return runner.HostTreeLog(".") }))
	}
	if exe, err := proc.Exe(); err == nil {
		runner.Supervisor = []string{exe, runner.SuperviseArg}
	}
	os.Exit(paraider(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks command-line mistakes.
type errUsage struct{ error }

func (e errUsage) Unwrap() error { return e.error }

// paraider runs one command line and returns the exit code; main stays thin
// so that deferred work always runs.
func paraider(args []string, stdout, stderr io.Writer) int {
	if len(args) == 2 && args[0] == "exec" && plan.ValidID(args[1]) {
		// What Ninja runs for every task, parsed here: building kong's
		// parser for every command costs each task a few milliseconds.
		ctx, stop := signalContext(execStopWithin, stderr)
		defer stop()
		cli := &CLI{File: defaultPlan}
		return explain((&ExecCmd{Task: args[1]}).Run(cli, &Env{Ctx: ctx, Stdout: stdout, Stderr: stderr}), stderr)
	}
	var cli CLI
	exited := -1
	parser, err := kong.New(&cli,
		kong.Name("paraider"),
		kong.Description("Run many AI coding-agent tasks at once over their dependency graph, with Ninja.\nStart with paraider init (or paraider plan \"GOAL\"), then paraider run. More: README.md, paraider help COMMAND."),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.ExplicitGroups([]kong.Group{
			{Key: "start", Title: "Start:"},
			{Key: "run", Title: "Run:"},
			{Key: "look", Title: "Look:"},
			{Key: "review", Title: "Review and undo:"},
			{Key: "tidy", Title: "Tidy:"},
			{Key: "internal", Title: "Internal (Ninja and CI run these):"},
		}),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { exited = code }),
		kong.Vars{"version": buildinfo.Version(),
			"report_formats":      strings.Join(report.Formats(), ","),
			"graph_formats":       strings.Join(report.GraphFormats, ","),
			"report_formats_list": strings.Join(report.Formats(), ", "),
			"graph_formats_list":  strings.Join(report.GraphFormats, ", ")},
	)
	if err != nil {
		fmt.Fprintf(stderr, "paraider: %v\n", err)
		return exitFailed
	}
	if completeShell(parser) {
		return exitOK
	}
	if len(args) == 0 {
		// Bare paraider: the usage, as help gives it.
		args = []string{"--help"}
	}
	kctx, err := parser.Parse(args)
	if exited >= 0 {
		return exited
	}
	if err != nil {
		fmt.Fprintf(stderr, "paraider: %v\n", err)
		return exitUsage
	}
	ctx, stop := signalContext(execStopWithin+30*time.Second, stderr)
	defer stop()
	env := &Env{Ctx: ctx, Stdout: stdout, Stderr: stderr}
	err = kctx.Run(env)
	if exited >= 0 {
		return exited
	}
	return explain(err, stderr)
}

// execStopWithin is how long `paraider exec` may take to stop once told
// to (Ctrl-C, Ninja's SIGTERM): its agent's grace, recording what the
// attempt did, and the records. Past it something blocks that should not
// (a read that never returns), and the process exits all the same: the
// supervisor stops the agent's group when exec is gone, and every record
// is written atomically, so the next run finds a consistent state.
var execStopWithin = runner.Grace + runner.SettleGrace + 45*time.Second

// signalContext is a context that ends at SIGINT, SIGTERM or SIGHUP; and
// should the command not have ended within stopWithin of that signal,
// the process exits with 130, saying so. Ctrl-C always ends paraider.
func signalContext(stopWithin time.Duration, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs, done := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		select {
		case <-sigs:
		case <-done:
			return
		}
		cancel()
		select {
		case <-time.After(stopWithin):
			fmt.Fprintf(stderr, "paraider: still not stopped %s after the signal; exiting now\n", stopWithin)
			os.Exit(exitInterrupted)
		case <-done:
		}
	}()
	return ctx, func() { signal.Stop(sigs); close(done); cancel() }
}

// explain prints err in paraider's voice and returns its exit code.
func explain(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var (
		perrs plan.Errors
		pre   *runner.PreflightError
		te    *runner.TaskError
		ce    *runner.CheckError
		fe    *gen.ForeignError
		ue    errUsage
		np    *plan.NoPlanError
		ut    *state.UnknownTaskError
	)
	switch {
	case errors.As(err, &perrs):
		fmt.Fprintln(stderr, perrs.Error())
		fmt.Fprintf(stderr, "paraider: the plan is invalid; nothing was written\n")
		return exitUsage
	case errors.As(err, &te):
		// exec already printed the task's summary and log tail.
		if te.Interrupted() {
			return exitInterrupted
		}
		att := te.Result.Attempts
		if len(att) > 0 && att[len(att)-1].Failure == state.FailTimeout {
			return exitTimeout
		}
		return exitFailed
	case errors.As(err, &ce), errors.Is(err, errRunFailed):
		return exitFailed
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "paraider: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "paraider: %s\n", strings.TrimPrefix(err.Error(), "paraider: "))
	// Whatever carries it, a hint comes on its own line.
	var h human.Hinted
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.Hint())
	}
	switch {
	case errors.As(err, &pre) && pre.Unknown:
		return exitUsage // a task id the plan does not have: the command line
	case errors.As(err, &pre):
		return exitPreflight
	case errors.As(err, &fe), errors.As(err, &ue), errors.As(err, &np), errors.As(err, &ut):
		return exitUsage
	}
	return exitFailed
}
