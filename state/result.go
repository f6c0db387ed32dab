package state

import (
	"strings"
	"time"
)

// Task statuses in a Result.
const (
	StatusOK     = "ok"
	StatusFailed = "failed"
)

// Result is the record of one task's last run.
type Result struct {
	Task string `json:"task"`
	// Isolation is how the task ran: worktree or none.
	Isolation Isolation `json:"isolation,omitempty"`
	// Run is the run (an invocation of ninja) that wrote this result.
	Run      string `json:"run,omitempty"`
	Status   string `json:"status"` // ok or failed
	SpecHash string `json:"spec_hash"`
	// InputHash digests the task's work and the content of its inputs
	// (read files, upstream tasks' files) when it last ran; a task whose
	// InputHash is unchanged since a success is not run again.
	InputHash string `json:"input_hash,omitempty"`
	// OutputHash digests the task's files after its success; the stamp
	// holds it, and is rewritten only when it changes.
	OutputHash string `json:"output_hash,omitempty"`
	// Check is the task's check that its files passed, "" for none: a
	// changed check is run on them before anything is paid for.
	Check    string    `json:"check,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Reason says why the task failed, from its last attempt.
	Reason string `json:"reason,omitempty"`
	// Interrupted is set when paraider was told to stop (Ctrl-C).
	Interrupted  bool      `json:"interrupted,omitempty"`
	Attempts     []Attempt `json:"attempts"`
	FilesChanged []string  `json:"files_changed"`
	// Undeclared lists changes outside the task's files over all attempts;
	// none of them reached the main tree (with isolation none: seen there).
	Undeclared []string `json:"undeclared,omitempty"`
	// Elsewhere lists main-tree changes outside every task's files seen
	// while the task's attempts ran in their worktrees.
	Elsewhere  []string `json:"elsewhere,omitempty"`
	TokensSent int64    `json:"tokens_sent"`
	TokensRecv int64    `json:"tokens_received"`
	Cost       float64  `json:"cost"`
	// CostUnknown says an attempt's cost is not known (its agent printed
	// one that cannot be): Cost counts the others only.
	CostUnknown bool `json:"cost_unknown,omitempty"`
	// Commit is the commit of the task's change in commit mode, and
	// NotCommitted why there is none.
	Commit       string `json:"commit,omitempty"`
	NotCommitted string `json:"not_committed,omitempty"`
	// NotRecorded says why the success's change could not be recorded
	// for paraider diff and revert (a full disk): its files are in the
	// tree, but revert cannot take them back.
	NotRecorded string `json:"not_recorded,omitempty"`
}

// Attempt is one run of the agent.
type Attempt struct {
	N        int       `json:"n"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	ExitCode int       `json:"exit_code"`           // -1 when killed by a signal or not started
	Failure  Failure   `json:"failure,omitempty"`   // "" when it passed
	Reason   string    `json:"reason,omitempty"`    // for people and for the next attempt's message
	APIError string    `json:"api_error,omitempty"` // the kind of failed model call, for failure "api"
	// RetryAfter is the wait the provider asked for, as the agent printed it.
	RetryAfter Duration `json:"retry_after,omitempty"`
	TokensSent int64    `json:"tokens_sent"`
	TokensRecv int64    `json:"tokens_received"`
	Cost       float64  `json:"cost"`
	// CostUnknown says the agent printed a cost that cannot be one
	// (negative, not a number): Cost is 0 and the real one unknown.
	CostUnknown  bool     `json:"cost_unknown,omitempty"`
	FilesChanged []string `json:"files_changed,omitempty"`
	// Undeclared are changes outside the task's files: not applied.
	Undeclared []string `json:"undeclared,omitempty"`
	// Elsewhere are files outside every task's that changed in the main
	// tree while a worktree attempt ran: this agent writing by absolute
	// path, or someone else. Nothing paraider applied.
	Elsewhere []string `json:"elsewhere,omitempty"`
	// Worktree is where a failed attempt's worktree was kept, if it was.
	Worktree string `json:"worktree,omitempty"`
	Log      string `json:"log"`
}

