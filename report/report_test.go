package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/joshdk/go-junit"

	"github.com/paraider/paraider/state"
)

// writeRun lays out .paraider/ for a plan a -> c, b, d (d never ran).
func writeRun(t *testing.T, root string) {
	t.Helper()
	path := func(rel string) string { return filepath.Join(root, rel) }
	run := state.Run{Plan: "paraider.yaml", Jobs: 4, Tasks: []string{"a", "b", "c", "d"},
		Deps: map[string][]string{"c": {"a"}}}
	if err := state.WriteJSON(path(state.RunPath), run); err != nil {
		t.Fatal(err)
	}
	for _, id := range run.Tasks {
		spec := state.Spec{ID: id, Files: []string{id + ".txt"}, Message: "m", Settings: state.Settings{Model: "x"}}
		if err := state.WriteJSON(path(state.SpecPath(id)), spec); err != nil {
			t.Fatal(err)
		}
	}
}

// testRun is the run that writeResult's results belong to.
var testRun = "run-1"

func writeResult(t *testing.T, root, id, status string, start time.Time, d time.Duration, cost float64) {
	t.Helper()
	var spec state.Spec
	if err := state.ReadJSON(filepath.Join(root, state.SpecPath(id)), &spec); err != nil {
		t.Fatal(err)
	}
	r := state.Result{Task: id, Run: testRun, Status: status, SpecHash: spec.Hash(), Started: start, Finished: start.Add(d),
		Attempts: []state.Attempt{{N: 1, Start: start, End: start.Add(d)}}, TokensSent: 1000, TokensRecv: 100, Cost: cost, FilesChanged: []string{id + ".txt"}}
	if status == state.StatusFailed {
		r.Reason = "the agent ended with exit status 1"
	}
	if err := state.WriteJSON(filepath.Join(root, state.ResultPath(id)), r); err != nil {
		t.Fatal(err)
	}
}

