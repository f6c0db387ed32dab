// Package runner runs one task for `paraider exec`: it checks that the agent
// can start, runs it in its own process group under a timeout, judges the
// attempt from its output and files, retries with backoff, and writes the
// log, the result record and the stamp Ninja waits for. It also runs the
// plan's final checks.
//
// # Judging an attempt
//
// Aider exits 0 even when every model call failed, so the exit status is not
// enough. An attempt fails when the agent exits non-zero, is stopped by the
// timeout, reports a failed model call that no successful reply followed,
// changes none of its files (unless the task allows that), leaves one of
// them missing, or when the task's check fails.
package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// Failure kinds recorded on an attempt.
const (
	FailStart       = "start"
	FailExit        = "exit"
	FailTimeout     = "timeout"
	FailAPI         = "api"
	FailUnchanged   = "unchanged"
	FailMissing     = "missing"
	FailCheck       = "check"
	FailInterrupted = "interrupted"
	FailUndeclared  = "undeclared"
	FailConflict    = "conflict"
	FailBudget      = "budget"
	FailUsage       = "usage"
	FailTamper      = "tamper"
)

// MaxBackoff caps one wait between attempts, whatever retry_delay, the
// attempt number or a Retry-After the agent printed asks for: doubling
// from 5s reaches it at the seventh retry, and a person waiting on a run
// should not wait longer than this for the next try.
const MaxBackoff = 5 * time.Minute

// PreflightError is a problem found before anything was spent.
type PreflightError struct {
	Task string
	Msg  string
	Hint string
}

func (e *PreflightError) Error() string { return "task " + e.Task + ": " + e.Msg }

// TaskError says a task finally failed; its result record has the details.
type TaskError struct {
	Result *state.Result
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("task %s failed: %s", e.Result.Task, e.Result.Reason)
}

// Interrupted reports whether the task was stopped by a signal to paraider.
func (e *TaskError) Interrupted() bool { return e.Result.Interrupted }

// Options tune Exec.
type Options struct {
	Root string    // the plan's directory; the agent runs here
	Out  io.Writer // the short summary for Ninja's output
	Env  []string  // the environment; os.Environ() when nil
	// Sleep waits between attempts; it returns early when ctx is done.
	Sleep func(ctx context.Context, d time.Duration)
	// Force runs the task even when it is up to date.
	Force bool
}

