package planner

// The plan paraider init writes, the agent it picks, and the lines it adds
// to .gitignore.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

// InitAgents are the agents init (and plan) look for, in the order it prefers them.
var InitAgents = []string{"aider", "claude", "codex", "gemini", "opencode"}

// Ignored are the lines init makes sure .gitignore has.
var Ignored = []string{state.Dir + "/", "build.ninja", ".ninja_log", ".ninja_deps"}

// PickAgent is the first of InitAgents on PATH; aider when none is.
func PickAgent() (*agent.Profile, bool) {
	for _, name := range InitAgents {
		prof, err := agent.Builtin(name)
		if err != nil {
			continue
		}
		if _, err := exec.LookPath(strings.Fields(prof.Command)[0]); err == nil {
			return prof, true
		}
	}
	prof, _ := agent.Builtin(InitAgents[0])
	return prof, false
}

// EnsureIgnored adds the lines of Ignored that .gitignore lacks, and
// returns them; it changes nothing else in the file.
func EnsureIgnored(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	have := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := range have {
		have[i] = strings.TrimSpace(have[i])
	}
	var add []string
	for _, l := range Ignored {
		if !slices.Contains(have, l) && !slices.Contains(have, "/"+l) && !(l == state.Dir+"/" && slices.Contains(have, state.Dir)) {
			add = append(add, l)
		}
	}
	if len(add) == 0 {
		return nil, nil
	}
	text := string(data)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	text += "# paraider's state and Ninja's files\n" + strings.Join(add, "\n") + "\n"
	return add, os.WriteFile(path, []byte(text), 0o644)
}

// Starter is a plan of two small tasks with every key explained.
func Starter(prof *agent.Profile) string {
	return fmt.Sprintf(`# A paraider plan: tasks for coding agents, run in parallel over their
# dependencies. Check it with `+"`paraider validate`"+`, run it with `+"`paraider run`"+`
# (or `+"`paraider gen && ninja`"+`). Every key is explained below; all of them are in docs/plan.md.
version: 1

# Agents running at once (your API's rate limit).
jobs: 4

# The agent (aider, claude, codex, gemini or opencode) and its model.
# A task may name its own.
agent: %s
model: %s

# Per attempt; a task that runs over is stopped, with everything it started.
timeout: 10m
# Attempts after a failed one, the first after retry_delay, doubling.
retries: 2
retry_delay: 5s

# Each agent works in a git worktree of its own, and only its files come
# back (isolation: none runs it in place).
# isolation: worktree

# Dollars per run; no new attempt once spent.
# budget: 5.00

tasks:
  # A task: its id, the files it may create or edit, and what to do.
  - id: hello
    files: [hello.md]
    message: >-
      Write hello.md: one paragraph that says what this repository is for.
    # Optional: a command that judges the result (exit 0 = pass).
    check: test -s hello.md
    # Optional: how long it takes, to put the longest chain first.
    estimate: 1m

  # A task that needs another: it runs after it, and reads its file.
  - id: next-steps
    files: [NEXT.md]
    read: [hello.md]
    needs: [hello]
    message: >-
      Write NEXT.md: three next steps for this repository, in the voice of
      hello.md.

# Final checks, run once every task has passed (your lint and tests).
# A check written as {run: COMMAND, repair: true} that fails is given to
# an agent to fix, judged by the check (docs/repair.md).
checks:
  files: test -s hello.md && test -s NEXT.md
`, prof.Name, prof.Model)
}
