package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/state"
)

// formats are the report's formats, the first the default: the one place
// their names are spelled (`paraider report -o` takes its list from here).
var formats = []struct {
	name  string
	write func(*Report, io.Writer) error
}{
	{"text", (*Report).WriteText},
	{"markdown", (*Report).WriteMarkdown},
	{"json", (*Report).WriteJSON},
	{"junit", (*Report).WriteJUnit},
}

// Formats are the names of the report formats Write knows.
func Formats() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.name
	}
	return names
}

// Write renders the report in one of Formats; "" is the first.
func (r *Report) Write(w io.Writer, format string) error {
	for _, f := range formats {
		if f.name == format || format == "" {
			return f.write(r, w)
		}
	}
	return fmt.Errorf("unknown report format %q (known: %s)", format, strings.Join(Formats(), ", "))
}

// JSON is the report as `paraider report --format json` writes it. Its
// shape is stable: fields are only ever added. Durations are in seconds,
// money in dollars, times in RFC 3339.
type JSON struct {
	Format  string      `json:"format"` // "paraider-report/1"
	Jobs    int         `json:"jobs"`
	Summary JSONSummary `json:"summary"`
	// Scope is what a run of some tasks is judged by (ok): the tasks it
	// was asked for and what they need; absent for the whole plan.
	Scope  []string      `json:"scope,omitempty"`
	Tasks  []JSONTask    `json:"tasks"`
	Checks []JSONCheck   `json:"checks"`
	Git    JSONGitStatus `json:"git_status"`
}

// JSONSummary is the run as a whole.
type JSONSummary struct {
	Tasks          int      `json:"tasks"`
	Executed       int      `json:"executed"`
	UpToDate       int      `json:"up_to_date"`
	Failed         int      `json:"failed"`
	NotRun         int      `json:"not_run"`
	ChecksFailed   int      `json:"checks_failed"`
	Sequential     float64  `json:"sequential_seconds"`
	Wall           float64  `json:"wall_seconds"`
	Saved          float64  `json:"saved_seconds"`
	CriticalPath   []string `json:"critical_path"`
	CriticalPathS  float64  `json:"critical_path_seconds"`
	TokensSent     int64    `json:"tokens_sent"`
	TokensReceived int64    `json:"tokens_received"`
	Cost           float64  `json:"cost"`
	CostUnknown    bool     `json:"cost_unknown,omitempty"` // some attempt's cost is not known
	OK             bool     `json:"ok"`                     // every task and check passed
	// Compare is the run's tokens priced on the plan's compare_price model.
	Compare *JSONCompare `json:"compare,omitempty"`
}

// JSONCompare is what the run would have cost on a reference model.
type JSONCompare struct {
	Name  string  `json:"name"`
	Cost  float64 `json:"cost"`
	Saved float64 `json:"saved"`
}

// JSONTests are the counts a check's test runner printed.
type JSONTests struct {
	Unit    string `json:"unit"` // tests, or packages (go test without -v)
	Passed  int    `json:"passed"`
	Failed  int    `json:"failed"`
	Skipped int    `json:"skipped"`
}

// JSONTask is one task. Status is ok, up_to_date, failed or not_run.
type JSONTask struct {
	ID             string          `json:"id"`
	Status         string          `json:"status"`
	Attempts       int             `json:"attempts"`
	Seconds        float64         `json:"seconds"`        // its attempts' working time
	WaitedSeconds  float64         `json:"waited_seconds"` // for a place, and between attempts
	TokensSent     int64           `json:"tokens_sent"`
	TokensReceived int64           `json:"tokens_received"`
	Cost           float64         `json:"cost"`
	CostUnknown    bool            `json:"cost_unknown,omitempty"`
	NotRecorded    string          `json:"not_recorded,omitempty"` // why its change is not recorded for undo
	FilesChanged   []string        `json:"files_changed"`
	Undeclared     []string        `json:"undeclared"`
	Elsewhere      []string        `json:"elsewhere"` // main-tree changes outside every task's files while it ran
	Reason         string          `json:"reason,omitempty"`
	Runs           []state.Attempt `json:"runs"` // attempts of this run
	// Commit is the task's commit in commit mode; NotCommitted why not.
	Commit       string `json:"commit,omitempty"`
	NotCommitted string `json:"not_committed,omitempty"`
}

// JSONCheck is one final check. Status is ok, failed or not_run.
type JSONCheck struct {
	Name     string  `json:"name"`
	Command  string  `json:"command"`
	Status   string  `json:"status"`
	ExitCode int     `json:"exit_code"`
	Seconds  float64 `json:"seconds"`
	Tail     string  `json:"tail,omitempty"`
	// Tests are the counts its test runner printed, when it printed any.
	Tests *JSONTests `json:"tests,omitempty"`
	// Repair is what its repair did, when it failed and the plan asks
	// for one.
	Repair *JSONRepair `json:"repair,omitempty"`
}

