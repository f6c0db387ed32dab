package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/paraider/paraider/ci"
	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/buildinfo"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/report"
)

// github writes the GitHub Actions workflow.
func (g *GenCmd) github(cli *CLI, env *Env) error {
	p, err := plan.Load(cli.File)
	if err != nil {
		return err
	}
	repo, err := isolate.Open(p.Root)
	if err != nil {
		return human.WithHint(fmt.Errorf("--target github: %s is not in a git repository", p.Root), "the workflow runs on a checkout of the repository: run git init, and commit the plan")
	}
	out := g.Output
	if out == "" {
		out = filepath.Join(repo.Top, filepath.FromSlash(gen.DefaultWorkflow))
	}
	planArg := repo.Prefix + filepath.Base(p.File)
	lanes, err := gen.WriteGitHub(p, out, planArg, buildinfo.Module(), g.Force)
	if err != nil {
		return err
	}
	report.WriteNotes(env.Stdout, p)
	fmt.Fprintf(env.Stdout, "paraider: wrote %s: %d task jobs in %d lanes and a report job\n", out, len(p.Tasks), p.Jobs)
	makespan := fmt.Sprintf("%s (by the recorded durations and estimates)", human.Duration(time.Duration(lanes.Makespan*float64(time.Second))))
	if !lanes.Seconds {
		makespan = fmt.Sprintf("%s (no durations recorded or estimated: each task counts as one)", human.Count(int(math.Round(lanes.Makespan)), "task"))
	}
	fmt.Fprintf(env.Stdout, "lanes: a task runs after the one before it in its lane; planned makespan %s\n", makespan)
	fmt.Fprintf(env.Stdout, "next: commit it, add each key the agents need as a repository secret, and run the workflow\n")
	return nil
}

// CICmd are the steps of the workflow's jobs.
type CICmd struct {
	Prepare CIPrepareCmd `cmd:"" help:"Bring in the patches of the tasks TASK needs; print the key of its result."`
	Finish  CIFinishCmd  `cmd:"" help:"Leave TASK's patch, result and logs for the jobs after it."`
	Report  CIReportCmd  `cmd:"" help:"Apply every task's patch, run the final checks, write the reports and the whole change."`
	Push    CIPushCmd    `cmd:"" help:"Commit the whole change on BRANCH and push it."`
}

type CIPrepareCmd struct {
	Task string `arg:"" help:"Task id."`
}

func openJob(cli *CLI) (*ci.Job, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return ci.Open(cli.File, exe)
}

func (c *CIPrepareCmd) Run(cli *CLI, env *Env) error {
	j, err := openJob(cli)
	if err != nil {
		return err
	}
	key, err := j.Prepare(env.Ctx, c.Task)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "key=%s\n", key)
	if out := os.Getenv("GITHUB_OUTPUT"); out != "" {
		f, err := os.OpenFile(out, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		fmt.Fprintf(f, "key=%s\n", key)
		return f.Close()
	}
	return nil
}

type CIFinishCmd struct {
	Task   string `arg:"" help:"Task id."`
	Cached bool   `help:"The artifact was restored from an earlier run's cache."`
}

func (c *CIFinishCmd) Run(cli *CLI, env *Env) error {
	j, err := openJob(cli)
	if err != nil {
		return err
	}
	return j.Finish(env.Ctx, c.Task, c.Cached)
}

type CIReportCmd struct{}

func (c *CIReportCmd) Run(cli *CLI, env *Env) error {
	j, err := openJob(cli)
	if err != nil {
		return err
	}
	err = j.Report(env.Ctx, os.Getenv("GITHUB_STEP_SUMMARY"), env.Stdout)
	if errors.Is(err, ci.ErrFailed) {
		return errRunFailed
	}
	return err
}

type CIPushCmd struct {
	Branch string `arg:"" help:"Branch to create and push."`
}

func (c *CIPushCmd) Run(cli *CLI, env *Env) error {
	j, err := openJob(cli)
	if err != nil {
		return err
	}
	return j.Push(env.Ctx, c.Branch)
}
