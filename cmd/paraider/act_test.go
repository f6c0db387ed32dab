package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The GitHub Actions target, run for real with act (github.com/nektos/act):
// every job on this machine (-self-hosted), the official actions from
// ../shared/actions, act's own artifact and cache servers on loopback,
// the stand-in aider. scripts/test.sh installs act into .tools/bin.

// actSecret is the key the workflow passes to the agents' steps: it must
// show in no log and no artifact.
const actSecret = "sk-or-v1-actsecret-0123456789abcdef"

type actEnv struct {
	act, actions string
	tmp          string // artifacts and the cache server's files
	log          string // the stand-in's start and end events, from every job
}

func newActEnv(t *testing.T) *actEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: the full suite (scripts/test.sh) runs it")
	}
	act := os.Getenv("ACT")
	if act == "" {
		act, _ = filepath.Abs("../../.tools/bin/act")
		if _, err := os.Stat(act); err != nil {
			act, _ = exec.LookPath("act")
		}
	}
	actions := os.Getenv("PARAIDER_ACTIONS")
	if actions == "" {
		actions, _ = filepath.Abs("../../../shared/actions")
	}
	if _, err := os.Stat(act); act == "" || err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("act is missing in CI: scripts/test.sh installs it into .tools/bin")
		}
		t.Skip("act is missing: scripts/test.sh installs it into .tools/bin")
	}
	// The actions come with the machine, beside the repository; where a
	// checkout has none beside it the test cannot run offline, and says so.
	if _, err := os.Stat(filepath.Join(actions, "checkout@v4")); err != nil {
		t.Skipf("SKIPPED: the offline GitHub actions are not at %s: set PARAIDER_ACTIONS to their folder", actions)
	}
	tmp := t.TempDir()
	return &actEnv{act: act, actions: actions, tmp: tmp, log: filepath.Join(tmp, "agents.log")}
}

// repo makes a git repository of the plan and its files, with the
// workflow generated and everything committed.
func (e *actEnv) repo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	files[".gitignore"] = "build.ninja\n.ninja_*\n.paraider-ci/\n"
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "-q", "-b", "main")
	run(t, dir, filepath.Join(binDir, "paraider"), "gen", "--target", "github")
	commitAll(t, dir, "start")
	return dir
}

func commitAll(t *testing.T, dir, msg string) {
	t.Helper()
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", msg)
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	return run(t, dir, "git", args...)
}

