// Package runner runs one task for `paraider exec`: it checks that the agent
// can start, runs it in its own process group under a timeout, judges the
// attempt from its output and files, retries with backoff, and writes the
// log, the result record and the stamp Ninja waits for. It also runs the
// plan's final checks, and the repair task of a check that fails and asks
// for one (check.go).
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
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
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
	Fix  string // how to fix it, when that is known
	// Unknown says the generated plan has no such task: a wrong command
	// line, not a task that cannot start.
	Unknown bool
}

func (e *PreflightError) Error() string { return "task " + e.Task + ": " + e.Msg }

// Hint says how to fix it (human.Hinted).
func (e *PreflightError) Hint() string { return e.Fix }

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
	// Brief is told the agent after the task's message on every attempt,
	// and is not part of its work: a repair's view of the failing check.
	Brief string
	// Judge, when set, judges each attempt instead of the task's check.
	Judge *Judge
}

// Judge is a check given at run time: a repair is judged by its check and
// by the checks that passed before it.
type Judge struct {
	Command string
	Says    string // how a failure names it
}

// Exec runs the task with id and records the result. It returns a
// *PreflightError when the agent cannot be started, a *TaskError when the
// task failed, and nil on success.
func Exec(ctx context.Context, id string, opts Options) error {
	r, err := load(id, opts)
	if err != nil {
		return err
	}
	// Orphans of the agent come to us, so none outlives the attempt.
	becomeSubreaper()
	// One paraider at a time per task: a second ninja in the same
	// repository must not run the same task twice.
	lock, err := r.lay.Lock(state.TaskLock(id))
	if err != nil {
		return &PreflightError{Task: id, Msg: "is already running in another paraider process",
			Fix: "another ninja is running in this repository; wait for it, or stop it"}
	}
	defer lock.Close()

	res := &state.Result{Task: id, Isolation: r.spec.Isolation, Run: state.CurrentRun(), SpecHash: r.specHash,
		Started: time.Now().UTC(), Attempts: []state.Attempt{}, FilesChanged: []string{}}
	done, feedback, err := r.alreadyDone(ctx, res)
	if done || err != nil {
		return err
	}
	if feedback == "" {
		// An attempt a killed paraider was judging: judged again, not
		// paid again.
		if done, feedback, err = r.judgeAgain(ctx, res); done || err != nil {
			return err
		}
	}
	if err := r.ready(res); err != nil {
		return err
	}
	var tasks []string // the specs are watched, not looked at one by one
	if sched := r.schedule(); sched.Len() <= statSpecs {
		tasks = sched.Tasks()
	}
	r.guard = newGuard(ctx, r.root, tasks)
	initial, before := r.snapshotImages()
	defer os.Remove(r.lay.Path(state.RunningPath(id)))
	r.attempts(ctx, res, feedback)
	res.FilesChanged = changed(initial, r.snapshot())
	return r.finish(ctx, res, before)
}

// load reads the task's spec and sets up its runner.
func load(id string, opts Options) (*runner, error) {
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
		return nil, err
	}
	var spec state.Spec
	if err := state.ReadJSON(filepath.Join(root, state.SpecPath(id)), &spec); err != nil {
		if state.Missing(err) {
			return nil, &PreflightError{Task: id, Msg: "no such task in the generated plan", Fix: "run `paraider gen` first, and check the task id with `paraider validate`", Unknown: true}
		}
		return nil, err
	}
	env := mergeEnv(opts.Env, spec.Env)
	hash := spec.Hash() // of the spec as gen wrote it
	if opts.Judge != nil {
		spec.Check = opts.Judge.Command
	}
	return &runner{spec: &spec, specHash: hash, root: root, lay: state.Layout{Root: root}, env: env, secrets: Secrets(env, spec.Redact...), opts: opts}, nil
}

