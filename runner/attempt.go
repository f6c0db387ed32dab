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
	t := &try{r: r, ctx: ctx, work: r.root}
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

// try is one attempt on its way: where the agent works, and what is known
// of its run as it is judged.
type try struct {
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
	// attempt began, for the writes that miss a worktree.
	dirtyBefore map[string]string
	o           outcome
	failure     *agent.Failure   // the model's failure the agent printed
	apply       []isolate.Change // what comes back from the worktree
}

// do prepares the attempt, runs the agent and judges what it did, stage
// by stage; nil when the attempt passed.
func (t *try) do(feedback string) *verdict {
	// The supervisor starts while the attempt is prepared (a worktree,
	// git status): a process start fewer on the way to the agent.
	var sup *supervisor
	if Supervisor != nil {
		sup, _ = startSupervisor() // nil: run starts one
	}
	p, v := t.prepare(feedback)
	if v != nil {
		sup.abort()
		return v
	}
	p.Sup = sup
	if v := t.run(p); v != nil {
		return v
	}
	for _, st := range judging {
		v := st.judge(t)
		if v == nil {
			continue
		}
		if v.kind == state.FailInternal && t.actx.Err() != nil {
			return t.stepFailed(st.what, errors.New(v.reason))
		}
		return v
	}
	return nil
}

// stepFailed is the verdict on a step that could not be done: because the
// time ran out, or paraider was told to stop, rather than "could not
// start".
func (t *try) stepFailed(what string, err error) *verdict {
	switch {
	case t.ctx.Err() != nil:
		return failed(state.FailInterrupted, "interrupted")
	case errors.Is(context.Cause(t.actx), errAttemptTimeout):
		return failed(state.FailTimeout, fmt.Sprintf("timed out after %s while %s", time.Duration(t.r.spec.Timeout), what))
	}
	return failed(state.FailStart, fmt.Sprintf("%s: %v", what, err))
}

// prepare writes the attempt's message, makes its worktree and its log,
// and returns the agent's process, not yet started.
func (t *try) prepare(feedback string) (*proc, *verdict) {
	r, s := t.r, t.r.spec
	dir := state.AttemptDir(s.ID, t.a.N)
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
		// of milliseconds, and the snapshot has just taken it.
		wt, err := r.repo.Create(t.actx, state.WorktreeName(s.ID, t.a.N), isolate.Setup{Copy: s.Copy, Link: s.Link, Files: s.Files, Read: s.Read, MaxUntracked: s.MaxUntracked, Dirty: true, Scratch: s.Agent.Scratch})
		if err != nil {
			return nil, t.stepFailed("creating the worktree", err)
		}
		t.wt, t.work = wt, wt.Root
		if t.dirtyBefore = wt.Dirty; t.dirtyBefore == nil {
			t.dirtyBefore = r.dirty(t.actx)
		}
	}
	// Paths under .paraider/ as the agent, working in work, sees them.
	fromWork := func(rel string) string {
		p, err := filepath.Rel(t.work, r.lay.Path(rel))
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
	if v := t.openLog(argv); v != nil {
		return nil, v
	}
	// In the environment {state} is absolute: programs resolve relative
	// paths in variables from wherever they like.
	vars.State = r.lay.Path(dir)
	env := append(append([]string(nil), r.env...), s.Agent.ExpandEnv(vars)...)
	return &proc{Path: path, Argv: argv, Dir: t.work, Env: env, Out: t.out, Sweep: true}, nil
}

// openLog starts the attempt's log, with what it runs and where.
func (t *try) openLog(argv []string) *verdict {
	r, s := t.r, t.r.spec
	if err := os.MkdirAll(filepath.Dir(r.lay.Path(t.a.Log)), 0o755); err != nil {
		return failed(state.FailStart, err.Error())
	}
	logf, err := os.Create(r.lay.Path(t.a.Log))
	if err != nil {
		return failed(state.FailStart, err.Error())
	}
	t.logf = logf
	t.captured = newOutput(logf)
	t.out = newRedactor(t.captured, r.secrets)
	fmt.Fprintf(t.out, "# paraider: task %s, attempt %d of %d, started %s\n", s.ID, t.a.N, s.Retries+1, t.a.Start.Format(time.RFC3339))
	if t.wt != nil {
		fmt.Fprintf(t.out, "# worktree: %s (snapshot %.12s)\n", relPath(r.root, t.wt.Dir), t.wt.Base)
		if len(t.wt.LeftOut) > 0 {
			fmt.Fprintf(t.out, "# paraider: left out of the worktree (untracked, larger than worktree max_untracked, not this task's): %s\n", strings.Join(t.wt.LeftOut, ", "))
		}
	}
	// Every line of the header starts with "#", a message's too: what
	// follows is the agent's.
	fmt.Fprintf(t.out, "# command: %s\n\n", strings.ReplaceAll(quoteArgv(argv), "\n", "\n# "))
	return nil
}

