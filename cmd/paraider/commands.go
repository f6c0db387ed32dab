package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"golang.org/x/term"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/live"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// Env is what every command's Run receives.
type Env struct {
	Ctx    context.Context
	Stdout io.Writer
	Stderr io.Writer
}

// defaultPlan is the plan file when -f names none.
const defaultPlan = "paraider.yaml"

// CLI is paraider's command line.
type CLI struct {
	// File is the plan file; its directory is the repository root, where
	// build.ninja and .paraider/ live.
	File string `short:"f" name:"file" default:"paraider.yaml" help:"Plan file; its directory holds build.ninja and .paraider/." placeholder:"FILE" predictor:"yaml"`

	Init      InitCmd          `cmd:"" group:"start" help:"Write a starter plan, every key explained; ignore paraider's files."`
	Plan      PlanCmd          `cmd:"" name:"plan" group:"start" help:"Have an agent write the plan for a goal; kept once it validates."`
	Validate  ValidateCmd      `cmd:"" group:"start" help:"Check the plan and print its shape."`
	Run       RunCmd           `cmd:"" group:"run" help:"Generate, run every task with ninja, and report (CI, terminals)."`
	Gen       GenCmd           `cmd:"" group:"run" help:"Write build.ninja (--target github: a GitHub Actions workflow)."`
	Status    StatusCmd        `cmd:"" group:"run" help:"Show each task's state now, from another terminal while ninja runs."`
	Report    ReportCmd        `cmd:"" group:"look" help:"Show what the last run did."`
	Graph     GraphCmd         `cmd:"" group:"look" help:"Draw the plan, critical path marked (dot or mermaid)."`
	Schema    SchemaCmd        `cmd:"" group:"look" help:"Print the plan's JSON Schema."`
	Diff      DiffCmd          `cmd:"" group:"review" help:"Show each task's change from its last success, as a diff."`
	Revert    RevertCmd        `cmd:"" group:"review" help:"Put a task's files back as they were before its last success."`
	Reset     ResetCmd         `cmd:"" group:"tidy" help:"Forget tasks' results, so the next run pays for them again."`
	Clean     CleanCmd         `cmd:"" group:"tidy" help:"Remove paraider's worktrees, kept ones too."`
	Exec      ExecCmd          `cmd:"" group:"internal" help:"Run one task (Ninja runs this)."`
	Check     CheckCmd         `cmd:"" group:"internal" help:"Run one final check (Ninja runs this)."`
	CI        CICmd            `cmd:"" name:"ci" group:"internal" help:"The steps of the jobs of the GitHub Actions workflow (paraider gen --target github)."`
	PlanCheck PlanCheckCmd     `cmd:"" name:"plan-check" hidden:"" help:"Judge a draft of new tasks with the plan (paraider plan --add)."`
	Help      HelpCmd          `cmd:"" group:"start" help:"Show this, or a command's help (paraider help COMMAND)."`
	Complete  CompletionCmd    `cmd:"" name:"completion" group:"start" help:"Print the shell completion script for bash, zsh or fish: commands, flags, task ids, formats."`
	Version   kong.VersionFlag `help:"Print the version."`
}

func (c *CLI) root() string { return filepath.Dir(c.File) }

// GenCmd writes build.ninja.
type GenCmd struct {
	// Target is what the plan compiles to.
	Target string `default:"ninja" enum:"ninja,github" help:"What to write: ninja (build.ninja) or github (a GitHub Actions workflow)."`
	// Output is where the Ninja file goes.
	Output string `short:"o" help:"File to write (default: build.ninja beside the plan; .github/workflows/paraider.yml at the repository's top for --target github)." placeholder:"FILE"`
	// Force replaces a Ninja file that paraider did not write.
	Force bool `help:"Overwrite an output file that paraider did not write."`
	// Regen is set by the generator edge: Ninja is already running.
	Regen bool `hidden:""`
	// PlanOrder is for benchmarks: edges in plan order, not critical path
	// first.
	PlanOrder bool `hidden:"" name:"plan-order"`
}

// generate loads the plan and writes the Ninja file and the specs.
func generate(cli *CLI, opts gen.Options) (*plan.Plan, *gen.Summary, error) {
	p, kept, err := gen.Load(cli.File)
	opts.Kept = kept
	if err != nil {
		return nil, nil, err
	}
	if opts.Exe, err = os.Executable(); err != nil {
		return nil, nil, err
	}
	if opts.Output != "" {
		abs, _ := filepath.Abs(opts.Output)
		root, _ := filepath.Abs(p.Root)
		if filepath.Dir(abs) != root {
			return nil, nil, errUsage{fmt.Errorf("-o %s: the Ninja file must sit beside the plan, in %s", opts.Output, p.Root)}
		}
	}
	sum, err := gen.Generate(p, opts)
	return p, sum, err
}

