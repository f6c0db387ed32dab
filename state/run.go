package state

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paraider/paraider/internal/proc"
)

// RunEnv names the variable through which `paraider run` tells the tasks
// and checks it starts (through Ninja) which run they belong to.
const RunEnv = "PARAIDER_RUN"

// A run is one invocation of ninja (or of `paraider run`): the tasks and
// checks it ran, its wall time, its cost. Its id is the invoking process's
// pid and start time, which no other process shares, and every record a
// task or a check writes carries it (Result, CheckRecord, Running, the
// ledger's entries). Which run a report, the status or the budget speaks
// of is decided here and nowhere else: CurrentRun is the run a process
// belongs to, LatestRun the run of the newest record.

// RunMark is one record's run and when it was written. `paraider run`
// writes one as it starts (RunStartPath), so that a run that finds
// nothing to do is the latest all the same.
type RunMark struct {
	Run string    `json:"run"`
	At  time.Time `json:"at"`
	// Tasks are the tasks a `paraider run TASK...` was asked for: that
	// run is judged by them and what they need, not by the whole plan.
	Tasks []string `json:"tasks,omitempty"`
}

// RunMarks are the marks that say which run is the latest besides the
// records of tasks and checks: the start of the last `paraider run`.
func (l Layout) RunMarks() []RunMark {
	var m RunMark
	if ReadJSON(l.Path(RunStartPath), &m) != nil {
		return nil
	}
	return []RunMark{m}
}

// LatestRun is the run of the newest mark; "" when none has a run.
func LatestRun(marks []RunMark) string {
	var run string
	var at time.Time
	for _, m := range marks {
		if m.Run != "" && m.At.After(at) {
			run, at = m.Run, m.At
		}
	}
	return run
}

// RunID names the run of the process pid; "" when it cannot be told.
func RunID(pid int) string {
	p, err := proc.Get(pid)
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%d.%s", pid, p.Start)
}

// CurrentRun is the run a task or check belongs to: the one `paraider
// run` named, else the invocation of ninja that started it (Ninja runs
// each command through /bin/sh, which may or may not stay in between).
func CurrentRun() string {
	currentRunOnce.Do(func() { currentRun = findCurrentRun() })
	return currentRun
}

// The current run does not change during a process: worked out once.
var (
	currentRunOnce sync.Once
	currentRun     string
)

func findCurrentRun() string {
	if id := os.Getenv(RunEnv); id != "" {
		return id
	}
	pid := os.Getppid()
	for i := 0; i < 4 && pid > 1; i++ {
		p, err := proc.Get(pid)
		if err != nil {
			break
		}
		if strings.HasPrefix(p.Comm, "ninja") {
			return RunID(pid)
		}
		pid = p.PPID
	}
	return RunID(os.Getppid())
}

// IDs are the plan's tasks and then its checks' repairs: every id that
// has a spec, a result and a change record.
func (r *Run) IDs() []string {
	ids := slices.Clone(r.Tasks)
	for _, c := range r.Checks {
		if c.Repair != "" {
			ids = append(ids, c.Repair)
		}
	}
	return ids
}

// Repaired is the check that the task id repairs; "" when it is no
// repair.
func (r *Run) Repaired(id string) string {
	for _, c := range r.Checks {
		if c.Repair == id && id != "" {
			return c.Name
		}
	}
	return ""
}

// UnknownTaskError names a task id the plan does not have: a mistake on
// the command line.
type UnknownTaskError struct {
	ID    string
	Known []string // the plan's ids
}

func (e *UnknownTaskError) Error() string { return fmt.Sprintf("no task %q in the plan", e.ID) }

// Hint lists the plan's tasks (human.Hinted).
func (e *UnknownTaskError) Hint() string { return "the tasks are: " + strings.Join(e.Known, ", ") }

// Known says whether every id is a task or a repair of the plan: an
// *UnknownTaskError for the first that is not.
func (r *Run) Known(ids []string) error {
	all := r.IDs()
	known := make(map[string]bool, len(all))
	for _, id := range all {
		known[id] = true
	}
	for _, id := range ids {
		if !known[id] {
			return &UnknownTaskError{ID: id, Known: all}
		}
	}
	return nil
}
