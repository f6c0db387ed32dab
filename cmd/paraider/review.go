package main

import (
	"os"

	"golang.org/x/term"

	"github.com/paraider/paraider/review"
)

// DiffCmd shows what each task's last success did to its files.
type DiffCmd struct {
	Tasks []string `arg:"" optional:"" help:"Task ids (default: every task with a recorded change, in plan order)." predictor:"task"`
	// Stat is a summary per task instead of the diff.
	Stat bool `help:"Per task, each file with the lines it added and removed, instead of the diff."`
}

func (c *DiffCmd) Run(cli *CLI, env *Env) error {
	f, tty := env.Stdout.(*os.File)
	color := tty && term.IsTerminal(int(f.Fd())) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
	return review.Diff(env.Ctx, review.DiffOptions{Root: cli.root(), Tasks: c.Tasks, Stat: c.Stat, Color: color, Out: env.Stdout, Err: env.Stderr})
}

// RevertCmd puts tasks' files back as they were before their last
// success.
type RevertCmd struct {
	Tasks []string `arg:"" help:"Task ids." predictor:"task"`
	// KeepDone keeps the tasks off the next run.
	KeepDone bool `help:"Keep the tasks done: the next run does not do them again."`
}

func (c *RevertCmd) Run(cli *CLI, env *Env) error {
	return review.Revert(review.RevertOptions{Root: cli.root(), Tasks: c.Tasks, KeepDone: c.KeepDone, Out: env.Stdout, Err: env.Stderr})
}
