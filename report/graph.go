package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/paraider/paraider/plan"
)

// GraphFormats are the formats WriteGraph knows.
var GraphFormats = []string{"dot", "mermaid"}

// WriteGraph draws the plan's tasks and their dependencies, the critical
// path (by w) marked: Graphviz dot, or a Mermaid flowchart for Markdown.
// Edges implied by reads are dashed.
func WriteGraph(out io.Writer, p *plan.Plan, w plan.Weight, format string) error {
	shape := p.Shape(w)
	g := drawing{p: p, critical: shape.CriticalPath, onPath: map[string]bool{}, pathEdge: map[[2]string]bool{}}
	for i, id := range shape.CriticalPath {
		g.onPath[id] = true
		if i > 0 {
			g.pathEdge[[2]string{shape.CriticalPath[i-1], id}] = true
		}
	}
	switch format {
	case "dot":
		g.dot(out)
	case "mermaid":
		g.mermaid(out)
	default:
		return fmt.Errorf("unknown graph format %q (known: %s)", format, strings.Join(GraphFormats, ", "))
	}
	return nil
}

// drawing is a plan with its critical path marked, to be drawn.
type drawing struct {
	p        *plan.Plan
	critical []string
	onPath   map[string]bool
	pathEdge map[[2]string]bool
}

// implied reports whether t runs after dep only because it reads a file
// dep writes.
func implied(t *plan.Task, dep string) bool { return !slices.Contains(t.Needs, dep) }

func (g *drawing) dot(out io.Writer) {
	fmt.Fprintln(out, "digraph paraider {")
	fmt.Fprintln(out, "  rankdir=LR;")
	fmt.Fprintln(out, `  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];`)
	for _, t := range g.p.Tasks {
		attrs := "label=" + dotQuote(t.ID+"\n"+strings.Join(t.Files, "\n"))
		if g.onPath[t.ID] {
			attrs += `, color=red, penwidth=2, fillcolor="#ffe5e5"`
		}
		fmt.Fprintf(out, "  %s [%s];\n", dotQuote(t.ID), attrs)
	}
	for _, t := range g.p.Tasks {
		for _, d := range t.Deps {
			var attrs []string
			if g.pathEdge[[2]string{d, t.ID}] {
				attrs = append(attrs, "color=red", "penwidth=2")
			}
			if implied(t, d) {
				attrs = append(attrs, "style=dashed", `label="reads"`)
			}
			a := ""
			if len(attrs) > 0 {
				a = " [" + strings.Join(attrs, ", ") + "]"
			}
			fmt.Fprintf(out, "  %s -> %s%s;\n", dotQuote(d), dotQuote(t.ID), a)
		}
	}
	fmt.Fprintln(out, "}")
}

func (g *drawing) mermaid(out io.Writer) {
	// Mermaid ids may not hold every character a task id can: number them.
	node := map[string]string{}
	fmt.Fprintln(out, "flowchart LR")
	for i, t := range g.p.Tasks {
		node[t.ID] = fmt.Sprintf("t%d", i)
		fmt.Fprintf(out, "  %s[\"%s\"]\n", node[t.ID], strings.ReplaceAll(t.ID, `"`, "#quot;"))
	}
	link := 0
	var red []string
	for _, t := range g.p.Tasks {
		for _, d := range t.Deps {
			arrow := "-->"
			if implied(t, d) {
				arrow = "-.->|reads|"
			}
			fmt.Fprintf(out, "  %s %s %s\n", node[d], arrow, node[t.ID])
			if g.pathEdge[[2]string{d, t.ID}] {
				red = append(red, fmt.Sprint(link))
			}
			link++
		}
	}
	fmt.Fprintln(out, "  classDef critical stroke:#d00,stroke-width:3px,fill:#ffe5e5")
	var crit []string
	for _, id := range g.critical {
		crit = append(crit, node[id])
	}
	if len(crit) > 0 {
		fmt.Fprintf(out, "  class %s critical\n", strings.Join(crit, ","))
	}
	if len(red) > 0 {
		fmt.Fprintf(out, "  linkStyle %s stroke:#d00,stroke-width:3px\n", strings.Join(red, ","))
	}
}

// dotQuote writes s as a Graphviz quoted string.
func dotQuote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
