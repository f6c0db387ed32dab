// Package report gathers what the result records say about a run and
// renders it: a table of tasks and the summary of the parallel run (tasks
// executed, workers, sequential estimate against wall time, critical path,
// tokens and cost, final checks, git status of the changed files).
//
// # Which run
//
// A run is one invocation of ninja or of `paraider run`: each result and
// check record names the run that wrote it (state.CurrentRun). The report
// edge shows its own run; `paraider run` names its run; a report run by
// hand shows the latest run that ran anything. Tasks and checks that did
// not run in the run shown are up to date (their earlier figures apart) or
// not run; wall time, cost and the critical path are the run's own.
package report

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/par"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// Task statuses shown in the report.
const (
	Ran      = "ok"
	UpToDate = "up to date"
	Failed   = "FAILED"
	NotRun   = "not run"
	// Interrupted is a task stopped by Ctrl-C (or a signal to ninja):
	// not its own failure, and it runs again next time.
	Interrupted = "interrupted"
)

// Report is a run, ready to render.
type Report struct {
	Jobs    int
	Started time.Time // the first executed task's start
	Tasks   []TaskRow
	// Executed counts the tasks run in this run (ok, failed or
	// interrupted).
	Executed, UpToDate, Failed, NotRun, Interrupted int
	Sequential                                      time.Duration // sum of executed tasks' attempts
	Wall                                            time.Duration // first start to last end of executed tasks
	Critical                                        []string      // by the tasks' working time
	CriticalD                                       time.Duration
	TokensSent                                      int64
	TokensRecv                                      int64
	Cost                                            float64
	CostUnknown                                     bool // some attempt's cost is not known
	Checks                                          []CheckRow
	// Compare is what the run's tokens would have cost on a reference
	// model (the plan's compare_price); nil without one.
	Compare   *Comparison
	GitStatus []string // porcelain lines for the changed files
	GitNote   string   // why GitStatus is empty, when it is not just clean
	// Scope is what a run of some tasks (`paraider run TASK...`) is
	// judged by: those tasks and what they need. The other tasks and the
	// final checks were not part of it. Empty: the whole plan.
	Scope []string
	// Ignored names records that were no records (a FIFO, a link, not
	// JSON) and were left out: what the report does not show, and why.
	Ignored []string
}

// TaskRow is one task's line.
type TaskRow struct {
	ID       string
	Status   string
	Attempts int
	// Duration is the time its attempts worked (Result.Working); Waited
	// the rest of its time: for a place, and between attempts.
	Duration time.Duration
	Waited   time.Duration
	Sent     int64
	Recv     int64
	Cost     float64
	// CostUnknown says some attempt's cost is not known: its agent
	// printed one that cannot be (negative, not a number).
	CostUnknown bool
	// NotRecorded says why the task's change is not recorded for undo.
	NotRecorded string
	Files       []string
	Reason      string
	// Undeclared are changes outside the task's files: not applied (with
	// worktree isolation) or seen in the main tree (with none).
	Undeclared []string
	// Elsewhere are main-tree changes outside every task's files seen
	// while the task ran in a worktree.
	Elsewhere []string
	// InPlace is set for a task that ran with isolation none: its
	// Undeclared were seen in the main tree, and left there.
	InPlace bool
	// Runs are the attempts, for tasks executed in this run.
	Runs []state.Attempt
	// LogTail is the end of the last attempt's log, for a failed task.
	LogTail string
	// Commit is the commit of the task's change in commit mode, and
	// NotCommitted why there is none.
	Commit, NotCommitted string
}

// Comparison prices the run's tokens on a reference model.
type Comparison struct {
	Name  string
	Cost  float64 // what the tokens would have cost there
	Saved float64 // that, less what the run cost
}

// CheckRow is one final check's line.
type CheckRow struct {
	Name     string
	Command  string
	Status   string // ok, FAILED or not run
	ExitCode int
	Duration time.Duration
	Tail     string
	// Tests are the counts the check's test runner printed, if any.
	Tests *TestCounts
	// Repair is what its repair did, when the check failed and the plan
	// asks for one; nil otherwise.
	Repair *state.CheckRepair
}

// RepairText is what a check's repair did, in the words of its line:
// "failed, repaired by repair-test (1 attempt, $0.03)", "failed; repair
// failed after 3 attempts: ...".
func (c CheckRow) RepairText() string {
	r := c.Repair
	if r == nil {
		return ""
	}
	paid := "not run again: its last success holds"
	if r.Ran {
		paid = human.Count(r.Attempts, "attempt") + ", " + human.Cost(r.Cost, r.CostUnknown)
	}
	if r.Status == state.StatusOK {
		return fmt.Sprintf("failed, repaired by %s (%s)", r.Task, paid)
	}
	if r.Ran {
		return fmt.Sprintf("failed; repair %s failed after %s (%s): %s", r.Task, human.Count(r.Attempts, "attempt"), human.Cost(r.Cost, r.CostUnknown), human.Printable(state.FirstReason(r.Reason)))
	}
	return fmt.Sprintf("failed; repair %s: %s", r.Task, human.Printable(state.FirstReason(r.Reason)))
}

