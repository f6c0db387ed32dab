package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/planner"
)

// InitCmd writes a starter plan.
type InitCmd struct{}

func (c *InitCmd) Run(cli *CLI, env *Env) error {
	file := cli.File
	if _, err := os.Lstat(file); err == nil {
		return human.WithHint(fmt.Errorf("%s exists; not overwriting it", file),
			"edit it, check it with `paraider validate`, or name a new file with -f")
	}
	prof, found := planner.PickAgent()
	if err := os.WriteFile(file, []byte(planner.Starter(prof)), 0o644); err != nil {
		return err
	}
	added, err := planner.EnsureIgnored(filepath.Join(filepath.Dir(file), ".gitignore"))
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
		fmt.Fprintf(env.Stdout, "paraider: no agent found on PATH (looked for %s): %s\n", strings.Join(planner.InitAgents, ", "), prof.Install)
	}
	if key := prof.KeyFor(prof.Model); key != "" {
		fmt.Fprintf(env.Stdout, "paraider: %s needs %s: export %s=...\n", prof.Model, key, key)
	}
	fmt.Fprintf(env.Stdout, "next: edit the tasks, then paraider validate && paraider run\n")
	return nil
}
