package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/live"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/ninja"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
	"golang.org/x/term"
)

// RunCmd generates when stale, runs ninja keeping going past failures, and
// prints the report, failed or not.
type RunCmd struct {
	// Tasks limits the run to these tasks and what they need.
	Tasks []string `arg:"" optional:"" help:"Run only these tasks (and the tasks they need)." predictor:"task"`
	// Jobs is passed to ninja as -j; by default it is large enough for the
	// plan's pool to fill.
	Jobs int `short:"j" help:"Ninja's -j (default: enough for the plan's jobs)."`
	// DryRun says what would run, from the plan as it is now.
	DryRun bool `short:"n" help:"Show what a run would do, judged from the plan as it is now (as paraider exec judges, not by file times); writes and runs nothing."`
	// Verbose is ninja's -v.
	Verbose bool `short:"v" help:"Show each command line (ninja -v)."`
	// Commit makes each task that succeeds a commit, as `commit: true`.
	Commit bool `help:"Commit each task that succeeds, one commit per task (as the plan's commit: true)."`
}

// errInterrupted is what run returns when it was stopped by a signal.
var errInterrupted = errors.New("interrupted")

func (c *RunCmd) Run(cli *CLI, env *Env) error {
	root := cli.root()
	if c.DryRun {
		return c.dryRun(cli, env)
	}
	// One paraider run at a time in a repository: a second one would run
	// the same tasks again.
	lock, err := state.Layout{Root: root}.Lock(state.RunLock)
	if err != nil {
		return human.WithHint(errors.New("another paraider run is running in this repository"),
			"wait for it to finish (paraider status shows it), or stop it")
	}
	defer lock.Close()

	// The Ninja file the plan was generated to last (`paraider gen -o
	// F` in a repository with a build.ninja of its own), not build.ninja.
	ninjaFile := generatedNinja(root)
	p, sum, err := generate(cli, gen.Options{Output: filepath.Join(root, ninjaFile)})
	if err != nil {
		return err
	}
	if len(sum.SpecsWritten) > 0 {
		// Once, when the plan is new or changed: not on every run.
		report.WriteNotes(env.Stdout, p)
	}
	args, err := c.ninjaArgs(p)
	if err != nil {
		return err
	}
	if ninjaFile != "build.ninja" {
		args = append([]string{"-f", ninjaFile}, args...)
	}
	runID, err := c.start(root)
	if err != nil {
		return err
	}
	res, err := c.ninja(env, root, p, args)
	if errors.Is(err, ninja.ErrMissing) {
		return human.WithHint(err, "install it: apt-get install ninja-build (Debian, Ubuntu), brew install ninja (macOS)")
	} else if err != nil {
		return err
	}
	// The worktrees go (but as many warm ones as jobs), then the report.
	if err := isolate.PruneAt(root, false); err != nil {
		fmt.Fprintf(env.Stderr, "paraider: removing worktrees: %v\n", err)
	}
	ok, err := report.Finish(root, runID, env.Stdout, env.Stderr)
	switch {
	case err != nil:
		return err
	case res.Interrupted:
		return errInterrupted
	case res.ExitCode != 0, !ok:
		// One rule with the report's: a run of some tasks is judged by
		// them and what they need (report.Report.Scope).
		return errRunFailed
	}
	return nil
}

// start marks the run's start: one run id for however many tasks and
// checks it starts through Ninja (they find it in the environment), and
// the tasks it was asked for.
func (c *RunCmd) start(root string) (string, error) {
	runID := state.RunID(os.Getpid())
	os.Setenv(state.RunEnv, runID)
	if c.Commit {
		os.Setenv(runner.CommitEnv, "1")
	}
	mark := state.RunMark{Run: runID, At: time.Now().UTC(), Tasks: c.Tasks}
	return runID, state.WriteJSON(state.Layout{Root: root}.Path(state.RunStartPath), mark)
}

// ninja runs Ninja, under the live view on a terminal.
func (c *RunCmd) ninja(env *Env, root string, p *plan.Plan, args []string) (ninja.Result, error) {
	stdout, stderr := env.Stdout, env.Stderr
	if f, ok := env.Stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb" && os.Getenv("NO_COLOR") == "" && !c.Verbose {
		// On a terminal: the live view, in place of Ninja's own status.
		os.Setenv("NINJA_STATUS", live.NinjaStatus)
		view := live.New(f, p)
		defer view.Close()
		stdout, stderr = view, view
	}
	// One watch of the main tree for the whole run, read by the
	// attempts in place of a look at the whole tree each.
	defer runner.HostTreeLog(root)()
	return ninja.Run(env.Ctx, root, args, stdout, stderr)
}

// dryRun says what a run would do, from the plan as it is now, held in
// memory: it writes nothing (no gen) and runs nothing (report.Forecast).
func (c *RunCmd) dryRun(cli *CLI, env *Env) error {
	p, err := plan.Load(cli.File)
	if err != nil {
		return err
	}
	specs := report.SpecsOf(p)
	if specs == nil {
		return errors.New("the plan's agents could not be resolved")
	}
	st, err := report.BuildStatusOf(cli.root(), time.Now(), specs)
	if err != nil {
		return err
	}
	for _, id := range c.Tasks {
		if p.Task(id) == nil {
			return errUsage{human.WithHint(fmt.Errorf("no task %q in %s", id, p.File), "paraider validate lists the tasks")}
		}
	}
	report.ForecastOf(p, st, c.Tasks).Write(env.Stdout)
	return nil
}

// generatedNinja is the Ninja file, beside the plan, that the plan was
// last generated to; build.ninja when it was not yet.
func generatedNinja(root string) string {
	var run state.Run
	if state.ReadJSON(state.Layout{Root: root}.Path(state.RunPath), &run) == nil &&
		run.Ninja != "" && !strings.Contains(run.Ninja, "/") && run.Ninja != "." && run.Ninja != ".." {
		return run.Ninja
	}
	return "build.ninja"
}

// ninjaArgs is ninja's command line: keep going past failures, the -j
// that lets the tasks wait in paraider's queue, and the tasks named (every
// task and check when none is).
func (c *RunCmd) ninjaArgs(p *plan.Plan) ([]string, error) {
	var targets []string
	for _, id := range c.Tasks {
		if p.Task(id) == nil {
			return nil, errUsage{human.WithHint(fmt.Errorf("no task %q in %s", id, p.File), "paraider validate lists the tasks")}
		}
		targets = append(targets, state.TaskStamp(id))
	}
	if len(targets) == 0 {
		for _, t := range p.Tasks {
			targets = append(targets, state.TaskStamp(t.ID))
		}
		for _, ch := range p.Checks {
			targets = append(targets, state.CheckStamp(ch.Name))
		}
	}
	jobs := c.Jobs
	if jobs == 0 {
		jobs = gen.NinjaJobs(p)
	}
	args := []string{"-k", "0", "-j", strconv.Itoa(jobs)}
	if c.Verbose {
		args = append(args, "-v")
	}
	return append(args, targets...), nil
}
