// Package review shows and takes back what the agents did: each task's
// change record from its last success (state.Change, written by exec) as
// a diff, and a revert that puts the files back as they were before it,
// all or nothing, never over a change made since. It reads and writes
// .paraider/ through state, and the person's files only in Revert.
package review

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/state"
)

// Changes are the recorded changes of the tasks named (all when none),
// in plan order, with the generated plan's facts. A task named without a
// record is told on stderr.
func Changes(root string, named []string, stderr io.Writer) (state.Layout, *state.Run, []*state.Change, error) {
	lay, err := state.NewLayout(root)
	if err != nil {
		return lay, nil, nil, err
	}
	var run state.Run
	if err := state.ReadJSON(lay.Path(state.RunPath), &run); err != nil {
		return lay, nil, nil, human.WithHint(fmt.Errorf("no generated plan in %s", root), "run `paraider gen` (or paraider run) first")
	}
	if err := run.Known(named); err != nil {
		return lay, nil, nil, err
	}
	ids := run.IDs()
	var out []*state.Change
	for _, id := range ids {
		if len(named) > 0 && !slices.Contains(named, id) {
			continue
		}
		var ch state.Change
		err := state.ReadJSON(lay.Path(state.ChangePath(id)), &ch)
		switch {
		case state.Missing(err) && len(named) > 0:
			fmt.Fprintf(stderr, "paraider: %s has no recorded change: it has not succeeded with a change since paraider records them, or it was reverted\n", id)
		case err != nil && !state.Missing(err):
			return lay, nil, nil, err
		case err == nil:
			out = append(out, &ch)
		}
	}
	return lay, &run, out, nil
}

// DiffOptions tune Diff.
type DiffOptions struct {
	Root  string
	Tasks []string // none: every task with a recorded change
	Stat  bool     // per file, lines added and removed, instead of the diff
	Color bool
	Out   io.Writer
	Err   io.Writer // a task named without a record is told here
}

// Diff writes each task's change from its last success, as git's diff
// of the before and after images, in plan order.
func Diff(ctx context.Context, o DiffOptions) error {
	lay, _, chs, err := Changes(o.Root, o.Tasks, o.Err)
	if err != nil {
		return err
	}
	if len(chs) == 0 {
		fmt.Fprintln(o.Out, "paraider: no recorded changes (a task's change is recorded when it succeeds)")
		return nil
	}
	tmp, err := os.MkdirTemp("", "paraider-diff-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var b bytes.Buffer
	for i, ch := range chs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "# %s: %s\n", ch.Task, changeWhen(ch))
		var added, removed int
		for _, fc := range ch.Files {
			d, err := fileDiff(ctx, lay, filepath.Join(tmp, strconv.Itoa(i)), fc, o.Color, o.Stat)
			if err != nil {
				return err
			}
			if now, err := state.SameImage(lay.Path(fc.Path), fc.After); err == nil && !now {
				fmt.Fprintf(&b, "# %s has changed since (by a later task or by hand)\n", fc.Path)
			}
			if !o.Stat {
				b.WriteString(d)
				continue
			}
			a, r, line := statLine(fc, d)
			added, removed = added+a, removed+r
			b.WriteString(line)
		}
		if o.Stat {
			fmt.Fprintf(&b, "  %s, %s(+), %s(-)\n", human.Count(len(ch.Files), "file"), human.Count(added, "insertion"), human.Count(removed, "deletion"))
		}
	}
	_, err = o.Out.Write(b.Bytes())
	return err
}

// changeWhen says when the change was made, and its commit.
func changeWhen(ch *state.Change) string {
	s := "its last success, " + ch.At.Local().Format("2006-01-02 15:04:05")
	if ch.Commit != "" {
		s += fmt.Sprintf(", commit %.12s", ch.Commit)
	}
	return s
}

