// Package isolate gives each agent attempt a git worktree of its own, and
// brings back from it only the files the task declared.
//
// # Why
//
// Parallel agents in one working tree collide: history files, Aider's sqlite
// tags cache, .gitignore edits, git's index.lock, and agents that edit files
// they were not given. In a worktree an agent can do what it likes; only the
// task's declared files come back, each written atomically, and only when
// the main tree still holds what the attempt started from.
//
// # How
//
//   - Snapshot: the main tree's current state — HEAD plus uncommitted and
//     untracked, not ignored files, since upstream tasks' results are not
//     committed — becomes a commit built with a temporary index, so the
//     user's index is never touched. No ref points at it.
//   - Worktree: `git worktree add --detach` of that commit under
//     .paraider/worktrees/, locked with flock while an attempt uses it, so a
//     later run can tell a leftover of a killed run from one in use.
//   - Back: declared files that changed are written into the main tree with
//     a temporary file and a rename, under a per-file lock; a file that
//     changed in the main tree since the snapshot is a conflict and is not
//     overwritten.
package isolate

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paraider/paraider/internal/gitrepo"
	"github.com/paraider/paraider/internal/proc"
	"github.com/paraider/paraider/state"
)

// ErrNotGit says the plan's directory is not in a git repository.
var ErrNotGit = errors.New("not in a git repository")

// gitTimeout bounds every git command.
const gitTimeout = 2 * time.Minute

// Repo is the git repository around a plan's directory.
type Repo struct {
	Root   string // the plan's directory, absolute
	Top    string // the repository's top level, absolute
	Prefix string // Root relative to Top, with a trailing slash, or ""
	State  string // the plan's .paraider directory, absolute
	// exact are the -c settings that make paraider's git byte-exact and
	// inert whatever the user's configuration: see exactConfig.
	exact []string
	index string // the person's index file, absolute
	// blobs keeps the blob ids Dirty hashed (see blobCache).
	blobs *blobCache
}

