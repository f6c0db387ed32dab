// Package report gathers what the result records say about a run and
// renders it: a table of tasks and the summary of the parallel run (tasks
// executed, workers, sequential estimate against wall time, critical path,
// tokens and cost, final checks, git status of the changed files).
//
// # Which run
//
// The report edge runs with Record set: it counts as executed the tasks
// whose results are newer than the previous report, and records that for
// later reports. A report run by hand shows the tasks finished since the last
// recorded report, or, when there are none, what that report showed.
package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// Task statuses shown in the report.
const (
	Ran      = "ok"
	UpToDate = "up to date"
	Failed   = "FAILED"
	NotRun   = "not run"
)

// Report is a run, ready to render.
type Report struct {
	Jobs    int
	Started time.Time // the first executed task's start
	Tasks   []TaskRow
	// Executed counts the tasks run in this run (ok or failed).
	Executed, UpToDate, Failed, NotRun int
	Sequential                         time.Duration // sum of executed tasks' times
	Wall                               time.Duration // first start to last end of executed tasks
	Critical                           []string      // by recorded durations
	CriticalD                          time.Duration
	TokensSent                         int64
	TokensRecv                         int64
	Cost                               float64
	Checks                             []CheckRow
	GitStatus                          []string // porcelain lines for the changed files
	GitNote                            string   // why GitStatus is empty, when it is not just clean
}

// TaskRow is one task's line.
type TaskRow struct {
	ID       string
	Status   string
	Attempts int
	Duration time.Duration
	Sent     int64
	Recv     int64
	Cost     float64
	Files    []string
	Reason   string
	// Undeclared are changes outside the task's files: not applied (with
	// worktree isolation) or seen in the main tree (with none).
	Undeclared []string
	// Elsewhere are main-tree changes outside every task's files seen
	// while the task ran in a worktree.
	Elsewhere []string
	// Runs are the attempts, for tasks executed in this run.
	Runs []state.Attempt
	// LogTail is the end of the last attempt's log, for a failed task.
	LogTail string
}

// CheckRow is one final check's line.
type CheckRow struct {
	Name     string
	Command  string
	Status   string // ok, FAILED or not run
	ExitCode int
	Duration time.Duration
	Tail     string
}

// Options tune Build.
type Options struct {
	Root   string
	Record bool      // this is the report edge: close the run
	Now    time.Time // for tests; time.Now() when zero
}

