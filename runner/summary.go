package runner

import (
	"fmt"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/sh"
	"github.com/paraider/paraider/state"
)

// summarize prints the task's line for Ninja's output, and on failure the
// reason and the log's last lines.
func (r *runner) summarize(res *state.Result) {
	w := r.opts.Out
	n := len(res.Attempts)
	status := "ok"
	if res.Status != state.StatusOK {
		status = "FAILED"
	}
	fmt.Fprintf(w, "%s %s: %s, %s", status, res.Task, human.Count(n, "attempt"), human.Duration(res.Working()))
	if waited := res.Duration() - res.Working(); waited >= time.Second {
		fmt.Fprintf(w, " (and %s waiting)", human.Duration(waited))
	}
	fmt.Fprintf(w, ", %s", human.Cost(res.Cost, res.CostUnknown))
	if res.Status == state.StatusOK {
		fmt.Fprintf(w, ", changed %s", changedText(res.FilesChanged))
		if res.NotRecorded != "" {
			fmt.Fprintf(w, "\n  not recorded for undo: %s (its files are in the tree; paraider diff and revert do not know this change)", res.NotRecorded)
		}
		switch {
		case res.Commit != "" && res.NotCommitted == "":
			fmt.Fprintf(w, "; committed %.12s\n", res.Commit)
		case res.Commit != "":
			fmt.Fprintf(w, "; committed %.12s\n  warning: %s\n", res.Commit, res.NotCommitted)
		case res.NotCommitted != "":
			fmt.Fprintf(w, "\n  not committed: %s (its files are in the tree)\n", res.NotCommitted)
		default:
			fmt.Fprintln(w)
		}
		return
	}
	fmt.Fprintf(w, "\n  reason: %s\n", indent(res.Reason, "  "))
	last := res.Attempts[n-1]
	if data, err := state.ReadOwnTail(r.lay.Path(last.Log), 256<<10); err == nil {
		tail, what := human.Printable(agent.Tail(r.spec.Agent.Output, string(data), r.root, 10)), "what the agent did last, from"
		if tail == "" {
			tail, what = human.Tail(string(data), 10), "last lines of"
		}
		fmt.Fprintf(w, "  %s %s:\n%s\n", what, last.Log, indent("  | "+strings.ReplaceAll(tail, "\n", "\n  | "), ""))
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
	short := make([]string, len(argv))
	for i, a := range argv {
		if len(a) > 200 {
			a = a[:200] + "…"
		}
		short[i] = a
	}
	return sh.Join(short)
}