// Options tune Build.
type Options struct {
	Root   string
	Record bool // this is the report edge: the run shown is its own
	// Run is the run to show; by default the report edge's own run, or
	// the latest run that ran anything.
	Run string
}

// Build reads the state under Root and builds the report.
func Build(opts Options) (*Report, error) {
	recs, err := readRecords(state.Layout{Root: opts.Root})
	if err != nil {
		return nil, err
	}
	cur := whichRun(opts, recs)
	rep := &Report{Jobs: recs.run.Jobs, Ignored: recs.ignored}
	isExec := map[string]bool{}
	for _, id := range recs.run.Tasks {
		if r := recs.results[id]; r != nil && cur != "" && r.Run == cur {
			isExec[id] = true
		}
	}
	rep.Scope = scopeOf(recs, cur)
	changed := rep.addTasks(recs, isExec)
	rep.Critical, rep.CriticalD = criticalPath(recs.run, recs.results, isExec)
	rep.addChecks(recs, cur, opts.Root)
	if pr := recs.run.Compare; pr != nil {
		c := float64(rep.TokensSent)*pr.Input/1e6 + float64(rep.TokensRecv)*pr.Output/1e6
		rep.Compare = &Comparison{Name: pr.Name, Cost: c, Saved: c - rep.Cost}
	}
	rep.GitStatus, rep.GitNote = gitStatus(opts.Root, changed)
	return rep, nil
}

// scopeOf is the tasks run asked for, with all they need, when it was a
// `paraider run TASK...`; nil for a run of the whole plan.
func scopeOf(recs *records, run string) []string {
	var asked []string
	for _, m := range recs.lay.RunMarks() {
		if m.Run == run && run != "" {
			asked = m.Tasks
		}
	}
	if len(asked) == 0 {
		return nil
	}
	in := map[string]bool{}
	var add func(id string)
	add = func(id string) {
		if in[id] {
			return
		}
		in[id] = true
		for _, d := range recs.run.Deps[id] {
			add(d)
		}
	}
	for _, id := range asked {
		add(id)
	}
	var scope []string
	for _, id := range recs.run.Tasks {
		if in[id] {
			scope = append(scope, id)
		}
	}
	return scope
}

// records are what a report is made of: the generated plan, and the
// results and check records that answer to it as it is now.
type records struct {
	lay     state.Layout
	run     state.Run
	results map[string]*state.Result
	checks  map[string]*state.CheckRecord
	ignored []string // records that could not be read, and why
}

func readRecords(lay state.Layout) (*records, error) {
	recs := &records{lay: lay, results: map[string]*state.Result{}, checks: map[string]*state.CheckRecord{}}
	if err := state.ReadJSON(lay.Path(state.RunPath), &recs.run); err != nil {
		if state.Missing(err) {
			return nil, fmt.Errorf("nothing to report in %s: run `paraider gen && ninja` first", lay.Root)
		}
		return nil, err
	}
	hasResult := listed(lay.Path(state.ResultPath("x"))) // one listing, not a failed open a task
	// Read side by side (see par.Each), kept in the plan's order.
	tasks := recs.run.Tasks
	specHash := lay.SpecHashes()
	read := make([]*state.Result, len(tasks))
	damaged := make([]string, len(tasks))
	par.Each(len(tasks), func(i int) {
		id := tasks[i]
		if !hasResult(id) {
			return
		}
		var res state.Result
		if err := state.ReadJSON(lay.Path(state.ResultPath(id)), &res); err == nil {
			// A result for an older spec says nothing about the task now.
			if h := specHash[id]; h != "" && h == res.SpecHash {
				read[i] = &res
			}
		} else if !state.Missing(err) {
			// A damaged record (junk, a link, cut JSON) is left out, with
			// a note: the task shows as not run, which it may well be.
			damaged[i] = err.Error()
		}
	})
	for i, id := range tasks {
		if read[i] != nil {
			recs.results[id] = read[i]
		}
		if damaged[i] != "" {
			recs.ignored = append(recs.ignored, damaged[i])
		}
	}
	for _, c := range recs.run.Checks {
		var rec state.CheckRecord
		if state.ReadJSON(lay.Path(state.CheckResult(c.Name)), &rec) == nil && rec.Command == c.Command {
			recs.checks[c.Name] = &rec
		}
	}
	return recs, nil
}

