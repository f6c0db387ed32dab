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
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/paraider/paraider/internal/gitrepo"
	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/state"
)

// ErrNotGit says the plan's directory is not in a git repository.
var ErrNotGit = errors.New("not in a git repository")

// Repo is the git repository around a plan's directory.
type Repo struct {
	Root   string // the plan's directory, absolute
	Top    string // the repository's top level, absolute
	Prefix string // Root relative to Top, with a trailing slash, or ""
	State  string // the plan's .paraider directory, absolute
	// exact are the -c settings that make paraider's git byte-exact and
	// inert whatever the user's configuration: see exactFor.
	exact []string
	index string // the person's index file, absolute
	// gitDir holds HEAD; commonDir the refs (the same but in a linked
	// worktree). Absolute; "" where git did not say.
	gitDir, commonDir string
	// blobs keeps the blob ids Dirty hashed (see blobCachePath).
	blobs *sumcache.Cache
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
	a, kept := openKept(abs)
	if !kept {
		var err error
		if a, err = askGit(abs); errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("git is not installed: %w", err)
		} else if err != nil {
			return nil, ErrNotGit
		}
	}
	lines := a.Lines
	r := &Repo{Root: abs, Top: lines[0], State: filepath.Join(abs, state.Dir), exact: a.Exact}
	r.blobs = sumcache.New(filepath.Join(r.State, blobCachePath), blobIDLen)
	if len(lines) > 2 {
		r.Prefix, r.index = lines[1], lines[2]
	}
	if len(lines) > 4 {
		r.gitDir, r.commonDir = lines[3], lines[4]
	}
	return r, nil
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
	// Changed, when not nil, names every path of the main tree (relative
	// to the plan's directory, which is the repository's top) that may
	// differ from the person's index: the files git status lists, from a
	// look kept up to date by a watch of the tree. The snapshot then adds
	// those alone, where git add -A reads the metadata of every file and
	// walks every directory. Ignored where the plan is in a
	// subdirectory (the snapshot takes the whole repository).
	Changed []string
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
// for the attempt name (a task id and attempt number). Worktrees come from
// a pool (slot-N), reused from one attempt to the next: checking out a new
// snapshot in a used worktree touches only the files that differ, where a
// new worktree writes every file of the repository. A reused worktree is first
// cleaned of everything the last attempt left (untracked and ignored files,
// processes still running in it), while the snapshot is made; with
// setup.Dirty, the main tree's changed files are worked out from the
// snapshot while the worktree checks it out.
func (r *Repo) Create(ctx context.Context, name string, setup Setup) (*Worktree, error) {
	w, reused, err := r.acquireWorktree()
	if err != nil {
		return nil, err
	}
	// Cleaning before the checkout leaves the same tree as after it:
	// what is untracked in the worktree goes, and the checkout writes only
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
	if err := r.checkoutWorktree(ctx, w, reused, cleaned); err != nil {
		<-dirtyDone
		w.unlock()
		return nil, err
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

// checkoutWorktree checks the snapshot out into a warm worktree (once cleaned)
// or, when it is new or git no longer knows it (pruned, damaged), into a
// worktree made afresh.
func (r *Repo) checkoutWorktree(ctx context.Context, w *Worktree, reused bool, cleaned <-chan error) error {
	if reused {
		err := <-cleaned
		if err == nil {
			err = w.checkout(ctx)
		}
		if err == nil {
			return nil
		}
		os.RemoveAll(w.Dir)
		r.worktreeCmd(ctx, "prune")
	}
	// Registered under the repository's lock, checked out outside it: a
	// new worktree writes every file of the repository, and the other
	// attempts making worktrees need not wait for that. -f: the worktree may
	// still be registered with git while its directory is gone
	// (.paraider/ removed by hand or by git clean).
	if err := r.worktreeCmd(ctx, "add", "-f", "--no-checkout", "--detach", "--quiet", w.Dir, w.Base); err != nil {
		return err
	}
	return w.checkout(ctx)
}

// checkoutWorkers is how many processes a checkout that writes many files
// uses (git's checkout.workers, from 100 files on): creating files is
// slow on some file systems and faster in parallel (a new worktree of 5,000
// files here: 5.6-6.6 s with one, 1.1-2.1 s with 16).
const checkoutWorkers = "16"

// checkout puts the worktree on its snapshot: the files that differ from what
// it holds, or every file of a new worktree.
func (w *Worktree) checkout(ctx context.Context) error {
	_, err := w.repo.git(ctx, w.Dir, nil, "-c", "checkout.workers="+checkoutWorkers, "checkout", "--quiet", "--detach", "--force", w.Base)
	return err
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

// Release gives the worktree back to the pool. Prune removes free worktrees when
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
