// Package gitrepo answers the questions about git that paraider asks of a
// directory before anything runs: is it in a repository's working tree,
// and is it inside a git directory. It starts git only where a repository
// could be (a .git in the directory or above, or GIT_DIR set), and never
// for longer than a timeout. Worktrees and snapshots are isolate's.
package gitrepo

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// timeout bounds one question to git: it reads a little, locally.
const timeout = 2 * time.Minute

// IsRepo reports whether dir is inside a git repository's working tree.
func IsRepo(dir string) bool {
	if abs, err := filepath.Abs(dir); err == nil && !MaybeRepo(abs) {
		return false
	}
	_, ok := ask(dir, "rev-parse", "--show-toplevel")
	return ok
}

// InsideGitDir reports whether dir is inside a git directory (.git/, or a
// bare repository), where files are git's own.
func InsideGitDir(dir string) bool {
	out, ok := ask(dir, "rev-parse", "--is-inside-git-dir")
	return ok && strings.TrimSpace(out) == "true"
}

// MaybeRepo reports whether git could find a repository from dir: a .git
// in dir or above it, or GIT_DIR set. Where it says no, git would too, and
// paraider need not start it to hear so (every exec outside git asks).
func MaybeRepo(dir string) bool {
	_, ok := Find(dir)
	return ok
}

// Find is the .git (a directory, or a linked worktree's file) nearest dir
// (absolute), in it or above: where git finds the repository, unless GIT_DIR
// or GIT_WORK_TREE say otherwise (then "" and true).
func Find(dir string) (string, bool) {
	if os.Getenv("GIT_DIR") != "" || os.Getenv("GIT_WORK_TREE") != "" {
		return "", true
	}
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		if _, err := os.Lstat(p); err == nil {
			return p, true
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// ask runs git in dir and returns what it printed, and whether it
// succeeded.
func ask(dir string, args ...string) (string, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	out, err := cmd.Output()
	return string(out), err == nil
}