// JSONRepair is a check's repair: the task, how it ended (ok: the check
// passes now), its attempts and cost in the run shown (0 when its last
// success held and it was not paid again: ran false).
type JSONRepair struct {
	Task        string  `json:"task"`
	Status      string  `json:"status"`
	Ran         bool    `json:"ran"`
	Attempts    int     `json:"attempts"`
	Cost        float64 `json:"cost"`
	CostUnknown bool    `json:"cost_unknown,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	// FailedExit and FailedTail are the failure it was given.
	FailedExit int    `json:"failed_exit"`
	FailedTail string `json:"failed_tail,omitempty"`
}

// JSONGitStatus is `git status --porcelain` of the changed files.
type JSONGitStatus struct {
	Lines []string `json:"lines"`
	Note  string   `json:"note,omitempty"`
}

var jsonStatus = map[string]string{Ran: "ok", UpToDate: "up_to_date", Failed: "failed", NotRun: "not_run", Interrupted: "interrupted"}

// OK reports whether every task and check passed (or was up to date).
func (r *Report) OK() bool {
	if len(r.Scope) > 0 {
		// A run of some tasks: they and what they need passed; the
		// other tasks and the final checks were not part of it.
		for _, t := range r.Tasks {
			if slices.Contains(r.Scope, t.ID) && t.Status != Ran && t.Status != UpToDate {
				return false
			}
		}
		return true
	}
	return r.Failed == 0 && r.NotRun == 0 && r.Interrupted == 0 && r.ChecksFailed() == 0 && r.checksNotRun() == 0
}

func (r *Report) checksNotRun() int {
	n := 0
	for _, c := range r.Checks {
		if c.Status == NotRun {
			n++
		}
	}
	return n
}

// ToJSON returns the report in its stable JSON shape.
func (r *Report) ToJSON() JSON {
	j := JSON{Format: "paraider-report/1", Jobs: r.Jobs, Tasks: []JSONTask{}, Checks: []JSONCheck{}, Scope: r.Scope,
		Git: JSONGitStatus{Lines: nonNil(r.GitStatus), Note: r.GitNote}}
	saved := r.Sequential - r.Wall
	if saved < 0 {
		saved = 0
	}
	j.Summary = JSONSummary{
		Tasks: len(r.Tasks), Executed: r.Executed, UpToDate: r.UpToDate, Failed: r.Failed, NotRun: r.NotRun,
		ChecksFailed: r.ChecksFailed(), Sequential: secs(r.Sequential), Wall: secs(r.Wall), Saved: secs(saved),
		CriticalPath: nonNil(r.Critical), CriticalPathS: secs(r.CriticalD),
		TokensSent: r.TokensSent, TokensReceived: r.TokensRecv, Cost: dollars(r.Cost), CostUnknown: r.CostUnknown, OK: r.OK(),
	}
	if c := r.Compare; c != nil {
		j.Summary.Compare = &JSONCompare{Name: c.Name, Cost: dollars(c.Cost), Saved: dollars(c.Saved)}
	}
	for _, t := range r.Tasks {
		runs := t.Runs
		if runs == nil {
			runs = []state.Attempt{}
		}
		j.Tasks = append(j.Tasks, JSONTask{ID: t.ID, Status: jsonStatus[t.Status], Attempts: t.Attempts,
			Seconds: secs(t.Duration), WaitedSeconds: secs(t.Waited), TokensSent: t.Sent, TokensReceived: t.Recv, Cost: dollars(t.Cost), CostUnknown: t.CostUnknown, NotRecorded: t.NotRecorded,
			FilesChanged: nonNil(t.Files), Undeclared: nonNil(t.Undeclared), Elsewhere: nonNil(t.Elsewhere), Reason: t.Reason, Runs: runs,
			Commit: t.Commit, NotCommitted: t.NotCommitted})
	}
	for _, c := range r.Checks {
		jc := JSONCheck{Name: c.Name, Command: c.Command, Status: jsonStatus[c.Status],
			ExitCode: c.ExitCode, Seconds: secs(c.Duration), Tail: c.Tail}
		if t := c.Tests; t != nil {
			jc.Tests = &JSONTests{Unit: t.Unit, Passed: t.Passed, Failed: t.Failed, Skipped: t.Skipped}
		}
		if r := c.Repair; r != nil {
			status := jsonStatus[Failed]
			if r.Status == state.StatusOK {
				status = "ok"
			}
			jc.Repair = &JSONRepair{Task: r.Task, Status: status, Ran: r.Ran, Attempts: r.Attempts, Cost: dollars(r.Cost), CostUnknown: r.CostUnknown,
				Reason: human.Printable(r.Reason), FailedExit: r.FailedExit, FailedTail: r.FailedTail}
		}
		j.Checks = append(j.Checks, jc)
	}
	return j
}

// secs is a duration in seconds, to the millisecond.
func secs(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// dollars rounds money for JSON to a millionth of a dollar: sums
// of binary fractions print as 0.020399999999999998.
func dollars(d float64) float64 { return math.Round(d*1e6) / 1e6 }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// WriteJSON writes the stable JSON shape, indented.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.ToJSON())
}

// WriteMarkdown writes the report for a pull request or a CI job summary:
// the task table, the summary, the checks, and a Mermaid Gantt timeline of
// the run with one bar per attempt.
func (r *Report) WriteMarkdown(w io.Writer) error {
	verdict := "all passed"
	if !r.OK() {
		verdict = "**failed**"
	}
	fmt.Fprintf(w, "## paraider: %d tasks, %d executed, %d up to date — %s\n\n", len(r.Tasks), r.Executed, r.UpToDate, verdict)
	fmt.Fprintln(w, "| task | status | attempts | time | tokens sent | tokens received | cost | files changed |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|---|")
	for _, t := range r.Tasks {
		if t.Status == NotRun {
			fmt.Fprintf(w, "| %s | %s | | | | | | |\n", md(t.ID), t.Status)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %s |\n", md(t.ID), t.Status, t.Attempts,
			human.Duration(t.Duration), human.Tokens(t.Sent), human.Tokens(t.Recv), human.Cost(t.Cost, t.CostUnknown), md(strings.Join(t.Files, " ")))
	}
	fmt.Fprintln(w)
	saved := "-"
	if s := r.Sequential - r.Wall; r.Sequential > 0 && s > 0 {
		saved = fmt.Sprintf("%s (%.0f%%)", human.Duration(s), 100*secs(s)/secs(r.Sequential))
	}
	fmt.Fprintf(w, "- **workers (jobs):** %d\n", r.Jobs)
	fmt.Fprintf(w, "- **sequential estimate:** %s; **wall time:** %s; **saved:** %s\n", human.Duration(r.Sequential), human.Duration(r.Wall), saved)
	if len(r.Critical) > 0 {
		fmt.Fprintf(w, "- **critical path:** %s (%s)\n", md(strings.Join(r.Critical, " → ")), human.Duration(r.CriticalD))
	}
	fmt.Fprintf(w, "- **tokens:** %s sent, %s received; **cost:** %s\n", human.Tokens(r.TokensSent), human.Tokens(r.TokensRecv), human.Cost(r.Cost, r.CostUnknown))
	if c := r.Compare; c != nil {
		fmt.Fprintf(w, "- **%s equivalent:** ~%s; **saved:** %s\n", md(c.Name), human.Money(c.Cost), human.Money(c.Saved))
	}
	if lines := r.commitLines(); len(lines) > 0 {
		fmt.Fprintln(w, "\n### Commits")
		for _, l := range lines {
			fmt.Fprintf(w, "- %s\n", md(l))
		}
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w, "\n### Final checks")
		for _, c := range r.Checks {
			fmt.Fprintf(w, "- %s `%s`: %s%s%s\n", md(c.Name), strings.ReplaceAll(c.Command, "`", "'"), c.Status, testsText(c), md(repairText(c)))
		}
	}
	for _, t := range r.Tasks {
		if t.Status == Failed {
			fmt.Fprintf(w, "\n<details><summary>%s failed: %s</summary>\n\n```\n%s\n```\n</details>\n",
				md(t.ID), md(human.FirstLine(t.Reason)), strings.ReplaceAll(t.LogTail, "```", "'''"))
		}
	}
	r.writeGantt(w)
	return nil
}

