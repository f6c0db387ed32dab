// Package state owns paraider's directory, .paraider/ beside the plan: the
// frozen task specs that Ninja watches, the stamps Ninja builds, the result
// records and logs that `paraider exec` writes, and the run summary the
// report reads. Every file is written atomically, so a kill at any moment
// leaves either the old file or the new one.
package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/paraider/paraider/agent"
)

// Dir is the state directory's name, relative to the plan's directory.
const Dir = ".paraider"

// Paths relative to the plan's directory; the Ninja file names them.
func SpecPath(id string) string            { return Dir + "/specs/" + id + ".json" }
func TaskStamp(id string) string           { return Dir + "/stamps/task/" + id }
func CheckStamp(name string) string        { return Dir + "/stamps/check/" + name }
func ResultPath(id string) string          { return Dir + "/results/" + id + ".json" }
func SuccessPath(id string) string         { return Dir + "/success/" + id + ".json" }
func CheckOnlyLog(id string) string        { return Dir + "/logs/" + id + ".check.log" }
func CheckResult(name string) string       { return Dir + "/checks/" + name + ".json" }
func LogPath(id string, n int) string      { return fmt.Sprintf("%s/logs/%s.%d.log", Dir, id, n) }
func CheckLog(name string) string          { return Dir + "/logs/check." + name + ".log" }
func WorktreeName(id string, n int) string { return fmt.Sprintf("%s.%d", id, n) }
func TamperedDir(id string, n int) string  { return fmt.Sprintf("%s/tampered/%s.%d", Dir, id, n) }
func RunningPath(id string) string         { return RunningDir + "/" + id + ".json" }
func AttemptDir(id string, n int) string {
	return fmt.Sprintf("%s/agent/%s/%d", Dir, id, n)
}

const (
	RunPath    = Dir + "/run.json"     // the plan's run-wide settings
	ReportPath = Dir + "/report.txt"   // output of the report edge
	BinPath    = Dir + "/bin/paraider" // the binary Ninja runs
	LedgerPath = Dir + "/ledger.jsonl" // every attempt's cost, appended
	RunningDir = Dir + "/running"      // one file per task running now
	PlacesDir  = Dir + "/slots"        // the places agents run in, and the queue for them
	// DurationsPath keeps each task's working time, from its last
	// success, across a reset (see Layout.KeepDurations).
	DurationsPath = Dir + "/durations.json"
	RunStartPath  = Dir + "/run-start.json" // the last `paraider run`: its id and start
)

// DeclaredPath lists, NUL-separated, every file a task may write and the
// files that are never a task's change (the Ninja file, the plan and its
// message files): what an attempt in place needs of the plan, without
// run.json's whole (1.2 MB at 10,000 tasks).
const DeclaredPath = Dir + "/declared"

// PlanKeptPath is the checked plan as gen last loaded it, kept for the
// next gen of the same plan (plan.Kept, gen.Load).
const PlanKeptPath = Dir + "/plan.kept"

// The phony targets of the generated Ninja file, names a person types
// (`ninja tasks`): no task may write a file of these names beside the plan.
const (
	TasksTarget  = "tasks"  // every task, without the checks and the report
	ReportTarget = "report" // tasks, checks, report: the default, or what DriveTarget builds
	// DriveTarget is the default where Ninja's own -j is too low for the
	// plan: its edge runs Ninja again on ReportTarget (internal/drive).
	// Nothing writes it, so it always runs.
	DriveTarget = Dir + "/ninja"
)

// Spec is a task frozen by `paraider gen`: everything `paraider exec` needs.
// Its file changes exactly when the task's definition does, so Ninja reruns
// the task then and only then.
type Spec struct {
	ID      string   `json:"id"`
	Files   []string `json:"files"`
	Read    []string `json:"read,omitempty"`
	Deps    []string `json:"deps,omitempty"`
	Message string   `json:"message"`
	// Settings are those the task inherits from the plan.
	Settings
	Agent agent.Profile `json:"agent"`
	Check string        `json:"check,omitempty"`
	// CheckTail is how many of a failed check's last lines the next
	// attempt is told; 20 when 0.
	CheckTail      int      `json:"check_tail,omitempty"`
	AllowUnchanged bool     `json:"allow_unchanged,omitempty"`
	KeepFailed     bool     `json:"keep_failed,omitempty"`
	Copy           []string `json:"worktree_copy,omitempty"`
	Link           []string `json:"worktree_link,omitempty"`
	MaxUntracked   int64    `json:"worktree_max_untracked,omitempty"` // bytes; 0 for the default
	Budget         float64  `json:"budget,omitempty"`                 // dollars per run; 0 for none
	// Redact names variables whose values never reach a log or a report,
	// besides those whose names look secret.
	Redact []string `json:"redact,omitempty"`
}

// Settings are what a task inherits from its plan (a task may set its
// own) and paraider exec reads from its spec: declared once, here. The
// plan holds them with the agent's name (plan.Settings), the spec with
// the agent's profile.
type Settings struct {
	Model      string            `json:"model"`
	Timeout    Duration          `json:"timeout"` // per attempt
	Retries    int               `json:"retries"` // after a failed attempt; -1 in a plan: not set
	RetryDelay Duration          `json:"retry_delay"`
	Env        map[string]string `json:"env,omitempty"`
	// Isolation is "worktree" (each attempt in its own git worktree, the
	// default in a git repository) or "none" (in place).
	Isolation Isolation `json:"isolation"`
	// Undeclared says what happens to changes outside a task's files:
	// "fail" the attempt (the default) or "drop" them with a warning.
	Undeclared Undeclared `json:"undeclared"`
}

