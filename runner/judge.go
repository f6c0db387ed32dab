package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// judging is how an attempt is judged once its agent has ended: stage by
// stage in this order, and the first that fails the attempt decides the
// failure kind on its record. Later stages cost more, or act: the check
// runs only on files that passed, and only a passed attempt is brought
// back into the main tree.
var judging = []struct {
	what  string // the step, as a timeout names it
	judge func(*trial) *verdict
}{
	{"looking for files no agent may change", (*trial).judgeTamper},
	{"judging how the agent ended", (*trial).judgeRun},
	{"looking for writes that missed the worktree", (*trial).judgeMissedWorktree},
	{"judging the task's files", (*trial).judgeFiles},
	{"sorting the agent's changes", (*trial).judgeUndeclared},
	{"running the check", (*trial).judgeCheck},
	{"bringing the task's files back", (*trial).judgeWriteBack},
}

// judgeTamper puts back hooks, git config and specs the agent changed:
// planted hooks run code on the person's next commit, so such an agent is
// not given another go.
func (tr *trial) judgeTamper() *verdict {
	tp := tr.r.guard.settle(tr.guarded, tr.r.lay.Path(state.TamperedDir(tr.r.spec.ID, tr.a.N)))
	if tp == nil {
		return nil
	}
	reason := "the agent changed files no agent may change: " + tp.String() + "; not retried"
	fmt.Fprintf(tr.logf, "\n# paraider: %s\n", reason)
	return &verdict{kind: state.FailTamper, reason: reason}
}

func (tr *trial) judgeRun() *verdict {
	out := tr.printed
	v := tr.r.judgeRun(tr.o, tr.failure, out, tr.logf)
	if v != nil && v.kind == state.FailAPI {
		tr.a.RetryAfter = state.Duration(agent.RetryAfter(out))
	}
	return v
}

// judgeMissedWorktree fails an attempt whose agent wrote the task's files
// by absolute path, into the main tree, and left its worktree as it was.
func (tr *trial) judgeMissedWorktree() *verdict {
	if tr.wt == nil {
		return nil
	}
	if moved := tr.wt.MainChanged(); len(moved) > 0 && len(tr.a.FilesChanged) == 0 {
		return failed(state.FailUndeclared, "the task's files changed in the main tree, not in the agent's worktree: "+
			strings.Join(moved, ", ")+"; the agent wrote outside its worktree (or someone edited them): check them, paraider did not apply them")
	}
	return nil
}

func (tr *trial) judgeFiles() *verdict { return tr.r.judgeFiles(tr.work, tr.before, tr.a.FilesChanged) }

func (tr *trial) judgeUndeclared() *verdict {
	if tr.wt == nil {
		return nil
	}
	var v *verdict
	tr.apply, tr.a.Undeclared, v = tr.r.sortChanges(tr.actx, tr.wt, tr.a.FilesChanged, tr.logf)
	return v
}

func (tr *trial) judgeCheck() *verdict {
	if tr.wt == nil && tr.r.spec.Check != "" {
		// The agent was paid and its files passed every stage so far:
		// should paraider be killed from here on, the next run judges
		// them again instead of paying for them again (see pending).
		tr.r.keepPending(tr.a)
	}
	return tr.r.runCheck(tr.ctx, tr.work, tr.deadline, tr.logf)
}

func (tr *trial) judgeWriteBack() *verdict {
	if tr.wt == nil {
		return nil
	}
	return tr.r.bringBack(tr.actx, tr.wt, tr.apply, tr.logf)
}

// verdict is why an attempt failed; nil when it passed.
type verdict struct {
	kind      state.Failure
	reason    string
	retryable bool
	apiError  string
}

func failed(kind state.Failure, reason string) *verdict {
	return &verdict{kind: kind, reason: reason, retryable: kind != state.FailInterrupted && kind != state.FailStart}
}

// judgeRun judges how the agent ended and what it reported.
func (r *runner) judgeRun(o outcome, failure *agent.Failure, out string, logf io.Writer) *verdict {
	timeout := time.Duration(r.spec.Timeout)
	switch {
	case o.StartErr != nil:
		return failed(state.FailStart, fmt.Sprintf("the agent could not start: %v", o.StartErr))
	case o.Interrupted:
		fmt.Fprintf(logf, "\n# paraider: interrupted\n")
		return failed(state.FailInterrupted, "interrupted")
	case o.TimedOut:
		fmt.Fprintf(logf, "\n# paraider: timed out after %s; stopped the agent's process group\n", timeout)
		return failed(state.FailTimeout, fmt.Sprintf("timed out after %s", timeout))
	case failure != nil && (o.ExitCode == 0 || failure.Kind != "other"):
		// The agent's own report says more than its exit status.
		return &verdict{kind: state.FailAPI, apiError: failure.Kind, retryable: failure.Retryable,
			reason: fmt.Sprintf("the model call failed (%s): %s", strings.ReplaceAll(failure.Kind, "_", " "), failure.Line)}
	case o.ExitCode != 0 && agent.UsageError(out) != "":
		// The same command line fails the same way next time.
		return &verdict{kind: state.FailUsage, reason: fmt.Sprintf("the agent rejected its command line (%s): %s; not retried: fix the agent profile or the model name",
			o, agent.UsageError(out))}
	case o.ExitCode != 0:
		return failed(state.FailExit, fmt.Sprintf("the agent ended with %s", o))
	}
	return nil
}

