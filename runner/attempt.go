package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// SettleGrace bounds what an attempt may do past its timeout besides
// stopping the agent (Grace): recording what the attempt changed, keeping
// a failed worktree. Every wait of an attempt (git, locks, the agent, its
// check) counts against its timeout, so an attempt ends within its
// timeout plus Grace plus SettleGrace.
var SettleGrace = 10 * time.Second

// errAttemptTimeout is the cause of an attempt's context when its timeout
// ran out.
var errAttemptTimeout = errors.New("attempt timed out")

// attempt runs the agent once and judges the result. It reports whether a
// failed attempt is worth repeating. Everything it waits for, from making
// the worktree to bringing the files back, counts against the task's
// timeout.
func (r *runner) attempt(ctx context.Context, n int, feedback string) (state.Attempt, bool) {
	t := &trial{r: r, ctx: ctx, work: r.root}
	t.a = state.Attempt{N: n, Start: time.Now().UTC(), ExitCode: -1, Log: state.LogPath(r.spec.ID, n)}
	t.deadline = t.a.Start.Add(time.Duration(r.spec.Timeout))
	var cancel context.CancelFunc
	t.actx, cancel = context.WithDeadlineCause(ctx, t.deadline, errAttemptTimeout)
	defer cancel()
	v := t.do(feedback)
	if v != nil {
		t.a.End = time.Now().UTC()
		t.a.Failure, t.a.Reason, t.a.APIError = v.kind, human.Printable(Redact(v.reason, r.secrets)), v.apiError
	}
	t.settle()
	if v != nil {
		return t.a, v.retryable
	}
	t.a.End = time.Now().UTC()
	return t.a, false
}

// trial is one attempt on its way: where the agent works, and what is known
// of its run as it is judged.
type trial struct {
	r        *runner
	a        state.Attempt
	ctx      context.Context // the task's: ends when paraider is told to stop
	actx     context.Context // the attempt's: ends at its deadline too
	deadline time.Time
	work     string            // where the agent works: the main tree or wt
	wt       *isolate.Worktree // nil when the agent works in place
	logf     *os.File
	out      *redactor              // the log, redacted, and captured
	captured *output                // what the agent printed: to the log, and bounded in memory
	printed  string                 // what is judged of it (captured's head and tail), once it ended
	guarded  map[string]guardedFile // the watched files as the agent started
	before   map[string]fileState
	// dirtyBefore is the main tree's changed files (git status) as the
	// attempt began, for the writes that miss a worktree; watch, when
	// not nil, sees what changes there from then on (see mainChanges).
	dirtyBefore *dirtyLook
	watch       *mainWatch
	o           outcome
	failure     *agent.Failure   // the model's failure the agent printed
	apply       []isolate.Change // what comes back from the worktree
}

// do prepares the attempt, runs the agent and judges what it did, stage
// by stage; nil when the attempt passed.
func (tr *trial) do(feedback string) *verdict {
	// The supervisor starts while the attempt is prepared (a worktree,
	// git status): a process start fewer on the way to the agent.
	var sup *supervisor
	if Supervisor != nil {
		sup, _ = startSupervisor() // nil: run starts one
	}
	p, v := tr.prepare(feedback)
	if v != nil {
		sup.abort()
		return v
	}
	p.Sup = sup
	if v := tr.run(p); v != nil {
		return v
	}
	for _, st := range judging {
		v := st.judge(tr)
		if v == nil {
			continue
		}
		if v.kind == state.FailInternal && tr.actx.Err() != nil {
			return tr.stepFailed(st.what, errors.New(v.reason))
		}
		return v
	}
	return nil
}

// stepFailed is the verdict on a step that could not be done: because the
// time ran out, or paraider was told to stop, rather than "could not
// start".
func (tr *trial) stepFailed(what string, err error) *verdict {
	switch {
	case tr.ctx.Err() != nil:
		return failed(state.FailInterrupted, "interrupted")
	case errors.Is(context.Cause(tr.actx), errAttemptTimeout):
		return failed(state.FailTimeout, fmt.Sprintf("timed out after %s while %s", time.Duration(tr.r.spec.Timeout), what))
	}
	return failed(state.FailStart, fmt.Sprintf("%s: %v", what, err))
}

