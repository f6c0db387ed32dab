package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/table"
)

// WriteText renders the report for a terminal or a CI log.
func (r *Report) WriteText(w io.Writer) error {
	rows := make([][]string, 0, len(r.Tasks))
	for _, t := range r.Tasks {
		row := []string{t.ID, t.Status, "-", "-", "-", "-", "-", "-"}
		if t.Status != NotRun {
			row = []string{t.ID, t.Status, fmt.Sprint(t.Attempts), human.Duration(t.Duration),
				human.Tokens(t.Sent), human.Tokens(t.Recv), human.Cost(t.Cost, t.CostUnknown), strings.Join(t.Files, " ")}
		}
		rows = append(rows, row)
	}
	if err := table.Write(w, []string{"task", "status", "attempts", "time", "tokens sent", "tokens recv", "cost", "files changed"}, rows); err != nil {
		return err
	}
	r.writeSummary(w)
	if lines := r.commitLines(); len(lines) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "COMMITS (one per task, on the current branch)")
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	r.writeChecks(w)
	r.writeProblems(w)
	for _, n := range r.Ignored {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "GIT STATUS OF CHANGED FILES")
	switch {
	case len(r.GitStatus) > 0:
		for _, l := range r.GitStatus {
			fmt.Fprintf(w, "  %s\n", l)
		}
	case r.GitNote != "":
		fmt.Fprintf(w, "  (%s)\n", r.GitNote)
	default:
		fmt.Fprintln(w, "  (no files changed)")
	}
	return nil
}

// commitLines are the tasks' commits in commit mode, in plan order:
// "auth  3f2a1b9c0d4e", or why a task has none.
func (r *Report) commitLines() []string {
	width := 0 // of the ids, so that the commits line up
	for _, t := range r.Tasks {
		if t.Commit != "" || t.NotCommitted != "" {
			width = max(width, len(t.ID))
		}
	}
	var out []string
	for _, t := range r.Tasks {
		switch {
		case t.Commit != "" && t.NotCommitted != "":
			out = append(out, fmt.Sprintf("%-*s  %.12s (%s)", width, t.ID, t.Commit, t.NotCommitted))
		case t.Commit != "":
			out = append(out, fmt.Sprintf("%-*s  %.12s", width, t.ID, t.Commit))
		case t.NotCommitted != "":
			out = append(out, fmt.Sprintf("%-*s  not committed: %s", width, t.ID, t.NotCommitted))
		}
	}
	return out
}

// writeSummary writes the run's figures: tasks, time saved, the critical
// path, tokens and cost.
func (r *Report) writeSummary(w io.Writer) {
	p := func(label, format string, args ...any) {
		fmt.Fprintf(w, "  %-20s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "PARALLEL EXECUTION REPORT")
	if len(r.Scope) > 0 {
		p("a run of", "%s (judged by these alone: the other tasks and the final checks were not part of it)", strings.Join(r.Scope, ", "))
	}
	interrupted := ""
	if r.Interrupted > 0 {
		interrupted = fmt.Sprintf(", %d interrupted", r.Interrupted)
	}
	p("tasks executed", "%d of %d (%d up to date, %d failed, %d not run%s)", r.Executed, len(r.Tasks), r.UpToDate, r.Failed, r.NotRun, interrupted)
	p("workers (jobs)", "%d", r.Jobs)
	p("sequential estimate", "%s (the executed tasks' attempts, one after another)", human.Duration(r.Sequential))
	p("actual wall time", "%s", human.Duration(r.Wall))
	saved := r.Sequential - r.Wall
	if r.Sequential > 0 && saved > 0 {
		p("time saved", "%s (%.0f%%)", human.Duration(saved), 100*saved.Seconds()/r.Sequential.Seconds())
	} else {
		p("time saved", "-")
	}
	if len(r.Critical) > 0 && r.CriticalD > 0 {
		p("critical path", "%s (%s)", strings.Join(r.Critical, " -> "), human.Duration(r.CriticalD))
	}
	p("tokens", "%s sent, %s received", human.Tokens(r.TokensSent), human.Tokens(r.TokensRecv))
	p("cost", "%s", human.Cost(r.Cost, r.CostUnknown))
	if c := r.Compare; c != nil {
		p(c.Name+" equivalent", "~%s (saved %s)", human.Money(c.Cost), human.Money(c.Saved))
	}
}

// writeChecks writes the final checks with their outcome.
func (r *Report) writeChecks(w io.Writer) {
	if len(r.Checks) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "FINAL CHECKS")
		nw, sw := 0, 0 // the columns' widths, so that they line up
		for _, c := range r.Checks {
			nw, sw = max(nw, len(c.Name)), max(sw, len(c.Status))
		}
		for _, c := range r.Checks {
			fmt.Fprintf(w, "  %-*s %-*s %s", nw, c.Name, sw, c.Status, human.Clip(c.Command, 60))
			switch c.Status {
			case NotRun:
				fmt.Fprintln(w)
			case Failed:
				fmt.Fprintf(w, " (exit %d, %s)%s%s\n", c.ExitCode, human.Duration(c.Duration), testsText(c), repairText(c))
				if c.Tail != "" {
					fmt.Fprintf(w, "      | %s\n", strings.ReplaceAll(c.Tail, "\n", "\n      | "))
				}
			default:
				fmt.Fprintf(w, " (%s)%s%s\n", human.Duration(c.Duration), testsText(c), repairText(c))
			}
		}
	}
}

