package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

// shSpec is a task whose agent is /bin/sh running script (with the message
// file as $1), read with Aider's output parser.
func shSpec(t *testing.T, script string, retries int) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "agent.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := state.Spec{
		ID: "t", Files: []string{"out.txt"}, Message: "do the task",
		Settings: state.Settings{Model: "local/x", Timeout: state.Duration(time.Minute), Retries: retries, RetryDelay: state.Duration(time.Second)},
		Agent:    agent.Profile{Name: "sh", Command: "sh agent.sh {message_file}", Output: "aider"},
	}
	if err := state.WriteJSON(filepath.Join(root, state.SpecPath("t")), spec); err != nil {
		t.Fatal(err)
	}
	return root
}

func execRecording(t *testing.T, root string) ([]time.Duration, *state.Result, error) {
	t.Helper()
	var delays []time.Duration
	err := Exec(context.Background(), "t", Options{Root: root, Env: []string{"PATH=/usr/bin:/bin"},
		Sleep: func(_ context.Context, d time.Duration) { delays = append(delays, d) }})
	var res state.Result
	if rerr := state.ReadJSON(filepath.Join(root, state.ResultPath("t")), &res); rerr != nil {
		t.Fatal(rerr)
	}
	return delays, &res, err
}

// Backoff doubles from retry_delay, and is four times longer after a rate
// limit; a bad key is not retried at all.
func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		delays []time.Duration
	}{
		{"rate limit", "echo 'litellm.RateLimitError: slow down'", []time.Duration{4 * time.Second, 8 * time.Second}},
		{"server error", "echo 'litellm.InternalServerError: 502'", []time.Duration{time.Second, 2 * time.Second}},
		{"agent exit", "exit 3", []time.Duration{time.Second, 2 * time.Second}},
		{"bad key", "echo 'litellm.AuthenticationError: no'", nil},
		// The provider's word on how long to wait wins, capped.
		{"retry after", "echo 'litellm.RateLimitError: 429 Too Many Requests, Retry-After: 30'", []time.Duration{30 * time.Second, 30 * time.Second}},
		{"retry after capped", "echo 'litellm.RateLimitError: Retry-After: 86400'", []time.Duration{MaxBackoff, MaxBackoff}},
		// A command line the agent rejects is rejected again next time.
		{"usage error", "echo 'usage: aider [-h]' >&2; echo 'aider: error: unrecognized arguments: --bogus' >&2; exit 2", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delays, res, err := execRecording(t, shSpec(t, tc.script, 2))
			var te *TaskError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v; want a TaskError", err)
			}
			if !reflect.DeepEqual(delays, tc.delays) {
				t.Errorf("delays %v; want %v", delays, tc.delays)
			}
			if len(res.Attempts) != len(tc.delays)+1 {
				t.Errorf("%d attempts; want %d", len(res.Attempts), len(tc.delays)+1)
			}
		})
	}
}

// No wait between attempts is longer than MaxBackoff: retries: 10 after
// rate limits used to wait 2.8 hours before the last attempt.
func TestBackoffCapped(t *testing.T) {
	root := shSpec(t, "echo 'litellm.RateLimitError: slow down'", 10)
	delays, res, _ := execRecording(t, root)
	want := []time.Duration{4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second, 128 * time.Second, 256 * time.Second, MaxBackoff, MaxBackoff, MaxBackoff}
	if !reflect.DeepEqual(delays, want) {
		t.Errorf("delays %v; want %v", delays, want)
	}
	if len(res.Attempts) != 11 {
		t.Errorf("%d attempts; want 11", len(res.Attempts))
	}
}

// A usage error is recorded as such, with the agent's own line.
func TestUsageErrorNotRetried(t *testing.T) {
	root := shSpec(t, "echo 'aider: error: unrecognized arguments: --bogus' >&2; exit 2", 3)
	_, res, _ := execRecording(t, root)
	a := res.Attempts[0]
	if len(res.Attempts) != 1 || a.Failure != state.FailUsage || !strings.Contains(a.Reason, "unrecognized arguments: --bogus") {
		t.Errorf("attempts %+v; want one usage failure naming the argument", res.Attempts)
	}
}

// The next attempt is told why the last one failed.
func TestFeedbackReachesNextAttempt(t *testing.T) {
	script := `if [ -f seen ]; then echo fixed > out.txt; else touch seen; echo 'litellm.InternalServerError: boom'; fi`
	root := shSpec(t, script, 1)
	_, res, err := execRecording(t, root)
	if err != nil {
		t.Fatalf("exec: %v", err)
	}
	if res.Status != state.StatusOK || len(res.Attempts) != 2 {
		t.Fatalf("result %+v", res)
	}
	msg, err := os.ReadFile(filepath.Join(root, state.AttemptDir("t", 2), "message.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg), "A previous attempt at this task failed: the model call failed (server): litellm.InternalServerError: boom") {
		t.Errorf("second message:\n%s", msg)
	}
	if _, err := os.Stat(filepath.Join(root, state.TaskStamp("t"))); err != nil {
		t.Errorf("no stamp after success: %v", err)
	}
}

func TestUnknownTask(t *testing.T) {
	err := Exec(context.Background(), "nope", Options{Root: t.TempDir()})
	var pe *PreflightError
	if !errors.As(err, &pe) || !strings.Contains(pe.Hint(), "paraider gen") {
		t.Fatalf("err = %v; want a preflight error pointing at paraider gen", err)
	}
}

// Ninja's files, the plan, message files, .paraider/ and paraider's own
// temporary files are never reported as an agent's strays.
func TestNotAChange(t *testing.T) {
	run := &state.Run{Plan: "paraider.yaml", Ninja: "build.ninja", Sources: []string{"paraider.yaml", "prompts/a.md"}}
	for p, want := range map[string]bool{
		".ninja_log": true, ".ninja_deps": true, "build.ninja": true, "paraider.yaml": true, "prompts/a.md": true,
		".paraider/results/a.json": true, "src/.auth.test.ts.tmp123456": true, ".x.txt.tmp-link42": true,
		"src/auth.ts": false, "notes.tmp": false, ".env": false, "prompts/b.md": false,
	} {
		if got := notAChange(run, p); got != want {
			t.Errorf("notAChange(%q) = %v; want %v", p, got, want)
		}
	}
}