// Open finds the repository around root (the plan's directory).
func Open(root string) (*Repo, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if !gitrepo.MaybeRepo(abs) {
		return nil, ErrNotGit
	}
	// The two questions at once: each is a git process of its own.
	exact := make(chan []string, 1)
	go func() { exact <- exactConfig(abs) }()
	out, err := git(context.Background(), abs, nil, "rev-parse", "--show-toplevel", "--show-prefix", "--path-format=absolute", "--git-path", "index")
	if errors.Is(err, exec.ErrNotFound) {
		return nil, fmt.Errorf("git is not installed: %w", err)
	} else if err != nil {
		return nil, ErrNotGit
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	r := &Repo{Root: abs, Top: lines[0], State: filepath.Join(abs, state.Dir)}
	r.blobs = &blobCache{path: filepath.Join(r.State, blobCachePath)}
	if len(lines) > 2 {
		r.Prefix, r.index = lines[1], lines[2]
	}
	r.exact = <-exact
	return r, nil
}

// exactConfig returns the -c settings for paraider's own git commands.
// The snapshot, the worktree checkout and the status that judges an
// attempt must see the bytes the person's files hold: line-ending
// conversion (core.autocrlf, core.eol) and clean/smudge filters would show
// the agent other bytes than the main tree's, and every declared file
// would look changed behind the agent's back. Hooks and an fsmonitor
// command are code the repository's configuration names: paraider's
// checkouts run neither.
func exactConfig(dir string) []string {
	cfg := []string{
		"-c", "core.autocrlf=false", "-c", "core.eol=lf", "-c", "core.safecrlf=false",
		"-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
	}
	out, _ := git(context.Background(), dir, nil, "config", "--name-only", "--get-regexp", `^filter\..*\.(clean|smudge|process)$`)
	seen := map[string]bool{}
	for _, key := range strings.Fields(out) {
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

// Setup says what a fresh worktree needs besides the snapshot: ignored files
// people rely on.
type Setup struct {
	Copy []string // copied in (e.g. .env), relative to the plan's directory
	Link []string // symlinked to the main tree's (e.g. node_modules)
	// Files are the task's declared files and Read its read files. Those
	// git ignores are not in the snapshot, so they are copied in, and the
	// declared files' starting content is recorded for Apply.
	Files, Read []string
	// MaxUntracked is the size over which an untracked file that is not
	// one of Files or Read stays out of the snapshot; 0 for
	// DefaultMaxUntracked.
	MaxUntracked int64
	// Dirty asks for Worktree.Dirty, with the main tree's files matching
	// Scratch left out as Repo.Dirty leaves them.
	Dirty   bool
	Scratch []string
}

// DefaultMaxUntracked keeps large untracked files (a database dump, a
// build's output, a downloaded model) out of every attempt's snapshot:
// hashing one costs seconds per attempt, and its blob lands in .git.
const DefaultMaxUntracked = 10 << 20

// Worktree is one attempt's worktree.
type Worktree struct {
	Name string
	Dir  string // the worktree's top level
	Root string // the plan's directory inside it: where the agent runs
	Base string // the snapshot commit it holds
	// LeftOut are the large untracked files the snapshot left out, with
	// their sizes, relative to the plan's directory.
	LeftOut []string
	// Dirty is what Repo.Dirty would have mapped as the snapshot was taken
	// (Setup.Dirty): the main tree's changed files and their blob ids.
	// nil when it could not be told that way (no commit yet).
	Dirty map[string]string
	lock  *os.File
	repo  *Repo
	base  map[string]string // declared file -> blob id at the start ("" absent)
	// put are the paths Setup copied or linked in: not the agent's changes.
	put []string
	// pending is the listing Prefetch started, for Changes.
	pending chan changesResult
}

type changesResult struct {
	changes []Change
	err     error
}

// Create snapshots the main tree and checks the snapshot out in a worktree
// for the attempt name (a task id and attempt number). Worktrees are slots
// of a pool, reused from one attempt to the next: checking out a new
// snapshot in a used slot touches only the files that differ, where a new
// worktree writes every file of the repository. A reused slot is first
// cleaned of everything the last attempt left (untracked and ignored files,
// processes still running in it), while the snapshot is made; with
// setup.Dirty, the main tree's changed files are worked out from the
// snapshot while the slot checks it out.
func (r *Repo) Create(ctx context.Context, name string, setup Setup) (*Worktree, error) {
	w, reused, err := r.acquireSlot()
	if err != nil {
		return nil, err
	}
	// Cleaning before the checkout leaves the same tree as after it:
	// what is untracked in the slot goes, and the checkout writes only
	// tracked files.
	cleaned := make(chan error, 1)
	if reused {
		go func() {
			killIn(w.Dir)
			_, err := r.git(ctx, w.Dir, nil, "clean", "-ffdxq")
			cleaned <- err
		}()
	} else {
		cleaned <- nil
	}
	base, large, err := r.snapshot(ctx, name, setup)
	if err != nil {
		<-cleaned
		w.unlock()
		return nil, err
	}
	w.Name, w.Base = name, base
	for _, l := range large {
		w.LeftOut = append(w.LeftOut, fmt.Sprintf("%s (%s)", l.path, sizeText(l.size)))
	}
	dirtyDone := make(chan struct{})
	if setup.Dirty {
		go func() {
			defer close(dirtyDone)
			w.Dirty, _ = r.dirtyFrom(ctx, base, large, setup.Scratch)
		}()
	} else {
		close(dirtyDone)
	}
	if reused {
		err := <-cleaned
		if err == nil {
			err = w.checkout(ctx)
		}
		if err != nil {
			// A slot git no longer knows (pruned, damaged): start it afresh.
			os.RemoveAll(w.Dir)
			r.worktreeCmd(ctx, "prune")
			reused = false
		}
	}
	if !reused {
		// Registered under the repository's lock, checked out outside
		// it: a new slot writes every file of the repository, and the
		// other attempts making slots need not wait for that. -f: the
		// slot may still be registered with git while its directory is
		// gone (.paraider/ removed by hand or by git clean).
		err := r.worktreeCmd(ctx, "add", "-f", "--no-checkout", "--detach", "--quiet", w.Dir, base)
		if err == nil {
			err = w.checkout(ctx)
		}
		if err != nil {
			<-dirtyDone
			w.unlock()
			return nil, err
		}
	}
	w.Root = filepath.Join(w.Dir, filepath.FromSlash(r.Prefix))
	err = w.setup(setup)
	<-dirtyDone
	if err != nil {
		w.Release()
		return nil, err
	}
	return w, nil
}

// checkoutWorkers is how many processes a checkout that writes many files
// uses (git's checkout.workers, from 100 files on): creating files is
// slow on some file systems and faster in parallel (a new slot of 5,000
// files here: 5.6-6.6 s with one, 1.1-2.1 s with 16).
const checkoutWorkers = "16"

// checkout puts the slot on its snapshot: the files that differ from what
// it holds, or every file of a new slot.
func (w *Worktree) checkout(ctx context.Context) error {
	_, err := w.repo.git(ctx, w.Dir, nil, "-c", "checkout.workers="+checkoutWorkers, "checkout", "--quiet", "--detach", "--force", w.Base)
	return err
}

// acquireSlot locks a free slot of the pool, or makes a new one.
func (r *Repo) acquireSlot() (w *Worktree, reused bool, err error) {
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

// snapshot commits the main tree's current state without touching the
// user's index, and returns the commit and the large untracked files it
// left out.
func (r *Repo) snapshot(ctx context.Context, name string, setup Setup) (commit string, large []sizedPath, err error) {
	tmp := filepath.Join(r.State, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return "", nil, err
	}
	index := filepath.Join(tmp, "index."+name)
	defer os.Remove(index)
	// Starting from a copy of the real index lets git reuse its stat data
	// and hash only what changed.
	if r.index != "" {
		if data, err := os.ReadFile(r.index); err == nil {
			if err := os.WriteFile(index, data, 0o644); err != nil {
				return "", nil, err
			}
		}
	}
	env := []string{"GIT_INDEX_FILE=" + index}
	pathspec := []string{":/", ":(exclude,top)" + r.Prefix + filepath.Base(r.State)}
	treeLock, err := lockFile(ctx, r.treeLock(), true)
	if err != nil {
		return "", nil, err
	}
	large, err = r.largeUntracked(ctx, setup)
	if err != nil {
		treeLock.Close()
		return "", nil, err
	}
	for _, l := range large {
		pathspec = append(pathspec, ":(exclude,top,literal)"+r.Prefix+l.path)
	}
	stateExcluded := true
	for try := 1; ; try++ {
		_, err = r.git(ctx, r.Top, env, append([]string{"add", "-A", "--"}, pathspec...)...)
		if err != nil && strings.Contains(err.Error(), "are ignored by one of your .gitignore files") && stateExcluded {
			stateExcluded = false
			// The person's .gitignore names .paraider/ too, and git
			// refuses a pathspec that names an ignored path, even to
			// exclude it: ignored, it is left out all the same.
			pathspec = append(pathspec[:1:1], pathspec[2:]...)
			continue
		}
		// A file that vanished between git's listing and its reading
		// (another program's temporary file) is worth another look.
		if err == nil || try >= 3 || !strings.Contains(err.Error(), "unable to stat") {
			break
		}
	}
	treeLock.Close()
	if err != nil {
		return "", nil, fmt.Errorf("snapshotting the working tree: %w", err)
	}
	tree, err := r.git(ctx, r.Top, env, "write-tree")
	if err != nil {
		return "", nil, err
	}
	args := []string{"commit-tree", strings.TrimSpace(tree), "-m", "paraider snapshot for " + name}
	commit, err = r.git(ctx, r.Top, nil, append(args, "-p", "HEAD")...)
	if err != nil {
		// No commit yet on the branch: a snapshot without a parent.
		if _, herr := r.git(ctx, r.Top, nil, "rev-parse", "--verify", "-q", "HEAD"); herr == nil {
			return "", nil, err
		}
		if commit, err = r.git(ctx, r.Top, nil, args...); err != nil {
			return "", nil, err
		}
	}
	return strings.TrimSpace(commit), large, nil
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

type sizedPath struct {
	path string // relative to the plan's directory
	size int64
}

// largeUntracked lists the untracked, not ignored files under the plan's
// directory that are larger than the setup allows and are not the task's.
func (r *Repo) largeUntracked(ctx context.Context, setup Setup) ([]sizedPath, error) {
	max := setup.MaxUntracked
	if max <= 0 {
		max = DefaultMaxUntracked
	}
	// Only the untracked files: git ls-files --others reads the
	// directories, not every tracked file's metadata as git status does.
	out, err := r.git(ctx, r.Root, nil, "ls-files", "-z", "--others", "--exclude-standard", "--", ".", ":(exclude)"+filepath.Base(r.State))
	if err != nil {
		return nil, err
	}
	var large []sizedPath
	for _, p := range strings.Split(out, "\x00") {
		if p == "" || slices.Contains(setup.Files, p) || slices.Contains(setup.Read, p) {
			continue
		}
		fi, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(p)))
		if err == nil && fi.Mode().IsRegular() && fi.Size() > max {
			large = append(large, sizedPath{p, fi.Size()})
		}
	}
	return large, nil
}

func (w *Worktree) setup(s Setup) error {
	for i, rel := range append(append([]string(nil), s.Files...), s.Read...) {
		dst := filepath.Join(w.Root, filepath.FromSlash(rel))
		src := filepath.Join(w.repo.Root, filepath.FromSlash(rel))
		if fi, err := os.Lstat(src); err != nil || fi.IsDir() {
			continue
		}
		if _, err := os.Lstat(dst); err == nil {
			if i >= len(s.Files) {
				continue
			}
			// The task's own files start as the bytes of the main
			// tree, even where the repository's attributes (eol, a
			// filter) make a checkout differ: otherwise the agent
			// edits other bytes, and the write-back sees a conflict.
			if same, err := sameBlob(src, dst); err != nil || same {
				continue
			}
		}
		if err := copyBack(src, dst); err != nil {
			return fmt.Errorf("copying %s into the worktree: %w", rel, err)
		}
	}
	w.base = map[string]string{}
	for _, rel := range s.Files {
		b, err := fileBlob(filepath.Join(w.Root, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		w.base[rel] = b
	}
	w.put = append(append([]string(nil), s.Copy...), s.Link...)
	for _, rel := range s.Copy {
		src := filepath.Join(w.repo.Root, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); err != nil {
			continue // nothing to copy in this checkout
		}
		if err := copyTree(src, filepath.Join(w.Root, filepath.FromSlash(rel))); err != nil {
			return fmt.Errorf("worktree copy %s: %w", rel, err)
		}
	}
	for _, rel := range s.Link {
		src := filepath.Join(w.repo.Root, filepath.FromSlash(rel))
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		dst := filepath.Join(w.Root, filepath.FromSlash(rel))
		os.RemoveAll(dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(src, dst); err != nil {
			return fmt.Errorf("worktree link %s: %w", rel, err)
		}
	}
	return nil
}

// Release gives the slot back to the pool. Prune removes free slots when
// a run ends.
func (w *Worktree) Release() {
	w.wait()
	w.unlock()
}

// Keep takes the worktree out of the pool and leaves it for inspection as
// kept-NAME until the task runs again; it returns its directory.
func (w *Worktree) Keep(ctx context.Context) (string, error) {
	w.wait()
	defer w.unlock()
	kept := filepath.Join(filepath.Dir(w.Dir), "kept-"+w.Name)
	if err := w.repo.removeDir(kept); err != nil {
		return "", err
	}
	if err := w.repo.worktreeCmd(ctx, "move", w.Dir, kept); err != nil {
		return "", err
	}
	os.Remove(w.Dir + ".lock")
	return kept, os.WriteFile(kept+".kept", nil, 0o644)
}

func (w *Worktree) unlock() {
	if w.lock != nil {
		w.lock.Close()
		w.lock = nil
	}
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

// slotNumber is N of a slot-N worktree; a large number for others.
func slotNumber(wt string) int {
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

// Prune removes the pool's free slots but the first warm ones, and
// processes still running in them: at the end of a run (the report,
// paraider run), which keeps as many warm slots as the plan's jobs, so
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
	sort.Slice(wts, func(i, j int) bool { return slotNumber(wts[i]) < slotNumber(wts[j]) })
	for _, wt := range wts {
		if !kept(wt) && slotNumber(wt) < warm {
			// What the last attempt left running, unless an attempt
			// holds the slot now (another run's, or a plain ninja's):
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

// Change is a path that differs between a worktree and its snapshot.
type Change struct {
	Path    string // relative to the plan's directory
	Deleted bool
	Outside bool // outside the plan's directory
}

// Changes lists what differs in the worktree from its snapshot: modified,
// added (untracked, not ignored) and deleted files. Paths matching scratch
// patterns (an agent's own caches, such as .aider*) are left out.
func (w *Worktree) Changes(ctx context.Context, scratch []string) ([]Change, error) {
	if w.pending != nil {
		r := <-w.pending
		w.pending = nil
		return r.changes, r.err
	}
	return w.changes(ctx, scratch)
}

// Prefetch starts listing the worktree's changes aside, for the next
// Changes (with the same scratch): the look at the worktree and another
// at the main tree can then run at once. Release and Keep wait for it.
func (w *Worktree) Prefetch(ctx context.Context, scratch []string) {
	w.wait()
	ch := make(chan changesResult, 1)
	w.pending = ch
	go func() {
		c, err := w.changes(ctx, scratch)
		ch <- changesResult{c, err}
	}()
}

// wait lets a prefetch end: git must not look at the worktree while it
// is reset or moved.
func (w *Worktree) wait() {
	if w.pending != nil {
		<-w.pending
		w.pending = nil
	}
}

func (w *Worktree) changes(ctx context.Context, scratch []string) ([]Change, error) {
	out, err := w.repo.git(ctx, w.Dir, nil, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules")
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, rec := range strings.Split(out, "\x00") {
		if len(rec) < 4 {
			continue
		}
		xy, p := rec[:2], rec[3:]
		c := Change{Deleted: strings.Contains(xy, "D")}
		if rel, ok := strings.CutPrefix(p, w.repo.Prefix); ok {
			c.Path = rel
		} else {
			// Shown relative to the plan's directory, as every path is.
			c.Path, c.Outside = strings.Repeat("../", strings.Count(w.repo.Prefix, "/"))+p, true
		}
		if matchAny(c.Path, scratch) || w.wasPut(c.Path) {
			continue
		}
		changes = append(changes, c)
	}
	return changes, nil
}

func (w *Worktree) wasPut(p string) bool {
	for _, put := range w.put {
		if p == put || strings.HasPrefix(p, put+"/") {
			return true
		}
	}
	return false
}

// matchAny reports whether a pattern matches the path, its base name, or
// one of its directories (so .aider* covers .aider.tags.cache.v4/cache.db).
func matchAny(p string, patterns []string) bool {
	parts := strings.Split(p, "/")
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
		for _, part := range parts {
			if ok, _ := path.Match(pat, part); ok {
				return true
			}
		}
	}
	return false
}

// BlobID is git's id of a blob with these bytes.
func BlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// fileBlob is the blob id of a file on disk as git would store it: a
// regular file's content, a symlink's target; "" when it does not exist.
func fileBlob(p string) (string, error) {
	fi, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		t, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		return BlobID([]byte(t)), nil
	}
	if !fi.Mode().IsRegular() {
		// A FIFO, a socket, a device: told by its kind, never read (a
		// FIFO's read waits for a writer that may never come).
		return "special " + fi.Mode().Type().String(), nil
	}
	// Opened without following a link or waiting on a FIFO, should the
	// path have changed kind since the look above.
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "special", err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return "", err
	}
	return BlobID(data), nil
}

func sameBlob(a, b string) (bool, error) {
	x, err := fileBlob(a)
	if err != nil {
		return false, err
	}
	y, err := fileBlob(b)
	return x == y, err
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

// Dirty maps the files git status lists in the main tree (relative to the
// plan's directory, scratch patterns left out) to their blob ids; "" for a
// deleted file.
func (r *Repo) Dirty(ctx context.Context, scratch []string) (map[string]string, error) {
	// Without the optional lock: a status that refreshes the person's
	// index takes index.lock, and their own git (or a task's commit)
	// would fail on it meanwhile.
	out, err := r.git(ctx, r.Root, []string{"GIT_OPTIONAL_LOCKS=0"}, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules", "--", ".", ":(exclude)"+filepath.Base(r.State))
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, rec := range strings.Split(out, "\x00") {
		if len(rec) < 4 {
			continue
		}
		if rel, ok := strings.CutPrefix(rec[3:], r.Prefix); ok && !matchAny(rel, scratch) {
			r.mapDirty(m, rel)
		}
	}
	if r.blobs != nil {
		r.blobs.save(m)
	}
	return m, nil
}

// mapDirty adds the main tree's file rel (relative to the plan's
// directory) to a Dirty map: its blob id, "" when it is gone.
func (r *Repo) mapDirty(m map[string]string, rel string) {
	p := filepath.Join(r.Root, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	switch {
	case err == nil && fi.Mode().IsRegular() && fi.Size() > DefaultMaxUntracked:
		// A large file is told by its size and time: hashing it twice
		// an attempt would cost seconds.
		m[rel] = fmt.Sprintf("stat %d %d", fi.Size(), fi.ModTime().UnixNano())
		return
	case err == nil && fi.Mode().IsRegular() && r.blobs != nil:
		// Hashed only when its metadata changed since it last was.
		if blob, err := r.blobs.blob(rel, p, fi); err == nil {
			m[rel] = blob
		}
		return
	}
	if blob, err := fileBlob(p); err == nil {
		m[rel] = blob
	}
}

// dirtyFrom is Dirty's map worked out from a snapshot of the main tree
// rather than from a look at the whole tree: the files whose snapshot
// differs from HEAD (changed, new, deleted), those the person's index has
// staged apart from HEAD (a staged change the tree has undone still shows
// in git status), and the large untracked files the snapshot left out.
// Two comparisons of trees and one of the index: a few milliseconds,
// where git status reads every file's metadata. An error when there is no
// commit yet.
func (r *Repo) dirtyFrom(ctx context.Context, snapshot string, large []sizedPath, scratch []string) (map[string]string, error) {
	pathspec := []string{"--", ".", ":(exclude)" + filepath.Base(r.State)}
	var staged string
	var stagedErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Without the optional lock, as Dirty.
		staged, stagedErr = r.git(ctx, r.Root, []string{"GIT_OPTIONAL_LOCKS=0"}, append([]string{"diff-index", "--cached", "-z", "--no-renames", "--name-only", "--ignore-submodules", "HEAD"}, pathspec...)...)
	}()
	changed, err := r.git(ctx, r.Root, nil, append([]string{"diff-tree", "-r", "--no-commit-id", "-z", "--no-renames", "--name-only", "--ignore-submodules", "HEAD", snapshot}, pathspec...)...)
	<-done
	if err == nil {
		err = stagedErr
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, path := range append(strings.Split(changed, "\x00"), strings.Split(staged, "\x00")...) {
		rel, ok := strings.CutPrefix(path, r.Prefix)
		if path == "" || !ok || matchAny(rel, scratch) {
			continue
		}
		if _, seen := m[rel]; !seen {
			r.mapDirty(m, rel)
		}
	}
	for _, l := range large {
		if !matchAny(l.path, scratch) {
			r.mapDirty(m, l.path)
		}
	}
	return m, nil
}

// InsideGitDir reports whether dir is inside a git directory (.git/ or a
// bare repository), where no working tree is.
func InsideGitDir(dir string) bool { return gitrepo.InsideGitDir(dir) }
