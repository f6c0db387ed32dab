package isolate

// The snapshot of the main tree an attempt starts from, and the main tree's
// changed files known by their blobs.

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/state"
)

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
	if setup.Changed != nil && r.Prefix == "" {
		commit, large, err := r.snapshotOf(ctx, name, setup, env)
		if err == nil || ctx.Err() != nil {
			return commit, large, err
		}
		// A path that went meanwhile (git add refuses an untracked
		// file's path that matches nothing): the whole tree, as below.
	}
	pathspec := []string{":/", ":(exclude,top)" + r.Prefix + filepath.Base(r.State)}
	treeLock, err := lockFile(ctx, r.treeLock(), true)
	if err != nil {
		return "", nil, err
	}
	// Whether the person's .gitignore names .paraider/, asked beside the
	// look for large files: git refuses a pathspec that excludes an
	// ignored path, and a refused git add -A costs as much as one that
	// runs (150 ms at 50,000 files).
	ignored := make(chan bool, 1)
	go func() { ignored <- r.stateIgnored(ctx) }()
	large, err = r.largeUntracked(ctx, setup)
	if <-ignored {
		pathspec = pathspec[:1] // ignored, it is left out all the same
	}
	if err != nil {
		treeLock.Close()
		return "", nil, err
	}
	for _, l := range large {
		pathspec = append(pathspec, ":(exclude,top,literal)"+r.Prefix+l.path)
	}
	err = r.addAll(ctx, env, pathspec)
	treeLock.Close()
	if err != nil {
		return "", nil, fmt.Errorf("snapshotting the working tree: %w", err)
	}
	commit, err = r.commitTree(ctx, env, name)
	return commit, large, err
}

// snapshotOf is snapshot from setup.Changed: the paths git status lists
// are added to a copy of the person's index, the large untracked files
// among them left out; every other file matches the index (or git status
// would list it).
func (r *Repo) snapshotOf(ctx context.Context, name string, setup Setup, env []string) (commit string, large []sizedPath, err error) {
	max := setup.MaxUntracked
	if max <= 0 {
		max = DefaultMaxUntracked
	}
	var paths []string
	var untracked map[string]bool
	for _, p := range setup.Changed {
		if p == "" || p == filepath.Base(r.State) || strings.HasPrefix(p, filepath.Base(r.State)+"/") {
			continue
		}
		paths = append(paths, p)
		if slices.Contains(setup.Files, p) || slices.Contains(setup.Read, p) {
			continue
		}
		fi, err := os.Lstat(filepath.Join(r.Root, filepath.FromSlash(p)))
		if err != nil || !fi.Mode().IsRegular() || fi.Size() <= max {
			continue
		}
		if untracked == nil {
			// Only a large file can be left out, and only an untracked
			// one: git is asked which they are only when there is one.
			if untracked, err = r.untracked(ctx); err != nil {
				return "", nil, err
			}
		}
		if untracked[p] {
			large = append(large, sizedPath{p, fi.Size()})
			paths = paths[:len(paths)-1]
		}
	}
	treeLock, err := lockFile(ctx, r.treeLock(), true)
	if err != nil {
		return "", nil, err
	}
	if len(paths) > 0 {
		var spec strings.Builder
		for _, p := range paths {
			spec.WriteString(":(literal)" + p + "\x00")
		}
		_, err = gitIn(ctx, r.Top, env, spec.String(), append(slices.Clone(r.exact), "add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul")...)
	}
	treeLock.Close()
	if err != nil {
		return "", nil, fmt.Errorf("snapshotting the working tree: %w", err)
	}
	commit, err = r.commitTree(ctx, env, name)
	return commit, large, err
}

// untracked is the set of untracked, not ignored files of the tree.
func (r *Repo) untracked(ctx context.Context) (map[string]bool, error) {
	out, err := r.git(ctx, r.Root, nil, "ls-files", "-z", "--others", "--exclude-standard", "--", ".", ":(exclude)"+filepath.Base(r.State))
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, p := range strings.Split(out, "\x00") {
		if p != "" {
			set[p] = true
		}
	}
	return set, nil
}

// stateIgnored reports whether git ignores the plan's .paraider/
// directory itself (the person's .gitignore names it).
func (r *Repo) stateIgnored(ctx context.Context) bool {
	_, err := r.git(ctx, r.Top, nil, "check-ignore", "-q", "--", r.Prefix+filepath.Base(r.State)+"/")
	return err == nil
}