// writeProblems writes the failed and interrupted tasks with their
// reasons, and the changes outside the tasks' files.
func (r *Report) writeProblems(w io.Writer) {
	for _, sec := range []struct{ status, title string }{{Failed, "FAILED TASKS"}, {Interrupted, "INTERRUPTED TASKS (they run again next time)"}} {
		first := true
		for _, t := range r.Tasks {
			if t.Status != sec.status {
				continue
			}
			if first {
				fmt.Fprintf(w, "\n%s\n", sec.title)
				first = false
			}
			fmt.Fprintf(w, "  %s: %s\n", t.ID, strings.ReplaceAll(t.Reason, "\n", "\n    "))
		}
	}

	r.writePaths(w, "NOT RECORDED FOR UNDO (paraider diff and revert do not know these changes; their files are in the tree)", "",
		func(t TaskRow) []string {
			if t.NotRecorded == "" {
				return nil
			}
			return []string{t.NotRecorded}
		})
	r.writePaths(w, "CHANGES OUTSIDE THE TASKS' FILES (made in their worktrees, not applied)", "",
		func(t TaskRow) []string {
			if t.InPlace {
				return nil
			}
			return t.Undeclared
		})
	r.writePaths(w, "CHANGED OUTSIDE EVERY TASK'S FILES WHILE A TASK RAN IN PLACE",
		"(isolation: none: by that agent, another one, or someone else; left as they are: check them)",
		func(t TaskRow) []string {
			if !t.InPlace {
				return nil
			}
			return t.Undeclared
		})
	r.writePaths(w, "CHANGED IN THE MAIN TREE, OUTSIDE EVERY TASK'S FILES, WHILE A TASK RAN",
		"(an agent writing by path instead of in its worktree, or someone else: check them)",
		func(t TaskRow) []string { return t.Elsewhere })
}

// testsText is a check's test counts, as a suffix; "" without any.
func repairText(c CheckRow) string {
	if c.Repair == nil {
		return ""
	}
	return "; " + c.RepairText()
}

func testsText(c CheckRow) string {
	if c.Tests == nil {
		return ""
	}
	return " — " + c.Tests.String()
}

// writePaths writes a section listing, per task, the paths paths gives;
// nothing when no task has any.
func (r *Report) writePaths(w io.Writer, title, note string, paths func(TaskRow) []string) {
	first := true
	for _, t := range r.Tasks {
		ps := paths(t)
		if len(ps) == 0 {
			continue
		}
		if first {
			fmt.Fprintf(w, "\n%s\n", title)
			if note != "" {
				fmt.Fprintf(w, "  %s\n", note)
			}
			first = false
		}
		fmt.Fprintf(w, "  %s: %s\n", t.ID, strings.Join(ps, " "))
	}
}