// Exec runs the task with id and records the result. It returns a
// *PreflightError when the agent cannot be started, a *TaskError when the
// task failed, and nil on success.
func Exec(ctx context.Context, id string, opts Options) error {
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return err
	}
	var spec state.Spec
	if err := state.ReadJSON(filepath.Join(root, state.SpecPath(id)), &spec); err != nil {
		if state.Missing(err) {
			return &PreflightError{Task: id, Msg: "no such task in the generated plan", Hint: "run `paraider gen` first, and check the task id with `paraider validate`"}
		}
		return err
	}
	// Orphans of the agent come to us, so none outlives the attempt.
	becomeSubreaper()
	env := mergeEnv(opts.Env, spec.Env)
	r := &runner{spec: &spec, root: root, env: env, secrets: Secrets(env, spec.Redact...), opts: opts}
	res := &state.Result{Task: id, Isolation: spec.Isolation, Run: state.CurrentRun(), SpecHash: spec.Hash(), Started: time.Now().UTC(), Attempts: []state.Attempt{}, FilesChanged: []string{}}

	// One paraider at a time per task: a second ninja in the same
	// repository must not run the same task twice.
	lock, err := isolate.Lock(r.path(state.TaskLock(id)))
	if err != nil {
		return &PreflightError{Task: id, Msg: "is already running in another paraider process",
			Hint: "another ninja is running in this repository; wait for it, or stop it"}
	}
	defer lock.Close()

	// Never pay twice: a task whose work and inputs are unchanged since
	// its last success is done, whatever Ninja's log says.
	inputHash, err := r.inputHash()
	if err != nil {
		return err
	}
	res.InputHash = inputHash
	r.success = r.lastSuccess()
	feedback := ""
	if ok := r.success; !opts.Force && ok != nil && ok.InputHash == inputHash {
		if ok.Check == spec.Check {
			return r.upToDate(ok)
		}
		// Only the check changed: the files it judges are there, and
		// judging them costs nothing. The agent runs only if they fail.
		v, err := r.checkOnly(ctx)
		if err != nil {
			return err
		}
		if v == nil {
			ok.Check = spec.Check
			return r.upToDate(ok)
		}
		fmt.Fprintf(opts.Out, "check changed for %s and its files fail it: running the agent\n", id)
		feedback = v.reason
	}

	if err := r.preflight(); err != nil {
		r.forgetPlace()
		res.Status, res.Reason, res.Finished = state.StatusFailed, err.Error(), time.Now().UTC()
		if werr := state.WriteJSON(r.path(state.ResultPath(id)), res); werr != nil {
			return werr
		}
		return err
	}
	if spec.Isolation == IsolationWorktree {
		repo, err := isolate.Open(root, state.Dir)
		if err != nil {
			return &PreflightError{Task: id, Msg: "isolation: worktree needs a git repository, and " + root + " is not in one",
				Hint: "set `isolation: none` in the plan, or run `git init`"}
		}
		r.repo = repo
		// Worktrees this task kept last time go when it runs again.
		if err := repo.SweepKept("kept-" + id + "."); err != nil {
			return err
		}
	}

	r.guard = newGuard(ctx, root)
	places := r.places()
	initial := r.snapshot()
	defer os.Remove(r.path(state.RunningPath(id)))
	for n := 1; n <= spec.Retries+1; n++ {
		var a state.Attempt
		retryable := false
		if over, why := r.overBudget(); over {
			a = state.Attempt{N: n, Start: time.Now().UTC(), End: time.Now().UTC(), ExitCode: -1, Failure: FailBudget, Reason: why}
		} else if release, err := places.acquire(ctx, id); err != nil {
			now := time.Now().UTC()
			a = state.Attempt{N: n, Start: now, End: now, ExitCode: -1, Failure: FailInterrupted, Reason: "interrupted while waiting for a place to run"}
			if ctx.Err() == nil {
				a.Failure, a.Reason = FailStart, err.Error()
			}
		} else {
			r.markRunning(n)
			a, retryable = r.attempt(ctx, n, feedback)
			r.record(a)
			heir := ""
			if a.Failure == "" {
				heir = r.heir()
			}
			release(heir)
		}
		res.Attempts = append(res.Attempts, a)
		res.TokensSent += a.TokensSent
		res.TokensRecv += a.TokensRecv
		res.Cost += a.Cost
		res.Undeclared = union(res.Undeclared, a.Undeclared)
		res.Elsewhere = union(res.Elsewhere, a.Elsewhere)
		if a.Failure == "" || !retryable || n == spec.Retries+1 {
			break
		}
		feedback = a.Reason
		if a.APIError == "rate_limit" {
			// The model did nothing wrong: the same message again.
			feedback = ""
		}
		opts.Sleep(ctx, backoff(time.Duration(spec.RetryDelay), n, a))
		if ctx.Err() != nil {
			break
		}
	}
	res.Finished = time.Now().UTC()
	res.FilesChanged = changed(initial, r.snapshot())
	last := res.Attempts[len(res.Attempts)-1]
	res.Interrupted = last.Failure == FailInterrupted || (last.Failure != "" && ctx.Err() != nil)
	switch {
	case last.Failure == "":
		res.Status = state.StatusOK
	case res.Interrupted && last.Failure != FailInterrupted:
		res.Status, res.Reason = state.StatusFailed, "interrupted while waiting to retry after: "+last.Reason
	default:
		res.Status, res.Reason = state.StatusFailed, last.Reason
	}
	if res.Status == state.StatusOK {
		res.OutputHash, res.Check = r.outputHash(), spec.Check
		// Kept apart from the latest result, so that a later failure
		// that changed nothing (a missing key, a plan tried and
		// reverted) does not make the next run pay for this work again.
		if err := writeSuccess(r.path(state.SuccessPath(id)), res); err != nil {
			return err
		}
	}
	if err := state.WriteJSON(r.path(state.ResultPath(id)), res); err != nil {
		return err
	}
	r.summarize(res)
	if res.Status != state.StatusOK {
		// Ninja must run this task again, as status and report say it
		// failed; exec then finds its last success if that still holds.
		os.Remove(r.path(state.TaskStamp(id)))
		return &TaskError{Result: res}
	}
	return r.writeStamp(res.OutputHash)
}

// backoff is the wait before attempt n+1: retry_delay doubling with each
// attempt, four times longer after a rate limit (the provider asked us to
// slow down), or what the provider's Retry-After said; never over
// MaxBackoff.
func backoff(first time.Duration, n int, a state.Attempt) time.Duration {
	if a.RetryAfter > 0 {
		return min(time.Duration(a.RetryAfter), MaxBackoff)
	}
	d := first
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	if a.APIError == "rate_limit" {
		d *= 4
	}
	return min(d, MaxBackoff)
}