func run(t *testing.T, dir, prog string, args ...string) string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// run runs the workflow under act; it returns what act printed and
// whether every job succeeded. Each run gets its own artifact directory;
// the cache server's files are shared between runs, as GitHub's cache is.
func (e *actEnv) run(t *testing.T, repo, name string, env ...string) (string, bool) {
	t.Helper()
	a := e.actions
	args := []string{"workflow_dispatch", "-W", ".github/workflows/paraider.yml",
		"-P", "ubuntu-latest=-self-hosted",
		"--artifact-server-path", filepath.Join(e.tmp, "artifacts-"+name), "--artifact-server-addr", "127.0.0.1",
		"--cache-server-path", filepath.Join(e.tmp, "cache"), "--cache-server-addr", "127.0.0.1",
		"--action-offline-mode", "--concurrent-jobs", "8",
		"-s", "OPENROUTER_API_KEY=" + actSecret,
		"--env", "PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"--env", "FAKE_AIDER_LOG=" + e.log,
		// act numbers every run 1 unless told: each run its own id, as on
		// GitHub.
		"--env", "GITHUB_RUN_ID=" + name,
	}
	for _, act := range []string{"checkout", "upload-artifact", "download-artifact", "cache"} {
		args = append(args, "--local-repository", "actions/"+act+"@v4="+filepath.Join(a, act+"@v4"))
	}
	for _, kv := range env {
		args = append(args, "--env", kv)
	}
	cmd := exec.Command(e.act, args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "HOME="+filepath.Join(e.tmp, "home"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err == nil
	case <-time.After(10 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("act ran over 10 minutes:\n%s", tail(out.String(), 60))
	}
	return "", false
}

// artifacts reads every artifact of a run: name -> file -> content.
func (e *actEnv) artifacts(t *testing.T, name string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	zips, _ := filepath.Glob(filepath.Join(e.tmp, "artifacts-"+name, "*", "*", "*.zip"))
	for _, z := range zips {
		r, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		for _, f := range r.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(rc)
			rc.Close()
			files[f.Name] = string(b)
		}
		r.Close()
		out[strings.TrimSuffix(filepath.Base(z), ".zip")] = files
	}
	return out
}

// agentRuns counts the stand-in's runs per file, and the most that ran at
// once, from its log.
func (e *actEnv) agentRuns(t *testing.T) (map[string]int, int) {
	t.Helper()
	data, _ := os.ReadFile(e.log)
	type ev struct {
		Event string   `json:"event"`
		Files []string `json:"files"`
		T     int64    `json:"t"`
	}
	var evs []ev
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var x ev
		if json.Unmarshal([]byte(l), &x) == nil {
			evs = append(evs, x)
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].T < evs[j].T })
	runs := map[string]int{}
	cur, most := 0, 0
	for _, x := range evs {
		switch x.Event {
		case "start":
			cur++
			most = max(most, cur)
			for _, f := range x.Files {
				runs[f]++
			}
		case "end":
			cur--
		}
	}
	return runs, most
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestGitHubActionsAuth runs the auth example's workflow under act: the
// whole change in paraider.patch, the same files as a local ninja run,
// the key nowhere, and a second run with the same cache runs no agent;
// after an edit, only the task and its dependents run.
func TestGitHubActionsAuth(t *testing.T) {
	e := newActEnv(t)
	files := map[string]string{}
	for _, f := range []string{"paraider.yaml", "docs/auth.md"} {
		b, err := os.ReadFile(filepath.Join(examplesDir, "auth", f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = string(b)
	}
	repo := e.repo(t, files)
	start := strings.TrimSpace(gitIn(t, repo, "rev-parse", "HEAD"))
	out, ok := e.run(t, repo, "1", "FAKE_AIDER_FIXED=1")
	if !ok {
		t.Fatalf("act failed:\n%s", tail(out, 80))
	}
	arts := e.artifacts(t, "1")
	noKey(t, out, arts)
	rep, ok := arts["paraider-report"]
	if !ok {
		t.Fatalf("no paraider-report artifact; artifacts: %v", slices.Sorted(maps.Keys(arts)))
	}
	runs, most := e.agentRuns(t)
	if most > 4 {
		t.Errorf("%d agents ran at once; jobs is 4", most)
	}
	if len(runs) != 5 {
		t.Errorf("agents ran for %v; want the five tasks once each", runs)
	}

	// The whole change applies to the starting commit and gives the same
	// files as paraider gen && ninja here.
	check := filepath.Join(t.TempDir(), "check")
	run(t, "", "git", "clone", "-q", repo, check)
	gitIn(t, check, "checkout", "-q", start)
	patch := filepath.Join(t.TempDir(), "paraider.patch")
	os.WriteFile(patch, []byte(rep["paraider.patch"]), 0o644)
	gitIn(t, check, "apply", "--binary", patch)
	local := filepath.Join(t.TempDir(), "local")
	run(t, "", "git", "clone", "-q", repo, local)
	gitIn(t, local, "checkout", "-q", start)
	cmd := exec.Command("sh", "-c", "paraider gen >/dev/null && ninja >/dev/null")
	cmd.Dir = local
	cmd.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"), "FAKE_AIDER_FIXED=1", "OPENROUTER_API_KEY="+actSecret)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("local run: %v\n%s", err, b)
	}
	for _, f := range []string{"src/auth/auth.service.ts", "src/auth/jwt.utils.ts", "src/auth/auth.middleware.ts", "src/auth/auth.test.ts", "src/routes.ts"} {
		a, errA := os.ReadFile(filepath.Join(check, f))
		b, errB := os.ReadFile(filepath.Join(local, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: from the workflow %q (%v); from ninja %q (%v)", f, a, errA, b, errB)
		}
	}
	sameReports(t, repo, start, rep)

	// The same plan again, with the same cache: no agent runs.
	before := countStarts(e)
	if out, ok := e.run(t, repo, "2", "FAKE_AIDER_FIXED=1"); !ok {
		t.Fatalf("second act run failed:\n%s", tail(out, 80))
	}
	if n := countStarts(e); n != before {
		t.Errorf("the second run started %d agents; want none (every result cached)", n-before)
	}
	if rep2 := e.artifacts(t, "2")["paraider-report"]; !strings.Contains(rep2["report.txt"], "0 of 5 (5 up to date, 0 failed") {
		t.Errorf("the second run's report does not show every task up to date:\n%s", rep2["report.txt"])
	}

	// One task edited: it and its dependents run, nothing else.
	plan := filepath.Join(repo, "paraider.yaml")
	b, _ := os.ReadFile(plan)
	edited := strings.Replace(string(b), "Create auth.middleware.ts, an Express middleware", "Create auth.middleware.ts, an Express middleware that logs refusals and", 1)
	if edited == string(b) {
		t.Fatal("the edit did not apply: the auth example's middleware message changed?")
	}
	os.WriteFile(plan, []byte(edited), 0o644)
	run(t, repo, filepath.Join(binDir, "paraider"), "gen", "--target", "github")
	commitAll(t, repo, "edit the middleware")
	os.Remove(e.log)
	if out, ok := e.run(t, repo, "3", "FAKE_AIDER_FIXED=1"); !ok {
		t.Fatalf("third act run failed:\n%s", tail(out, 80))
	}
	runs, _ = e.agentRuns(t)
	got := slices.Sorted(maps.Keys(runs))
	want := []string{"src/auth/auth.middleware.ts", "src/routes.ts"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("after the edit, agents ran for %v; want %v", got, want)
	}
}

// noKey: the key is in neither act's output nor any artifact.
func noKey(t *testing.T, out string, arts map[string]map[string]string) {
	t.Helper()
	if strings.Contains(out, actSecret) {
		t.Errorf("the key is in act's output")
	}
	for name, files := range arts {
		for f, body := range files {
			if strings.Contains(body, actSecret) {
				t.Errorf("the key is in artifact %s, file %s", name, f)
			}
		}
	}
}

// sameReports: on the starting commit with the report job's patch applied
// and its records in .paraider/, `paraider report` gives the reports the
// report job wrote.
func sameReports(t *testing.T, repo, start string, rep map[string]string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "again")
	run(t, "", "git", "clone", "-q", repo, dir)
	gitIn(t, dir, "checkout", "-q", start)
	patch := filepath.Join(t.TempDir(), "p.patch")
	os.WriteFile(patch, []byte(rep["paraider.patch"]), 0o644)
	gitIn(t, dir, "apply", "--binary", "--index", patch)
	paraider := filepath.Join(binDir, "paraider")
	run(t, dir, paraider, "gen")
	n := 0
	for name, body := range rep {
		if rel, ok := strings.CutPrefix(name, ".paraider/"); ok {
			p := filepath.Join(dir, ".paraider", filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, []byte(body), 0o644)
			n++
		}
	}
	if n == 0 {
		t.Fatalf("the report artifact holds no records: %v", slices.Sorted(maps.Keys(rep)))
	}
	if !strings.Contains(rep["report.md"], "auth-service") || !strings.Contains(rep["junit.xml"], `name="auth-service"`) {
		t.Fatalf("the report job's reports lack the tasks:\n%s\n%s", rep["report.md"], rep["junit.xml"])
	}
	for file, format := range map[string]string{"report.md": "markdown", "junit.xml": "junit"} {
		cmd := exec.Command(paraider, "report", "-o", format)
		cmd.Dir = dir
		out, _ := cmd.Output() // exits 1 when the run failed; the text is what counts
		if string(out) != rep[file] {
			t.Errorf("%s: `paraider report -o %s` gives\n%s\nthe report job wrote\n%s", file, format, out, rep[file])
		}
	}
}

func countStarts(e *actEnv) int {
	data, _ := os.ReadFile(e.log)
	return strings.Count(string(data), `"event":"start"`)
}

// TestGitHubActionsFailure: twelve tasks, jobs 4, one failing: the task
// that needs it is skipped, the others run, at most four agents at once,
// and the report job runs, shows the failure, and fails.
func TestGitHubActionsFailure(t *testing.T) {
	e := newActEnv(t)
	var b strings.Builder
	b.WriteString("version: 1\nmodel: openrouter/test/model\njobs: 4\nretries: 0\nenv: {FAKE_AIDER_SLEEP: 300ms}\ntasks:\n")
	for i := 1; i <= 11; i++ {
		extra := ""
		if i == 1 {
			extra = ", env: {FAKE_AIDER_FAIL: auth}"
		}
		fmt.Fprintf(&b, "  - {id: t%02d, files: [out/t%02d.txt], message: task %d%s}\n", i, i, i, extra)
	}
	b.WriteString("  - {id: t12, files: [out/t12.txt], needs: [t01], message: task 12}\n")
	repo := e.repo(t, map[string]string{"paraider.yaml": b.String()})
	out, ok := e.run(t, repo, "1")
	if ok {
		t.Fatalf("act succeeded with a failing task:\n%s", tail(out, 40))
	}
	arts := e.artifacts(t, "1")
	rep, ok := arts["paraider-report"]
	if !ok {
		t.Fatalf("the report job left no artifact: %v\n%s", slices.Sorted(maps.Keys(arts)), tail(out, 60))
	}
	if _, ran := arts["paraider-task-t12"]; ran {
		t.Errorf("t12 ran though t01, which it needs, failed")
	}
	for i := 2; i <= 11; i++ {
		if _, ran := arts[fmt.Sprintf("paraider-task-t%02d", i)]; !ran {
			t.Errorf("independent task t%02d did not run", i)
		}
	}
	if !strings.Contains(rep["report.txt"], "FAILED") || !strings.Contains(rep["report.txt"], "t01") {
		t.Errorf("the report does not show t01 failed:\n%s", rep["report.txt"])
	}
	if !strings.Contains(out, "Job 'report' failed") && !strings.Contains(out, "[paraider/report") {
		t.Errorf("no report job in act's output")
	}
	_, most := e.agentRuns(t)
	if most > 4 {
		t.Errorf("%d agents ran at once; jobs is 4", most)
	}
}

// TestGitHubActionsPush: with `github: {push: branch}` the report job
// commits the change on paraider/RUN_NUMBER, one commit per task, and
// pushes it.
func TestGitHubActionsPush(t *testing.T) {
	e := newActEnv(t)
	plan := "version: 1\nmodel: openrouter/test/model\njobs: 2\ngithub: {push: branch}\ntasks:\n" +
		"  - {id: a, files: [a.txt], message: write a}\n" +
		"  - {id: b, files: [a.txt, b.txt], needs: [a], message: write b, env: {FAKE_AIDER_APPEND: \"1\"}}\n"
	repo := e.repo(t, map[string]string{"paraider.yaml": plan})
	if wf, _ := os.ReadFile(filepath.Join(repo, ".github/workflows/paraider.yml")); !strings.Contains(string(wf), "contents: write") {
		t.Errorf("a workflow that pushes does not ask for contents: write")
	}
	origin := filepath.Join(t.TempDir(), "origin.git")
	run(t, "", "git", "init", "-q", "--bare", origin)
	gitIn(t, repo, "remote", "add", "origin", origin)
	gitIn(t, repo, "push", "-q", "origin", "main")
	if out, ok := e.run(t, repo, "1", "GITHUB_RUN_NUMBER=7"); !ok {
		t.Fatalf("act failed:\n%s", tail(out, 60))
	}
	files := gitIn(t, origin, "ls-tree", "-r", "--name-only", "paraider/7")
	for _, f := range []string{"a.txt", "b.txt", "paraider.yaml"} {
		if !strings.Contains(files, f) {
			t.Errorf("branch paraider/7 holds %q; want %s", files, f)
		}
	}
	// One commit per task, in the order needs gives, with the trailers.
	if log := gitIn(t, origin, "log", "--format=%s", "-3", "paraider/7"); log != "b: write b\na: write a\nstart\n" {
		t.Errorf("commits on paraider/7: %q; want b's on a's on the start", log)
	}
	// Each commit holds exactly its task's patch: b edited a.txt too, and
	// that edit is in b's commit, not in a's (git revert of b takes it back).
	if files := gitIn(t, origin, "show", "--name-only", "--format=", "paraider/7"); files != "a.txt\nb.txt\n" {
		t.Errorf("b's commit holds %q; want a.txt and b.txt", files)
	}
	if a := gitIn(t, origin, "show", "paraider/7~1:a.txt"); strings.Contains(a, "write b") || !strings.Contains(a, "write a") {
		t.Errorf("a's commit's a.txt holds b's edit (or lacks a's):\n%s", a)
	}
	if a := gitIn(t, origin, "show", "paraider/7:a.txt"); !strings.Contains(a, "write b") {
		t.Errorf("b's commit's a.txt lacks b's edit:\n%s", a)
	}
	if tr := gitIn(t, origin, "log", "-1", "--format=%(trailers:key=Paraider-Task,valueonly)", "paraider/7~1"); tr != "a\n\n" && tr != "a\n" {
		t.Errorf("a's commit's Paraider-Task trailer: %q", tr)
	}
}

// A final check that fails in the report job is repaired there: the
// repair's agent gets the key in that step alone, its change is part of
// paraider.patch, and with push: branch it is a commit of its own after
// the tasks'.
func TestGitHubActionsRepair(t *testing.T) {
	e := newActEnv(t)
	plan := "version: 1\nmodel: openrouter/test/model\ngithub: {push: branch}\ntasks:\n" +
		"  - {id: a, files: [a.txt], message: write a}\n" +
		"  - {id: b, files: [b.txt], message: write b}\n" +
		"checks:\n  marks:\n    run: sh marks.sh\n    repair:\n      env: {FAKE_AIDER_NOEDIT: \"1\", FAKE_AIDER_SH: \"echo FIXED >> b.txt\"}\n"
	repo := e.repo(t, map[string]string{"paraider.yaml": plan,
		"marks.sh": "grep -q FIXED b.txt || { echo 'b.txt has no FIXED mark'; exit 1; }\n"})
	wf, _ := os.ReadFile(filepath.Join(repo, ".github/workflows/paraider.yml"))
	if report := string(wf[strings.Index(string(wf), "paraider-report:"):]); !strings.Contains(report, "OPENROUTER_API_KEY: ${{ secrets.OPENROUTER_API_KEY }}") {
		t.Errorf("the report job's steps get no key for the repair:\n%s", report)
	}
	origin := filepath.Join(t.TempDir(), "origin.git")
	run(t, "", "git", "init", "-q", "--bare", origin)
	gitIn(t, repo, "remote", "add", "origin", origin)
	gitIn(t, repo, "push", "-q", "origin", "main")
	out, ok := e.run(t, repo, "1", "GITHUB_RUN_NUMBER=3")
	if !ok {
		t.Fatalf("act failed:\n%s", tail(out, 80))
	}
	arts := e.artifacts(t, "1")
	noKey(t, out, arts)
	rep := arts["paraider-report"]
	if !strings.Contains(rep["paraider.patch"], "+FIXED") {
		t.Errorf("paraider.patch lacks the repair's change:\n%s", rep["paraider.patch"])
	}
	if !strings.Contains(rep["report.txt"], "failed, repaired by repair-marks (1 attempt") {
		t.Errorf("the report does not say the check was repaired:\n%s", rep["report.txt"])
	}
	if log := gitIn(t, origin, "log", "--format=%s", "-4", "paraider/3"); log != "repair-marks: make `sh marks.sh` pass\nb: write b\na: write a\nstart\n" {
		t.Errorf("commits on paraider/3: %q; want the repair's on b's on a's on the start", log)
	}
	if files := gitIn(t, origin, "show", "--name-only", "--format=", "paraider/3"); files != "b.txt\n" {
		t.Errorf("the repair's commit holds %q; want b.txt alone", files)
	}
}
