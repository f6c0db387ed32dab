package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/planner"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
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
	added, err := planner.EnsureIgnored(filepath.Join(filepath.Dir(cli.Plan), ".gitignore"))
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
	err = planner.Run(env.Ctx, planner.Options{Confirm: confirm, Goal: goal, Plan: cli.Plan, Agent: agentName, Model: c.Model, Jobs: c.Jobs,
		Force: c.Force, Add: c.Add, Exe: exe, Out: env.Stdout, Timeout: c.Timeout, Retries: c.Retries})
	if errors.Is(err, planner.ErrExists) {
		return human.WithHint(fmt.Errorf("%s exists; not overwriting it", cli.Plan), "pass --force to replace it, or name another file with -f")
	}
	root := filepath.Dir(cli.Plan)
	var res state.Result
	if state.ReadJSON(filepath.Join(root, state.ResultPath(planner.TaskID)), &res) == nil {
		fmt.Fprintf(env.Stdout, "planning: %s, tokens %s sent, %s received, %s\n", human.Count(len(res.Attempts), "attempt"),
			human.Tokens(res.TokensSent), human.Tokens(res.TokensRecv), human.Money(res.Cost))
	}
	if errors.Is(err, planner.ErrUnconfirmed) {
		return human.WithHint(fmt.Errorf("not written: the plan brings commands (above) that were not agreed to; the draft is in %s", planner.Draft(cli.Plan)),
			"read the draft; then run paraider plan again with --yes, or move the draft to "+cli.Plan+" yourself")
	}
	var te *runner.TaskError
	if errors.As(err, &te) {
		tries := human.Count(len(te.Result.Attempts), "attempt")
		if _, serr := os.Stat(planner.Draft(cli.Plan)); serr != nil {
			// No draft to fix: say what the agent did write.
			what := "nor any other file"
			if files := wroteInstead(root, te.Result); len(files) > 0 {
				what = "it wrote " + strings.Join(files, ", ") + ", which paraider did not keep"
			}
			return human.WithHint(fmt.Errorf("no valid plan after %s: the agent wrote no %s (%s)", tries, filepath.Base(planner.Draft(cli.Plan)), what),
				"run paraider plan again, or with another --agent or --model")
		}
		return human.WithHint(fmt.Errorf("no valid plan after %s; the last draft is in %s", tries, planner.Draft(cli.Plan)),
			"fix the draft by hand (paraider -f "+planner.Draft(cli.Plan)+" validate says what is wrong), or run paraider plan again with a clearer goal")
	}
	if err != nil {
		return err
	}
	return printPlanned(cli.Plan, env)
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// wroteInstead lists what the planning agent's last attempt wrote in its
// worktree (kept, as a failed planning attempt's is), draft aside.
func wroteInstead(root string, res *state.Result) []string {
	files := append(append([]string(nil), res.Undeclared...), res.Elsewhere...)
	if len(files) > 0 || len(res.Attempts) == 0 || res.Attempts[len(res.Attempts)-1].Worktree == "" {
		return files
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=all")
	cmd.Dir = filepath.Join(root, res.Attempts[len(res.Attempts)-1].Worktree)
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if len(line) > 3 {
			files = append(files, line[3:])
		}
	}
	return files
}

// PlanCheckCmd judges the draft of `paraider plan --add`: the plan with
// the draft's tasks appended must validate.
type PlanCheckCmd struct {
	Draft string `arg:"" help:"The draft's new tasks."`
}

func (c *PlanCheckCmd) Run(cli *CLI, env *Env) error {
	base, err := os.ReadFile(cli.Plan)
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
	if _, err := plan.Parse(cli.Plan, combined); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: ok with the tasks of %s\n", cli.Plan, c.Draft)
	return nil
}

// printPlanned shows the new plan's shape and what it should take.
func printPlanned(file string, env *Env) error {
	p, err := plan.Load(file)
	if err != nil {
		return err
	}
	w := gen.Weights(p.Root, p)
	s := p.Shape(w)
	total := 0.0
	for _, t := range p.Tasks {
		total += w.Of(t.ID)
	}
	fmt.Fprintf(env.Stdout, "paraider: wrote %s: %s in %d levels, %s\n", file, human.Count(len(p.Tasks), "task"), len(s.Levels), human.Count(len(p.Checks), "final check"))
	fmt.Fprintf(env.Stdout, "critical path: %s\n", strings.Join(s.CriticalPath, " -> "))
	fmt.Fprintf(env.Stdout, "most tasks at once: %d (jobs %d)\n", s.Width, p.Jobs)
	if hasEstimates(p) {
		fmt.Fprintf(env.Stdout, "estimated: %s at best (the critical path), against %s one after another\n",
			human.Duration(time.Duration(s.CriticalWeight*float64(time.Second))), human.Duration(time.Duration(total*float64(time.Second))))
	}
	fmt.Fprintln(env.Stdout, "next: paraider run")
	return nil
}

func hasEstimates(p *plan.Plan) bool {
	for _, t := range p.Tasks {
		if t.Estimate > 0 {
			return true
		}
	}
	return false
}
