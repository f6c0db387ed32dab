// Package plan reads a paraider plan (paraider.yaml), checks it, and works out
// the shape of its task graph.
//
// # Reading
//
// [Load] decodes the YAML by hand from yaml.Node, so that every problem can
// name the file, line and column it was found at. It collects every problem
// before giving up and returns them together as [Errors].
//
// # The graph
//
// A task runs after the tasks it needs, and after every task that writes a
// file it reads (an implied edge, reported as a [Note]). Two tasks that may
// write the same file must be ordered. [Plan.Shape] gives the dependency
// levels, the critical path and the widest set of tasks that can run at once.
package plan

import (
	_ "embed"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

// Schema is the plan format as a JSON Schema, for editors.
//
//go:embed schema.json
var Schema []byte

// Defaults for settings a plan leaves out.
const (
	DefaultJobs       = 4
	DefaultTimeout    = 10 * time.Minute
	DefaultRetries    = 2
	DefaultRetryDelay = 5 * time.Second
	DefaultAgent      = "aider"
)

// Plan is a checked plan. Paths in it are relative to Root, cleaned, with
// forward slashes.
type Plan struct {
	File string // the plan file, as given
	Root string // the directory of the plan file: the repository root

	Version int
	Jobs    int // agents running at once
	// Settings are the plan's defaults for its tasks.
	Settings
	Agents     map[string]*agent.Profile // profiles the plan defines itself
	KeepFailed bool                      // keep failed attempts' worktrees for inspection
	Budget     float64                   // dollars per run; 0 for none
	Commit     bool                      // each task that succeeds becomes a commit
	Redact     []string                  // variables whose values logs and reports never show
	Copy       []string                  // ignored files copied into each worktree
	Link       []string                  // ignored directories linked into each worktree
	// MaxUntracked is the size over which an untracked file that the task
	// neither reads nor writes stays out of its worktree; 0 for the default.
	MaxUntracked int64
	Tasks        []*Task
	Checks       []*Check
	// CheckTimeout bounds each final check; 0 for the default.
	CheckTimeout time.Duration
	// Compare is a reference model's price, for the report; nil for none.
	Compare *Price
	// GitHub tunes the GitHub Actions target; nil for the defaults.
	GitHub *GitHub

	// Sources are the files the plan was read from (the plan itself and
	// message files), relative to Root: the inputs of the generator edge.
	Sources []string
	// Notes are things validation did that the user should know about,
	// such as edges implied by reads.
	Notes []Note

	byID  map[string]*Task
	inGit bool // whether the plan's directory is in a git repository
}

// Settings are the keys a task inherits from the plan: written at the
// plan's top level and overridden per task. Those paraider exec reads are
// state.Settings, which the spec embeds too; the agent is named here and
// resolved to its profile in the spec. A new inheritable key is a field
// of state.Settings, an entry in settingFields (its name, whether it
// changes the work, its decoder), and its schema entry; if it changes
// what a task does, a part of Spec.WorkHash (docs/contributing.md).
type Settings struct {
	state.Settings
	Agent string // the agent's name: built in, or the plan's own
}

// inherit fills in what s leaves unset from parent; env is parent's
// overlaid with s's.
func (s *Settings) inherit(parent Settings) {
	if s.Model == "" {
		s.Model = parent.Model
	}
	if s.Agent == "" {
		s.Agent = parent.Agent
	}
	if s.Timeout == 0 {
		s.Timeout = parent.Timeout
	}
	if s.Retries < 0 {
		s.Retries = parent.Retries
	}
	if s.RetryDelay == 0 {
		s.RetryDelay = parent.RetryDelay
	}
	if s.Isolation == "" {
		s.Isolation = parent.Isolation
	}
	if s.Undeclared == "" {
		s.Undeclared = parent.Undeclared
	}
	env := map[string]string{}
	for k, v := range parent.Env {
		env[k] = v
	}
	for k, v := range s.Env {
		env[k] = v
	}
	s.Env = env
}

// Task is one agent job.
type Task struct {
	ID          string
	Files       []string // may create or edit
	Read        []string // read-only context
	Needs       []string // as written in the plan
	Message     string
	MessageFile string // where Message came from, if from a file
	// Settings are the task's own overlaid on the plan's, after Load.
	Settings
	Check          string // shell command judging the result
	AllowUnchanged bool   // success even if no file changed
	// Estimate is how long the task is expected to take: its weight for
	// the critical path until a run has recorded its real duration.
	Estimate time.Duration

	// Deps is Needs plus the implied edges, sorted.
	Deps []string

	line, col int
}

// GitHub tunes the workflow `paraider gen --target github` writes.
type GitHub struct {
	RunsOn string // runs-on of every job; ubuntu-latest when ""
	On     string // the workflow's `on`, as YAML; workflow_dispatch when ""
	Push   string // "branch": the report job commits the change on a branch
}

// Price is a model's price in dollars per million tokens sent (input) and
// received (output).
type Price struct {
	Name          string
	Input, Output float64
}

// Check is a final check, run once after all tasks.
type Check struct {
	Name    string
	Command string
	// Repair is the task that mends the tree when the check fails after
	// the tasks (`repair:`); nil when a failure is only reported. Its id
	// is RepairID(Name), it needs every task, and its files are every
	// task's files and those its `files:` adds.
	Repair *Task

	line, col int
}

// RepairID is the id of the task that repairs the final check name.
func RepairID(name string) string { return "repair-" + name }

// Note is something validation did that the user should know about.
type Note struct {
	Line, Col int
	Msg       string
}

// Task returns the task with the given id, or nil.
func (p *Plan) Task(id string) *Task { return p.byID[id] }
