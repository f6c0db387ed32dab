package isolate

// Running git: with a timeout, without a prompt, with the repository's
// exact settings, and the questions asked of a directory.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/gitrepo"
)

// gitTimeout bounds every git command.
const gitTimeout = 2 * time.Minute

// exactFor returns the -c settings for paraider's own git commands, given
// the filter settings configured (filter.NAME.clean and the like). The
// snapshot, the worktree checkout and the status that judges an attempt
// must see the bytes the person's files hold: line-ending conversion
// (core.autocrlf, core.eol) and clean/smudge filters would show the agent
// other bytes than the main tree's, and every declared file would look
// changed behind the agent's back. Hooks and an fsmonitor command are
// code the repository's configuration names: paraider's checkouts run
// neither.
func exactFor(filters []string) []string {
	cfg := []string{
		"-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "core.safecrlf=false",
		"-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
	}
	seen := map[string]bool{}
	for _, key := range filters {
		name := strings.TrimPrefix(key, "filter.")
		name = name[:strings.LastIndexByte(name, '.')]
		if seen[name] {
			continue
		}
		seen[name] = true
		for _, k := range []string{"clean", "smudge", "process"} {
			cfg = append(cfg, "-c", "filter."+name+"."+k+"=")
		}
		cfg = append(cfg, "-c", "filter."+name+".required=false")
	}
	return cfg
}

// git runs git in dir with the repository's exact settings.
func (r *Repo) git(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	return git(ctx, dir, env, append(append([]string(nil), r.exact...), args...)...)
}

// IsRepo reports whether dir is inside a git repository's working tree.
func IsRepo(dir string) bool { return gitrepo.IsRepo(dir) }

func git(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	// commit-tree needs an identity; the snapshot is paraider's.
	env = append(append([]string(nil), env...),
		"GIT_AUTHOR_NAME=paraider", "GIT_AUTHOR_EMAIL=paraider@localhost",
		"GIT_COMMITTER_NAME=paraider", "GIT_COMMITTER_EMAIL=paraider@localhost")
	return gitIn(ctx, dir, env, "", args...)
}

// gitIn runs git in dir with env added to paraider's, and stdin.
func gitIn(ctx context.Context, dir string, env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), env...), "GIT_TERMINAL_PROMPT=0")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("git %s: timed out after %s", subcommand(args), gitTimeout)
		}
		return "", fmt.Errorf("git %s: %v: %s", subcommand(args), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// subcommand is the git command in args, past the -c settings.
func subcommand(args []string) string {
	for len(args) > 2 && args[0] == "-c" {
		args = args[2:]
	}
	return args[0]
}

// InsideGitDir reports whether dir is inside a git directory (.git/ or a
// bare repository), where no working tree is.
func InsideGitDir(dir string) bool { return gitrepo.InsideGitDir(dir) }
