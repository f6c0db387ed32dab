// Package planner writes a plan from a goal with an agent (`paraider
// plan`): a task like any other, run by paraider exec's code path in a
// worktree of the current tree, allowed to write one file (the draft),
// judged by `paraider validate` as its check, so that a draft that does not
// validate goes back to the agent with the errors, as validate prints them.
package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/sh"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// TaskID is the id the planning task runs under (its spec, logs and
// result under .paraider/).
const TaskID = "paraider-plan"

// Options say what to plan and with what.
type Options struct {
	Goal    string // what the plan is to do
	Plan    string // the plan file to write
	Agent   string // the agent profile; the default agent when ""
	Model   string // the model; the profile's when ""
	Jobs    int    // the plan's jobs; plan.DefaultJobs when 0
	Force   bool   // replace an existing plan
	Add     bool   // add tasks to the existing plan, leaving its own as they are
	Exe     string // this paraider, for the validate check
	Env     []string
	Out     io.Writer
	Timeout time.Duration
	Retries int
	// Confirm is asked whether to write a plan that brings commands of
	// its own (Commands); nil: never. The draft stays beside the plan
	// when it says no.
	Confirm func(commands []string) bool
}

// ErrUnconfirmed says the draft brings commands that were not agreed to:
// it is left beside the plan, not written as the plan.
var ErrUnconfirmed = errors.New("the draft's commands were not agreed to")

// Draft is where the agent writes: beside the plan, kept when it never
// validates.
func Draft(planFile string) string { return planFile + ".draft" }

// ErrExists says the plan is there and Force was not given.
var ErrExists = errors.New("the plan exists")

// Run asks the agent for a plan and writes it once it validates. It
// returns the runner's error when every attempt failed (the draft stays
// beside the plan).
func Run(ctx context.Context, o Options) error {
	base, err := o.base()
	if err != nil {
		return err
	}
	root, err := filepath.Abs(filepath.Dir(o.Plan))
	if err != nil {
		return err
	}
	draft := filepath.Base(Draft(o.Plan))
	spec, prefix, err := o.spec(ctx, root, draft, base)
	if err != nil {
		return err
	}
	// An earlier run's draft is set aside, not lost: an agent that wrote
	// the same bytes again would seem to have changed nothing.
	if _, err := os.Lstat(Draft(o.Plan)); err == nil {
		if err := os.Rename(Draft(o.Plan), Draft(o.Plan)+".prev"); err != nil {
			return err
		}
		if o.Out != nil {
			fmt.Fprintf(o.Out, "paraider: the earlier draft is now %s\n", Draft(o.Plan)+".prev")
		}
	}
	lay := state.Layout{Root: root}
	if err := state.WriteJSON(lay.Path(state.SpecPath(TaskID)), spec); err != nil {
		return err
	}
	// A planning run is its own: never "up to date" from the last one.
	os.Remove(lay.Path(state.ResultPath(TaskID)))
	os.Remove(lay.Path(state.SuccessPath(TaskID)))
	err = runner.Exec(ctx, TaskID, runner.Options{Root: root, Out: o.Out, Env: o.Env, Force: true})
	var te *runner.TaskError
	if errors.As(err, &te) {
		keepDraft(lay, te.Result, filepath.FromSlash(prefix), draft)
		return err
	}
	if err != nil {
		return err
	}
	return o.write(root, draft, base)
}

// base is the plan that --add adds to (nil without --add), once paraider
// knows it can add to it; without --add, an existing plan is refused
// unless forced. Both are settled before any agent is paid.
func (o Options) base() ([]byte, error) {
	if !o.Add {
		if _, err := os.Lstat(o.Plan); err == nil && !o.Force {
			return nil, fmt.Errorf("%s: %w", o.Plan, ErrExists)
		}
		return nil, nil
	}
	base, err := os.ReadFile(o.Plan)
	if err != nil {
		return nil, fmt.Errorf("--add: %w", err)
	}
	// Whether paraider can add to this plan's task list at all is
	// paraider's question: a draft cannot mend it, and no attempt should
	// be spent on it.
	if _, err := Combine(base, []byte("tasks:\n  - {id: probe}\n")); err != nil {
		return nil, fmt.Errorf("--add: paraider cannot add tasks to %s: %w (nothing was spent)", o.Plan, err)
	}
	return base, nil
}

