package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/planner"
)

// PlanCmd writes a plan from a goal with an agent.
type PlanCmd struct {
	Goal    string        `arg:"" optional:"" help:"What the plan is to do."`
	From    string        `help:"Read the goal from FILE (a feature request, a bug list, an issue)." placeholder:"FILE"`
	Agent   string        `help:"Agent that writes the plan (default: the first installed, as paraider init picks: aider, claude, codex, gemini, opencode)."`
	Model   string        `help:"Model for it (default: the agent's starting model)."`
	Jobs    int           `help:"jobs for the plan (default 4)."`
	Force   bool          `help:"Replace an existing plan."`
	Add     bool          `help:"Add tasks for the goal to the existing plan; its own tasks stay as they are, byte for byte."`
	Timeout time.Duration `default:"10m" help:"Per attempt."`
	Retries int           `default:"2" help:"Attempts after one whose plan does not validate."`
	Yes     bool          `help:"Write the plan even when it brings commands of its own (checks, agents, environment); they are printed either way."`
}

func (c *PlanCmd) Run(cli *CLI, env *Env) error {
	goal := c.Goal
	if c.From != "" {
		data, err := os.ReadFile(c.From)
		if err != nil {
			return errUsage{fmt.Errorf("--from: %w", err)}
		}
		goal = strings.TrimSpace(goal + "\n\n" + string(data))
	}
	if strings.TrimSpace(goal) == "" {
		return errUsage{errors.New(`say what the plan is to do: paraider plan "GOAL", or --from FILE`)}
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	agentName := c.Agent
	if agentName == "" {
		// As init picks: the first agent installed.
		prof, _ := planner.PickAgent()
		agentName = prof.Name
	}
	// paraider's state stays out of git, as after init.
	added, err := planner.EnsureIgnored(filepath.Join(filepath.Dir(cli.File), ".gitignore"))
	if err != nil {
		return err
	}
	if len(added) > 0 {
		fmt.Fprintf(env.Stdout, "paraider: added %s to .gitignore\n", strings.Join(added, ", "))
	}
	confirm := func(cmds []string) bool {
		fmt.Fprintf(env.Stdout, "the plan brings commands of its own, which paraider run will run:\n")
		for _, c := range cmds {
			fmt.Fprintf(env.Stdout, "  %s\n", human.Printable(c))
		}
		if c.Yes {
			return true
		}
		if !isTerminal(os.Stdin) || !isTerminal(os.Stdout) {
			return false
		}
		fmt.Fprintf(env.Stdout, "write the plan with them? [y/N] ")
		var answer string
		fmt.Fscanln(os.Stdin, &answer)
		return strings.EqualFold(strings.TrimSpace(answer), "y") || strings.EqualFold(strings.TrimSpace(answer), "yes")
	}
	err = planner.Run(env.Ctx, planner.Options{Confirm: confirm, Goal: goal, Plan: cli.File, Agent: agentName, Model: c.Model, Jobs: c.Jobs,
		Force: c.Force, Add: c.Add, Exe: exe, Out: env.Stdout, Timeout: c.Timeout, Retries: c.Retries})
	if err := planner.Explain(err, cli.File, env.Stdout); err != nil {
		return err
	}
	return planner.WriteSummary(env.Stdout, cli.File)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// PlanCheckCmd judges the draft of `paraider plan --add`: the plan with
// the draft's tasks appended must validate.
type PlanCheckCmd struct {
	Draft string `arg:"" help:"The draft's new tasks."`
}

func (c *PlanCheckCmd) Run(cli *CLI, env *Env) error {
	base, err := os.ReadFile(cli.File)
	if err != nil {
		return err
	}
	draft, err := os.ReadFile(c.Draft)
	if err != nil {
		return err
	}
	combined, err := planner.Combine(base, draft)
	if err != nil {
		return errUsage{fmt.Errorf("%s: %w", c.Draft, err)}
	}
	if _, err := plan.Parse(cli.File, combined); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: ok with the tasks of %s\n", cli.File, c.Draft)
	return nil
}