func (g *GenCmd) Run(cli *CLI, env *Env) error {
	if g.Target == "github" {
		return g.github(cli, env)
	}
	p, sum, err := generate(cli, gen.Options{Output: g.Output, Force: g.Force || g.Regen, PlanOrder: g.PlanOrder, Regen: g.Regen})
	if err != nil {
		return err
	}
	if g.Regen {
		if len(sum.SpecsWritten)+len(sum.SpecsRemoved) > 0 {
			fmt.Fprintf(env.Stdout, "paraider: plan changed: %s\n", sum.Changed())
		}
		return nil
	}
	report.WriteNotes(env.Stdout, p)
	fmt.Fprintf(env.Stdout, "paraider: wrote %s: %s, %s, %d agents at once; %s\n",
		sum.Output, human.Count(sum.Tasks, "task"), human.Count(sum.Checks, "check"), p.Jobs, sum.Changed())
	how := "ninja"
	if dir := filepath.Dir(sum.Output); dir != "." {
		how = "ninja -C " + dir
	}
	if filepath.Base(sum.Output) != "build.ninja" {
		how += " -f " + filepath.Base(sum.Output)
	}
	// No -j: where Ninja's own is too low for the plan, the build file's
	// default edge runs Ninja again with one that is not (gen.NinjaJobs).
	fmt.Fprintf(env.Stdout, "next: %s (or paraider run)\n", how)
	return nil
}

// ValidateCmd checks the plan and prints its shape.
type ValidateCmd struct{}

func (ValidateCmd) Run(cli *CLI, env *Env) error {
	p, err := plan.Load(cli.File)
	if err != nil {
		return err
	}
	report.WriteNotes(env.Stdout, p)
	report.WritePlan(env.Stdout, p, gen.Weights(p.Root, p))
	return nil
}

// ExecCmd runs one task.
type ExecCmd struct {
	Task string `arg:"" help:"Task id." predictor:"task"`
	// Force runs the task even when its inputs are unchanged since a success.
	Force bool `help:"Run even when the task is up to date."`
}

func (e *ExecCmd) Run(cli *CLI, env *Env) error {
	return runner.Exec(env.Ctx, e.Task, runner.Options{Root: cli.root(), Out: env.Stdout, Force: e.Force})
}

// GraphCmd draws the plan.
type GraphCmd struct {
	// Format is dot for Graphviz, mermaid for Markdown.
	Format string `default:"dot" enum:"${graph_formats}" help:"Output format: ${graph_formats_list} (dot for Graphviz, mermaid for Markdown)."`
	Output string `short:"o" help:"Write to FILE instead of standard output." placeholder:"FILE"`
}

func (c *GraphCmd) Run(cli *CLI, env *Env) error {
	p, err := plan.Load(cli.File)
	if err != nil {
		return err
	}
	format := formatFromOutput(&c.Output, c.Format, "dot", report.GraphFormats, env)
	var buf bytes.Buffer
	if err := report.WriteGraph(&buf, p, gen.Weights(p.Root, p), format); err != nil {
		return err
	}
	return writeOut(c.Output, buf.Bytes(), env)
}

// formatFromOutput reads an old `-o FORMAT` (before -o meant a file
// everywhere) as --format FORMAT, with a note; -o FILE stays a file.
func formatFromOutput(output *string, format, def string, formats []string, env *Env) string {
	if *output != "" && format == def && slices.Contains(formats, *output) {
		fmt.Fprintf(env.Stderr, "paraider: -o %s is taken as --format %s; -o now names an output file\n", *output, *output)
		format, *output = *output, ""
	}
	return format
}