// fileDiff is git's diff of one file's images (with --numstat for stat):
// the images are written under dir as a/PATH and b/PATH.
func fileDiff(ctx context.Context, lay state.Layout, dir string, fc state.FileChange, color, stat bool) (string, error) {
	sides := []string{"/dev/null", "/dev/null"}
	for i, img := range []*state.Image{fc.Before, fc.After} {
		if img == nil {
			continue
		}
		rel := filepath.Join([]string{"a", "b"}[i], filepath.FromSlash(fc.Path))
		if err := lay.WriteImage(filepath.Join(dir, rel), img); err != nil {
			return "", fmt.Errorf("%s: %w", fc.Path, err)
		}
		sides[i] = rel
	}
	args := []string{"-c", "core.quotepath=off", "diff", "--no-index", "--no-prefix", "--color=never"}
	if color {
		args[len(args)-1] = "--color=always"
	}
	if stat {
		args = append(args, "--numstat")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append(args, "--", sides[0], sides[1])...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return "", fmt.Errorf("git diff of %s: %v: %s", fc.Path, err, strings.TrimSpace(errb.String()))
	}
	// A file one side lacks is named by the other side's path alone.
	d := out.String()
	p := fc.Path
	d = strings.Replace(d, "diff --git b/"+p+" b/"+p, "diff --git a/"+p+" b/"+p, 1)
	d = strings.Replace(d, "diff --git a/"+p+" a/"+p, "diff --git a/"+p+" b/"+p, 1)
	return d, nil
}

// statLine is one file's line of --stat from git's numstat.
func statLine(fc state.FileChange, numstat string) (added, removed int, line string) {
	f := strings.Fields(numstat)
	what := ""
	switch {
	case fc.Before == nil:
		what = " (new)"
	case fc.After == nil:
		what = " (deleted)"
	}
	if len(f) < 2 || f[0] == "-" {
		return 0, 0, fmt.Sprintf("  %s | binary%s\n", fc.Path, what)
	}
	added, _ = strconv.Atoi(f[0])
	removed, _ = strconv.Atoi(f[1])
	return added, removed, fmt.Sprintf("  %s | +%d -%d%s\n", fc.Path, added, removed, what)
}

// RevertOptions tune Revert.
type RevertOptions struct {
	Root     string
	Tasks    []string
	KeepDone bool // the tasks stay done: the next run does not do them again
	Out      io.Writer
	Err      io.Writer
}

// Revert puts the named tasks' files back as they were before their last
// success, all or none: every file is checked before any is written, and
// a file changed since the task wrote it stops the whole revert.
func Revert(o RevertOptions) error {
	root := o.Root
	lock, err := state.Layout{Root: root}.Lock(state.RunLock)
	if err != nil {
		return human.WithHint(errors.New("a paraider run is running in this repository"), "wait for it to finish (paraider status shows it), or stop it")
	}
	defer lock.Close()
	lay, run, chs, err := Changes(root, o.Tasks, io.Discard)
	if err != nil {
		return err
	}
	for _, id := range o.Tasks {
		if !slices.ContainsFunc(chs, func(ch *state.Change) bool { return ch.Task == id }) {
			return human.WithHint(fmt.Errorf("nothing to revert for %s: no change of its is recorded", id),
				"paraider diff lists the recorded changes; a task's change is recorded when it succeeds")
		}
	}
	if err := revertable(lay, chs); err != nil {
		return err
	}
	for _, ch := range chs {
		if err := revertOne(lay, run, ch, o); err != nil {
			return err
		}
	}
	return nil
}