// addAll adds the working tree to the snapshot's index.
func (r *Repo) addAll(ctx context.Context, env, pathspec []string) error {
	stateExcluded := len(pathspec) > 1 && strings.HasPrefix(pathspec[1], ":(exclude,top)")
	for try := 1; ; try++ {
		_, err := r.git(ctx, r.Top, env, append([]string{"add", "-A", "--"}, pathspec...)...)
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
			return err
		}
	}
}

// commitTree makes the snapshot's commit from its index, on HEAD (or
// without a parent, where the branch has no commit yet).
func (r *Repo) commitTree(ctx context.Context, env []string, name string) (string, error) {
	tree, err := r.git(ctx, r.Top, env, "write-tree")
	if err != nil {
		return "", err
	}
	args := []string{"commit-tree", strings.TrimSpace(tree), "-m", "paraider snapshot for " + name}
	commit, err := r.git(ctx, r.Top, nil, append(args, "-p", "HEAD")...)
	if err != nil {
		if _, herr := r.git(ctx, r.Top, nil, "rev-parse", "--verify", "-q", "HEAD"); herr == nil {
			return "", err
		}
		if commit, err = r.git(ctx, r.Top, nil, args...); err != nil {
			return "", err
		}
	}
	return strings.TrimSpace(commit), nil
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

// Dirty maps the files git status lists in the main tree (relative to the
// plan's directory, scratch patterns left out) to their blob ids; "" for a
// deleted file.
func (r *Repo) Dirty(ctx context.Context, scratch []string) (map[string]string, error) {
	m := map[string]string{}
	if err := r.status(ctx, scratch, nil, m, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// DirtyAndIgnored is Dirty, and the directories git ignores whole (none
// of their files tracked, relative to the plan's directory, with no
// trailing slash): where an agent's writes can never show in Dirty.
func (r *Repo) DirtyAndIgnored(ctx context.Context, scratch []string) (map[string]string, []string, error) {
	m := map[string]string{}
	var ignored []string
	if err := r.status(ctx, scratch, nil, m, &ignored); err != nil {
		return nil, nil, err
	}
	if !slices.Equal(ignored, r.IgnoredHint()) {
		state.WriteUnsynced(filepath.Join(r.State, ignoredHintPath), []byte(strings.Join(ignored, "\x00")))
	}
	return m, ignored, nil
}

// ignoredHintPath keeps the directories git ignored whole at the last
// DirtyAndIgnored, NUL-separated.
const ignoredHintPath = "ignored-dirs"

// IgnoredHint is what the last DirtyAndIgnored said git ignores whole:
// a guess at what the next one will say, for a watch of the tree to start
// from while git looks (a walk of the tree and git's look each take tens
// of milliseconds at 50,000 files). Only a guess, which the next look
// checks: the file is within an agent's reach.
func (r *Repo) IgnoredHint() []string {
	b, err := state.ReadOwn(filepath.Join(r.State, ignoredHintPath), 1<<20)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// DirtySince is Dirty after changes at paths alone: before (a Dirty map)
// with what git status says now of each path (relative to the plan's
// directory; a directory stands for every file under it). A look at a
// few paths, where Dirty reads the metadata of every file in the tree.
func (r *Repo) DirtySince(ctx context.Context, scratch []string, before map[string]string, paths []string) (map[string]string, error) {
	looked := make(map[string]bool, len(paths))
	for _, p := range paths {
		looked[p] = true
	}
	m := make(map[string]string, len(before))
	for p, blob := range before {
		if !atOrUnder(looked, p) {
			m[p] = blob
		}
	}
	if len(paths) == 0 {
		return m, nil
	}
	if err := r.status(ctx, scratch, paths, m, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// ChangedSince lists, sorted, the paths whose entry in a Dirty map
// differs between before and now, where only paths (relative to the
// plan's directory; a directory stands for every file under it) can have
// changed since before was taken: what comparing before with
// DirtySince's map would list, without copying before. No paths, no
// change, and git is not asked.
func (r *Repo) ChangedSince(ctx context.Context, scratch []string, before map[string]string, paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	now := map[string]string{}
	if err := r.status(ctx, scratch, paths, now, nil); err != nil {
		return nil, err
	}
	looked := make(map[string]bool, len(paths))
	for _, p := range paths {
		looked[p] = true
	}
	var out []string
	for p, blob := range now {
		if old, ok := before[p]; !ok || old != blob {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := now[p]; !ok && atOrUnder(looked, p) {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// GitState names what git status compares the tree with, as far as it
// moves without a file of the tree being written: where HEAD points (a
// commit, a checkout, a reset by an agent's git or the person's) and the
// number of entries in the index (git rm --cached), and the metadata of
// .git/info/exclude (what git ignores). It leaves out the
// index's other changes: a stage or an unstage leaves a changed file
// listed, and the index is rewritten whenever anyone's git status
// refreshes it (an editor's, every few seconds).
//
// It is read from git's files, which git replaces (a new inode) whenever
// it moves a ref: HEAD, the branch's loose ref and packed-refs. Where the
// refs are kept otherwise (reftable), git is asked.
func (r *Repo) GitState(ctx context.Context) (string, error) {
	count, err := r.indexEntries()
	if err != nil {
		return "", err
	}
	// What git ignores beyond the .gitignore files in the tree (which a
	// watch of the tree sees written).
	if r.commonDir != "" {
		count += " " + metaOf(filepath.Join(r.commonDir, "info", "exclude"))
	}
	head, err := os.ReadFile(filepath.Join(r.gitDir, "HEAD"))
	_, reftable := os.Stat(filepath.Join(r.commonDir, "reftable"))
	if r.gitDir == "" || r.commonDir == "" || err != nil || reftable == nil {
		id, err := r.git(ctx, r.Root, nil, "rev-parse", "-q", "--verify", "HEAD")
		if err != nil {
			id = "none" // no commit yet
		}
		return strings.TrimSpace(id) + " " + count, nil
	}
	ref, symbolic := strings.CutPrefix(strings.TrimSpace(string(head)), "ref: ")
	if !symbolic {
		return ref + " " + count, nil // detached: HEAD holds the commit
	}
	return fmt.Sprintf("%s %s %s %s", ref, metaOf(filepath.Join(r.commonDir, filepath.FromSlash(ref))),
		metaOf(filepath.Join(r.commonDir, "packed-refs")), count), nil
}

// indexEntries is the index's number of entries, from its header ("DIRC",
// the version, the count), as hex; "none" without an index.
func (r *Repo) indexEntries() (string, error) {
	var hdr [12]byte
	f, err := os.Open(r.index)
	if r.index == "" || errors.Is(err, os.ErrNotExist) {
		return "none", nil
	} else if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%x", hdr[8:]), nil
}

// metaOf is a file's metadata, inode included, or "none".
func metaOf(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "none"
	}
	sig, _ := sumcache.SigOf(fi)
	return fmt.Sprintf("%+v", sig)
}

// status adds to m the files git status lists (under paths, or in the
// whole tree when paths is nil) with their blob ids, and when ignored is
// not nil lists there the directories git ignores whole.
func (r *Repo) status(ctx context.Context, scratch, paths []string, m map[string]string, ignored *[]string) error {
	args := []string{"status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--ignore-submodules"}
	if ignored != nil {
		// Matching: an ignored directory is one record, not walked.
		args = append(args, "--ignored=matching")
	}
	args = append(args, "--")
	if paths == nil {
		args = append(args, ".", ":(exclude)"+filepath.Base(r.State))
	}
	for _, p := range paths {
		args = append(args, ":(literal)"+p)
	}
	// Without the optional lock: a status that refreshes the person's
	// index takes index.lock, and their own git (or a task's commit)
	// would fail on it meanwhile.
	out, err := r.git(ctx, r.Root, []string{"GIT_OPTIONAL_LOCKS=0"}, args...)
	if err != nil {
		return err
	}
	for _, rec := range strings.Split(out, "\x00") {
		if len(rec) < 4 {
			continue
		}
		rel, ok := strings.CutPrefix(rec[3:], r.Prefix)
		switch {
		case !ok || matchAny(rel, scratch):
			// outside the plan's directory, or scratch: not looked at
		case rec[:2] == "!!":
			// Only asked for (--ignored): a directory whole, or a file.
			if dir, isDir := strings.CutSuffix(rel, "/"); isDir {
				*ignored = append(*ignored, dir)
			}
		default:
			r.mapDirty(m, rel)
		}
	}
	if r.blobs != nil {
		// Only the files still changed or untracked.
		r.blobs.Save(func(rel string) bool { _, ok := m[rel]; return ok })
	}
	return nil
}

// atOrUnder reports whether p or a directory above it is in set: a look
// per level of p (before holds every changed and untracked file, the
// watch up to thousands of paths).
func atOrUnder(set map[string]bool, p string) bool {
	// The paths are git's and the watch's: relative, slash-separated,
	// clean. Cut at each slash rather than path.Dir, which cleans and
	// allocates: it is asked of every changed file at every attempt.
	for p != "" && p != "." && p != "/" {
		if set[p] {
			return true
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return false
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
		if blob, err := r.blobs.Sum(rel, p, fi, fileBlob); err == nil {
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
