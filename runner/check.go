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

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/state"
)

// CheckError says a final check failed.
type CheckError struct{ Record *state.CheckRecord }

func (e *CheckError) Error() string {
	return fmt.Sprintf("check %s failed (exit %d)", e.Record.Name, e.Record.ExitCode)
}

// CheckTimeout bounds one final check when the plan's check_timeout does
// not say.
var CheckTimeout = 30 * time.Minute

func checkTimeout(run *state.Run) time.Duration {
	if run.CheckTimeout > 0 {
		return time.Duration(run.CheckTimeout)
	}
	return CheckTimeout
}

// briefBytes bounds the check's output a repair is told: its last
// RepairTail lines, and no more than fits an agent's command line with
// room to spare.
const briefBytes = 32 << 10

// Check runs the plan's final check of that name with /bin/sh in the plan's
// directory, records it, and on success writes its stamp. When it fails
// and the plan asks for its repair, the repair task runs (Exec: its own
// attempts, worktree, ledger and record), told the check's output and
// judged by the check and the checks that passed; the check then runs
// again on the main tree, and its record is that run's, with what the
// repair did.
func Check(ctx context.Context, name string, opts Options) error {
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	path := state.Layout{Root: opts.Root}.Path
	var run state.Run
	if err := state.ReadJSON(path(state.RunPath), &run); err != nil {
		return fmt.Errorf("reading the generated plan: %w (run `paraider gen`)", err)
	}
	i := slices.IndexFunc(run.Checks, func(c state.Check) bool { return c.Name == name })
	if i < 0 {
		return fmt.Errorf("no final check named %q in the plan", name)
	}
	c := run.Checks[i]
	rec := &state.CheckRecord{Name: name, Run: state.CurrentRun(), Command: c.Command, Started: time.Now().UTC(), Log: state.CheckLog(name)}
	if err := os.MkdirAll(filepath.Dir(path(rec.Log)), 0o755); err != nil {
		return err
	}
	logf, err := os.Create(path(rec.Log))
	if err != nil {
		return err
	}
	defer logf.Close()
	becomeSubreaper()
	cr := &checkRun{run: &run, check: c, opts: opts, log: logf, secrets: Secrets(opts.Env, run.Redact...)}
	output := cr.once(ctx, rec)
	if rec.Status != state.StatusOK && c.Repair != "" && ctx.Err() == nil {
		cr.printed(rec, "FAILED")
		rec.Repair = cr.repair(ctx, rec, output)
	}
	if err := state.WriteJSON(path(state.CheckResult(name)), rec); err != nil {
		return err
	}
	if rec.Status != state.StatusOK {
		if rec.Repair == nil {
			cr.printed(rec, "FAILED")
		} else {
			fmt.Fprintf(opts.Out, "FAILED check %s (`%s`): %s\n", name, human.Clip(c.Command, 60), repairSays(rec.Repair))
		}
		return &CheckError{Record: rec}
	}
	cr.printed(rec, "ok")
	return state.WriteFile(path(state.CheckStamp(name)), []byte("ok\n"), 0o644)
}

// checkRun is one final check being run, and repaired.
type checkRun struct {
	run     *state.Run
	check   state.Check
	opts    Options
	log     *os.File
	secrets []string
}

// once runs the check on the main tree into rec (status, exit, tail, end)
// and returns what it printed, as much as is kept of it.
func (cr *checkRun) once(ctx context.Context, rec *state.CheckRecord) string {
	out := newOutput(cr.log)
	red := newRedactor(out, cr.secrets)
	p := &proc{Argv: []string{"/bin/sh", "-c", cr.check.Command}, Dir: cr.opts.Root, Env: cr.opts.Env, Out: red, Timeout: checkTimeout(cr.run), Sweep: true}
	o := p.run(ctx)
	red.Close()
	out.Flush()
	rec.Finished = time.Now().UTC()
	rec.ExitCode = o.ExitCode
	rec.Tail = human.Tail(out.String(), 20)
	if o.TimedOut {
		note := fmt.Sprintf("(timed out after %s: the plan's check_timeout)", checkTimeout(cr.run))
		fmt.Fprintf(cr.log, "\n# paraider: %s\n", note)
		rec.Tail = strings.TrimSpace(rec.Tail + "\n" + note)
	}
	rec.Status = state.StatusOK
	if o.ExitCode != 0 || o.TimedOut || o.Interrupted {
		rec.Status = state.StatusFailed
	}
	rec.Outcome = o.String()
	return out.String()
}

// printed writes the check's line for Ninja's output.
func (cr *checkRun) printed(rec *state.CheckRecord, word string) {
	took := human.Duration(rec.Finished.Sub(rec.Started))
	if word == "ok" {
		by := ""
		if rec.Repair != nil {
			by = ", " + repairSays(rec.Repair)
		}
		fmt.Fprintf(cr.opts.Out, "ok check %s (`%s`) in %s%s\n", rec.Name, human.Clip(rec.Command, 60), took, by)
		return
	}
	fmt.Fprintf(cr.opts.Out, "%s check %s (`%s`): %s after %s\n  | %s\n", word, rec.Name, human.Clip(rec.Command, 60), rec.Outcome, took, indent(rec.Tail, "  | "))
}