// run runs the agent in what is left of the attempt's time and records
// what it changed and reported.
func (t *try) run(p *proc) *verdict {
	r, s := t.r, t.r.spec
	// The main tree as the attempt starts: isolation none judges its
	// changes; a worktree attempt watches it for writes that miss the
	// worktree.
	dirtyBefore := t.dirtyBefore
	if t.wt == nil {
		dirtyBefore = r.dirty(t.actx)
	}
	t.before = r.snapshotIn(t.work)
	times := modTimes(t.work, s.Files)
	t.guarded = r.guard.take()
	left := time.Until(t.deadline)
	if left <= 0 {
		p.Sup.abort()
		return t.stepFailed("preparing the attempt", context.Cause(t.actx))
	}
	p.Timeout = left
	t.o = p.run(t.ctx)
	t.out.Close()
	t.captured.Flush()
	t.printed = t.captured.String()
	t.captured = nil // its memory goes: printed holds what is judged
	// Recording what the attempt did has its own small budget: after a
	// timeout the attempt's own is spent.
	post, cancelPost := context.WithTimeout(t.ctx, SettleGrace)
	defer cancelPost()
	if !t.o.TimedOut {
		post = t.actx
	}
	t.a.ExitCode = t.o.ExitCode
	t.a.FilesChanged = changed(t.before, r.snapshotIn(t.work))
	t.lookAround(post, dirtyBefore, times)
	u, failure := agent.Parse(s.Agent.Output, t.printed)
	t.a.TokensSent, t.a.TokensRecv, t.a.Cost, t.a.CostUnknown = u.Sent, u.Received, u.Cost, u.CostUnknown
	// Paid: the ledger holds it from now on, whatever becomes of this
	// process while the attempt is judged (a kill -9 during the check).
	paid := t.a
	paid.End = time.Now().UTC()
	r.record(paid)
	if u.CostUnknown {
		fmt.Fprintf(t.logf, "\n# paraider: the agent printed a cost that cannot be one (negative, or not a number): this attempt's cost is unknown\n")
	}
	t.failure = failure
	return nil
}

// lookAround records, once the agent has ended, what changed outside the
// task's files: in place, the files outside every task's (and a file
// rewritten with the same bytes gets its time back, so that Ninja does
// not see the tasks that read it as stale); with a worktree, writes that
// reached the main tree, while the worktree's changes are listed.
func (t *try) lookAround(post context.Context, dirtyBefore map[string]string, times map[string]time.Time) {
	r, s := t.r, t.r.spec
	if t.wt == nil {
		restoreTimes(t.work, times, t.a.FilesChanged)
		t.a.Undeclared = r.undeclaredInPlace(post, dirtyBefore)
		if len(t.a.Undeclared) > 0 {
			fmt.Fprintf(t.logf, "\n# paraider: warning: files outside every task's changed while it ran in place (by this agent or another, or by someone else; left as they are): %s\n", strings.Join(t.a.Undeclared, ", "))
		}
		return
	}
	// The worktree's changes (judged later) are listed meanwhile, under
	// the attempt's context (post ends with run when the attempt timed
	// out, and then they are not judged).
	if !t.o.TimedOut {
		t.wt.Prefetch(t.actx, s.Agent.Scratch)
	}
	t.a.Elsewhere = r.elsewhere(post, dirtyBefore)
	if len(t.a.Elsewhere) > 0 {
		fmt.Fprintf(t.logf, "\n# paraider: warning: files outside every task's changed in the main tree while this agent ran in its worktree (written by path, or by someone else): %s\n", strings.Join(t.a.Elsewhere, ", "))
	}
}

// settle closes the attempt's log and gives its worktree back, or keeps
// it for a look when the task asks for failed ones.
func (t *try) settle() {
	if t.logf != nil {
		t.logf.Close()
	}
	if t.wt == nil {
		return
	}
	if t.a.Failure != "" && t.r.spec.KeepFailed && t.a.Failure != state.FailInterrupted {
		kctx, cancel := context.WithTimeout(context.Background(), SettleGrace)
		defer cancel()
		if kept, err := t.wt.Keep(kctx); err == nil {
			t.a.Worktree = relPath(t.r.root, kept)
			return
		}
	}
	t.wt.Release()
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