// TestWaitIsNotWork: a task that waited for a place (Ninja started it with
// the others, the places were taken) did no work meanwhile: the time one
// after another and the critical path count its attempts only.
func TestWaitIsNotWork(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	writeResult(t, root, "a", state.StatusOK, t0, 10*time.Second, 0.01)
	writeResult(t, root, "c", state.StatusOK, t0.Add(10*time.Second), 5*time.Second, 0.01)
	// b started with a and waited 12 s for a place, then ran 8 s.
	writeResult(t, root, "b", state.StatusOK, t0, 20*time.Second, 0.01)
	var b state.Result
	state.ReadJSON(filepath.Join(root, state.ResultPath("b")), &b)
	b.Attempts[0].Start = t0.Add(12 * time.Second)
	state.WriteJSON(filepath.Join(root, state.ResultPath("b")), b)
	rep, err := Build(Options{Root: root, Record: true, Run: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sequential != 23*time.Second || rep.Wall != 20*time.Second {
		t.Errorf("one after another %s, wall %s; want 23s (10+8+5: b's wait is no work) and 20s", rep.Sequential, rep.Wall)
	}
	if got := strings.Join(rep.Critical, " "); got != "a c" || rep.CriticalD != 15*time.Second {
		t.Errorf("critical path %s (%s); want a c (15s): b worked 8s of its 20s", got, rep.CriticalD)
	}
	var out bytes.Buffer
	rep.Write(&out, "text")
	if !strings.Contains(out.String(), "23s (the executed tasks' attempts, one after another)") {
		t.Errorf("the report does not say 23s one after another:\n%s", out.String())
	}
	// b's time is its work, 8 s, with its wait apart: one figure for
	// the table and the critical path.
	if !regexp.MustCompile(`\| b +\| ok +\| 1 +\| 8s `).MatchString(out.String()) {
		t.Errorf("b's row does not show its 8s of work:\n%s", out.String())
	}
	j := rep.ToJSON()
	for _, task := range j.Tasks {
		if task.ID == "b" && (task.Seconds != 8 || task.WaitedSeconds != 12) {
			t.Errorf("b: seconds %v, waited_seconds %v; want 8 and 12", task.Seconds, task.WaitedSeconds)
		}
	}
	// Money in JSON is rounded: three times 0.01 is not 0.030000000000000002.
	if j.Summary.Cost != 0.03 {
		t.Errorf("JSON cost %v; want 0.03", j.Summary.Cost)
	}
}

func TestRunsAreToldApart(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	// First run: a and b in parallel (10s each), then c (5s).
	writeResult(t, root, "a", state.StatusOK, t0, 10*time.Second, 0.01)
	writeResult(t, root, "b", state.StatusOK, t0, 10*time.Second, 0.02)
	writeResult(t, root, "c", state.StatusOK, t0.Add(10*time.Second), 5*time.Second, 0.03)
	rep, err := Build(Options{Root: root, Record: true, Run: "run-1"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Executed != 3 || rep.NotRun != 1 || rep.UpToDate != 0 {
		t.Errorf("executed %d, not run %d, up to date %d", rep.Executed, rep.NotRun, rep.UpToDate)
	}
	if rep.Sequential != 25*time.Second || rep.Wall != 15*time.Second {
		t.Errorf("sequential %s, wall %s; want 25s and 15s", rep.Sequential, rep.Wall)
	}
	if got := strings.Join(rep.Critical, " "); got != "a c" || rep.CriticalD != 15*time.Second {
		t.Errorf("critical path %s (%s)", got, rep.CriticalD)
	}
	if rep.Cost < 0.0599 || rep.Cost > 0.0601 {
		t.Errorf("cost %v", rep.Cost)
	}

	// Second run: only c reran, and failed.
	testRun = "run-2"
	defer func() { testRun = "run-1" }()
	writeResult(t, root, "c", state.StatusFailed, t0.Add(time.Minute), 2*time.Second, 0.005)
	rep, err = Build(Options{Root: root, Record: true, Run: "run-2"})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, r := range rep.Tasks {
		status[r.ID] = r.Status
	}
	if status["a"] != UpToDate || status["b"] != UpToDate || status["c"] != Failed || status["d"] != NotRun {
		t.Errorf("statuses %v", status)
	}
	if rep.Executed != 1 || rep.Failed != 1 || rep.Wall != 2*time.Second {
		t.Errorf("executed %d failed %d wall %s", rep.Executed, rep.Failed, rep.Wall)
	}

	// A report by hand afterwards shows the same run.
	again, err := Build(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if again.Executed != 1 || again.Failed != 1 {
		t.Errorf("by hand: executed %d failed %d", again.Executed, again.Failed)
	}
	var buf bytes.Buffer
	if err := again.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"PARALLEL EXECUTION REPORT", "| c ", "FAILED", "c: the agent ended with exit status 1", "(not a git repository)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, buf.String())
		}
	}
}

// A result recorded for an older spec does not count for the task now.
func TestStaleResultIsNotRun(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root)
	writeResult(t, root, "a", state.StatusOK, time.Now(), time.Second, 0)
	spec := state.Spec{ID: "a", Files: []string{"a.txt"}, Message: "changed", Settings: state.Settings{Model: "x"}}
	if err := state.WriteJSON(filepath.Join(root, state.SpecPath("a")), spec); err != nil {
		t.Fatal(err)
	}
	rep, err := Build(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tasks[0].Status != NotRun {
		t.Errorf("a is %s; want %s", rep.Tasks[0].Status, NotRun)
	}
}

func TestNothingToReport(t *testing.T) {
	_, err := Build(Options{Root: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run `paraider gen && ninja` first") {
		t.Fatalf("err = %v", err)
	}
}

func TestFormats(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	writeResult(t, root, "a", state.StatusOK, t0, 10*time.Second, 0.01)
	writeResult(t, root, "b", state.StatusFailed, t0, 3*time.Second, 0.02)
	if err := state.WriteFile(filepath.Join(root, state.LogPath("b", 1)), []byte("line one\nlitellm.AuthenticationError: no key\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The result's attempt points at that log.
	var res state.Result
	state.ReadJSON(filepath.Join(root, state.ResultPath("b")), &res)
	res.Attempts = []state.Attempt{{N: 1, Start: t0, End: t0.Add(3 * time.Second), Failure: "api", Log: state.LogPath("b", 1)}}
	state.WriteJSON(filepath.Join(root, state.ResultPath("b")), res)
	rep, err := Build(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("json", func(t *testing.T) {
		var buf bytes.Buffer
		if err := rep.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		var j JSON
		if err := json.Unmarshal(buf.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		if j.Format != "paraider-report/1" || j.Summary.OK || j.Summary.Failed != 1 || j.Summary.NotRun != 2 {
			t.Errorf("summary %+v", j.Summary)
		}
		if j.Tasks[0].Status != "ok" || j.Tasks[1].Status != "failed" || j.Tasks[2].Status != "not_run" {
			t.Errorf("statuses %s %s %s", j.Tasks[0].Status, j.Tasks[1].Status, j.Tasks[2].Status)
		}
		// Lists are never null, so programs need no special case.
		if !strings.Contains(buf.String(), `"undeclared": []`) {
			t.Errorf("empty lists should be []:\n%s", buf.String())
		}
	})

	t.Run("junit", func(t *testing.T) {
		var buf bytes.Buffer
		if err := rep.WriteJUnit(&buf); err != nil {
			t.Fatal(err)
		}
		suites, err := junit.Ingest(buf.Bytes())
		if err != nil {
			t.Fatalf("a JUnit parser cannot read it: %v\n%s", err, buf.String())
		}
		if len(suites) != 2 || suites[0].Name != "paraider.tasks" || len(suites[0].Tests) != 4 {
			t.Fatalf("suites %+v", suites)
		}
		got := map[string]junit.Status{}
		for _, tc := range suites[0].Tests {
			got[tc.Name] = tc.Status
		}
		if got["a"] != junit.StatusPassed || got["b"] != junit.StatusFailed || got["d"] != junit.StatusSkipped {
			t.Errorf("statuses %v", got)
		}
		for _, tc := range suites[0].Tests {
			if tc.Name == "b" && (tc.Error == nil || !strings.Contains(tc.Error.Error(), "exit status 1")) {
				t.Errorf("b's failure %v", tc.Error)
			}
		}
		if !strings.Contains(buf.String(), "litellm.AuthenticationError: no key") {
			t.Errorf("the failure lacks the log tail:\n%s", buf.String())
		}
	})

	t.Run("markdown", func(t *testing.T) {
		var buf bytes.Buffer
		if err := rep.WriteMarkdown(&buf); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"| task | status |", "**failed**", "```mermaid\ngantt", "section b\n  attempt 1 :crit,", "<details><summary>b failed"} {
			if !strings.Contains(buf.String(), want) {
				t.Errorf("markdown lacks %q:\n%s", want, buf.String())
			}
		}
	})
}

// A growing log is read again at most every progressEvery; the same
// size is never read again.
func TestProgressCache(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "a.1.log")
	spec := filepath.Join(dir, "a.json")
	os.WriteFile(spec, []byte(`{"id":"a","agent":{"output":"aider"}}`), 0o644)
	os.WriteFile(log, []byte("# paraider: header\n\nfirst line\n"), 0o644)
	if line, _ := progress(dir, log, spec, time.Time{}); line != "first line" {
		t.Fatalf("line %q", line)
	}
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("second line\n")
	f.Close()
	if line, _ := progress(dir, log, spec, time.Time{}); line != "first line" {
		t.Errorf("read again within progressEvery: %q", line)
	}
	old := progressEvery
	progressEvery = 0
	defer func() { progressEvery = old }()
	if line, _ := progress(dir, log, spec, time.Time{}); line != "second line" {
		t.Errorf("a grown log, read again: %q; want second line", line)
	}
}

// A task that has just started shows nothing of the log an earlier run's
// attempt of the same number left: not its last line, not its cost.
func TestProgressNotOfAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "a.1.log")
	spec := filepath.Join(dir, "a.json")
	os.WriteFile(spec, []byte(`{"id":"a","agent":{"output":"aider"}}`), 0o644)
	os.WriteFile(log, []byte("# paraider: header\n\nTokens: 2.3k sent, 150 received. Cost: $0.0034 message, $0.0034 session.\nold line\n"), 0o644)
	earlier := time.Now().Add(-time.Hour)
	os.Chtimes(log, earlier, earlier)
	started := time.Now()
	if line, u := progress(dir, log, spec, started); line != "" || u.Cost != 0 {
		t.Errorf("a task started now shows %q, $%v from an earlier run's log", line, u.Cost)
	}
	// This attempt's log, written after it started, is read (at once,
	// whatever was cached for the same path).
	progress(dir, log, spec, earlier.Add(-time.Minute))
	os.WriteFile(log, []byte("# paraider: header\n\nnew line\n"), 0o644)
	if line, _ := progress(dir, log, spec, started); line != "new line" {
		t.Errorf("this attempt's log shows %q; want new line", line)
	}
}

// The final checks and the commits line up whatever their statuses and
// ids ("up to date" is longer than "ok").
func TestColumnsLineUp(t *testing.T) {
	r := &Report{
		Checks: []CheckRow{{Name: "lint", Command: "npm run lint", Status: UpToDate}, {Name: "typecheck", Command: "tsc", Status: Ran}},
		Tasks:  []TaskRow{{ID: "a", Commit: "0123456789abcdef"}, {ID: "api-tests", Commit: "fedcba9876543210"}},
	}
	var out bytes.Buffer
	r.writeChecks(&out)
	for _, l := range r.commitLines() {
		out.WriteString(l + "\n")
	}
	col := map[string]int{}
	for _, line := range strings.Split(out.String(), "\n") {
		for _, word := range []string{"npm run lint", "tsc", "0123456789ab", "fedcba987654"} {
			if i := strings.Index(line, word); i >= 0 {
				col[word] = i
			}
		}
	}
	if col["npm run lint"] != col["tsc"] || col["0123456789ab"] != col["fedcba987654"] {
		t.Errorf("columns do not line up (%v):\n%s", col, out.String())
	}
}