// alreadyDone settles a task whose work and inputs are unchanged since
// its last success (never pay twice, whatever Ninja's log says): done is
// true when nothing needs to run. When only its check changed, the check
// judges the files as they are, for free, and the agent runs only if
// they fail it, told why (feedback).
func (r *runner) alreadyDone(ctx context.Context, res *state.Result) (done bool, feedback string, err error) {
	inputHash, err := r.inputHash()
	if err != nil {
		return false, "", err
	}
	res.InputHash, r.input = inputHash, inputHash
	r.success = r.lastSuccess()
	ok := r.success
	if r.opts.Force || ok == nil || ok.InputHash != inputHash {
		return false, "", nil
	}
	if !r.outputsHold(ok) {
		// A declared file is gone and its last success's record cannot
		// put it back: the task runs again.
		return false, "", nil
	}
	if ok.Check == r.spec.Check {
		return true, "", r.upToDate(ok)
	}
	v, err := r.checkOnly(ctx)
	if err != nil {
		return false, "", err
	}
	if v == nil {
		ok.Check = r.spec.Check
		return true, "", r.upToDate(ok)
	}
	fmt.Fprintf(r.opts.Out, "check changed for %s and its files fail it: running the agent\n", r.spec.ID)
	return false, v.reason, nil
}

// ready makes sure the agent can start (a failure is recorded, as nothing
// was spent) and opens the repository for worktree isolation.
func (r *runner) ready(res *state.Result) error {
	id := r.spec.ID
	if err := r.preflight(); err != nil {
		r.forgetPlace()
		res.Status, res.Reason, res.Finished = state.StatusFailed, err.Error(), time.Now().UTC()
		if werr := state.WriteJSON(r.lay.Path(state.ResultPath(id)), res); werr != nil {
			return werr
		}
		return err
	}
	if r.spec.Isolation != state.IsolationWorktree {
		// Asking git where the repository is takes two git processes:
		// while the task waits for its place, not after.
		go r.openMain()
		return nil
	}
	repo, err := isolate.Open(r.root)
	if err != nil && !errors.Is(err, isolate.ErrNotGit) {
		return &PreflightError{Task: id, Msg: "isolation: worktree: " + err.Error(), Fix: "check that git works in " + r.root}
	}
	if err != nil {
		return &PreflightError{Task: id, Msg: "isolation: worktree needs a git repository, and " + r.root + " is not in one",
			Fix: "set `isolation: none` in the plan, or run `git init`"}
	}
	r.repo = repo
	// Worktrees this task kept last time go when it runs again.
	return repo.SweepKept("kept-" + id + ".")
}