// spec is the planning task: the agent writes one file, the draft, judged
// by validate (with --add, together with the plan it joins); in a
// worktree where there is git (prefix: the plan's directory in it).
func (o Options) spec(ctx context.Context, root, draft string, base []byte) (*state.Spec, string, error) {
	prof, err := agent.Builtin(defaultStr(o.Agent, plan.DefaultAgent))
	if err != nil {
		return nil, "", err
	}
	files, note := repoFiles(ctx, root, 20<<10)
	spec := &state.Spec{
		ID: TaskID, Files: []string{draft}, Message: message(o.Goal, draft, max(o.Jobs, 0), files, note, base),
		Settings: state.Settings{Model: defaultStr(o.Model, prof.Model),
			Timeout: state.Duration(defaultDur(o.Timeout, 10*time.Minute)), Retries: o.Retries,
			RetryDelay: state.Duration(2 * time.Second), Env: map[string]string{},
			Isolation: state.IsolationNone, Undeclared: state.UndeclaredFail},
		Agent: *prof, Redact: gen.RedactNames(nil, prof),
		Check: sh.Quote(o.Exe) + " -f " + sh.Quote(draft) + " validate",
		// Every error validate printed goes back to the agent.
		CheckTail: 400,
	}
	prefix := ""
	if repo, err := isolate.Open(root); err == nil {
		// A failed attempt's worktree is kept: its draft is what a
		// person fixes when no attempt validates.
		spec.Isolation, spec.KeepFailed, prefix = state.IsolationWorktree, true, repo.Prefix
	}
	if o.Add {
		// The draft holds only the new tasks: judged together with the
		// plan they join.
		spec.Check = sh.Quote(o.Exe) + " -f " + sh.Quote(filepath.Base(o.Plan)) + " plan-check " + sh.Quote(draft)
	}
	return spec, prefix, nil
}

// write puts the validated draft in place: the plan, or its new tasks
// appended to it, once every command it brings is agreed to (a goal read
// from an issue can carry instructions).
func (o Options) write(root, draft string, base []byte) error {
	d, err := os.ReadFile(filepath.Join(root, draft))
	if err != nil {
		return err
	}
	whole := d
	if o.Add {
		if whole, err = Combine(base, d); err != nil {
			return err
		}
	}
	if cmds := newCommands(o.Plan, base, whole); len(cmds) > 0 && (o.Confirm == nil || !o.Confirm(cmds)) {
		return ErrUnconfirmed
	}
	if !o.Add {
		return os.Rename(filepath.Join(root, draft), o.Plan)
	}
	if err := state.WriteFile(o.Plan, whole, 0o644); err != nil {
		return err
	}
	return os.Remove(filepath.Join(root, draft))
}

// keepDraft copies the last draft an attempt wrote in its (kept) worktree
// beside the plan, for a person to fix.
func keepDraft(lay state.Layout, res *state.Result, prefix, draft string) {
	for i := len(res.Attempts) - 1; i >= 0; i-- {
		wt := res.Attempts[i].Worktree
		if wt == "" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(lay.Path(wt), prefix, draft))
		if err != nil {
			continue
		}
		state.WriteFile(lay.Path(draft), data, 0o644)
		return
	}
}

// repoFiles lists the repository's tracked files, cut at budget bytes
// with a note of how many were left out.
func repoFiles(ctx context.Context, root string, budget int) ([]string, string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "ls-files")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, "(not a git repository: no file list)"
	}
	all := strings.Fields(string(out))
	sort.Strings(all)
	var files []string
	size := 0
	for i, f := range all {
		if size+len(f)+1 > budget {
			return files, fmt.Sprintf("(%d more files not listed)", len(all)-i)
		}
		files = append(files, f)
		size += len(f) + 1
	}
	return files, ""
}