// revertable checks every file of every change before any is touched: a
// file changed since its task wrote it, or one under a symlink, stops the
// whole revert.
func revertable(lay state.Layout, chs []*state.Change) error {
	var changed []string
	for _, ch := range chs {
		for _, fc := range ch.Files {
			same, err := state.SameImage(lay.Path(fc.Path), fc.After)
			if err != nil {
				return err
			}
			if !same {
				changed = append(changed, fmt.Sprintf("%s (%s's)", fc.Path, ch.Task))
			}
		}
	}
	if len(changed) > 0 {
		return human.WithHint(fmt.Errorf("not reverted: changed since the task wrote them: %s", strings.Join(changed, ", ")),
			"nothing was changed; paraider diff shows what the task did, to take back by hand")
	}
	for _, ch := range chs {
		for _, fc := range ch.Files {
			if dir := state.SymlinkParent(lay.Root, fc.Path); dir != "" {
				return human.WithHint(fmt.Errorf("not reverted: %s is under %s, a symlink; paraider does not write through symlinks", fc.Path, dir),
					"nothing was changed; put "+dir+" back as a directory, or take the change back by hand (paraider diff shows it)")
			}
		}
	}
	return nil
}

// revertOne puts one task's files back, settles the task and says so,
// warning of the tasks built on its output.
func revertOne(lay state.Layout, run *state.Run, ch *state.Change, o RevertOptions) error {
	for _, fc := range ch.Files {
		if err := lay.WriteImage(lay.Path(fc.Path), fc.Before); err != nil {
			return fmt.Errorf("reverting %s: %w (the files named before it in paraider diff were reverted)", fc.Path, err)
		}
	}
	if err := settle(lay, run, ch.Task, o.KeepDone); err != nil {
		return err
	}
	os.Remove(lay.Path(state.ChangePath(ch.Task)))
	files := make([]string, len(ch.Files))
	for i, fc := range ch.Files {
		files[i] = fc.Path
	}
	fmt.Fprintf(o.Out, "paraider: reverted %s: %s as before its last success", ch.Task, strings.Join(files, ", "))
	if o.KeepDone {
		fmt.Fprintln(o.Out, "; kept done")
	} else {
		fmt.Fprintln(o.Out, "; the next run does it again")
	}
	if ch.Commit != "" {
		fmt.Fprintf(o.Out, "  its commit %.12s stays in the history: git revert %.12s takes it out there\n", ch.Commit, ch.Commit)
	}
	for _, dep := range dependents(run, ch.Task) {
		var res state.Result
		if state.ReadJSON(lay.Path(state.ResultPath(dep)), &res) == nil && res.Status == state.StatusOK {
			fmt.Fprintf(o.Err, "paraider: warning: %s was built on %s's output; the next run does it again\n", dep, ch.Task)
		}
	}
	return nil
}

// settle marks a reverted task not done (the next run does it again),
// or with --keep-done, done with its files as they are now.
func settle(lay state.Layout, run *state.Run, id string, keepDone bool) error {
	if !keepDone {
		return lay.Forget(run, id)
	}
	hash := state.OutputHash(lay.Root, run.Files[id])
	for _, rel := range []string{state.ResultPath(id), state.SuccessPath(id)} {
		var res state.Result
		if state.ReadJSON(lay.Path(rel), &res) != nil || res.Status != state.StatusOK {
			continue
		}
		res.OutputHash = hash
		if err := state.WriteJSON(lay.Path(rel), &res); err != nil {
			return err
		}
	}
	// The stamp changes with the files: Ninja runs what needs the task.
	_, err := state.WriteIfChanged(lay.Path(state.TaskStamp(id)), []byte(hash+"\n"))
	return err
}

// dependents are the tasks that need id, directly or through others, in
// plan order.
func dependents(run *state.Run, id string) []string {
	var out []string
	seen := map[string]bool{id: true}
	for changed := true; changed; {
		changed = false
		for _, t := range run.Tasks {
			if seen[t] {
				continue
			}
			for _, d := range run.Deps[t] {
				if seen[d] {
					seen[t], changed = true, true
					out = append(out, t)
					break
				}
			}
		}
	}
	order := map[string]int{}
	for i, t := range run.Tasks {
		order[t] = i
	}
	slices.SortFunc(out, func(a, b string) int { return order[a] - order[b] })
	return out
}