// checkOnly runs the task's check on its files as they are, where an
// attempt's check runs (a worktree of the current tree, or in place), with
// the task's timeout. It returns nil when they pass.
func (r *runner) checkOnly(ctx context.Context) (*verdict, error) {
	s := r.spec
	logPath := r.path(state.CheckOnlyLog(s.ID))
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
	if s.Isolation == IsolationWorktree {
		if repo, err := isolate.Open(r.root, state.Dir); err == nil {
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

// writeSuccess keeps a success record: atomically, without the sync the
// latest result gets (which holds the same success until a failure
// replaces it), since each sync costs a task milliseconds.
func writeSuccess(name string, res *state.Result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return state.WriteNew(name, append(b, '\n'))
}

// lastSuccess is the task's last successful result, while it still
// holds: the latest result when that is a success, else the last success
// on record if the task's files are still as it left them.
func (r *runner) lastSuccess() *state.Result {
	var res state.Result
	if state.ReadJSON(r.path(state.ResultPath(r.spec.ID)), &res) == nil && res.Status == state.StatusOK {
		return &res
	}
	if state.ReadJSON(r.path(state.SuccessPath(r.spec.ID)), &res) == nil && res.Status == state.StatusOK &&
		res.OutputHash == r.outputHash() {
		return &res
	}
	return nil
}

// heir is the task that this one's success makes ready and that comes
// first on the critical path: the next link of its chain, to which it
// hands its place. "" when none is ready.
func (r *runner) heir() string {
	best := ""
	var bestQ queueEntry
	prio := r.places().prio
	run := r.runInfo()
	for _, t := range run.Tasks {
		deps := run.Deps[t]
		if !slices.Contains(deps, r.spec.ID) {
			continue
		}
		ready := true
		for _, d := range deps {
			if d == r.spec.ID {
				continue
			}
			if _, err := os.Stat(r.path(state.TaskStamp(d))); err != nil {
				ready = false
				break
			}
		}
		q := queueEntry{Task: t, Priority: prio[t].Remaining, Order: prio[t].Order}
		if ready && (best == "" || outranks(q, bestQ)) {
			best, bestQ = t, q
		}
	}
	return best
}

// upToDate finishes a task that needs no run: its record (the latest
// result again, if a failure came after it) now answers to the current
// spec, and its stamp holds its files' digest.
// forgetPlace gives up a place kept for this task by the one before it in
// its chain: it will not run its agent.
func (r *runner) forgetPlace() { r.places().forget(r.spec.ID) }

// runInfo is the plan's run-wide facts (run.json), read once: with ten
// thousand tasks it is a large file.
func (r *runner) runInfo() *state.Run {
	if r.run == nil {
		r.run = &state.Run{}
		state.ReadJSON(r.path(state.RunPath), r.run)
	}
	return r.run
}

// places is the run's places to run an agent in, opened once.
func (r *runner) places() *slots {
	if r.slots == nil {
		r.slots = openSlots(r.root, r.runInfo().Jobs)
	}
	return r.slots
}

func (r *runner) upToDate(prev *state.Result) error {
	r.forgetPlace()
	var cur state.Result
	latest := state.ReadJSON(r.path(state.ResultPath(prev.Task)), &cur) == nil && cur.Status == state.StatusOK && cur.Finished.Equal(prev.Finished)
	if h := r.spec.Hash(); prev.SpecHash != h || !latest || cur.Check != prev.Check {
		prev.SpecHash = h
		if err := state.WriteJSON(r.path(state.ResultPath(prev.Task)), prev); err != nil {
			return err
		}
		if err := writeSuccess(r.path(state.SuccessPath(prev.Task)), prev); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.opts.Out, "up to date %s: inputs unchanged since its success at %s; not run again (paraider reset %s reruns it)\n",
		prev.Task, prev.Finished.Local().Format("2006-01-02 15:04:05"), prev.Task)
	return r.writeStamp(prev.OutputHash)
}

// writeStamp writes the stamp Ninja waits for, only when its content
// changes: with restat, an unchanged stamp tells Ninja that the task's
// files did not change, and its dependents are not run.
func (r *runner) writeStamp(outputHash string) error {
	data := []byte(outputHash + "\n")
	_, err := state.WriteIfChanged(r.path(state.TaskStamp(r.spec.ID)), data)
	return err
}

// inputHash digests the task's work and the content of its inputs: its
// read files and its upstream tasks' files.
func (r *runner) inputHash() (string, error) { return state.InputHash(r.root, r.spec) }

// outputHash digests the task's own files as they are now.
func (r *runner) outputHash() string { return state.OutputHash(r.root, r.spec.Files) }

// Isolation modes of a spec.
const (
	IsolationWorktree = "worktree"
	IsolationNone     = "none"
)

type runner struct {
	spec    *state.Spec
	repo    *isolate.Repo // set with worktree isolation
	root    string
	env     []string
	secrets []string
	opts    Options
	guard   *guard
	// success is the task's last success while it holds, or nil.
	success *state.Result
	// run is the plan's run-wide facts (run.json), once read (runInfo).
	run *state.Run
	// slots are the run's places, once opened (places).
	slots *slots
	// main is the repository around the plan, for watching the main tree;
	// nil outside git.
	main       *isolate.Repo
	mainOpened bool
}

func (r *runner) path(rel string) string { return filepath.Join(r.root, filepath.FromSlash(rel)) }

func (r *runner) preflight() error {
	s := r.spec
	argv, err := agent.Expand(s.Agent.Command, agent.Vars{Model: s.Model, Task: s.ID})
	if err != nil {
		return &PreflightError{Task: s.ID, Msg: "agent " + s.Agent.Name + ": " + err.Error()}
	}
	if _, err := lookPath(argv[0], r.env); err != nil {
		hint := s.Agent.Install
		if hint == "" {
			hint = "install it, or put it on PATH"
		}
		return &PreflightError{Task: s.ID, Msg: fmt.Sprintf("agent %q: %s not found on PATH", s.Agent.Name, argv[0]), Hint: hint}
	}
	if key := s.Agent.KeyFor(s.Model); key != "" && getenv(r.env, key) == "" {
		return &PreflightError{Task: s.ID,
			Msg:  fmt.Sprintf("model %s needs %s, which is not set", s.Model, key),
			Hint: fmt.Sprintf("export %s=... before running ninja; without it %s would wait for a login instead of working", key, s.Agent.Name)}
	}
	return nil
}

// verdict is why an attempt failed; nil when it passed.
type verdict struct {
	kind, reason string
	retryable    bool
	apiError     string
}

func failed(kind, reason string) *verdict {
	return &verdict{kind: kind, reason: reason, retryable: kind != FailInterrupted && kind != FailStart}
}

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
func (r *runner) attempt(ctx context.Context, n int, feedback string) (a state.Attempt, retry bool) {
	s := r.spec
	a = state.Attempt{N: n, Start: time.Now().UTC(), ExitCode: -1, Log: state.LogPath(s.ID, n)}
	deadline := a.Start.Add(time.Duration(s.Timeout))
	actx, cancel := context.WithDeadlineCause(ctx, deadline, errAttemptTimeout)
	defer cancel()
	fail := func(v *verdict) (state.Attempt, bool) {
		a.End = time.Now().UTC()
		a.Failure, a.Reason, a.APIError = v.kind, Redact(v.reason, r.secrets), v.apiError
		return a, v.retryable
	}
	// A step that failed because the time ran out, or because paraider was
	// told to stop, says so rather than "could not start".
	stepFailed := func(what string, err error) (state.Attempt, bool) {
		switch {
		case ctx.Err() != nil:
			return fail(failed(FailInterrupted, "interrupted"))
		case errors.Is(context.Cause(actx), errAttemptTimeout):
			return fail(failed(FailTimeout, fmt.Sprintf("timed out after %s while %s", time.Duration(s.Timeout), what)))
		}
		return fail(failed(FailStart, fmt.Sprintf("%s: %v", what, err)))
	}

	dir := state.AttemptDir(s.ID, n)
	msg := r.message(feedback)
	msgFile := dir + "/message.md"
	if err := resetDir(r.path(dir)); err != nil {
		return fail(failed(FailStart, err.Error()))
	}
	if err := os.WriteFile(r.path(msgFile), []byte(msg), 0o644); err != nil {
		return fail(failed(FailStart, err.Error()))
	}

	// Where the agent works: the main tree, or a worktree of its own.
	work := r.root
	var wt *isolate.Worktree
	if r.repo != nil {
		var err error
		wt, err = r.repo.Create(actx, state.WorktreeName(s.ID, n), isolate.Setup{Copy: s.Copy, Link: s.Link, Files: s.Files, Read: s.Read, MaxUntracked: s.MaxUntracked})
		if err != nil {
			return stepFailed("creating the worktree", err)
		}
		work = wt.Root
		defer func() {
			if a.Failure != "" && s.KeepFailed && a.Failure != FailInterrupted {
				kctx, cancel := context.WithTimeout(context.Background(), SettleGrace)
				defer cancel()
				if kept, err := wt.Keep(kctx); err == nil {
					a.Worktree = relPath(r.root, kept)
					return
				}
			}
			wt.Release()
		}()
	}
	// Paths under .paraider/ as the agent, working in work, sees them.
	fromWork := func(rel string) string {
		p, err := filepath.Rel(work, r.path(rel))
		if err != nil {
			return r.path(rel)
		}
		return filepath.ToSlash(p)
	}
	vars := agent.Vars{
		Model: s.Model, Message: msg, MessageFile: fromWork(msgFile), Task: s.ID,
		State: fromWork(dir), Files: s.Files, Read: s.Read,
	}
	argv, err := agent.Expand(s.Agent.Command, vars)
	if err != nil {
		return fail(failed(FailStart, err.Error()))
	}
	// In the environment {state} is absolute: programs resolve relative
	// paths in variables from wherever they like.
	envVars := vars
	envVars.State = r.path(dir)
	env := append(append([]string(nil), r.env...), s.Agent.ExpandEnv(envVars)...)
	path, err := lookPath(argv[0], r.env)
	if err != nil {
		return fail(failed(FailStart, fmt.Sprintf("%s not found on PATH", argv[0])))
	}

	if err := os.MkdirAll(filepath.Dir(r.path(a.Log)), 0o755); err != nil {
		return fail(failed(FailStart, err.Error()))
	}
	logf, err := os.Create(r.path(a.Log))
	if err != nil {
		return fail(failed(FailStart, err.Error()))
	}
	defer logf.Close()
	var captured bytes.Buffer
	red := newRedactor(io.MultiWriter(logf, &captured), r.secrets)
	fmt.Fprintf(red, "# paraider: task %s, attempt %d of %d, started %s\n", s.ID, n, s.Retries+1, a.Start.Format(time.RFC3339))
	if wt != nil {
		fmt.Fprintf(red, "# worktree: %s (snapshot %.12s)\n", relPath(r.root, wt.Dir), wt.Base)
		if len(wt.LeftOut) > 0 {
			fmt.Fprintf(red, "# paraider: left out of the worktree (untracked, larger than worktree max_untracked, not this task's): %s\n", strings.Join(wt.LeftOut, ", "))
		}
	}
	fmt.Fprintf(red, "# command: %s\n\n", quoteArgv(argv))

	// The main tree as the attempt starts: isolation none judges its
	// changes; a worktree attempt watches it for writes that miss the
	// worktree.
	dirtyBefore := r.dirty(actx)
	before := r.snapshotIn(work)
	times := modTimes(work, s.Files)
	guarded := r.guard.take()
	left := time.Until(deadline)
	if left <= 0 {
		return stepFailed("preparing the attempt", context.Cause(actx))
	}
	p := &proc{Path: path, Argv: argv, Dir: work, Env: env, Out: red, Timeout: left, Sweep: true}
	o := p.run(ctx)
	red.Close()
	// Recording what the attempt did has its own small budget: after a
	// timeout the attempt's own is spent.
	post, cancelPost := context.WithTimeout(ctx, SettleGrace)
	defer cancelPost()
	if !o.TimedOut {
		post = actx
	}
	a.ExitCode = o.ExitCode
	a.FilesChanged = changed(before, r.snapshotIn(work))
	if wt == nil {
		// An agent that rewrote a file with the same bytes changed
		// nothing: its time goes back, so that Ninja does not see the
		// tasks that read it as stale.
		restoreTimes(work, times, a.FilesChanged)
		a.Undeclared = r.undeclaredInPlace(post, dirtyBefore)
		if len(a.Undeclared) > 0 {
			fmt.Fprintf(logf, "\n# paraider: warning: files outside every task's changed while it ran in place (by this agent or another, or by someone else; left as they are): %s\n", strings.Join(a.Undeclared, ", "))
		}
	} else {
		a.Elsewhere = r.elsewhere(post, dirtyBefore)
		if len(a.Elsewhere) > 0 {
			fmt.Fprintf(logf, "\n# paraider: warning: files outside every task's changed in the main tree while this agent ran in its worktree (written by path, or by someone else): %s\n", strings.Join(a.Elsewhere, ", "))
		}
	}
	out := captured.String()
	u, failure := agent.Parse(s.Agent.Output, out)
	a.TokensSent, a.TokensRecv, a.Cost = u.Sent, u.Received, u.Cost
	if t := r.guard.settle(guarded, r.path(state.TamperedDir(s.ID, n))); t != nil {
		// Planted hooks run code on the person's next commit: such an
		// agent is not given another go.
		reason := "the agent changed files no agent may change: " + t.String() + "; not retried"
		fmt.Fprintf(logf, "\n# paraider: %s\n", reason)
		return fail(&verdict{kind: FailTamper, reason: reason})
	}

	if v := r.judgeRun(o, failure, out, logf); v != nil {
		if v.kind == FailAPI {
			a.RetryAfter = state.Duration(agent.RetryAfter(out))
		}
		return fail(v)
	}
	if wt != nil {
		// An agent that writes by absolute path can miss its worktree.
		if moved := wt.MainChanged(); len(moved) > 0 && len(a.FilesChanged) == 0 {
			return fail(failed(FailUndeclared, "the task's files changed in the main tree, not in the agent's worktree: "+
				strings.Join(moved, ", ")+"; the agent wrote outside its worktree (or someone edited them): check them, paraider did not apply them"))
		}
	}
	if v := r.judgeFiles(work, before, a.FilesChanged); v != nil {
		return fail(v)
	}
	var apply []isolate.Change
	if wt != nil {
		var v *verdict
		if apply, a.Undeclared, v = r.sortChanges(actx, wt, a.FilesChanged, logf); v != nil {
			if v.kind == FailStart && actx.Err() != nil {
				return stepFailed("sorting the agent's changes", errors.New(v.reason))
			}
			return fail(v)
		}
	}
	if v := r.runCheck(ctx, work, deadline, logf); v != nil {
		return fail(v)
	}
	if wt != nil {
		if v := r.bringBack(actx, wt, apply, logf); v != nil {
			if v.kind == FailStart && actx.Err() != nil {
				return stepFailed("bringing the task's files back", errors.New(v.reason))
			}
			return fail(v)
		}
	}
	a.End = time.Now().UTC()
	return a, false
}

// message is the task's message for this attempt: with the task's files
// for agents that cannot name them, and why the last attempt failed.
func (r *runner) message(feedback string) string {
	s := r.spec
	msg := s.Message
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

// judgeRun judges how the agent ended and what it reported.
func (r *runner) judgeRun(o outcome, failure *agent.Failure, out string, logf io.Writer) *verdict {
	timeout := time.Duration(r.spec.Timeout)
	switch {
	case o.StartErr != nil:
		return failed(FailStart, fmt.Sprintf("the agent could not start: %v", o.StartErr))
	case o.Interrupted:
		fmt.Fprintf(logf, "\n# paraider: interrupted\n")
		return failed(FailInterrupted, "interrupted")
	case o.TimedOut:
		fmt.Fprintf(logf, "\n# paraider: timed out after %s; stopped the agent's process group\n", timeout)
		return failed(FailTimeout, fmt.Sprintf("timed out after %s", timeout))
	case failure != nil && (o.ExitCode == 0 || failure.Kind != "other"):
		// The agent's own report says more than its exit status.
		return &verdict{kind: FailAPI, apiError: failure.Kind, retryable: failure.Retryable,
			reason: fmt.Sprintf("the model call failed (%s): %s", strings.ReplaceAll(failure.Kind, "_", " "), failure.Line)}
	case o.ExitCode != 0 && agent.UsageError(out) != "":
		// The same command line fails the same way next time.
		return &verdict{kind: FailUsage, reason: fmt.Sprintf("the agent rejected its command line (%s): %s; not retried: fix the agent profile or the model name",
			o, agent.UsageError(out))}
	case o.ExitCode != 0:
		return failed(FailExit, fmt.Sprintf("the agent ended with %s", o))
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
		return failed(FailUnchanged, "the agent changed none of its files ("+strings.Join(s.Files, ", ")+")")
	}
	if missing := missingIn(work, s.Files, before); len(missing) > 0 {
		return failed(FailMissing, "the agent left declared files missing: "+strings.Join(missing, ", "))
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
		return nil, nil, failed(FailStart, err.Error())
	}
	var undeclared []string
	for _, c := range changes {
		if c.Outside || !contains(s.Files, c.Path) {
			undeclared = append(undeclared, c.Path)
		}
	}
	if len(undeclared) > 0 {
		if s.Undeclared != "drop" {
			return nil, undeclared, failed(FailUndeclared, "the agent changed files outside its task, which were not applied: "+
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
	left := time.Until(deadline)
	if left <= 0 {
		return failed(FailTimeout, fmt.Sprintf("timed out after %s, before the check `%s` could run", time.Duration(s.Timeout), s.Check))
	}
	fmt.Fprintf(logf, "\n# paraider: check: %s\n", s.Check)
	var out bytes.Buffer
	red := newRedactor(io.MultiWriter(logf, &out), r.secrets)
	p := &proc{Argv: []string{"/bin/sh", "-c", s.Check}, Dir: work, Env: r.env, Out: red, Timeout: left, Sweep: true}
	o := p.run(ctx)
	red.Close()
	switch {
	case o.Interrupted:
		return failed(FailInterrupted, "interrupted")
	case o.TimedOut:
		return failed(FailTimeout, fmt.Sprintf("timed out after %s, in the check `%s` (the attempt's timeout covers the agent and its check)", time.Duration(s.Timeout), s.Check))
	case o.ExitCode != 0:
		tail := human.Tail(out.String(), 20)
		if strings.TrimSpace(tail) == "" {
			return failed(FailCheck, fmt.Sprintf("the check `%s` failed (%s) and printed nothing", s.Check, o))
		}
		return failed(FailCheck, fmt.Sprintf("the check `%s` failed (%s):\n%s", s.Check, o, tail))
	}
	return nil
}

// bringBack writes the task's changed files into the main tree.
func (r *runner) bringBack(ctx context.Context, wt *isolate.Worktree, apply []isolate.Change, logf io.Writer) *verdict {
	if ctx.Err() != nil {
		return failed(FailInterrupted, "interrupted")
	}
	if _, err := wt.Apply(ctx, apply); err != nil {
		var ae *isolate.ApplyError
		if errors.As(err, &ae) {
			fmt.Fprintf(logf, "\n# paraider: %s\n", ae.Msg)
			v := failed(FailConflict, ae.Msg)
			// A person's edit is never resolved by overwriting it, and a
			// symlink in the main tree stays where it is: another attempt
			// would meet the same refusal, after paying for it. The next
			// run starts from a snapshot that holds the person's version.
			// Only a symlink the agent made is the agent's to fix.
			v.retryable = ae.Kind == "symlink"
			if !v.retryable {
				v.reason += "; not retried"
			}
			return v
		}
		return failed(FailStart, "copying the task's files back: "+err.Error())
	}
	return nil
}

func relPath(root, p string) string {
	abs, _ := filepath.Abs(root)
	if r, err := filepath.Rel(abs, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

// dirty maps the main tree's changed files (git status) to their blob ids,
// for isolation none; nil outside a git repository.
func (r *runner) dirty(ctx context.Context) map[string]string {
	if !r.mainOpened {
		// Once per task: the repository around the plan does not move.
		r.mainOpened = true
		r.main, _ = isolate.Open(r.root, state.Dir)
	}
	if r.main == nil {
		return nil
	}
	m, err := r.main.Dirty(ctx, r.spec.Agent.Scratch)
	if err != nil {
		return nil
	}
	return m
}

// elsewhere lists main-tree files that no task may write and that changed
// during the attempt: other tasks' write-backs touch only their own files.
// With isolation none it is what the attempt changed outside its files,
// as far as paraider can tell: another task's files are theirs to write.
func (r *runner) elsewhere(ctx context.Context, before map[string]string) []string {
	if before == nil {
		return nil
	}
	run := r.runInfo()
	if run.Files == nil {
		return nil
	}
	declared := map[string]bool{}
	for _, files := range run.Files {
		for _, f := range files {
			declared[f] = true
		}
	}
	var out []string
	for _, p := range r.mainChanges(ctx, before) {
		if !declared[p] && !notAChange(run, p) {
			out = append(out, p)
		}
	}
	return out
}

// tempRE matches paraider's own temporary files (state.WriteFile's
// .NAME.tmpNNN, a symlink's .NAME.tmp-linkNNN), which a snapshot of the
// tree may catch while another task writes back.
var tempRE = regexp.MustCompile(`(^|/)\.[^/]+\.tmp(-link)?[0-9]*$`)

// notAChange reports whether a changed main-tree path is Ninja's, the
// plan's or paraider's own: never a stray of an agent's.
func notAChange(run *state.Run, p string) bool {
	switch {
	case p == ".ninja_log", p == ".ninja_deps", p == run.Ninja, p == run.Plan, slices.Contains(run.Sources, p):
		return true
	case p == state.Dir || strings.HasPrefix(p, state.Dir+"/"):
		return true
	}
	return tempRE.MatchString(p)
}

// mainChanges lists the main tree's files whose state (git status and
// content) differs from before.
func (r *runner) mainChanges(ctx context.Context, before map[string]string) []string {
	after := r.dirty(ctx)
	var out []string
	for p, blob := range after {
		if old, ok := before[p]; !ok || old != blob {
			out = append(out, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// undeclaredInPlace lists files outside every task's that changed in the
// main tree during an attempt in place. With other tasks running in the
// same tree it cannot tell whose change it was.
func (r *runner) undeclaredInPlace(ctx context.Context, before map[string]string) []string {
	return r.elsewhere(ctx, before)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func union(a, b []string) []string {
	for _, x := range b {
		if !contains(a, x) {
			a = append(a, x)
		}
	}
	sort.Strings(a)
	return a
}

// fileState is what a file held at one moment.
type fileState struct {
	exists bool
	sum    [32]byte
	mode   os.FileMode
}

func (r *runner) snapshot() map[string]fileState { return r.snapshotIn(r.root) }

// snapshotIn records the task's files as they are under dir.
func (r *runner) snapshotIn(dir string) map[string]fileState {
	m := map[string]fileState{}
	for _, f := range r.spec.Files {
		m[f] = stat(filepath.Join(dir, filepath.FromSlash(f)))
	}
	return m
}

func stat(path string) fileState {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileState{}
	}
	st := fileState{exists: true, mode: fi.Mode()}
	if fi.Mode().IsRegular() {
		if data, err := os.ReadFile(path); err == nil {
			st.sum = sha256.Sum256(data)
		}
	} else if fi.Mode()&os.ModeSymlink != 0 {
		t, _ := os.Readlink(path)
		st.sum = sha256.Sum256([]byte(t))
	}
	return st
}

// modTimes records the modification times of files under dir.
func modTimes(dir string, files []string) map[string]time.Time {
	m := map[string]time.Time{}
	for _, f := range files {
		if fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err == nil && fi.Mode().IsRegular() {
			m[f] = fi.ModTime()
		}
	}
	return m
}

// restoreTimes puts back the recorded times of the files that did not
// change in content.
func restoreTimes(dir string, times map[string]time.Time, changedFiles []string) {
	for f, t := range times {
		if !slices.Contains(changedFiles, f) {
			os.Chtimes(filepath.Join(dir, filepath.FromSlash(f)), time.Time{}, t)
		}
	}
}

func changed(before, after map[string]fileState) []string {
	out := []string{}
	for f, a := range after {
		if before[f] != a {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// missingIn lists the files that neither existed before nor exist now.
func missingIn(dir string, files []string, before map[string]fileState) []string {
	var out []string
	for _, f := range files {
		if before[f].exists {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			out = append(out, f)
		}
	}
	return out
}

// summarize prints the task's line for Ninja's output, and on failure the
// reason and the log's last lines.
func (r *runner) summarize(res *state.Result) {
	w := r.opts.Out
	n := len(res.Attempts)
	status := "ok"
	if res.Status != state.StatusOK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s %s: %s, %s, %s", status, res.Task, human.Count(n, "attempt"), human.Duration(res.Duration()), human.Money(res.Cost))
	if res.Status == state.StatusOK {
		fmt.Fprintf(w, ", changed %s\n", changedText(res.FilesChanged))
		return
	}
	fmt.Fprintf(w, "\n  reason: %s\n", indent(res.Reason, "  "))
	last := res.Attempts[n-1]
	if data, err := os.ReadFile(r.path(last.Log)); err == nil {
		fmt.Fprintf(w, "  last lines of %s:\n%s\n", last.Log, indent("  | "+strings.ReplaceAll(human.Tail(string(data), 10), "\n", "\n  | "), ""))
	}
}

// changedText lists changed files for people; "nothing" for none (a task
// allowed to leave its files as they were).
func changedText(files []string) string {
	if len(files) == 0 {
		return "nothing"
	}
	return strings.Join(files, ", ")
}

func indent(s, prefix string) string {
	return strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			q[i] = a
			continue
		}
		if len(a) > 200 {
			a = a[:200] + "…"
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// mergeEnv overlays extra on env (KEY=VALUE lists); later wins.
func mergeEnv(env []string, extra map[string]string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if _, over := extra[k]; !over {
			out = append(out, kv)
		}
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+extra[k])
	}
	return out
}

func getenv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lookPath finds a program on the PATH of env, not of this process.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	for _, dir := range filepath.SplitList(getenv(env, "PATH")) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("not found")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