func message(goal, draft string, jobs int, files []string, note string, base []byte) string {
	var b strings.Builder
	if base != nil {
		fmt.Fprintf(&b, "Add tasks for the goal below to the paraider plan that follows. Write into the file %s only the new tasks, as a YAML document with a `tasks:` list; paraider appends them to the plan's task list, after its last task, and leaves the plan's own tasks as they are. New tasks may need the plan's tasks. Change no other file.\n\nTHE PLAN:\n%s\n\n", draft, strings.TrimRight(string(base), "\n"))
	} else {
		fmt.Fprintf(&b, "Write a paraider plan for the goal below into the file %s, and change no other file.\n\n", draft)
	}
	fmt.Fprintf(&b, "GOAL:\n%s\n\n", strings.TrimSpace(goal))
	b.WriteString(`A paraider plan is YAML. Coding agents run its tasks in parallel over their dependencies. A good plan:
- splits the goal into small tasks, each writing a few files (files: the exact paths it may create or edit);
- gives two tasks the same file only when one needs the other (needs: [id]);
- lists in read: the files a task must see (files of tasks it needs, or existing files);
- gives each task a check: a shell command that judges its result, where this repository has one (a test, a type check);
- gives each task an estimate (e.g. 3m) of how long it takes;
- lists under checks: the repository's own lint and test commands, if it has them, run once at the end.
Every path is relative to the plan's directory. Ids use letters, digits, '.', '_' and '-'.

Example:
version: 1
model: openrouter/anthropic/claude-sonnet-4.5
jobs: 4
tasks:
  - id: create
    files: [src/users/create.ts]
    message: Write create.ts, the handler that creates a user.
    estimate: 3m
  - id: tests
    files: [src/users/users.test.ts]
    needs: [create]
    read: [src/users/create.ts]
    message: Write tests for create.ts.
    check: npx jest src/users
checks:
  test: npm test

`)
	if jobs > 0 {
		fmt.Fprintf(&b, "Use jobs: %d.\n\n", jobs)
	}
	fmt.Fprintf(&b, "The plan's format, as a JSON Schema:\n%s\n\n", strings.TrimSpace(string(plan.Schema)))
	b.WriteString("Files in this repository:\n")
	for _, f := range files {
		b.WriteString(f + "\n")
	}
	if note != "" {
		b.WriteString(note + "\n")
	}
	return b.String()
}

func defaultStr(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func defaultDur(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

// Commands lists what a plan would run or set beyond its agents' work:
// each task's check, each final check, each agent it defines (its
// command and install), and the environment it sets.
func Commands(p *plan.Plan) []string {
	var out []string
	for _, t := range p.Tasks {
		if t.Check != "" {
			out = append(out, fmt.Sprintf("task %s check: %s", t.ID, t.Check))
		}
	}
	for _, c := range p.Checks {
		out = append(out, fmt.Sprintf("final check %s: %s", c.Name, c.Command))
		if t := c.Repair; t != nil {
			// An agent that runs (and is paid) when the check fails.
			out = append(out, fmt.Sprintf("final check %s, when it fails: %s repairs it (agent %s, model %s, %s)", c.Name, t.ID, t.Agent, t.Model, human.Count(t.Retries+1, "attempt")))
		}
	}
	names := make([]string, 0, len(p.Agents))
	for n := range p.Agents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := p.Agents[n]
		out = append(out, fmt.Sprintf("agent %s command: %s", n, a.Command))
		if a.Install != "" {
			out = append(out, fmt.Sprintf("agent %s install: %s", n, a.Install))
		}
	}
	env := func(who string, m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, fmt.Sprintf("%s env: %s=%s", who, k, m[k]))
		}
	}
	env("plan", p.Env)
	for _, t := range slices.Concat(p.Tasks, p.Repairs()) {
		own := map[string]string{} // what the task sets beyond the plan's
		for k, v := range t.Env {
			if pv, ok := p.Env[k]; !ok || pv != v {
				own[k] = v
			}
		}
		env("task "+t.ID, own)
	}
	return out
}

// newCommands are the commands of the plan in whole that the plan in base
// (nil: none) did not have.
func newCommands(file string, base, whole []byte) []string {
	p, err := plan.Parse(file, whole)
	if err != nil {
		return []string{"(the plan does not parse: " + err.Error() + ")"}
	}
	had := map[string]bool{}
	if base != nil {
		if b, err := plan.Parse(file, base); err == nil {
			for _, c := range Commands(b) {
				had[c] = true
			}
		}
	}
	var out []string
	for _, c := range Commands(p) {
		if !had[c] {
			out = append(out, c)
		}
	}
	return out
}