// judgeFiles judges the task's files: something changed (unless the task
// allows nothing to, or they hold what an earlier success of this task
// wrote: a rerun that agrees with it), and none is missing. A file that
// was there and is gone was deleted on purpose; one the task was to create
// and did not is missing.
func (r *runner) judgeFiles(work string, before map[string]fileState, changedFiles []string) *verdict {
	s := r.spec
	if len(changedFiles) == 0 && !s.AllowUnchanged &&
		!(r.success != nil && state.OutputHash(work, s.Files) == r.success.OutputHash) {
		return failed(state.FailUnchanged, "the agent changed none of its files ("+strings.Join(s.Files, ", ")+")")
	}
	if missing := missingIn(work, s.Files, before); len(missing) > 0 {
		return failed(state.FailMissing, "the agent left declared files missing: "+strings.Join(missing, ", "))
	}
	return nil
}

// sortChanges splits a worktree's changes: the task's files (compared
// directly, so files git ignores count too) may come back; anything else
// (as git status sees it) is undeclared and fails the attempt, unless the
// task drops it.
func (r *runner) sortChanges(ctx context.Context, wt *isolate.Worktree, changedFiles []string, logf io.Writer) ([]isolate.Change, []string, *verdict) {
	s := r.spec
	var apply []isolate.Change
	for _, f := range changedFiles {
		_, err := os.Lstat(filepath.Join(wt.Root, filepath.FromSlash(f)))
		apply = append(apply, isolate.Change{Path: f, Deleted: err != nil})
	}
	changes, err := wt.Changes(ctx, s.Agent.Scratch)
	if err != nil {
		return nil, nil, failed(state.FailInternal, "listing the worktree's changes: "+err.Error())
	}
	var undeclared []string
	for _, c := range changes {
		if c.Outside || !slices.Contains(s.Files, c.Path) {
			undeclared = append(undeclared, c.Path)
		}
	}
	if len(undeclared) > 0 {
		if s.Undeclared != state.UndeclaredDrop {
			return nil, undeclared, failed(state.FailUndeclared, "the agent changed files outside its task, which were not applied: "+
				strings.Join(undeclared, ", ")+"; change only "+strings.Join(s.Files, ", "))
		}
		fmt.Fprintf(logf, "\n# paraider: warning: dropped changes outside the task's files: %s\n", strings.Join(undeclared, ", "))
	}
	return apply, undeclared, nil
}

// runCheck runs the task's check, if it has one, where the agent worked,
// in what is left of the attempt's time.
func (r *runner) runCheck(ctx context.Context, work string, deadline time.Time, logf io.Writer) *verdict {
	s := r.spec
	if s.Check == "" {
		return nil
	}
	says := "`" + s.Check + "`"
	if r.opts.Judge != nil {
		says = r.opts.Judge.Says
	}
	left := time.Until(deadline)
	if left <= 0 {
		return failed(state.FailTimeout, fmt.Sprintf("timed out after %s, before the check %s could run", time.Duration(s.Timeout), says))
	}
	fmt.Fprintf(logf, "\n# paraider: check: %s\n", s.Check)
	out := newOutput(logf) // bounded, as an agent's output is
	red := newRedactor(out, r.secrets)
	p := &proc{Argv: []string{"/bin/sh", "-c", s.Check}, Dir: work, Env: r.env, Out: red, Timeout: left, Sweep: true}
	o := p.run(ctx)
	red.Close()
	out.Flush()
	switch {
	case o.Interrupted:
		return failed(state.FailInterrupted, "interrupted")
	case o.TimedOut:
		return failed(state.FailTimeout, fmt.Sprintf("timed out after %s, in the check %s (the attempt's timeout covers the agent and its check)", time.Duration(s.Timeout), says))
	case o.ExitCode != 0:
		lines := 20
		if s.CheckTail > 0 {
			lines = s.CheckTail
		}
		tail := human.Tail(out.String(), lines)
		if strings.TrimSpace(tail) == "" {
			return failed(state.FailCheck, fmt.Sprintf("the check %s failed (%s) and printed nothing", says, o))
		}
		return failed(state.FailCheck, fmt.Sprintf("the check %s failed (%s):\n%s", says, o, tail))
	}
	return nil
}

// bringBack writes the task's changed files into the main tree.
func (r *runner) bringBack(ctx context.Context, wt *isolate.Worktree, apply []isolate.Change, logf io.Writer) *verdict {
	if ctx.Err() != nil {
		return failed(state.FailInterrupted, "interrupted")
	}
	if _, err := wt.Apply(ctx, apply); err != nil {
		var ae *isolate.ApplyError
		if errors.As(err, &ae) {
			fmt.Fprintf(logf, "\n# paraider: %s\n", ae.Msg)
			kind := state.FailConflict
			if ae.Kind != isolate.ApplyConflict {
				kind = state.FailSymlink
			}
			v := failed(kind, ae.Msg)
			// A person's edit is never resolved by overwriting it, and a
			// symlink in the main tree stays where it is: another attempt
			// would meet the same refusal, after paying for it. The next
			// run starts from a snapshot that holds the person's version.
			// Only a symlink the agent made is the agent's to fix.
			v.retryable = ae.Kind == isolate.ApplySymlink
			if !v.retryable {
				v.reason += "; not retried"
			}
			return v
		}
		return failed(state.FailInternal, "copying the task's files back: "+err.Error())
	}
	return nil
}