// prepare writes the attempt's message, makes its worktree and its log,
// and returns the agent's process, not yet started.
func (tr *trial) prepare(feedback string) (*proc, *verdict) {
	r, s := tr.r, tr.r.spec
	dir := state.AttemptDir(s.ID, tr.a.N)
	msg := r.message(feedback)
	msgFile := dir + "/message.md"
	if err := resetDir(r.lay.Path(dir)); err != nil {
		return nil, failed(state.FailStart, err.Error())
	}
	if err := os.WriteFile(r.lay.Path(msgFile), []byte(msg), 0o644); err != nil {
		return nil, failed(state.FailStart, err.Error())
	}
	// Where the agent works: the main tree, or a worktree of its own.
	if r.repo != nil {
		// The main tree as the attempt starts comes from the snapshot
		// (Dirty): one look at a tree of thousands of files costs tens
		// of milliseconds, and the snapshot has just taken it. The
		// run's journal, from a moment before the snapshot, names the
		// files the snapshot adds, and what to look at again after the
		// attempt.
		var changed []string
		changed, tr.watch = r.snapshotLook(tr.actx)
		wt, err := r.repo.Create(tr.actx, state.WorktreeName(s.ID, tr.a.N), isolate.Setup{Copy: s.Copy, Link: s.Link, Files: s.Files, Read: s.Read, MaxUntracked: s.MaxUntracked, Dirty: true, Scratch: s.Agent.Scratch, Changed: changed})
		if err != nil {
			return nil, tr.stepFailed("creating the worktree", err)
		}
		tr.wt, tr.work = wt, wt.Root
		if tr.dirtyBefore = knownDirty(wt.Dirty); tr.dirtyBefore == nil {
			tr.dirtyBefore = knownDirty(r.dirty(tr.actx))
		}
	}
	// Paths under .paraider/ as the agent, working in work, sees them.
	fromWork := func(rel string) string {
		p, err := filepath.Rel(tr.work, r.lay.Path(rel))
		if err != nil {
			return r.lay.Path(rel)
		}
		return filepath.ToSlash(p)
	}
	vars := agent.Vars{
		Model: s.Model, Message: msg, MessageFile: fromWork(msgFile), Task: s.ID,
		State: fromWork(dir), Files: s.Files, Read: s.Read,
	}
	argv, err := agent.Expand(s.Agent.Command, vars)
	if err != nil {
		return nil, failed(state.FailStart, err.Error())
	}
	path, err := lookPath(argv[0], r.env)
	if err != nil {
		return nil, failed(state.FailStart, fmt.Sprintf("%s not found on PATH", argv[0]))
	}
	if v := tr.openLog(argv); v != nil {
		return nil, v
	}
	// In the environment {state} is absolute: programs resolve relative
	// paths in variables from wherever they like.
	vars.State = r.lay.Path(dir)
	env := append(append([]string(nil), r.env...), s.Agent.ExpandEnv(vars)...)
	return &proc{Path: path, Argv: argv, Dir: tr.work, Env: env, Out: tr.out, Sweep: true}, nil
}

// openLog starts the attempt's log, with what it runs and where.
func (tr *trial) openLog(argv []string) *verdict {
	r, s := tr.r, tr.r.spec
	if err := os.MkdirAll(filepath.Dir(r.lay.Path(tr.a.Log)), 0o755); err != nil {
		return failed(state.FailStart, err.Error())
	}
	logf, err := os.Create(r.lay.Path(tr.a.Log))
	if err != nil {
		return failed(state.FailStart, err.Error())
	}
	tr.logf = logf
	tr.captured = newOutput(logf)
	tr.out = newRedactor(tr.captured, r.secrets)
	fmt.Fprintf(tr.out, "# paraider: task %s, attempt %d of %d, started %s\n", s.ID, tr.a.N, s.Retries+1, tr.a.Start.Format(time.RFC3339))
	if tr.wt != nil {
		fmt.Fprintf(tr.out, "# worktree: %s (snapshot %.12s)\n", relPath(r.root, tr.wt.Dir), tr.wt.Base)
		if len(tr.wt.LeftOut) > 0 {
			fmt.Fprintf(tr.out, "# paraider: left out of the worktree (untracked, larger than worktree max_untracked, not this task's): %s\n", strings.Join(tr.wt.LeftOut, ", "))
		}
	}
	// Every line of the header starts with "#", a message's too: what
	// follows is the agent's.
	fmt.Fprintf(tr.out, "# command: %s\n\n", strings.ReplaceAll(quoteArgv(argv), "\n", "\n# "))
	return nil
}

