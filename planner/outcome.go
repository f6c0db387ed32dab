package planner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// Explain says how a `paraider plan` that wrote to file ended: what the
// planning cost, on out, and an error with how to go on when no plan was
// written (nil when one was).
func Explain(err error, file string, out io.Writer) error {
	if errors.Is(err, ErrExists) {
		return human.WithHint(fmt.Errorf("%s exists; not overwriting it", file), "pass --force to replace it, or name another file with -f")
	}
	root := filepath.Dir(file)
	var res state.Result
	if state.ReadJSON(filepath.Join(root, state.ResultPath(TaskID)), &res) == nil {
		fmt.Fprintf(out, "planning: %s, tokens %s sent, %s received, %s\n", human.Count(len(res.Attempts), "attempt"),
			human.Tokens(res.TokensSent), human.Tokens(res.TokensRecv), human.Money(res.Cost))
	}
	if errors.Is(err, ErrUnconfirmed) {
		return human.WithHint(fmt.Errorf("not written: the plan brings commands (above) that were not agreed to; the draft is in %s", Draft(file)),
			"read the draft; then run paraider plan again with --yes, or move the draft to "+file+" yourself")
	}
	var te *runner.TaskError
	if errors.As(err, &te) {
		tries := human.Count(len(te.Result.Attempts), "attempt")
		if _, serr := os.Stat(Draft(file)); serr != nil {
			// No draft to fix: say what the agent did write.
			what := "nor any other file"
			if files := wroteInstead(root, te.Result); len(files) > 0 {
				what = "it wrote " + strings.Join(files, ", ") + ", which paraider did not keep"
			}
			return human.WithHint(fmt.Errorf("no valid plan after %s: the agent wrote no %s (%s)", tries, filepath.Base(Draft(file)), what),
				"run paraider plan again, or with another --agent or --model")
		}
		return human.WithHint(fmt.Errorf("no valid plan after %s; the last draft is in %s", tries, Draft(file)),
			"fix the draft by hand (paraider -f "+Draft(file)+" validate says what is wrong), or run paraider plan again with a clearer goal")
	}
	return err
}

// wroteInstead lists what the planning agent's last attempt wrote in its
// worktree (kept, as a failed planning attempt's is), draft aside.
func wroteInstead(root string, res *state.Result) []string {
	files := append(append([]string(nil), res.Undeclared...), res.Elsewhere...)
	if len(files) > 0 || len(res.Attempts) == 0 || res.Attempts[len(res.Attempts)-1].Worktree == "" {
		return files
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "status", "--porcelain", "--untracked-files=all")
	cmd.Dir = filepath.Join(root, res.Attempts[len(res.Attempts)-1].Worktree)
	outb, err := cmd.Output()
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(strings.TrimRight(string(outb), "\n"), "\n") {
		if len(line) > 3 {
			files = append(files, line[3:])
		}
	}
	return files
}

// WriteSummary shows the new plan's shape and what it should take.
func WriteSummary(out io.Writer, file string) error {
	p, err := plan.Load(file)
	if err != nil {
		return err
	}
	w := gen.Weights(p.Root, p)
	s := p.Shape(w)
	total, estimated := 0.0, false
	for _, t := range p.Tasks {
		total += w.Of(t.ID)
		estimated = estimated || t.Estimate > 0
	}
	fmt.Fprintf(out, "paraider: wrote %s: %s in %d levels, %s\n", file, human.Count(len(p.Tasks), "task"), len(s.Levels), human.Count(len(p.Checks), "final check"))
	fmt.Fprintf(out, "critical path: %s\n", strings.Join(s.CriticalPath, " -> "))
	fmt.Fprintf(out, "most tasks at once: %d (jobs %d)\n", s.Width, p.Jobs)
	if estimated {
		fmt.Fprintf(out, "estimated: %s at best (the critical path), against %s one after another\n",
			human.Duration(time.Duration(s.CriticalWeight*float64(time.Second))), human.Duration(time.Duration(total*float64(time.Second))))
	}
	fmt.Fprintln(out, "next: paraider run")
	return nil
}
