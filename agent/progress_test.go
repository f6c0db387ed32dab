package agent

import (
	"os"
	"strings"
	"testing"
)

// upTo is a log cut after the first line holding mark: a run still going.
func upTo(t *testing.T, log, mark string) string {
	t.Helper()
	i := strings.Index(log, mark)
	if i < 0 {
		t.Fatalf("no %q in the log", mark)
	}
	j := strings.IndexByte(log[i:], '\n')
	return log[:i+j+1]
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// The logs are real ones: Claude Code 2.1.197, Codex 0.171 and opencode
// 1.18 against the scripted server (internal/fakemodel), in a worktree
// of /home/dev/repo.
func TestProgressOf(t *testing.T) {
	header := "# paraider: task service, attempt 1 of 3, started 2026-11-27T13:57:51Z\n" +
		"# worktree: .paraider/worktrees/slot-0 (snapshot 17b12f0496b5)\n" +
		"# command: claude -p -- 'Create the service.\n# \n# Files you may create or edit: src/a.ts.'\n\n"
	claude := header + readTestdata(t, "claude-stream.jsonl")
	codex := readTestdata(t, "codex.log")
	opencode := readTestdata(t, "opencode.log")
	aider := "# paraider: task slow, attempt 1 of 3, started 2026-11-27T13:57:51Z\n" +
		"# command: aider --message 'slow\n# Tokens: 9k sent, 9 received.'\n\n" +
		"Aider v0.86.1\nAdded slow.txt to the chat.\nTokens: 2.7k sent, 320 received. Cost: $0.0013 message, $0.0013 session.\n\n"
	for _, tc := range []struct {
		name, parser, log string
		line              string
		want              Usage
	}{
		{"claude before its first reply", "claude-json", upTo(t, claude, `"subtype":"init"`), "started", Usage{}},
		{"claude writing a file: the path in its worktree, its message's tokens", "claude-json",
			upTo(t, claude, `"name":"Write"`), "Write src/a.ts", Usage{Sent: 1200, Received: 1, Replies: 1}},
		{"claude's second message: each message once", "claude-json",
			upTo(t, claude, `"text":"Done."`), "Done.", Usage{Sent: 2700, Received: 2, Replies: 2}},
		{"claude's result: its own final figures", "claude-json", claude, "finished: Done.",
			Usage{Sent: 2700, Received: 320, Cost: 0.0129, Replies: 2}},
		{"codex running a command", "codex-json", upTo(t, codex, `"item.started"`),
			`$ /bin/bash -lc 'mkdir -p "$(dirname '"'src/auth.service.ts')\" && printf '%s' '// Create the auth service.`, Usage{}},
		{"codex done: its reply, not paraider's note", "codex-json", codex, "Done.",
			Usage{Sent: 2700, Received: 320, Replies: 1}},
		{"opencode writing: the path in its worktree", "opencode-json", upTo(t, opencode, `"tool_use"`),
			"write src/auth.service.ts", Usage{}},
		{"opencode after a step: its tokens and cost", "opencode-json", upTo(t, opencode, `"step_finish"`),
			"write src/auth.service.ts", Usage{Sent: 1200, Received: 300, Cost: 0.0081, Replies: 1}},
		{"aider: its last line, never the message in the header", "aider", aider,
			"Tokens: 2.7k sent, 320 received. Cost: $0.0013 message, $0.0013 session.", Usage{Sent: 2700, Received: 320, Cost: 0.0013, Replies: 1}},
		{"aider before it printed anything", "aider", upTo(t, aider, "# command"), "", Usage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ProgressOf(tc.parser, tc.log, "/home/dev/repo")
			if !strings.HasPrefix(got.Line, tc.line) || (tc.line == "" && got.Line != "") {
				t.Errorf("line = %q; want %q", got.Line, tc.line)
			}
			if got.Usage != tc.want {
				t.Errorf("usage = %+v; want %+v", got.Usage, tc.want)
			}
		})
	}
}

// A failed Claude Code attempt's tail is what it did, not raw JSON: the
// tool it called on which file, the tool's error, how it ended.
func TestTailClaude(t *testing.T) {
	log := "# paraider: task t, attempt 1 of 3\n# worktree: .paraider/worktrees/slot-0 (snapshot abc)\n# command: claude -p ...\n\n" +
		`{"type":"system","subtype":"init","cwd":"/repo/.paraider/worktrees/slot-0"}` + "\n" +
		`{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","name":"Write","input":{"file_path":"/repo/.paraider/worktrees/slot-0/src/users/read.ts","content":"x"}}]}}` + "\n" +
		`{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>"}]}}` + "\n" +
		`{"type":"result","subtype":"error_max_turns","is_error":true,"result":"gave up"}` + "\n"
	got := Tail("claude-json", log, "/repo", 10)
	for _, want := range []string{"Write src/users/read.ts", "error: <tool_use_error>File has not been read yet", "failed: gave up"} {
		if !strings.Contains(got, want) {
			t.Errorf("tail lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, `{"type"`) {
		t.Errorf("tail holds raw JSON:\n%s", got)
	}
	if Tail("aider", log, "/repo", 10) != "" {
		t.Errorf("Aider's lines are for people as they are: no reading of its own")
	}
}