// addTasks adds a row per task, and the run's totals from the tasks it
// ran (isExec); it returns the files the tasks changed.
func (rep *Report) addTasks(recs *records, isExec map[string]bool) (changed []string) {
	var first, lastEnd time.Time
	for _, id := range recs.run.Tasks {
		r := recs.results[id]
		row := taskRow(recs.lay, id, r, isExec[id])
		if r != nil {
			changed = append(changed, r.FilesChanged...)
		}
		if r != nil && isExec[id] && len(r.Attempts) > 0 {
			// Executed: an attempt started (a task whose agent could
			// not start, a missing key, failed without one).
			rep.Executed++
			// One after another, the tasks would not wait for a place.
			rep.Sequential += r.Working()
			rep.TokensSent += r.TokensSent
			rep.TokensRecv += r.TokensRecv
			rep.Cost += r.Cost
			rep.CostUnknown = rep.CostUnknown || r.CostUnknown
			if first.IsZero() || r.Started.Before(first) {
				first = r.Started
			}
			if r.Finished.After(lastEnd) {
				lastEnd = r.Finished
			}
		}
		switch row.Status {
		case UpToDate:
			rep.UpToDate++
		case Failed:
			rep.Failed++
		case NotRun:
			rep.NotRun++
		case Interrupted:
			rep.Interrupted++
		}
		rep.Tasks = append(rep.Tasks, row)
	}
	if !first.IsZero() {
		rep.Wall = lastEnd.Sub(first)
		rep.Started = first
	}
	return changed
}

// taskRow is a task's line from its result (nil when it has none for its
// spec as it is); ran says it ran in the run shown.
func taskRow(lay state.Layout, id string, r *state.Result, ran bool) TaskRow {
	row := TaskRow{ID: id, Status: NotRun}
	if r == nil {
		return row
	}
	row.Attempts = len(r.Attempts)
	row.Duration = r.Working()
	row.Waited = max(r.Duration()-r.Working(), 0)
	row.Sent, row.Recv, row.Cost, row.CostUnknown = r.TokensSent, r.TokensRecv, r.Cost, r.CostUnknown
	row.Files = r.FilesChanged
	row.NotRecorded = r.NotRecorded
	row.Reason = r.Reason
	row.Undeclared = r.Undeclared
	row.Elsewhere = r.Elsewhere
	row.InPlace = r.Isolation == state.IsolationNone
	if r.Status == state.StatusOK {
		row.Commit, row.NotCommitted = r.Commit, r.NotCommitted
	}
	if ran {
		row.Runs = r.Attempts
	}
	if r.Status != state.StatusOK && len(r.Attempts) > 0 {
		if data, err := state.ReadOwnTail(lay.Path(r.Attempts[len(r.Attempts)-1].Log), 1<<20); err == nil {
			var spec state.Spec
			state.ReadJSON(lay.Path(state.SpecPath(id)), &spec)
			// Through the agent's parser where its log is a stream of
			// JSON events; the raw log is one `cat` away.
			if row.LogTail = human.Printable(agent.Tail(spec.Agent.Output, string(data), lay.Root, 30)); row.LogTail == "" {
				row.LogTail = human.Tail(string(data), 30)
			}
		}
	}
	switch {
	case r.Status != state.StatusOK && r.Interrupted:
		row.Status = Interrupted
	case r.Status != state.StatusOK:
		row.Status = Failed
	case ran:
		row.Status = Ran
	default:
		row.Status = UpToDate
	}
	return row
}

// addChecks adds a row per final check: ran in the run shown (cur), up to
// date when nothing it judges changed, else not run.
func (rep *Report) addChecks(recs *records, cur, root string) {
	for _, c := range recs.run.Checks {
		row := CheckRow{Name: c.Name, Command: c.Command, Status: NotRun}
		rec := recs.checks[c.Name]
		switch {
		case rec == nil:
		case cur != "" && rec.Run == cur:
			row.Status = Ran
			if rec.Status != state.StatusOK {
				row.Status = Failed
			}
		case rec.Status == state.StatusOK && rep.Failed == 0 && rep.NotRun == 0 && rep.Interrupted == 0 && checkFresh(root, c.Name, recs.run.Tasks):
			// Not run this time, because nothing it judges changed.
			row.Status = UpToDate
		}
		if row.Status != NotRun {
			row.Repair = rec.Repair
			if r := rec.Repair; r != nil && r.Ran && row.Status != UpToDate {
				// Paid in this run, as a task's attempts are.
				rep.Cost += r.Cost
				rep.CostUnknown = rep.CostUnknown || r.CostUnknown
				rep.TokensSent += r.TokensSent
				rep.TokensRecv += r.TokensRecv
			}
			row.ExitCode = rec.ExitCode
			row.Duration = rec.Finished.Sub(rec.Started)
			row.Tail = rec.Tail
			if c, ok := ParseTestCounts(rec.Tail); ok {
				row.Tests = &c
			}
		}
		rep.Checks = append(rep.Checks, row)
	}
}