// writeGantt draws one bar per attempt of this run, in time since the run
// began; failed attempts are marked critical (red).
func (r *Report) writeGantt(w io.Writer) {
	if r.Started.IsZero() {
		return
	}
	fmt.Fprintln(w, "\n### Timeline")
	fmt.Fprintln(w, "\n```mermaid\ngantt\n  dateFormat HH:mm:ss\n  axisFormat %M:%S")
	clock := func(t time.Time) string {
		d := t.Sub(r.Started).Round(time.Second)
		if d < 0 {
			d = 0
		}
		return fmt.Sprintf("%02d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(secs(d))%60)
	}
	n := 0
	for _, t := range r.Tasks {
		if len(t.Runs) == 0 {
			continue
		}
		fmt.Fprintf(w, "  section %s\n", t.ID)
		for _, a := range t.Runs {
			n++
			tag := "done"
			if a.Failure != "" {
				tag = "crit"
			}
			end := a.End
			if end.Sub(a.Start) < time.Second {
				end = a.Start.Add(time.Second) // Mermaid draws nothing shorter
			}
			fmt.Fprintf(w, "  attempt %d :%s, a%d, %s, %s\n", a.N, tag, n, clock(a.Start), clock(end))
		}
	}
	fmt.Fprintln(w, "```")
}

// md escapes what would break a Markdown table cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}

// JUnit XML, as Jenkins, GitLab and GitHub test reporters read it: one
// testcase per task and per final check.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes JUnit XML: a suite of tasks and a suite of checks.
func (r *Report) WriteJUnit(w io.Writer) error {
	tasks, checks := r.junitTasks(), r.junitChecks()
	all := junitSuites{Name: "paraider", Suites: []junitSuite{tasks, checks}}
	for _, s := range all.Suites {
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
	}
	all.Time = secs(r.Wall)
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitTasks is the suite of the tasks: a testcase each.
func (r *Report) junitTasks() junitSuite {
	tasks := junitSuite{Name: "paraider.tasks"}
	for _, t := range r.Tasks {
		c := junitCase{Name: t.ID, Classname: "paraider.tasks", Time: secs(t.Duration)}
		switch t.Status {
		case Failed:
			c.Failure = &junitFailure{Message: human.FirstLine(t.Reason), Type: "task", Text: t.Reason + "\n\n" + t.LogTail}
			tasks.Failures++
		case NotRun:
			c.Skipped = &junitSkipped{Message: "not run: an upstream task failed or the run stopped"}
			tasks.Skipped++
		case Interrupted:
			c.Skipped = &junitSkipped{Message: "interrupted: the run was stopped; it runs again next time"}
			tasks.Skipped++
		case UpToDate:
			c.SystemOut = "up to date: not run again"
		default:
			changed := strings.Join(t.Files, " ")
			if changed == "" {
				changed = "nothing"
			}
			c.SystemOut = fmt.Sprintf("%s, %s tokens sent, %s received, %s; changed %s",
				human.Count(t.Attempts, "attempt"), human.Tokens(t.Sent), human.Tokens(t.Recv), human.Cost(t.Cost, t.CostUnknown), changed)
		}
		tasks.Tests++
		tasks.Time += c.Time
		tasks.Cases = append(tasks.Cases, c)
	}
	return tasks
}

// junitChecks is the suite of the final checks: a testcase each, with its
// final state (after a repair, the state it left).
func (r *Report) junitChecks() junitSuite {
	checks := junitSuite{Name: "paraider.checks"}
	for _, ch := range r.Checks {
		c := junitCase{Name: ch.Name, Classname: "paraider.checks", Time: secs(ch.Duration), SystemOut: ch.Command}
		if ch.Repair != nil {
			// The testcase is the check's final state; how it got there
			// is said beside it.
			c.SystemOut += "\n" + ch.RepairText()
		}
		switch ch.Status {
		case Failed:
			c.Failure = &junitFailure{Message: fmt.Sprintf("%s exited %d", ch.Command, ch.ExitCode), Type: "check", Text: ch.Tail}
			checks.Failures++
		case NotRun:
			c.Skipped = &junitSkipped{Message: "not run in this run"}
			checks.Skipped++
		case UpToDate:
			c.SystemOut = ch.Command + "\nup to date: nothing it judges changed since it passed"
		}
		checks.Tests++
		checks.Time += c.Time
		checks.Cases = append(checks.Cases, c)
	}
	return checks
}

// AppendMarkdown adds the Markdown report to the file at path (a CI
// job's summary, $GITHUB_STEP_SUMMARY), making it if need be.
func (r *Report) AppendMarkdown(path string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := r.WriteMarkdown(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Finish ends `paraider run` with the report of its run: printed to out,
// added to a CI job's summary when $GITHUB_STEP_SUMMARY names one (a
// failure to is said on errOut), and whether every task and check passed.
func Finish(root, run string, out, errOut io.Writer) (ok bool, err error) {
	rep, err := Build(Options{Root: root, Record: true, Run: run})
	if err != nil {
		return false, err
	}
	fmt.Fprintln(out)
	if err := rep.WriteText(out); err != nil {
		return false, err
	}
	if summary := os.Getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		if err := rep.AppendMarkdown(summary); err != nil {
			fmt.Fprintf(errOut, "paraider: writing the job summary: %v\n", err)
		}
	}
	return rep.OK(), nil
}