// run runs the agent in what is left of the attempt's time and records
// what it changed and reported.
func (tr *trial) run(p *proc) *verdict {
	r, s := tr.r, tr.r.spec
	// The main tree as the attempt starts: isolation none judges its
	// changes; a worktree attempt watches it for writes that miss the
	// worktree.
	if tr.wt == nil {
		tr.dirtyBefore, tr.watch = r.dirtyWatched(tr.actx)
	}
	tr.before = r.snapshotIn(tr.work)
	times := modTimes(tr.work, s.Files)
	tr.guarded = r.guard.take()
	left := time.Until(tr.deadline)
	if left <= 0 {
		p.Sup.abort()
		return tr.stepFailed("preparing the attempt", context.Cause(tr.actx))
	}
	p.Timeout = left
	tr.o = p.run(tr.ctx)
	tr.out.Close()
	tr.captured.Flush()
	tr.printed = tr.captured.String()
	tr.captured = nil // its memory goes: printed holds what is judged
	// Recording what the attempt did has its own small budget: after a
	// timeout the attempt's own is spent.
	post, cancelPost := context.WithTimeout(tr.ctx, SettleGrace)
	defer cancelPost()
	if !tr.o.TimedOut {
		post = tr.actx
	}
	tr.a.ExitCode = tr.o.ExitCode
	tr.a.FilesChanged = changed(tr.before, r.snapshotIn(tr.work))
	tr.lookAround(post, times)
	u, failure := agent.Parse(s.Agent.Output, tr.printed)
	tr.a.TokensSent, tr.a.TokensRecv, tr.a.Cost, tr.a.CostUnknown = u.Sent, u.Received, u.Cost, u.CostUnknown
	// Paid: the ledger holds it from now on, whatever becomes of this
	// process while the attempt is judged (a kill -9 during the check).
	paid := tr.a
	paid.End = time.Now().UTC()
	r.record(paid)
	if u.CostUnknown {
		fmt.Fprintf(tr.logf, "\n# paraider: the agent printed a cost that cannot be one (negative, or not a number): this attempt's cost is unknown\n")
	}
	tr.failure = failure
	return nil
}

// lookAround records, once the agent has ended, what changed outside the
// task's files: in place, the files outside every task's (and a file
// rewritten with the same bytes gets its time back, so that Ninja does
// not see the tasks that read it as stale); with a worktree, writes that
// reached the main tree, while the worktree's changes are listed.
func (tr *trial) lookAround(post context.Context, times map[string]time.Time) {
	r, s := tr.r, tr.r.spec
	if tr.wt == nil {
		restoreTimes(tr.work, times, tr.a.FilesChanged)
		tr.a.Undeclared = r.undeclaredInPlace(post, tr.dirtyBefore, tr.watch)
		if len(tr.a.Undeclared) > 0 {
			fmt.Fprintf(tr.logf, "\n# paraider: warning: files outside every task's changed while it ran in place (by this agent or another, or by someone else; left as they are): %s\n", strings.Join(tr.a.Undeclared, ", "))
		}
		return
	}
	// The worktree's changes (judged later) are listed meanwhile, under
	// the attempt's context (post ends with run when the attempt timed
	// out, and then they are not judged).
	if !tr.o.TimedOut {
		tr.wt.Prefetch(tr.actx, s.Agent.Scratch)
	}
	tr.a.Elsewhere = r.elsewhere(post, tr.dirtyBefore, tr.watch)
	if len(tr.a.Elsewhere) > 0 {
		fmt.Fprintf(tr.logf, "\n# paraider: warning: files outside every task's changed in the main tree while this agent ran in its worktree (written by path, or by someone else): %s\n", strings.Join(tr.a.Elsewhere, ", "))
	}
}

// settle closes the attempt's log and gives its worktree back, or keeps
// it for a look when the task asks for failed ones.
func (tr *trial) settle() {
	if tr.logf != nil {
		tr.logf.Close()
	}
	if tr.watch != nil {
		tr.watch.stop()
	}
	if tr.wt == nil {
		return
	}
	if tr.a.Failure != "" && tr.r.spec.KeepFailed && tr.a.Failure != state.FailInterrupted {
		kctx, cancel := context.WithTimeout(context.Background(), SettleGrace)
		defer cancel()
		if kept, err := tr.wt.Keep(kctx); err == nil {
			tr.a.Worktree = relPath(tr.r.root, kept)
			return
		}
	}
	tr.wt.Release()
}

// message is the task's message for this attempt: with the task's files
// for agents that cannot name them, and why the last attempt failed.
func (r *runner) message(feedback string) string {
	s := r.spec
	msg := s.Message
	if r.opts.Brief != "" {
		msg += "\n\n" + r.opts.Brief
	}
	if s.Agent.PromptFiles {
		msg += "\n\nFiles you may create or edit: " + strings.Join(s.Files, ", ") + "."
		if len(s.Read) > 0 {
			msg += "\nFiles to read for context: " + strings.Join(s.Read, ", ") + "."
		}
		msg += "\nChange no other file."
	}
	if feedback != "" {
		msg += "\n\n---\nA previous attempt at this task failed: " + feedback +
			"\nFix the cause and complete the task."
	}
	return msg
}

func resetDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.MkdirAll(dir, 0o755)
}

func relPath(root, p string) string {
	abs, _ := filepath.Abs(root)
	if r, err := filepath.Rel(abs, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}