// attempts runs the agent until an attempt succeeds, one fails in a way
// another would not mend, the retries or the budget are spent, or ctx
// ends; each attempt waits for a place in rank order.
func (r *runner) attempts(ctx context.Context, res *state.Result, feedback string) {
	id := r.spec.ID
	places := r.places()
	first := 1
	if k := len(res.Attempts); k > 0 {
		first = res.Attempts[k-1].N + 1 // after one judged again
		if first > r.spec.Retries+1 {
			return
		}
	}
	for n := first; n <= r.spec.Retries+1; n++ {
		var a state.Attempt
		retryable := false
		if over, why := r.overBudget(); over {
			a = state.Attempt{N: n, Start: time.Now().UTC(), End: time.Now().UTC(), ExitCode: -1, Failure: state.FailBudget, Reason: why}
		} else if release, err := places.acquire(ctx, id, func() { r.markRunning(n) }); err != nil {
			now := time.Now().UTC()
			a = state.Attempt{N: n, Start: now, End: now, ExitCode: -1, Failure: state.FailInterrupted, Reason: "interrupted while waiting for a place to run"}
			if ctx.Err() == nil {
				a.Failure, a.Reason = state.FailStart, err.Error()
			}
		} else if over, why := r.overBudget(); over {
			// Spent while this task waited for its place: the place goes
			// to the next waiting task, which is refused the same way.
			release("")
			a = state.Attempt{N: n, Start: time.Now().UTC(), End: time.Now().UTC(), ExitCode: -1, Failure: state.FailBudget, Reason: why}
		} else {
			a, retryable = r.attempt(ctx, n, feedback)
			if a.Failure != state.FailInterrupted {
				// Judged. An attempt stopped during its check stays
				// pending: the next run judges it again.
				r.dropPending()
			}
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
		res.CostUnknown = res.CostUnknown || a.CostUnknown
		res.Undeclared = union(res.Undeclared, a.Undeclared)
		res.Elsewhere = union(res.Elsewhere, a.Elsewhere)
		if a.Failure == "" || !retryable || n == r.spec.Retries+1 {
			return
		}
		feedback = a.Reason
		if a.APIError == "rate_limit" {
			// The model did nothing wrong: the same message again.
			feedback = ""
		}
		r.opts.Sleep(ctx, backoff(time.Duration(r.spec.RetryDelay), n, a))
		if ctx.Err() != nil {
			return
		}
	}
}

// finish settles the task's status from its last attempt and writes its
// records and, on success, the stamp Ninja waits for.
func (r *runner) finish(ctx context.Context, res *state.Result, before map[string]image) error {
	id := r.spec.ID
	res.Finished = time.Now().UTC()
	last := res.Attempts[len(res.Attempts)-1]
	res.Interrupted = last.Failure == state.FailInterrupted || (last.Failure != "" && ctx.Err() != nil)
	switch {
	case last.Failure == "":
		res.Status = state.StatusOK
	case res.Interrupted && last.Failure != state.FailInterrupted:
		res.Status, res.Reason = state.StatusFailed, "interrupted while waiting to retry after: "+last.Reason
	default:
		res.Status, res.Reason = state.StatusFailed, last.Reason
	}
	if res.Status == state.StatusOK {
		res.OutputHash, res.Check = r.outputHash(), r.spec.Check
		r.recordChange(ctx, res, before)
		// Kept apart from the latest result, so that a later failure
		// that changed nothing (a missing key, a plan tried and
		// reverted) does not make the next run pay for this work again.
		if err := writeSuccess(r.lay.Path(state.SuccessPath(id)), res); err != nil {
			return err
		}
	}
	if err := state.WriteJSON(r.lay.Path(state.ResultPath(id)), res); err != nil {
		return err
	}
	r.summarize(res)
	if res.Status != state.StatusOK {
		// Ninja must run this task again, as status and report say it
		// failed; exec then finds its last success if that still holds.
		os.Remove(r.lay.Path(state.TaskStamp(id)))
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

type runner struct {
	spec     *state.Spec
	specHash string        // the spec's hash as gen wrote it
	repo     *isolate.Repo // set with worktree isolation
	root     string        // the plan's directory, absolute
	lay      state.Layout  // where its state is
	env      []string
	secrets  []string
	opts     Options
	guard    *guard
	// success is the task's last success while it holds, or nil.
	success *state.Result
	// input is the task's input hash as it starts (alreadyDone).
	input string
	// restored are the declared files put back from its last success;
	// handEdited says its files differ from what it left all the same.
	restored   []string
	handEdited bool
	// run is the plan's run-wide facts (run.json), once read (runInfo):
	// only to tell a stray write; sched is what a task needs of the whole
	// plan otherwise, once read (schedule).
	run   *state.Run
	sched *state.SchedView
	// unaskedFn is unasked's, made once from run.
	unaskedFn func(string) bool
	// queue are the run's places, once opened (places).
	queue *placeQueue
	// main is the repository around the plan, for watching the main tree;
	// nil outside git. Opened once (openMain), perhaps while the task
	// waits for its place.
	main     *isolate.Repo
	mainOnce sync.Once
}

// schedule is what a task needs of the whole plan (state.Sched), read
// once.
func (r *runner) schedule() *state.SchedView {
	if r.sched == nil {
		r.sched = r.lay.Sched()
	}
	return r.sched
}

// runInfo is the plan's run-wide facts (run.json), read once: with ten
// thousand tasks it is a large file, read only to tell a stray write from
// another task's (elsewhere).
func (r *runner) runInfo() *state.Run {
	if r.run == nil {
		r.run = &state.Run{}
		state.ReadJSON(r.lay.Path(state.RunPath), r.run)
	}
	return r.run
}

// places is the run's places to run an agent in, opened once.
func (r *runner) places() *placeQueue {
	if r.queue == nil {
		sched := r.schedule()
		r.queue = newPlaceQueue(r.root, sched.Jobs, sched.Rank)
	}
	return r.queue
}

// forgetPlace gives up a place kept for this task by the one before it in
// its chain: it will not run its agent.
func (r *runner) forgetPlace() { r.places().forget(r.spec.ID) }

// heir is the task that this one's success makes ready and that comes
// first on the critical path: the next link of its chain, to which it
// hands its place. "" when none is ready.
func (r *runner) heir() string {
	best := ""
	var bestQ queueEntry
	places := r.places()
	for t, deps := range r.schedule().Dependents(r.spec.ID) {
		ready := true
		for _, d := range deps {
			if d == r.spec.ID {
				continue
			}
			if _, err := os.Stat(r.lay.Path(state.TaskStamp(d))); err != nil {
				ready = false
				break
			}
		}
		q := places.entry(t)
		if ready && (best == "" || outranks(q, bestQ)) {
			best, bestQ = t, q
		}
	}
	return best
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
