package isolate

// The warm worktrees (slot-N) attempts take and give back, and removing
// them: pruning, sweeping kept ones, ending processes left in one.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/paraider/paraider/internal/proc"
	"github.com/paraider/paraider/state"
)

// acquireWorktree locks a free worktree of the pool, or makes a new one.
func (r *Repo) acquireWorktree() (w *Worktree, reused bool, err error) {
	dir := filepath.Join(r.State, "worktrees")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, false, err
	}
	for n := 0; n < 1000; n++ {
		slot := filepath.Join(dir, fmt.Sprintf("slot-%d", n))
		lock, err := lockFile(context.Background(), slot+".lock", false)
		if err != nil {
			continue // another attempt holds it
		}
		_, statErr := os.Stat(slot)
		return &Worktree{Dir: slot, lock: lock, repo: r}, statErr == nil, nil
	}
	return nil, false, errors.New("no free worktree slot among 1000")
}

func (r *Repo) removeDir(dir string) error {
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	os.Remove(dir + ".kept")
	os.Remove(dir + ".lock")
	return r.pruneOwn(context.Background())
}

// pruneOwn forgets git's registrations of paraider's worktrees whose
// directories are gone (removed here, or with .paraider/ by hand or git
// clean), and no others: `git worktree prune` would also drop the
// person's own worktrees on a disk that is not mounted now.
func (r *Repo) pruneOwn(ctx context.Context) error {
	common, err := r.git(ctx, r.Top, nil, "rev-parse", "--path-format=absolute", "--git-common-dir")
	if err != nil {
		return err
	}
	admin := filepath.Join(strings.TrimSpace(common), "worktrees")
	entries, err := os.ReadDir(admin)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	lock, err := lockFile(ctx, r.path(state.GitLock), true)
	if err != nil {
		return err
	}
	defer lock.Close()
	mine := filepath.Join(r.State, "worktrees") + string(filepath.Separator)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(admin, e.Name(), "gitdir"))
		if err != nil {
			continue
		}
		gitfile := strings.TrimSpace(string(data)) // the worktree's .git file
		if !strings.HasPrefix(gitfile, mine) {
			continue
		}
		if _, err := os.Lstat(gitfile); errors.Is(err, os.ErrNotExist) {
			if err := os.RemoveAll(filepath.Join(admin, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Repo) treeLock() string { return r.path(state.TreeLock) }

// path is the file of a state name (state.GitLock, ...) of the plan.
func (r *Repo) path(rel string) string { return filepath.Join(r.Root, filepath.FromSlash(rel)) }

// worktreeCmd runs `git worktree ...` under a lock of the repository's:
// git reads every worktree's files while it adds or prunes one, and fails
// on one that another git is still writing.
func (r *Repo) worktreeCmd(ctx context.Context, args ...string) error {
	lock, err := lockFile(ctx, r.path(state.GitLock), true)
	if err != nil {
		return err
	}
	defer lock.Close()
	_, err = r.git(ctx, r.Top, nil, append([]string{"worktree"}, args...)...)
	return err
}

// worktrees lists the worktree directories whose names start with prefix.
func (r *Repo) worktrees(prefix string) ([]string, error) {
	dir := filepath.Join(r.State, "worktrees")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// worktreeNumber is N of a slot-N worktree; a large number for others.
func worktreeNumber(wt string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(wt), "slot-"))
	if err != nil || !strings.HasPrefix(filepath.Base(wt), "slot-") {
		return 1 << 30
	}
	return n
}

func kept(wt string) bool {
	_, err := os.Stat(wt + ".kept")
	return err == nil
}

// Prune removes the pool's free worktrees but the first warm ones, and
// processes still running in them: at the end of a run (the report,
// paraider run), which keeps as many warm worktrees as the plan's jobs, so
// that the next run's first attempts do not each check out the whole
// repository again; and for paraider clean, which keeps none. Slots
// attempts hold stay. With all, kept worktrees go too.
func (r *Repo) Prune(all bool, warm int) error {
	if err := r.pruneOwn(context.Background()); err != nil {
		return err
	}
	wts, err := r.worktrees("")
	if err != nil {
		return err
	}
	sort.Slice(wts, func(i, j int) bool { return worktreeNumber(wts[i]) < worktreeNumber(wts[j]) })
	for _, wt := range wts {
		if !kept(wt) && worktreeNumber(wt) < warm {
			// What the last attempt left running, unless an attempt
			// holds the worktree now (another run's, or a plain ninja's):
			// its agent is not ours to stop.
			if lock, err := lockFile(context.Background(), wt+".lock", false); err == nil {
				killIn(wt)
				lock.Close()
			}
			continue
		}
		if kept(wt) {
			if all {
				if err := r.removeDir(wt); err != nil {
					return err
				}
			}
			continue
		}
		lock, err := lockFile(context.Background(), wt+".lock", false)
		if err != nil {
			continue // in use
		}
		killIn(wt)
		err = r.removeDir(wt)
		os.Remove(wt + ".lock")
		lock.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// SweepKept removes worktrees kept for inspection whose names start with
// prefix: a task's kept worktrees go when it runs again, so disk use stays
// bounded.
func (r *Repo) SweepKept(prefix string) error {
	wts, err := r.worktrees(prefix)
	if err != nil {
		return err
	}
	for _, wt := range wts {
		if !kept(wt) {
			continue
		}
		if err := r.removeDir(wt); err != nil {
			return err
		}
		os.Remove(wt + ".lock")
	}
	return nil
}

// killIn kills every process whose working directory is inside dir: agents
// left running by a paraider that was killed. Where the system does not
// tell a process's directory (macOS), nothing is killed here: the
// supervisor's sweep of the agent's group is what ends those there.
func killIn(dir string) {
	procs, _ := proc.All()
	for _, p := range procs {
		if p.PID <= 1 || p.PID == os.Getpid() || p.Zombie {
			continue
		}
		cwd, err := proc.Cwd(p.PID)
		if err != nil {
			continue
		}
		if cwd == dir || strings.HasPrefix(cwd, dir+string(filepath.Separator)) {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
}

// PruneAt removes the worktree pool's free worktrees (and with all, the
// kept worktrees, and the warm worktrees a run leaves: as many as the plan's
// jobs); outside git there are none.
func PruneAt(root string, all bool) error {
	repo, err := Open(root)
	if err != nil {
		return nil
	}
	warm := 0
	var run state.Run
	if !all && state.ReadJSON(filepath.Join(root, state.RunPath), &run) == nil {
		warm = run.Jobs
	}
	return repo.Prune(all, warm)
}
