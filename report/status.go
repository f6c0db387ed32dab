package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/par"
	"github.com/paraider/paraider/internal/proc"
	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/internal/table"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// Task states in a status snapshot.
const (
	Pending = "pending"
	Running = "running"
	Done    = "done"
)

// Status is a snapshot of a run in progress, read from .paraider/ alone, so
// that another terminal can watch what ninja is doing.
type Status struct {
	Jobs    int
	Busy    int // agents running now
	Rows    []StatusRow
	Counts  map[string]int // by state
	TakenAt time.Time
	Run     string // the run running, or the last one
}

// StatusRow is one task's line.
type StatusRow struct {
	ID       string
	State    string // pending, running, done, FAILED or up to date
	Attempt  int
	Of       int
	Elapsed  time.Duration
	LastLine string // of the running attempt's log
	// What a running attempt has reported so far, when its agent reports
	// it as it goes.
	SoFar agent.Usage
}

// BuildStatus reads the state of every task.
func BuildStatus(root string, now time.Time) (*Status, error) {
	return BuildStatusOf(root, now, nil)
}

// BuildStatusOf reads the state of every task, judged by specs (the plan
// as it is now, held in memory, by task id, in the plan's order) rather
// than by the specs gen wrote last: a task whose message was edited is
// pending before any gen, and one whose timeout alone changed stays up to
// date, as paraider exec will decide. nil specs: the generated ones.
func BuildStatusOf(root string, now time.Time, specs *Specs) (*Status, error) {
	return buildStatus(root, now, func() *Specs { return specs })
}

// BuildStatusNow is BuildStatusOf with the specs of the plan in file as
// it is now (SpecsNow), read while the records are: the plan's parse is
// a third of a status of ten thousand tasks. It returns them too: nil
// when the plan does not load, and the generated specs served.
func BuildStatusNow(root, file string, now time.Time) (*Status, *Specs, error) {
	loaded := make(chan *Specs, 1)
	go func() { loaded <- SpecsNow(file) }()
	var specs *Specs
	wait := sync.OnceValue(func() *Specs { specs = <-loaded; return specs })
	st, err := buildStatus(root, now, wait)
	wait() // the plan's read ends before this returns, whatever the error
	return st, specs, err
}

// buildStatus is BuildStatusOf with the specs asked for once the records
// are read (or at once when there is no run.json to list the tasks).
func buildStatus(root string, now time.Time, specsOf func() *Specs) (*Status, error) {
	sr := newStatusReader(root, now)
	var run state.Run
	if err := state.ReadJSON(sr.path(state.RunPath), &run); err != nil {
		if specs := specsOf(); state.Missing(err) && specs != nil {
			run.Tasks = specs.Order // never generated: every task pending
		} else if state.Missing(err) {
			return nil, fmt.Errorf("nothing to show in %s: run `paraider gen` first", root)
		} else {
			return nil, err
		}
	}
	sr.readRecords(run.Tasks)
	sr.specs = specsOf()
	st := &Status{Jobs: run.Jobs, Counts: map[string]int{}, TakenAt: now, Run: sr.latest}
	tasks := run.Tasks
	if sr.specs != nil {
		tasks, st.Jobs = sr.specs.Order, sr.specs.Jobs
	}
	// Each row on its own (a task's inputs are hashed to tell whether it
	// is stale), side by side; counted in the plan's order after.
	rows := make([]StatusRow, len(tasks))
	par.Each(len(tasks), func(i int) { rows[i] = sr.row(tasks[i]) })
	rows = append(rows, sr.repairRows(&run)...)
	sr.saveSums()
	for _, row := range rows {
		if row.State == Running {
			st.Busy++
		}
		st.Counts[row.State]++
	}
	if len(rows) > 0 {
		st.Rows = rows
	}
	return st, nil
}

// statusReader reads what a status is made of: each task's result and
// running mark, its spec (the generated one, or the plan's as it is now),
// and the digests of its inputs, each file once.
type statusReader struct {
	root    string
	path    func(rel string) string
	now     time.Time
	specs   *Specs             // nil: the generated specs
	latest  string             // the latest run: done means done in it
	results map[string]*record // every task's, by id
	running map[string]*state.Running
	// isRunning says whether the directory lists a running mark: four
	// failed opens a task were most of a status of ten thousand.
	isRunning func(id string) bool
	digests   sync.Map        // path -> its digest, this status
	sums      *sumcache.Cache // the digests of earlier statuses
}

