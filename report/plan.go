package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
)

// WriteNotes writes what validation did that the person should know
// (edges implied by reads, worktrees off outside git), each at its place
// in the plan when it has one.
func WriteNotes(w io.Writer, p *plan.Plan) {
	for _, n := range p.Notes {
		if n.Line == 0 {
			fmt.Fprintf(w, "%s: note: %s\n", p.File, n.Msg)
			continue
		}
		fmt.Fprintf(w, "%s:%d:%d: note: %s\n", p.File, n.Line, n.Col, n.Msg)
	}
}

// WritePlan describes a checked plan, as `paraider validate` prints it:
// its tasks with their agent, model and needs, the final checks with
// their repairs, and its shape (levels, critical path, width) by weights.
func WritePlan(w io.Writer, p *plan.Plan, weights plan.Weight) {
	fmt.Fprintf(w, "%s: ok: %s, %s, jobs %d\n", p.File, human.Count(len(p.Tasks), "task"), human.Count(len(p.Checks), "final check"), p.Jobs)
	fmt.Fprintln(w, "\ntasks:")
	for _, t := range p.Tasks {
		deps := ""
		if len(t.Deps) > 0 {
			deps = " after " + strings.Join(t.Deps, ", ")
		}
		fmt.Fprintf(w, "  %-20s %s %s, timeout %s, retries %d%s\n", t.ID, t.Agent, t.Model, t.Timeout, t.Retries, deps)
	}
	if len(p.Checks) > 0 {
		fmt.Fprintln(w, "\nfinal checks (in this order, after the tasks):")
		for _, c := range p.Checks {
			fmt.Fprintf(w, "  %-20s %s\n", c.Name, human.Clip(c.Command, 60))
			if t := c.Repair; t != nil {
				fmt.Fprintf(w, "  %-20s   when it fails: %s, %s %s, timeout %s, retries %d, %s\n", "", t.ID, t.Agent, t.Model, t.Timeout, t.Retries, human.Count(len(t.Files), "file"))
			}
		}
	}
	writeShape(w, p, p.Shape(weights))
}

// writeShape writes a plan's levels, critical path and width.
func writeShape(w io.Writer, p *plan.Plan, s plan.Shape) {
	fmt.Fprintln(w, "\nlevels (each needs only earlier levels):")
	for i, l := range s.Levels {
		fmt.Fprintf(w, "  %d: %s\n", i+1, strings.Join(l, " "))
	}
	fmt.Fprintf(w, "\ncritical path: %s (%d tasks)\n", strings.Join(s.CriticalPath, " -> "), len(s.CriticalPath))
	at := "exactly"
	if !s.WidthExact {
		at = "at least"
	}
	fmt.Fprintf(w, "most tasks that can run at once: %s %d", at, s.Width)
	if s.Width > p.Jobs {
		fmt.Fprintf(w, " (jobs %d caps it at %d)", p.Jobs, p.Jobs)
	}
	fmt.Fprintln(w)
}
