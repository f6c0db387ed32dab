package state

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Layout is where a plan's state lives: the plan's directory, and under
// it .paraider/ with every path this package names (SpecPath, RunPath,
// ...) and the locks. The one place that turns those names into files.
type Layout struct {
	Root string // the plan's directory, absolute
}

// NewLayout is the layout of the plan in root.
func NewLayout(root string) (Layout, error) {
	abs, err := filepath.Abs(root)
	return Layout{Root: abs}, err
}

// Path is the file of rel, a path relative to the plan's directory with
// forward slashes (one of this package's names, or a task's file).
func (l Layout) Path(rel string) string { return filepath.Join(l.Root, filepath.FromSlash(rel)) }

// Dir is the absolute .paraider directory.
func (l Layout) Dir() string { return l.Path(Dir) }

// Lock names of the locks paraider takes, under .paraider/locks.
const (
	RunLock    = Dir + "/locks/run.lock"          // one `paraider run` at a time
	LedgerLock = Dir + "/locks/ledger.lock"       // appends to the ledger
	GitLock    = Dir + "/locks/git-worktree.lock" // git worktree add and prune
	TreeLock   = Dir + "/locks/tree.lock"         // the main tree: snapshots share it, write-backs hold it alone
)

// TreeLogDir holds the journal of the main tree's writes during a run
// (internal/treelog).
const TreeLogDir = Dir + "/treelog"

// TaskLock is the lock a task's paraider exec holds: one at a time per
// task.
func TaskLock(id string) string { return Dir + "/locks/task-" + id + ".lock" }

// Lock takes the lock rel at once, or fails when another process holds
// it; closing the file releases it.
func (l Layout) Lock(rel string) (*os.File, error) {
	return LockFile(context.Background(), l.Path(rel), false, syscall.LOCK_EX)
}

// LockWait takes the lock rel, waiting up to a minute.
func (l Layout) LockWait(rel string) (*os.File, error) {
	return LockFile(context.Background(), l.Path(rel), true, syscall.LOCK_EX)
}

// LockFile takes a flock of mode (syscall.LOCK_EX or LOCK_SH) on path,
// made with its directory when missing. Without wait it fails at once when
// another process holds it; with wait it tries for up to a minute, or
// until ctx is done. The lock goes with the file's closing, or the
// process's death (kill -9 included).
func LockFile(ctx context.Context, path string, wait bool, mode int) (*os.File, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := OpenOwn(path, os.O_RDWR|os.O_CREATE)
	if NotOwn(err) {
		// Junk where paraider keeps its lock (a link, a FIFO): the lock
		// is paraider's to make anew.
		os.Remove(path)
		f, err = OpenOwn(path, os.O_RDWR|os.O_CREATE)
	}
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		err := syscall.Flock(int(f.Fd()), mode|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !wait || !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s is locked by another process", path)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for %s: %w", filepath.Base(path), context.Cause(ctx))
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Forget removes a task's results and stamp: the next run does it again.
// A repair's check loses its stamp too: it runs again, and its repair
// with it if it fails.
func (l Layout) Forget(run *Run, id string) error {
	rels := []string{ResultPath(id), SuccessPath(id), TaskStamp(id)}
	if check := run.Repaired(id); check != "" {
		rels = append(rels, CheckStamp(check))
	}
	for _, rel := range rels {
		if err := os.Remove(l.Path(rel)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}