// newStatusReader reads under root; its specs are set once they are
// known (buildStatus).
func newStatusReader(root string, now time.Time) *statusReader {
	path := state.Layout{Root: root}.Path
	return &statusReader{root: root, path: path, now: now,
		running: map[string]*state.Running{}, isRunning: listed(path(state.RunningPath("x"))),
		sums: sumcache.New(path(digestsCachePath), sha256.Size*2)}
}

// readRecords reads every result (from the cache where its file did not
// change since the last status: statusRecords) and the running mark of
// each of tasks, side by side (ten thousand small files
// one after another were a third of a status), and works out the latest
// run from tasks' records.
func (sr *statusReader) readRecords(tasks []string) {
	readMark := make([]*state.Running, len(tasks))
	par.Each(len(tasks)+1, func(i int) {
		if i == len(tasks) {
			sr.results = statusRecords(sr.root)
			return
		}
		readMark[i] = sr.mark(tasks[i])
	})
	var marks []state.RunMark
	for i, id := range tasks {
		if res := sr.results[id]; res != nil {
			marks = append(marks, state.RunMark{Run: res.Run, At: res.FinishedAt()})
		}
		if mark := readMark[i]; mark != nil {
			sr.running[id] = mark
			marks = append(marks, state.RunMark{Run: mark.Run, At: mark.Started})
		}
	}
	sr.latest = state.LatestRun(append(marks, state.Layout{Root: sr.root}.RunMarks()...))
}

// result is the record of the task's result, when it has one.
func (sr *statusReader) result(id string) *record { return sr.results[id] }

// mark is the task's running mark, when a live process holds it.
func (sr *statusReader) mark(id string) *state.Running {
	var m state.Running
	if sr.isRunning(id) && state.ReadJSON(sr.path(state.RunningPath(id)), &m) == nil && alive(m.PID) {
		return &m
	}
	return nil
}

// spec is the task's spec: the plan's as it is now when the status has
// them, else the generated one.
func (sr *statusReader) spec(id string, spec *state.Spec) bool {
	if sr.specs == nil {
		return state.ReadJSON(sr.path(state.SpecPath(id)), spec) == nil
	}
	if s := sr.specs.ByID[id]; s != nil {
		*spec = *s
		return true
	}
	return false
}

// depFiles are the files of a task that another needs: its inputs.
func (sr *statusReader) depFiles(dep string) ([]string, error) {
	var ds state.Spec
	if !sr.spec(dep, &ds) {
		return nil, fmt.Errorf("no spec of %s", dep)
	}
	return ds.Files, nil
}

// digest is a file's digest (state.FileDigest's), worked out once however
// many tasks read it (one status is one look at the tree), and read only
// when the file changed since the last status took it (sr.sums).
func (sr *statusReader) digest(p string) ([32]byte, bool) {
	type d struct {
		sum [32]byte
		ok  bool
	}
	if v, ok := sr.digests.Load(p); ok {
		return v.(d).sum, v.(d).ok
	}
	var sum [32]byte
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		sr.digests.Store(p, d{sum, false})
		return sum, false
	case fi.Mode().IsRegular():
		if s, err := sr.sums.Sum(p, p, fi, sha256Hex); err == nil {
			hex.Decode(sum[:], []byte(s))
		}
	default:
		sum, _ = state.FileDigest(p)
	}
	sr.digests.Store(p, d{sum, true})
	return sum, true
}

// saveSums writes back the digests cache, with the files this status
// digested.
func (sr *statusReader) saveSums() {
	sr.sums.Save(func(p string) bool { _, ok := sr.digests.Load(p); return ok })
}

// row is one task's row: running, or judged from its result as exec
// would judge it, or pending.
func (sr *statusReader) row(id string) StatusRow {
	row := StatusRow{ID: id, State: Pending}
	mark, res := sr.running[id], sr.result(id)
	if sr.specs != nil {
		// A task of the plan in memory that run.json does not list
		// yet: its mark read here.
		if mark == nil {
			mark = sr.mark(id)
		}
	}
	var spec state.Spec
	switch {
	case mark != nil:
		row = sr.runningRow(id, mark)
	case res != nil && sr.spec(id, &spec):
		row.Attempt, row.Of, row.Elapsed = res.Attempts, spec.Retries+1, res.Duration()
		row.State, row.LastLine = sr.judged(&spec, res)
		if sr.specs != nil && (row.State == Done || row.State == UpToDate) {
			// For the table a person asked for; the live view, redrawn
			// four times a second, shows no line for these rows and
			// need not hash their files.
			row.LastLine = filesSince(sr.root, &spec, res, sr.digest)
		}
	}
	return row
}

