package runner

// What defines a task's result, and whether it is still done. A task is up
// to date when its work (state.Spec.WorkHash: message, files, read files,
// needs, model, agent command) and its inputs' content (state.InputHash)
// are what they were at its last success, and its files still hold what
// that success left (state.OutputHash). Every new influence on a task's
// result must be part of this hash: exec, Ninja's view and status all
// decide "up to date" from it, and a change left out of it is work
// paraider never redoes. What only tunes how a task runs (timeout,
// retries, env) stays out, or every such edit would be paid for again; a
// changed check is judged on the files as they are (checkOnly).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// inputHash digests the task's work and the content of its inputs: its
// read files and its upstream tasks' files.
func (r *runner) inputHash() (string, error) { return state.InputHash(r.root, r.spec) }

// outputHash digests the task's own files as they are now.
func (r *runner) outputHash() string { return state.OutputHash(r.root, r.spec.Files) }

// lastSuccess is the task's last successful result, while it still
// holds: the latest result when that is a success, else the last success
// on record if the task's files are still as it left them.
func (r *runner) lastSuccess() *state.Result {
	var res state.Result
	if state.ReadJSON(r.lay.Path(state.ResultPath(r.spec.ID)), &res) == nil && res.Status == state.StatusOK {
		return &res
	}
	if state.ReadJSON(r.lay.Path(state.SuccessPath(r.spec.ID)), &res) == nil && res.Status == state.StatusOK &&
		res.OutputHash == r.outputHash() {
		return &res
	}
	return nil
}

// outputsHold settles a success whose files are no longer as it left
// them: a declared file that is gone is put back from the success's
// change record (its after-image, for free), said in the task's line; a
// file the person changed by hand is theirs, and the success holds. It
// reports false when a file is gone and cannot be put back: the task must
// run again.
func (r *runner) outputsHold(ok *state.Result) bool {
	if ok.OutputHash == "" || r.outputHash() == ok.OutputHash {
		return true
	}
	var ch state.Change
	haveRecord := state.ReadJSON(r.lay.Path(state.ChangePath(r.spec.ID)), &ch) == nil && ch.Run == ok.Run && ch.At.Equal(ok.Finished)
	var restored []string
	for _, f := range r.spec.Files {
		if _, err := os.Lstat(r.lay.Path(f)); !errors.Is(err, os.ErrNotExist) {
			continue // there: as the success left it, or changed by hand
		}
		var after *state.Image
		found := false
		for _, fc := range ch.Files {
			if fc.Path == f {
				after, found = fc.After, true
			}
		}
		switch {
		case !haveRecord:
			return false
		case found && after == nil:
			continue // the success removed it: gone is as it left it
		case !found:
			// The success left it as it was before, and that was no
			// file of the record's: whether it was there is not known.
			return false
		case state.SymlinkParent(r.root, f) != "":
			return false // never written through a symlink: the run refuses it
		}
		if err := r.lay.WriteImage(r.lay.Path(f), after); err != nil {
			return false
		}
		restored = append(restored, f)
	}
	if len(restored) > 0 {
		r.restored = restored
	}
	r.handEdited = r.outputHash() != ok.OutputHash
	return true
}

// upToDate finishes a task that needs no run: its record (the latest
// result again, if a failure came after it) now answers to the current
// spec, and its stamp holds its files' digest.
func (r *runner) upToDate(prev *state.Result) error {
	r.forgetPlace()
	var cur state.Result
	latest := state.ReadJSON(r.lay.Path(state.ResultPath(prev.Task)), &cur) == nil && cur.Status == state.StatusOK && cur.Finished.Equal(prev.Finished)
	if h := r.specHash; prev.SpecHash != h || !latest || cur.Check != prev.Check {
		prev.SpecHash = h
		if err := state.WriteJSON(r.lay.Path(state.ResultPath(prev.Task)), prev); err != nil {
			return err
		}
		if err := writeSuccess(r.lay.Path(state.SuccessPath(prev.Task)), prev); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.opts.Out, "up to date %s: inputs unchanged since its success at %s; not run again (paraider reset %s reruns it)\n",
		prev.Task, prev.Finished.Local().Format("2006-01-02 15:04:05"), prev.Task)
	if len(r.restored) > 0 {
		fmt.Fprintf(r.opts.Out, "  restored %s from its last success (not paid again)\n", strings.Join(r.restored, ", "))
	}
	if r.handEdited {
		fmt.Fprintf(r.opts.Out, "  its files changed since its success (by hand?): yours, kept, not run over\n")
	}
	return r.writeStamp(prev.OutputHash)
}

// writeStamp writes the stamp Ninja waits for, only when its content
// changes: with restat, an unchanged stamp tells Ninja that the task's
// files did not change, and its dependents are not run.
func (r *runner) writeStamp(outputHash string) error {
	data := []byte(outputHash + "\n")
	_, err := state.WriteIfChanged(r.lay.Path(state.TaskStamp(r.spec.ID)), data)
	return err
}

// writeSuccess keeps a success record: atomically, without the sync the
// latest result gets (which holds the same success until a failure
// replaces it), since each sync costs a task milliseconds.
func writeSuccess(name string, res *state.Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteUnsynced(name, append(b, '\n'))
}

// checkOnly runs the task's check on its files as they are, where an
// attempt's check runs (a worktree of the current tree, or in place), with
// the task's timeout. It returns nil when they pass.
func (r *runner) checkOnly(ctx context.Context) (*verdict, error) {
	s := r.spec
	logPath := r.lay.Path(state.CheckOnlyLog(s.ID))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "# paraider: task %s: its check changed; judging its files as they are\n", s.ID)
	work := r.root
	if s.Isolation == state.IsolationWorktree {
		if repo, err := isolate.Open(r.root); err == nil {
			wt, err := repo.Create(ctx, s.ID+".check", isolate.Setup{Copy: s.Copy, Link: s.Link, Files: s.Files, Read: s.Read, MaxUntracked: s.MaxUntracked})
			if err != nil {
				return nil, fmt.Errorf("task %s: a worktree for its check: %w", s.ID, err)
			}
			defer wt.Release()
			work = wt.Root
		}
	}
	return r.runCheck(ctx, work, time.Now().Add(time.Duration(s.Timeout)), logf), nil
}
