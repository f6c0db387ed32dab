package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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

// Check runs the plan's final check of that name with /bin/sh in the plan's
// directory, records it, and on success writes its stamp.
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
	var command string
	for _, c := range run.Checks {
		if c.Name == name {
			command = c.Command
		}
	}
	if command == "" {
		return fmt.Errorf("no final check named %q in the plan", name)
	}
	rec := &state.CheckRecord{Name: name, Run: state.CurrentRun(), Command: command, Started: time.Now().UTC(), Log: state.CheckLog(name)}
	if err := os.MkdirAll(filepath.Dir(path(rec.Log)), 0o755); err != nil {
		return err
	}
	logf, err := os.Create(path(rec.Log))
	if err != nil {
		return err
	}
	defer logf.Close()
	secrets := Secrets(opts.Env, run.Redact...)
	var out bytes.Buffer
	red := newRedactor(io.MultiWriter(logf, &out), secrets)
	becomeSubreaper()
	p := &proc{Argv: []string{"/bin/sh", "-c", command}, Dir: opts.Root, Env: opts.Env, Out: red, Timeout: checkTimeout(&run), Sweep: true}
	o := p.run(ctx)
	red.Close()
	rec.Finished = time.Now().UTC()
	rec.ExitCode = o.ExitCode
	rec.Tail = human.Tail(out.String(), 20)
	if o.TimedOut {
		note := fmt.Sprintf("(timed out after %s: the plan's check_timeout)", checkTimeout(&run))
		fmt.Fprintf(logf, "\n# paraider: %s\n", note)
		rec.Tail = strings.TrimSpace(rec.Tail + "\n" + note)
	}
	rec.Status = state.StatusOK
	if o.ExitCode != 0 || o.TimedOut || o.Interrupted {
		rec.Status = state.StatusFailed
	}
	if err := state.WriteJSON(path(state.CheckResult(name)), rec); err != nil {
		return err
	}
	took := human.Duration(rec.Finished.Sub(rec.Started))
	if rec.Status != state.StatusOK {
		fmt.Fprintf(opts.Out, "FAILED check %s (`%s`): %s after %s\n  | %s\n", name, human.Clip(command, 60), o, took, indent(rec.Tail, "  | "))
		return &CheckError{Record: rec}
	}
	fmt.Fprintf(opts.Out, "ok check %s (`%s`) in %s\n", name, human.Clip(command, 60), took)
	return state.WriteFile(path(state.CheckStamp(name)), []byte("ok\n"), 0o644)
}