// Priority is a task's rank for a place to run: its remaining critical
// path (its own weight and the longest chain after it), then its place in
// the plan.
type Priority struct {
	Remaining float64 `json:"remaining"`
	Order     int     `json:"order"`
}

// Run holds the plan-wide facts the report and the checks need.
type Run struct {
	Plan  string              `json:"plan"` // plan file name, relative to its directory
	Jobs  int                 `json:"jobs"`
	Tasks []string            `json:"tasks"` // in plan order
	Deps  map[string][]string `json:"deps"`
	// Files are the files each task may write.
	Files  map[string][]string `json:"files"`
	Checks []Check             `json:"checks,omitempty"`
	// Ninja is the Ninja file and Sources the plan and message files,
	// relative to the plan's directory: never a task's changes.
	Ninja   string   `json:"ninja,omitempty"`
	Sources []string `json:"sources,omitempty"`
	// Compare prices the run's tokens on a reference model, for the
	// report's "what it would have cost" line; nil for none.
	Compare *Price `json:"compare_price,omitempty"`
	// CheckTimeout bounds each final check; 0 for the default.
	CheckTimeout Duration `json:"check_timeout,omitempty"`
	// Redact names variables whose values the checks' logs never show.
	Redact []string `json:"redact,omitempty"`
	// Commit makes each task that succeeds a commit of its own.
	Commit bool `json:"commit,omitempty"`
}

// Price is a model's price in dollars per million tokens.
type Price struct {
	Name   string  `json:"name"`
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
}

// Check is a final check.
type Check struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	// Repair is the task that repairs the check when it fails; "" for
	// none.
	Repair string `json:"repair,omitempty"`
}

// Duration is a time.Duration written as text ("10m0s") in JSON.
type Duration time.Duration

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// String is the duration as time.Duration writes it ("10m0s").
func (d Duration) String() string { return time.Duration(d).String() }
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Hash returns a stable digest of the spec.
func (s *Spec) Hash() string {
	b, _ := json.Marshal(s)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// WorkHash digests what defines a task's work — message, files, read
// files, needs, model and agent command — and nothing that only tunes how
// it is run (timeout, retries, env, check).
func (s *Spec) WorkHash() string {
	b, _ := json.Marshal(struct {
		Message, Model, Agent, Command string
		Files, Read, Deps              []string
	}{s.Message, s.Model, s.Agent.Name, s.Agent.Command, s.Files, s.Read, s.Deps})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// WriteFile writes data to name atomically: a temporary file in the same
// directory, synced, then renamed over name. Parent directories are made.
func WriteFile(name string, data []byte, perm os.FileMode) error {
	return writeFile(name, data, perm, true)
}

// writeFile is WriteFile, with the sync optional: files paraider can
// derive again (specs, stamps, the Ninja file) skip it, since a rename is
// atomic against a kill either way and syncing ten thousand specs takes
// seconds.
func writeFile(name string, data []byte, perm os.FileMode, sync bool) error {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// WriteIfChanged writes data to name only when its content differs, keeping
// the file's time otherwise. It reports whether it wrote. It is for files
// paraider can derive again, and does not sync.
func WriteIfChanged(name string, data []byte) (bool, error) {
	if holds(name, data) {
		return false, nil
	}
	return true, writeFile(name, data, 0o644, false)
}

// holds reports whether the file at name holds data: a regular file, or
// a link to one (a person may keep the Ninja file elsewhere), of data's
// size and bytes. Anything else is never read: a link to /dev/zero or a
// FIFO put in .paraider/ would have kept gen reading, or waiting, for
// ever; the write then replaces the link itself.
func holds(name string, data []byte) bool {
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(data)) {
		return false
	}
	old := make([]byte, len(data)+1) // a byte more: the file may have grown
	n, _ := io.ReadFull(f, old)
	return n == len(data) && bytes.Equal(old[:n], data)
}

// WriteUnsynced writes a file paraider can derive again that is known not to
// exist yet, atomically and without sync.
func WriteUnsynced(name string, data []byte) error { return writeFile(name, data, 0o644, false) }

// WriteJSONUnsynced writes v as indented JSON, atomically against a kill
// but not synced: for records whose loss in a power cut costs a
// convenience (paraider diff of that task), not work or money.
func WriteJSONUnsynced(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(name, append(b, '\n'), 0o644, false)
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(name, append(b, '\n'), 0o644)
}

// ReadJSON reads a JSON file into v, as one of paraider's own (ReadOwn:
// no link followed, a regular file only, at most MaxOwnFile). A missing
// file is reported as os.ErrNotExist.
func ReadJSON(name string, v any) error {
	b, err := ReadOwn(name, MaxOwnFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Missing reports whether err says a file does not exist.
func Missing(err error) bool { return errors.Is(err, os.ErrNotExist) }

// Isolation is where a task's agent works. The plan, the spec and the
// report spell the modes only through these.
type Isolation string

const (
	// IsolationWorktree runs each attempt in a git worktree of its own;
	// only the task's files come back. The default in a git repository.
	IsolationWorktree Isolation = "worktree"
	// IsolationNone runs the agent in place, in the main tree.
	IsolationNone Isolation = "none"
)

// Isolations are the isolation modes a plan may name.
var Isolations = []Isolation{IsolationWorktree, IsolationNone}

// Undeclared is what happens to an agent's changes outside its task's
// files, in a worktree.
type Undeclared string

const (
	UndeclaredFail Undeclared = "fail" // the attempt fails (the default)
	UndeclaredDrop Undeclared = "drop" // they are dropped with a warning
)

// UndeclaredModes are the modes a plan may name.
var UndeclaredModes = []Undeclared{UndeclaredFail, UndeclaredDrop}