// Build reads the state under Root and builds the report.
func Build(opts Options) (*Report, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now().UTC()
	}
	path := func(rel string) string { return filepath.Join(opts.Root, filepath.FromSlash(rel)) }
	var run state.Run
	if err := state.ReadJSON(path(state.RunPath), &run); err != nil {
		if state.Missing(err) {
			return nil, fmt.Errorf("nothing to report in %s: run `paraider gen && ninja` first", opts.Root)
		}
		return nil, err
	}
	results := map[string]*state.Result{}
	for _, id := range run.Tasks {
		var res state.Result
		if err := state.ReadJSON(path(state.ResultPath(id)), &res); err == nil {
			// A result for an older spec says nothing about the task now.
			var spec state.Spec
			if state.ReadJSON(path(state.SpecPath(id)), &spec) == nil && spec.Hash() == res.SpecHash {
				results[id] = &res
			}
		} else if !state.Missing(err) {
			return nil, err
		}
	}

	var last state.RunRecord
	haveLast := state.ReadJSON(path(state.LastRun), &last) == nil
	var fresh []string
	for _, id := range run.Tasks {
		if r := results[id]; r != nil && (!haveLast || r.Finished.After(last.ReportedAt)) {
			fresh = append(fresh, id)
		}
	}
	executed := fresh
	if !opts.Record && len(fresh) == 0 && haveLast {
		executed = last.Executed
	}
	isExec := map[string]bool{}
	for _, id := range executed {
		isExec[id] = true
	}

	rep := &Report{Jobs: run.Jobs}
	var first, lastEnd time.Time
	var changed []string
	for _, id := range run.Tasks {
		row := TaskRow{ID: id, Status: NotRun}
		if r := results[id]; r != nil {
			row.Attempts = len(r.Attempts)
			row.Duration = r.Duration()
			row.Sent, row.Recv, row.Cost = r.TokensSent, r.TokensRecv, r.Cost
			row.Files = r.FilesChanged
			row.Reason = r.Reason
			row.Undeclared = r.Undeclared
			row.Elsewhere = r.Elsewhere
			if isExec[id] {
				row.Runs = r.Attempts
			}
			if r.Status != state.StatusOK && len(r.Attempts) > 0 {
				if data, err := os.ReadFile(path(r.Attempts[len(r.Attempts)-1].Log)); err == nil {
					row.LogTail = human.Tail(string(data), 30)
				}
			}
			changed = append(changed, r.FilesChanged...)
			switch {
			case r.Status != state.StatusOK:
				row.Status = Failed
			case isExec[id]:
				row.Status = Ran
			default:
				row.Status = UpToDate
			}
			if isExec[id] {
				rep.Executed++
				rep.Sequential += row.Duration
				rep.TokensSent += r.TokensSent
				rep.TokensRecv += r.TokensRecv
				rep.Cost += r.Cost
				if first.IsZero() || r.Started.Before(first) {
					first = r.Started
				}
				if r.Finished.After(lastEnd) {
					lastEnd = r.Finished
				}
			}
		}
		switch row.Status {
		case UpToDate:
			rep.UpToDate++
		case Failed:
			rep.Failed++
		case NotRun:
			rep.NotRun++
		}
		rep.Tasks = append(rep.Tasks, row)
	}
	if !first.IsZero() {
		rep.Wall = lastEnd.Sub(first)
		rep.Started = first
	}
	rep.Critical, rep.CriticalD = criticalPath(run, results)

	for _, c := range run.Checks {
		row := CheckRow{Name: c.Name, Command: c.Command, Status: NotRun}
		var rec state.CheckRecord
		if err := state.ReadJSON(path(state.CheckResult(c.Name)), &rec); err == nil && rec.Command == c.Command {
			row.Status = Ran
			if rec.Status != state.StatusOK {
				row.Status = Failed
			}
			row.ExitCode = rec.ExitCode
			row.Duration = rec.Finished.Sub(rec.Started)
			row.Tail = rec.Tail
		}
		rep.Checks = append(rep.Checks, row)
	}

	rep.GitStatus, rep.GitNote = gitStatus(opts.Root, changed)

	if opts.Record {
		rec := state.RunRecord{ReportedAt: opts.Now, Executed: executed, Started: first, Finished: lastEnd}
		if err := state.WriteJSON(path(state.LastRun), rec); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// criticalPath is the longest chain by recorded duration; tasks without a
// result weigh nothing.
func criticalPath(run state.Run, results map[string]*state.Result) ([]string, time.Duration) {
	p := &plan.Plan{}
	byID := map[string]*plan.Task{}
	for _, id := range run.Tasks {
		t := &plan.Task{ID: id, Deps: run.Deps[id]}
		p.Tasks = append(p.Tasks, t)
		byID[id] = t
	}
	s := p.Shape(func(id string) float64 {
		if r := results[id]; r != nil {
			return r.Duration().Seconds()
		}
		return 0
	})
	return s.CriticalPath, time.Duration(s.CriticalWeight * float64(time.Second))
}

// gitStatus returns `git status --porcelain` for the files, bounded in time.
func gitStatus(root string, files []string) ([]string, string) {
	if len(files) == 0 {
		return nil, ""
	}
	sort.Strings(files)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	args := append([]string{"status", "--porcelain=v1", "--untracked-files=all", "--"}, files...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		if _, lerr := exec.LookPath("git"); lerr != nil {
			return nil, "git is not installed"
		}
		if ctx.Err() != nil {
			return nil, "git status timed out"
		}
		return nil, "not a git repository"
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return nil, "the changed files are committed"
	}
	return lines, ""
}

// ChecksFailed counts the final checks that failed.
func (r *Report) ChecksFailed() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == Failed {
			n++
		}
	}
	return n
}