// judged is the state of a task with a result, and why, as exec decides.
func (sr *statusReader) judged(spec *state.Spec, res *record) (string, string) {
	switch {
	case res.Status != state.StatusOK && spec.Hash() != res.SpecHash:
		return Pending, "changed since it failed"
	case res.Status != state.StatusOK && res.Interrupted:
		return Interrupted, "interrupted; runs again next time"
	case res.Status != state.StatusOK:
		return Failed, human.FirstLine(res.Reason)
	case stale(sr.root, spec, res, sr.depFiles, sr.digest):
		// Its work or its inputs changed (a timeout alone is neither).
		return Pending, "changed since its success (its task or its inputs)"
	case res.Check != spec.Check:
		return Pending, "its check changed: it runs on its files first"
	case res.Run != "" && res.Run == sr.latest:
		return Done, ""
	}
	return UpToDate, ""
}

// runningRow is the row of a task whose attempt runs now.
func (sr *statusReader) runningRow(id string, mark *state.Running) StatusRow {
	row := StatusRow{ID: id, State: Running, Attempt: mark.Attempt, Of: mark.Of, Elapsed: sr.now.Sub(mark.Started)}
	row.LastLine, row.SoFar = progress(sr.root, sr.path(mark.Log), sr.path(state.SpecPath(id)), mark.Started)
	return row
}

// repairRows are the checks' repairs that run now or ran in the latest
// run: a repair runs only when its check fails, so one that did not run
// is not pending, and has no row.
func (sr *statusReader) repairRows(run *state.Run) []StatusRow {
	var rows []StatusRow
	for _, c := range run.Checks {
		if c.Repair == "" {
			continue
		}
		if mark := sr.mark(c.Repair); mark != nil {
			rows = append(rows, sr.runningRow(c.Repair, mark))
			continue
		}
		res := sr.result(c.Repair)
		if res == nil || res.Run == "" || res.Run != sr.latest {
			continue
		}
		row := StatusRow{ID: c.Repair, State: Done, Attempt: res.Attempts, Elapsed: res.Duration()}
		switch {
		case res.Status != state.StatusOK && res.Interrupted:
			row.State = Interrupted
		case res.Status != state.StatusOK:
			row.State, row.LastLine = Failed, human.FirstLine(res.Reason)
		}
		rows = append(rows, row)
	}
	return rows
}

// filesSince says how a succeeded task's files differ from what it left:
// "" when they do not.
func filesSince(root string, spec *state.Spec, res *record, digest func(string) ([32]byte, bool)) string {
	if res.OutputHash == "" || state.OutputHashOf(root, spec.Files, digest) == res.OutputHash {
		return ""
	}
	var gone []string
	for _, f := range spec.Files {
		if _, ok := digest(filepath.Join(root, filepath.FromSlash(f))); !ok {
			gone = append(gone, f)
		}
	}
	if len(gone) > 0 {
		return "missing since its success: " + strings.Join(gone, ", ") + " (the next run puts it back from its record, for free)"
	}
	return "changed by hand since its success: yours, kept (not run over)"
}

// Specs are the plan's tasks as gen would freeze them, held in memory.
type Specs struct {
	Order []string // the plan's task ids, in its order
	ByID  map[string]*state.Spec
	Jobs  int
}

// stale reports whether a succeeded task's inputs changed since: the same
// digest paraider exec decides by.
func stale(root string, spec *state.Spec, res *record, depFiles func(string) ([]string, error), digest func(string) ([32]byte, bool)) bool {
	h, err := state.InputHashOf(root, spec, depFiles, digest)
	return err == nil && res.InputHash != "" && h != res.InputHash
}

// listed says whether the directory of file holds an entry named as file
// would be for another id: file's directory, listed once. The id's file
// is then id plus file's extension.
func listed(file string) func(id string) bool {
	dir, ext := filepath.Dir(file), filepath.Ext(file)
	names := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names[e.Name()] = true
	}
	return func(id string) bool { return names[id+ext] }
}

