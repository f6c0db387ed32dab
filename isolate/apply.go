package isolate

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/paraider/paraider/state"
)

// ApplyError says why an attempt's files could not come back.
type ApplyError struct {
	Kind ApplyKind
	Msg  string
}

// ApplyKind is why files were not brought back.
type ApplyKind string

const (
	// ApplyConflict: the main tree changed while the task ran.
	ApplyConflict ApplyKind = "conflict"
	// ApplyParentSymlink: a directory of the path is a symlink in the main
	// tree.
	ApplyParentSymlink ApplyKind = "parent-symlink"
	// ApplySymlink: the agent made a symlink out of the repository.
	ApplySymlink ApplyKind = "symlink"
)

func (e *ApplyError) Error() string { return e.Msg }

// Apply writes the declared files that changed in the worktree into the
// main tree and returns them. Either every file comes back or none does:
// all are checked first. A file that changed in the main tree since the
// snapshot is a conflict; the agent's version is kept under
// .paraider/conflicts/ and the error says where.
func (w *Worktree) Apply(ctx context.Context, changes []Change) ([]string, error) {
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	// Shared with other write-backs, exclusive of snapshots: a snapshot
	// never sees a write-back half done, nor its temporary files.
	tree, err := state.LockFile(ctx, w.repo.treeLock(), true, syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	locks, err := w.lockFiles(ctx, changes)
	defer func() {
		for _, l := range locks {
			l.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	if err := w.applicable(changes); err != nil {
		return nil, err
	}
	var applied []string
	for _, c := range changes {
		main := filepath.Join(w.repo.Root, filepath.FromSlash(c.Path))
		removeStaleTemps(main)
		if c.Deleted {
			if err := os.Remove(main); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return applied, err
			}
		} else if err := copyBack(filepath.Join(w.Root, filepath.FromSlash(c.Path)), main); err != nil {
			return applied, err
		}
		applied = append(applied, c.Path)
	}
	return applied, nil
}

// lockFiles takes each changed file's lock, in path order, so that two
// writers never wait on each other; the locks taken are returned even on
// an error, for the caller to close.
func (w *Worktree) lockFiles(ctx context.Context, changes []Change) ([]*os.File, error) {
	var locks []*os.File
	for _, c := range changes {
		sum := sha1.Sum([]byte(c.Path))
		l, err := lockFile(ctx, filepath.Join(w.repo.State, "locks", "file-"+hex.EncodeToString(sum[:8])+".lock"), true)
		if err != nil {
			return locks, err
		}
		locks = append(locks, l)
	}
	return locks, nil
}

// applicable checks every change before any is written: a task's file
// the main tree changed while the task ran is a conflict (the agent's
// version kept aside), and no write goes through a symlink.
func (w *Worktree) applicable(changes []Change) error {
	var conflicts []string
	for _, c := range changes {
		main := filepath.Join(w.repo.Root, filepath.FromSlash(c.Path))
		if err := w.noSymlinkParents(c.Path); err != nil {
			return err
		}
		base, ok := w.base[c.Path]
		if !ok {
			return fmt.Errorf("%s is not one of the task's files", c.Path)
		}
		cur, err := fileBlob(main)
		if err != nil {
			return err
		}
		if cur != base {
			kept, err := w.keepConflict(c)
			if err != nil {
				return err
			}
			conflicts = append(conflicts, fmt.Sprintf("%s (the agent's version is in %s)", c.Path, kept))
			continue
		}
		if !c.Deleted {
			if err := w.checkSymlink(c.Path); err != nil {
				return err
			}
		}
	}
	if len(conflicts) > 0 {
		return &ApplyError{Kind: ApplyConflict, Msg: "changed in the main tree while the task ran, so not overwritten: " + strings.Join(conflicts, ", ")}
	}
	return nil
}

// removeStaleTemps removes temporary files a killed paraider left beside
// path while writing it (state.WriteFile's ".NAME.tmp*"). The file's lock
// is held, so no writer of ours is using them.
func removeStaleTemps(path string) {
	tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globEscape(filepath.Base(path))+".tmp*"))
	for _, t := range tmps {
		os.Remove(t)
	}
}

func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(s)
}

// MainChanged lists the task's declared files that changed in the main
// tree since the attempt began: a person's edit, or an agent that wrote
// outside its worktree by absolute path.
func (w *Worktree) MainChanged() []string {
	var out []string
	for rel, base := range w.base {
		cur, err := fileBlob(filepath.Join(w.repo.Root, filepath.FromSlash(rel)))
		if err == nil && cur != base {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}

// noSymlinkParents refuses a path whose directories in the main tree include
// a symlink: writing there would write through it.
func (w *Worktree) noSymlinkParents(rel string) error {
	dir := w.repo.Root
	parts := strings.Split(rel, "/")
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return &ApplyError{Kind: ApplyParentSymlink, Msg: fmt.Sprintf("%s is under %s, a symlink in the main tree; paraider does not write through symlinks", rel, strings.TrimPrefix(dir, w.repo.Root+"/"))}
		}
	}
	return nil
}

// checkSymlink refuses a symlink the agent made that points outside the
// repository.
func (w *Worktree) checkSymlink(rel string) error {
	src := filepath.Join(w.Root, filepath.FromSlash(rel))
	fi, err := os.Lstat(src)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return nil
	}
	target, err := os.Readlink(src)
	if err != nil {
		return err
	}
	resolved := target
	if !filepath.IsAbs(target) {
		resolved = filepath.Join(filepath.Dir(src), target)
	}
	inside, err := filepath.Rel(w.Dir, resolved)
	if filepath.IsAbs(target) || err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
		return &ApplyError{Kind: ApplySymlink, Msg: fmt.Sprintf("%s is a symlink to %s, outside the repository; it was not copied back", rel, target)}
	}
	return nil
}

func (w *Worktree) keepConflict(c Change) (string, error) {
	rel := filepath.Join(filepath.Base(w.repo.State), "conflicts", w.Name, filepath.FromSlash(c.Path))
	dst := filepath.Join(w.repo.Root, rel)
	if c.Deleted {
		return rel + " (deleted)", nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	return rel, copyBack(filepath.Join(w.Root, filepath.FromSlash(c.Path)), dst)
}

// copyBack writes src's content (or link) to dst atomically: a temporary
// file in dst's directory, then a rename, which also replaces a symlink at
// dst rather than writing through it. The file mode is kept.
func copyBack(src, dst string) error {
	fi, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return state.WriteSymlink(dst, target)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", src)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return state.WriteFile(dst, data, fi.Mode().Perm())
}

// copyTree copies a file or a directory tree, keeping symlinks as links.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyBack(p, target)
	})
}

// lockFile takes an exclusive flock on path (state.LockFile).
func lockFile(ctx context.Context, path string, wait bool) (*os.File, error) {
	return state.LockFile(ctx, path, wait, syscall.LOCK_EX)
}