// Duration is how long the task took over all attempts, from its start:
// waiting for a place and between attempts included.
func (r *Result) Duration() time.Duration { return r.Finished.Sub(r.Started) }

// Working is how long the task's attempts ran, each from its start to its
// end: the time it held a place, its weight on a critical path. A task
// that Ninja started with many others waited for a place for most of its
// Duration.
func (r *Result) Working() time.Duration {
	var d time.Duration
	for _, a := range r.Attempts {
		if a.End.After(a.Start) {
			d += a.End.Sub(a.Start)
		}
	}
	return d
}

// CheckRecord is the record of one final check.
type CheckRecord struct {
	Name     string    `json:"name"`
	Run      string    `json:"run,omitempty"` // the run that ran it
	Command  string    `json:"command"`
	Status   string    `json:"status"` // ok or failed
	ExitCode int       `json:"exit_code"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Tail     string    `json:"tail,omitempty"` // the last lines of its output
	Log      string    `json:"log"`
	// Repair is what its repair did, when it failed and the plan asks
	// for one; the fields above are then the check's last run.
	Repair *CheckRepair `json:"repair,omitempty"`
	// Outcome is how its last run ended, in words ("exit 1"); not kept.
	Outcome string `json:"-"`
}

// FirstReason is the first line of a failure's reason, for a line of its
// own: without the colon that leads into the output after it.
func FirstReason(reason string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(reason), "\n")
	return strings.TrimSuffix(strings.TrimSpace(first), ":")
}

// RepairTail is how many of a failing check's last lines its repair is
// told, at first and after each failed attempt.
const RepairTail = 200

// CheckRepair is what the repair of a failed check did.
type CheckRepair struct {
	Task   string `json:"task"`
	Status string `json:"status"` // ok (the check passes now) or failed
	// Ran says the repair's agent ran in this run; false when its last
	// success still held (not paid again) or it could not start.
	Ran         bool    `json:"ran"`
	Attempts    int     `json:"attempts"`
	Cost        float64 `json:"cost"`
	CostUnknown bool    `json:"cost_unknown,omitempty"`
	TokensSent  int64   `json:"tokens_sent"`
	TokensRecv  int64   `json:"tokens_received"`
	Reason      string  `json:"reason,omitempty"` // why it failed
	// FailedExit and FailedTail are the check's failure that the repair
	// was given.
	FailedExit int    `json:"failed_exit"`
	FailedTail string `json:"failed_tail,omitempty"`
}

// Running is what .paraider/running/ID.json says of a task running now.
type Running struct {
	Run     string    `json:"run"`
	Task    string    `json:"task"`
	Attempt int       `json:"attempt"`
	Of      int       `json:"of"`
	Started time.Time `json:"started"`
	PID     int       `json:"pid"`
	Log     string    `json:"log"`
}

// Failure is the kind of an attempt's failure, as its record keeps it;
// "" for an attempt that passed. The kinds are runner's to decide (its
// judging stages name them) and the report's to read.
type Failure string

// The kinds of failure an attempt may have.
const (
	FailStart       Failure = "start"
	FailExit        Failure = "exit"
	FailTimeout     Failure = "timeout"
	FailAPI         Failure = "api"
	FailUnchanged   Failure = "unchanged"
	FailMissing     Failure = "missing"
	FailCheck       Failure = "check"
	FailInterrupted Failure = "interrupted"
	FailUndeclared  Failure = "undeclared"
	FailConflict    Failure = "conflict"
	FailBudget      Failure = "budget"
	FailUsage       Failure = "usage"
	FailTamper      Failure = "tamper"
	// FailSymlink is a write-back refused for a symlink: one the agent
	// made out of the repository, or one in the main tree on the path.
	FailSymlink Failure = "symlink"
	// FailInternal is paraider's own step failing after the agent ran
	// (git, the write-back): not the agent's doing, worth another go.
	FailInternal Failure = "internal"
)
