package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// InitCmd writes a starter plan.
type InitCmd struct{}

// initAgents are the agents init looks for, in the order it prefers them.
var initAgents = []string{"aider", "claude", "codex", "gemini", "opencode"}

// ignored are the lines init makes sure .gitignore has.
var ignored = []string{state.Dir + "/", "build.ninja", ".ninja_log", ".ninja_deps"}

func (c *InitCmd) Run(cli *CLI, env *Env) error {
	file := cli.Plan
	if _, err := os.Lstat(file); err == nil {
		return human.WithHint(fmt.Errorf("%s exists; not overwriting it", file),
			"edit it, check it with `paraider validate`, or name a new file with -f")
	}
	prof, found := pickAgent()
	if err := os.WriteFile(file, []byte(starterPlan(prof)), 0o644); err != nil {
		return err
	}
	added, err := ensureIgnored(filepath.Join(filepath.Dir(file), ".gitignore"))
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "paraider: wrote %s: two example tasks for %s (%s)\n", file, prof.Name, prof.Model)
	if len(added) > 0 {
		fmt.Fprintf(env.Stdout, "paraider: added %s to .gitignore\n", strings.Join(added, ", "))
	}
	if !isolate.IsRepo(filepath.Dir(file)) {
		fmt.Fprintf(env.Stdout, "paraider: not in a git repository: the agents will work in place (isolation: none), without worktrees; `git init` (and a commit) gives each its own\n")
	}
	if !found {
		fmt.Fprintf(env.Stdout, "paraider: no agent found on PATH (looked for %s): %s\n", strings.Join(initAgents, ", "), prof.Install)
	}
	if key := prof.KeyFor(prof.Model); key != "" {
		fmt.Fprintf(env.Stdout, "paraider: %s needs %s: export %s=...\n", prof.Model, key, key)
	}
	fmt.Fprintf(env.Stdout, "next: edit the tasks, then paraider validate && paraider run\n")
	return nil
}

// pickAgent is the first of initAgents on PATH; aider when none is.
func pickAgent() (*agent.Profile, bool) {
	for _, name := range initAgents {
		prof, err := agent.Builtin(name)
		if err != nil {
			continue
		}
		if _, err := exec.LookPath(strings.Fields(prof.Command)[0]); err == nil {
			return prof, true
		}
	}
	prof, _ := agent.Builtin(initAgents[0])
	return prof, false
}

// ensureIgnored adds the lines of ignored that .gitignore lacks, and
// returns them; it changes nothing else in the file.
func ensureIgnored(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	have := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := range have {
		have[i] = strings.TrimSpace(have[i])
	}
	var add []string
	for _, l := range ignored {
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

// starterPlan is a plan of two small tasks with every key explained.
func starterPlan(prof *agent.Profile) string {
	return fmt.Sprintf(`# A paraider plan: tasks for coding agents, run in parallel over their
# dependencies. Check it with `+"`paraider validate`"+`, run it with `+"`paraider run`"+`
# (or `+"`paraider gen && ninja`"+`). Every key is explained below; see the README.
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
checks:
  files: test -s hello.md && test -s NEXT.md
`, prof.Name, prof.Model)
}