// alive reports whether a process runs (a zombie does not).
func alive(pid int) bool { return proc.Running(pid) }

// Spent is what a running task has reported so far: "2.7k tokens,
// $0.0129"; "" when its agent has reported nothing yet.
func (r StatusRow) Spent() string {
	var parts []string
	if n := r.SoFar.Sent + r.SoFar.Received; n > 0 {
		parts = append(parts, human.Tokens(n)+" tokens")
	}
	if r.SoFar.Cost > 0 {
		parts = append(parts, human.Money(r.SoFar.Cost))
	}
	return strings.Join(parts, ", ")
}

// progressWindow is how much of a running attempt's log is read: its
// whole, unless it is larger (then the usage so far is that of the end).
const progressWindow = 4 << 20

// progress is what a running attempt's log shows so far, read the way its
// agent's output is read: the last line that says something, and the
// tokens and cost reported up to now.
func progress(root, log, specFile string, since time.Time) (string, agent.Usage) {
	f, err := state.OpenOwn(log, os.O_RDONLY)
	if err != nil {
		return "", agent.Usage{}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.ModTime().Before(since) {
		// Written before the attempt started: the log of an earlier
		// run's attempt of the same number, until this one's is made.
		return "", agent.Usage{}
	}
	// A view redrawn a few times a second reads a log again only when it
	// grew, and at most once a second: an agent's log runs to megabytes.
	if c, ok := progressCache.Load(log); ok {
		c := c.(cachedProgress)
		if c.since.Equal(since) && (c.size == fi.Size() || time.Since(c.at) < progressEvery) {
			return c.pr.Line, c.pr.Usage
		}
	}
	var spec state.Spec
	state.ReadJSON(specFile, &spec)
	off := max(fi.Size()-progressWindow, 0)
	buf := make([]byte, fi.Size()-off)
	n, _ := f.ReadAt(buf, off)
	pr := agent.ProgressOf(spec.Agent.Output, string(buf[:n]), root)
	progressCache.Store(log, cachedProgress{size: fi.Size(), since: since, at: time.Now(), pr: pr})
	return human.Printable(pr.Line), pr.Usage
}

// progressEvery is how often a growing log is read again.
var progressEvery = time.Second

type cachedProgress struct {
	size  int64
	since time.Time // the attempt's start: a new attempt's log is read anew
	at    time.Time
	pr    agent.Progress
}

// progressCache holds what each running attempt's log showed last, by
// the log's path (a new attempt has a log of its own).
var progressCache sync.Map

// WriteText renders the snapshot. With color, states are coloured; the
// caller decides (a terminal, and NO_COLOR unset).
func (s *Status) WriteText(w io.Writer, color bool) error {
	paint := func(state string) string {
		if !color {
			return state
		}
		code := map[string]string{Running: "33", Done: "32", Failed: "31", UpToDate: "36", Interrupted: "33"}[state]
		if code == "" {
			return state
		}
		return "\x1b[" + code + "m" + state + "\x1b[0m"
	}
	fmt.Fprintf(w, "paraider status at %s: %d of %d agents busy; %d running, %d done, %d failed, %d up to date, %d pending\n",
		s.TakenAt.Local().Format("15:04:05"), s.Busy, s.Jobs, s.Counts[Running], s.Counts[Done], s.Counts[Failed], s.Counts[UpToDate], s.Counts[Pending])
	rows := make([][]string, 0, len(s.Rows))
	for _, r := range s.Rows {
		attempt, took := "-", "-"
		if r.Attempt > 0 {
			attempt = fmt.Sprintf("%d/%d", r.Attempt, r.Of)
			took = human.Duration(r.Elapsed.Round(time.Second))
		}
		rows = append(rows, []string{r.ID, paint(r.State), attempt, took, r.Spent(), human.Clip(r.LastLine, 70)})
	}
	return table.Write(w, []string{"task", "state", "attempt", "time", "so far", "last line"}, rows)
}

// SpecsOf are the tasks of a loaded plan as gen would freeze them: nil
// when its agents cannot be resolved.
func SpecsOf(p *plan.Plan) *Specs {
	byID, err := gen.Specs(p)
	if err != nil {
		return nil
	}
	s := &Specs{ByID: byID, Jobs: p.Jobs}
	for _, t := range p.Tasks {
		s.Order = append(s.Order, t.ID)
	}
	return s
}