// whichRun is the run to show: the one asked for, the report edge's own,
// or the latest that ran a task or a check; "" when the records predate
// run ids (every task is then shown up to date).
func whichRun(opts Options, recs *records) string {
	if opts.Run != "" {
		return opts.Run
	}
	if opts.Record {
		return state.CurrentRun()
	}
	marks := recs.lay.RunMarks()
	for _, r := range recs.results {
		marks = append(marks, state.RunMark{Run: r.Run, At: r.Finished})
	}
	for _, c := range recs.checks {
		marks = append(marks, state.RunMark{Run: c.Run, At: c.Finished})
	}
	return state.LatestRun(marks)
}

// checkFresh reports whether a check's stamp is as new as every task's:
// Ninja would not run it again.
func checkFresh(root, name string, tasks []string) bool {
	cs, err := os.Stat(filepath.Join(root, filepath.FromSlash(state.CheckStamp(name))))
	if err != nil {
		return false
	}
	for _, id := range tasks {
		ts, err := os.Stat(filepath.Join(root, filepath.FromSlash(state.TaskStamp(id))))
		if err != nil || ts.ModTime().After(cs.ModTime()) {
			return false
		}
	}
	return true
}

// criticalPath is the longest chain of the run by the tasks' working
// time (not their waits for a place); tasks that did not run in it weigh
// nothing.
func criticalPath(run state.Run, results map[string]*state.Result, ran map[string]bool) ([]string, time.Duration) {
	chain, weight := plan.LongestChain(run.Tasks, run.Deps, func(id string) float64 {
		if r := results[id]; r != nil && ran[id] {
			return r.Working().Seconds()
		}
		return 0
	})
	return chain, time.Duration(weight * float64(time.Second))
}

// gitStatus returns `git status --porcelain` for the files, bounded in time.
func gitStatus(root string, files []string) ([]string, string) {
	if len(files) == 0 {
		return nil, ""
	}
	sort.Strings(files)
	// git matches every path of the tree against every pathspec: named
	// one by one, ten thousand files took seconds. Many files are asked
	// for by their directories (or the whole tree), and what git lists
	// is kept to them.
	specs, keep := files, func(string) bool { return true }
	if len(files) > maxPathspecs {
		if repo, err := isolate.Open(root); err == nil {
			want := make(map[string]bool, len(files))
			dirs := map[string]bool{}
			for _, f := range files {
				want[repo.Prefix+f] = true
				dirs[path.Dir(f)] = true
			}
			specs = []string{"."}
			if len(dirs) <= maxPathspecs {
				specs = slices.Sorted(maps.Keys(dirs))
			}
			keep = func(p string) bool { return want[p] }
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Without renames: a file's line is the same whether git was asked
	// about it alone or about its directory too.
	args := append([]string{"status", "--porcelain=v1", "-z", "--no-renames", "--untracked-files=all", "--"}, specs...)
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
	lines := porcelainLines(string(out), keep)
	if len(lines) == 0 {
		return nil, "the changed files are committed"
	}
	return lines, ""
}

// maxPathspecs is how many paths are given to git status one by one.
const maxPathspecs = 64

// porcelainLines turns `git status --porcelain=v1 -z --no-renames` into
// the lines git prints without -z (paths quoted as git quotes them),
// those of paths keep takes alone.
func porcelainLines(out string, keep func(string) bool) []string {
	var lines []string
	for _, e := range strings.Split(out, "\x00") {
		if len(e) > 3 && keep(e[3:]) {
			lines = append(lines, e[:3]+quotePath(e[3:]))
		}
	}
	return lines
}

// quotePath quotes a path as git status does: in double quotes, with C's
// escapes and octal for other control bytes and bytes past ASCII, where
// it holds one of those, a quote, a backslash or a space.
func quotePath(p string) string {
	if !strings.ContainsFunc(p, func(r rune) bool { return r < 0x21 || r == '"' || r == '\\' || r >= 0x7f }) {
		return p
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 7 && c <= 13:
			b.WriteString([]string{`\a`, `\b`, `\t`, `\n`, `\v`, `\f`, `\r`}[c-7])
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&b, "\\%03o", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
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