// writeOut writes data to the file named, or to standard output.
func writeOut(file string, data []byte, env *Env) error {
	if file == "" {
		_, err := env.Stdout.Write(data)
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

// StatusCmd shows a live table of the tasks.
type StatusCmd struct {
	// Watch redraws the table until interrupted, on a terminal.
	Watch bool `short:"w" help:"Redraw every interval until the run it saw ends, or Ctrl-C (on a terminal; otherwise one snapshot)."`
	// Interval between redraws.
	Interval time.Duration `default:"1s" help:"Time between redraws with --watch."`
}

func (c *StatusCmd) Run(cli *CLI, env *Env) error {
	f, tty := env.Stdout.(*os.File)
	tty = tty && term.IsTerminal(int(f.Fd())) && os.Getenv("TERM") != "dumb"
	color := tty && os.Getenv("NO_COLOR") == ""
	if !c.Watch || !tty {
		// One snapshot: the table, from the plan as it is now when it
		// loads (an edited message is pending before any gen).
		st, specs, err := report.BuildStatusNow(cli.root(), cli.File, time.Now())
		if specs == nil {
			fmt.Fprintf(env.Stderr, "paraider: note: %s does not load (paraider validate says why): this is the plan as last generated\n", cli.File)
		}
		if err != nil {
			return err
		}
		return st.WriteText(env.Stdout, color)
	}
	if _, err := report.BuildStatus(cli.root(), time.Now()); err != nil {
		return err
	}
	p, err := plan.Load(cli.File)
	if err != nil {
		return err
	}
	return live.Follow(env.Ctx, f, p, c.Interval, color)
}

// CleanCmd removes paraider's worktrees.
type CleanCmd struct{}

func (CleanCmd) Run(cli *CLI, env *Env) error {
	if err := isolate.PruneAt(cli.root(), true); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, "paraider: removed the worktrees no task is using")
	lay, err := state.NewLayout(cli.root())
	if err != nil {
		return err
	}
	if n, err := lay.PruneBlobs(); err != nil {
		return err
	} else if n > 0 {
		fmt.Fprintf(env.Stdout, "paraider: removed %s no recorded change needs (paraider diff and revert keep theirs)\n", human.Count(n, "stored file content"))
	}
	return nil
}

// ResetCmd forgets tasks' results.
type ResetCmd struct {
	Tasks []string `arg:"" optional:"" help:"Task ids." predictor:"task"`
	// All resets every task of the plan.
	All bool `help:"Reset every task."`
}

func (c *ResetCmd) Run(cli *CLI, env *Env) error {
	root := cli.root()
	var run state.Run
	if err := state.ReadJSON(filepath.Join(root, state.RunPath), &run); err != nil {
		return human.WithHint(fmt.Errorf("no generated plan in %s", root), "run `paraider gen` first")
	}
	ids := c.Tasks
	switch {
	case c.All && len(ids) > 0:
		return errUsage{errors.New("name tasks or give --all, not both")}
	case c.All:
		ids = run.IDs()
	case len(ids) == 0:
		return errUsage{errors.New("name the tasks to reset, or give --all")}
	}
	if err := run.Known(ids); err != nil {
		return err
	}
	lay := state.Layout{Root: root}
	if err := lay.KeepDurations(ids); err != nil {
		return fmt.Errorf("keeping the tasks' durations (they order the next run): %w", err)
	}
	for _, id := range ids {
		if err := lay.Forget(&run, id); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Stdout, "paraider: reset %s; the next run runs %s again\n", strings.Join(ids, ", "), map[bool]string{true: "it", false: "them"}[len(ids) == 1])
	return nil
}

// CheckCmd runs one final check.
type CheckCmd struct {
	Name string `arg:"" help:"Check name."`
}

func (c *CheckCmd) Run(cli *CLI, env *Env) error {
	return runner.Check(env.Ctx, c.Name, runner.Options{Root: cli.root(), Out: env.Stdout})
}

// ReportCmd shows the last run.
type ReportCmd struct {
	// Format is text for people, markdown for pull requests, json for
	// programs, junit for CI test reporters.
	Format string `default:"text" enum:"${report_formats}" help:"Output format: ${report_formats_list}."`
	Output string `short:"o" help:"Write to FILE instead of standard output." placeholder:"FILE"`
	// Record is set by the report edge: it closes the run and keeps the
	// text in .paraider/report.txt.
	Record bool `hidden:""`
}

func (r *ReportCmd) Run(cli *CLI, env *Env) error {
	rep, err := report.Build(report.Options{Root: cli.root(), Record: r.Record})
	if err != nil {
		return err
	}
	format := formatFromOutput(&r.Output, r.Format, "text", report.Formats(), env)
	var buf bytes.Buffer
	if err := rep.Write(&buf, format); err != nil {
		return err
	}
	if r.Record {
		if err := state.WriteFile(filepath.Join(cli.root(), state.ReportPath), buf.Bytes(), 0o644); err != nil {
			return err
		}
		// The run is over: its worktrees go, but for warm ones.
		if err := isolate.PruneAt(cli.root(), false); err != nil {
			fmt.Fprintf(env.Stderr, "paraider: removing worktrees: %v\n", err)
		}
	}
	if err := writeOut(r.Output, buf.Bytes(), env); err != nil {
		return err
	}
	if rep.Failed > 0 || rep.ChecksFailed() > 0 {
		return errRunFailed
	}
	return nil
}

// errRunFailed is what report returns when the run it shows failed: the
// report itself was printed.
var errRunFailed = errors.New("the run failed")

// SchemaCmd prints the plan's JSON Schema.
type SchemaCmd struct{}

func (SchemaCmd) Run(env *Env) error {
	_, err := env.Stdout.Write(plan.Schema)
	return err
}
