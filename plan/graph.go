package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// graph adds the edges implied by reads, then checks for cycles and for
// unordered writers of one file.
func (d *decoder) graph(p *Plan) {
	// Only tasks that own their id take part; the others were reported.
	var tasks []*Task
	for _, t := range p.Tasks {
		if t.ID != "" && p.byID[t.ID] == t && d.nodes[t] != nil {
			tasks = append(tasks, t)
		}
	}
	writers := map[string][]*Task{}
	for _, t := range tasks {
		for _, f := range t.Files {
			writers[f] = append(writers[f], t)
		}
	}
	implied := map[*Task]map[string]string{} // task -> dep -> why
	for _, t := range tasks {
		deps := map[string]bool{}
		for _, n := range t.Needs {
			if p.byID[n] != nil && n != t.ID {
				deps[n] = true
			}
		}
		for i, r := range t.Read {
			if len(writers[r]) == 0 {
				if _, err := os.Stat(filepath.Join(p.Root, filepath.FromSlash(r))); err != nil {
					rn := d.nodes[t].read[i]
					d.nodeErr(rn, "create it, fix the path (relative to the plan's directory), or add the task that writes it", "task %q reads %s, which does not exist and no task writes", t.ID, r)
				}
			}
			for _, w := range writers[r] {
				if w == t || deps[w.ID] {
					continue
				}
				deps[w.ID] = true
				if implied[t] == nil {
					implied[t] = map[string]string{}
				}
				implied[t][w.ID] = r
				rn := d.nodes[t].read[i]
				p.Notes = append(p.Notes, Note{Line: rn.Line, Col: rn.Column,
					Msg: fmt.Sprintf("task %q reads %s, which task %q writes: it runs after %q", t.ID, r, w.ID, w.ID)})
			}
		}
		t.Deps = make([]string, 0, len(deps))
		for id := range deps {
			t.Deps = append(t.Deps, id)
		}
		sort.Strings(t.Deps)
	}

	if cycle := findCycle(p, tasks); cycle != nil {
		d.cycle(p, cycle, implied)
	}
	d.sameFile(p, writers)
	d.caseFold(tasks)
}

// caseFold reports two declared paths (files or reads, of one task or two)
// that differ only in case: one file on macOS's file system, two on
// Linux's. A plan that validates here must run the same on a Mac, where
// two tasks writing "Src/a.ts" and "src/a.ts" would write one file
// unordered, and a read would miss the task that writes it.
func (d *decoder) caseFold(tasks []*Task) {
	type use struct {
		path, task string
		line       int
	}
	first := map[string]use{} // by lower-case path
	for _, t := range tasks {
		n := d.nodes[t]
		check := func(paths []string, nodes []*yaml.Node) {
			for i, f := range paths {
				key := strings.ToLower(f)
				prev, seen := first[key]
				if !seen {
					first[key] = use{f, t.ID, nodes[i].Line}
					continue
				}
				if prev.path != f {
					d.nodeErr(nodes[i], fmt.Sprintf("task %q names %s at line %d; macOS (and Windows) ignore case in file names, so these are one file there: spell it one way", prev.task, prev.path, prev.line),
						"task %q names %s, which differs from %s only in case", t.ID, f, prev.path)
				}
			}
		}
		check(t.Files, n.files)
		check(t.Read, n.read)
	}
}

// cycle reports a dependency cycle at the edge that closes it, with the
// reads that implied its edges.
func (d *decoder) cycle(p *Plan, cycle []string, implied map[*Task]map[string]string) {
	// Point at the edge that closes the cycle.
	from, to := p.byID[cycle[len(cycle)-2]], cycle[len(cycle)-1]
	line, col := from.line, from.col
	for i, n := range from.Needs {
		if n == to {
			line, col = d.nodes[from].needs[i].Line, d.nodes[from].needs[i].Column
		}
	}
	var why []string
	for i := 0; i+1 < len(cycle); i++ {
		if r, ok := implied[p.byID[cycle[i]]][cycle[i+1]]; ok {
			why = append(why, fmt.Sprintf("%s reads %s, which %s writes", cycle[i], r, cycle[i+1]))
		}
	}
	hint := "remove one of these needs"
	if len(why) > 0 {
		hint = "a task runs after every task that writes a file it reads (" + strings.Join(why, "; ") + "); remove a need or a read"
	}
	d.errorf(line, col, hint, "dependency cycle: %s", strings.Join(cycle, " -> "))
}

// sameFile reports two tasks that may write the same file while neither
// runs after the other.
func (d *decoder) sameFile(p *Plan, writers map[string][]*Task) {
	reach := newReach(p)
	files := make([]string, 0, len(writers))
	for f := range writers {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, f := range files {
		ws := writers[f]
		for i := 0; i < len(ws); i++ {
			for j := i + 1; j < len(ws); j++ {
				a, b := ws[i], ws[j]
				if reach.before(a, b) || reach.before(b, a) {
					continue
				}
				n := d.nodes[b]
				line, col := b.line, b.col
				for k, ff := range b.Files {
					if ff == f {
						line, col = n.files[k].Line, n.files[k].Column
					}
				}
				d.errorf(line, col, fmt.Sprintf("order them with `needs: [%s]` on %q, or give the file to one task", a.ID, b.ID),
					"tasks %q and %q may both write %s at the same time", a.ID, b.ID, f)
			}
		}
	}
}

// findCycle returns a cycle as a path of ids whose first and last are the
// same, or nil. It follows edges from a task to the tasks it depends on.
func findCycle(p *Plan, tasks []*Task) []string {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var found []string
	var visit func(id string) bool
	visit = func(id string) bool {
		color[id] = grey
		stack = append(stack, id)
		for _, dep := range p.byID[id].Deps {
			switch color[dep] {
			case grey:
				for i, s := range stack {
					if s == dep {
						found = append(append([]string(nil), stack[i:]...), dep)
					}
				}
				return true
			case white:
				if visit(dep) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[id] = black
		return false
	}
	for _, t := range tasks {
		if color[t.ID] == white && visit(t.ID) {
			return found
		}
	}
	return nil
}

// reach answers "must a finish before b starts?" over the whole graph.
type reach struct {
	p    *Plan
	memo map[[2]*Task]bool
}

func newReach(p *Plan) *reach { return &reach{p: p, memo: map[[2]*Task]bool{}} }

// before reports whether b depends, directly or not, on a.
func (r *reach) before(a, b *Task) bool {
	key := [2]*Task{a, b}
	if v, ok := r.memo[key]; ok {
		return v
	}
	seen := map[string]bool{}
	var walk func(t *Task) bool
	walk = func(t *Task) bool {
		for _, dep := range t.Deps {
			if dep == a.ID {
				return true
			}
			if !seen[dep] {
				seen[dep] = true
				if walk(r.p.byID[dep]) {
					return true
				}
			}
		}
		return false
	}
	v := walk(b)
	r.memo[key] = v
	return v
}