// repair runs the check's repair task, and the check again after a
// repair that passed; rec ends as the check's last run.
func (cr *checkRun) repair(ctx context.Context, rec *state.CheckRecord, output string) *state.CheckRepair {
	id := cr.check.Repair
	rep := &state.CheckRepair{Task: id, Status: state.StatusFailed, FailedExit: rec.ExitCode, FailedTail: rec.Tail}
	started := time.Now().UTC()
	opts := cr.opts
	opts.Brief = cr.brief(output)
	opts.Judge = cr.judge()
	fmt.Fprintf(cr.opts.Out, "repairing check %s: %s, judged by %s\n", cr.check.Name, id, opts.Judge.Says)
	err := Exec(ctx, id, opts)
	var res state.Result
	if rerr := state.ReadJSON(state.Layout{Root: cr.opts.Root}.Path(state.ResultPath(id)), &res); rerr == nil && res.Task == id && !res.Started.Before(started) {
		rep.Ran = true
		rep.Attempts = len(res.Attempts)
		rep.Cost, rep.CostUnknown = res.Cost, res.CostUnknown
		rep.TokensSent, rep.TokensRecv = res.TokensSent, res.TokensRecv
	}
	var te *TaskError
	var pe *PreflightError
	switch {
	case errors.As(err, &te):
		rep.Reason = te.Result.Reason
		return rep
	case errors.As(err, &pe):
		rep.Reason = "it could not start: " + pe.Msg
		return rep
	case err != nil:
		rep.Reason = err.Error()
		return rep
	}
	fmt.Fprintf(cr.log, "\n# paraider: after %s, the check again on the main tree\n", id)
	rec.Started = time.Now().UTC()
	cr.once(ctx, rec)
	if rec.Status == state.StatusOK {
		rep.Status = state.StatusOK
	} else if rep.Ran {
		rep.Reason = "the check still fails on the main tree after it (exit " + fmt.Sprint(rec.ExitCode) + ")"
	} else {
		rep.Reason = "its last success still holds for these files and was not paid again, yet the check fails (was its change undone by hand? `paraider reset " + id + "` runs it again)"
	}
	return rep
}

// brief is what the repair is told besides its message: the check's
// output, and the tasks whose files that output names.
func (cr *checkRun) brief(output string) string {
	tail := human.Tail(output, state.RepairTail)
	if len(tail) > briefBytes {
		tail = "…" + tail[len(tail)-briefBytes:]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The check's output (its last %d lines at most):\n```\n%s\n```", state.RepairTail, tail)
	var named []string
	for _, t := range cr.run.Tasks {
		var files []string
		for _, f := range cr.run.Files[t] {
			if strings.Contains(output, f) {
				files = append(files, f)
			}
		}
		if len(files) > 0 {
			named = append(named, fmt.Sprintf("%s (%s)", t, strings.Join(files, ", ")))
		}
	}
	if len(named) > 0 {
		fmt.Fprintf(&b, "\n\nThe output names files of these tasks: %s.", human.Clip(strings.Join(named, "; "), 4000))
	}
	return b.String()
}

// judge is what judges a repair's attempt: its check, and every other
// check whose last run passed (a fix for one that breaks another is no
// fix), in the plan's order, each named when it fails.
func (cr *checkRun) judge() *Judge {
	var script strings.Builder
	names := []string{cr.check.Name}
	add := func(c state.Check) {
		fmt.Fprintf(&script, "( %s\n) || { s=$?; echo \"# paraider: the final check %s failed (exit $s)\"; exit $s; }\n", c.Command, c.Name)
	}
	add(cr.check)
	for _, c := range cr.run.Checks {
		if c.Name == cr.check.Name {
			continue
		}
		var rec state.CheckRecord
		if state.ReadJSON(state.Layout{Root: cr.opts.Root}.Path(state.CheckResult(c.Name)), &rec) == nil && rec.Command == c.Command && rec.Status == state.StatusOK {
			add(c)
			names = append(names, c.Name)
		}
	}
	says := fmt.Sprintf("`%s`", cr.check.Command)
	if len(names) > 1 {
		says = fmt.Sprintf("`%s` and the checks that passed (%s)", cr.check.Command, strings.Join(names[1:], ", "))
	}
	return &Judge{Command: script.String(), Says: says}
}

// repairSays is a failed check's repair, in a few words.
func repairSays(r *state.CheckRepair) string {
	if r.Status == state.StatusOK {
		return "repaired by " + r.Task
	}
	if r.Ran {
		return fmt.Sprintf("repair %s failed after %s: %s", r.Task, human.Count(r.Attempts, "attempt"), state.FirstReason(r.Reason))
	}
	return fmt.Sprintf("repair %s: %s", r.Task, state.FirstReason(r.Reason))
}
