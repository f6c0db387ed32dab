package state

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// SchedPath holds what every paraider exec needs of the whole plan to
// take its place and hand it on: the places (jobs), whether a success is
// a commit, and each task's rank and needs. One line per task, read
// without a JSON decoder: an exec of a 10,000-task plan spent 36 ms
// decoding run.json and priority.json, of which it needs these few
// facts. Not an input of any edge: new ranks rerun nothing.
const SchedPath = Dir + "/sched"

// Sched is the content of SchedPath.
type Sched struct {
	Jobs   int
	Commit bool
	Tasks  []string            // in the order gen ranked them
	Prio   map[string]Priority // by task
	Deps   map[string][]string // by task
}

const schedHeader = "# paraider sched v1"

// Encode writes s: a header with the run-wide facts, then per task
// "ID<TAB>REMAINING<TAB>ORDER<TAB>DEP,DEP". Task ids hold no tab, comma or
// newline (the plan checks them).
func (s *Sched) Encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s jobs=%d commit=%t\n", schedHeader, s.Jobs, s.Commit)
	for _, id := range s.Tasks {
		p := s.Prio[id]
		fmt.Fprintf(&b, "%s\t%s\t%d\t%s\n", id, strconv.FormatFloat(p.Remaining, 'g', -1, 64), p.Order, strings.Join(s.Deps[id], ","))
	}
	return b.Bytes()
}

// SchedView is a schedule as an exec reads it: the run-wide facts at
// once, a task's line only when asked for. An exec needs its own rank,
// those of the few tasks waiting beside it and the tasks that need it;
// parsing every line of a 10,000-task plan into maps was 5 ms of each
// exec's 30 (it grew with the plan; this does not, but for a search of
// the text).
type SchedView struct {
	Jobs   int
	Commit bool
	text   string // "\n" and the task lines, each ended by "\n"
	ranks  map[string]Priority
	// lines indexes the text's lines by task, once searched has grown
	// past searchesBeforeIndex.
	lines    map[string]int
	searched int
}

// DecodeSched reads what Encode wrote: the header now, the lines when
// asked for (a line that is not what Encode writes reads as no rank).
func DecodeSched(data []byte) (*SchedView, error) {
	text := string(data)
	head, rest, _ := strings.Cut(text, "\n")
	f := strings.Fields(strings.TrimPrefix(head, schedHeader))
	if !strings.HasPrefix(head, schedHeader+" ") || len(f) != 2 {
		return nil, fmt.Errorf("not a schedule: %.40q", head)
	}
	jobs, err1 := strconv.Atoi(strings.TrimPrefix(f[0], "jobs="))
	commit, err2 := strconv.ParseBool(strings.TrimPrefix(f[1], "commit="))
	if err1 != nil || err2 != nil || jobs < 1 {
		return nil, fmt.Errorf("a schedule's header %q: want jobs=N commit=BOOL", head)
	}
	if rest != "" && !strings.HasSuffix(rest, "\n") {
		rest += "\n"
	}
	return &SchedView{Jobs: jobs, Commit: commit, text: "\n" + rest, ranks: map[string]Priority{}}, nil
}

// schedLine splits a task's line: id, rank, order and needs.
func schedLine(line string) (id string, p Priority, deps string, ok bool) {
	var c [4]string
	var found [3]bool
	c[0], line, found[0] = strings.Cut(line, "\t")
	c[1], line, found[1] = strings.Cut(line, "\t")
	c[2], c[3], found[2] = strings.Cut(line, "\t")
	if !found[0] || !found[1] || !found[2] || c[0] == "" || strings.Contains(c[3], "\t") {
		return "", Priority{}, "", false
	}
	rem, err1 := strconv.ParseFloat(c[1], 64)
	order, err2 := strconv.Atoi(c[2])
	if err1 != nil || err2 != nil {
		return "", Priority{}, "", false
	}
	return c[0], Priority{Remaining: rem, Order: order}, c[3], true
}

// Rank is task's rank; false when gen did not rank it.
func (v *SchedView) Rank(task string) (Priority, bool) {
	if p, ok := v.ranks[task]; ok {
		return p, true
	}
	if v.lines != nil {
		return v.rankAt(v.lines[task])
	}
	// A few tasks are found by a search of the text; past that, the
	// lines are indexed once (a task waiting for a place ranks every
	// task in the queue and on its way, each wake-up).
	if v.searched++; v.searched > searchesBeforeIndex {
		v.lines = make(map[string]int, v.Len())
		for i := 0; i < len(v.text)-1; {
			line := v.text[i+1:]
			end := strings.IndexByte(line, '\n')
			if id, _, ok := strings.Cut(line[:end], "\t"); ok {
				if _, dup := v.lines[id]; !dup {
					v.lines[id] = i + 1
				}
			}
			i += end + 1
		}
		return v.rankAt(v.lines[task])
	}
	i := strings.Index(v.text, "\n"+task+"\t")
	if i < 0 {
		return Priority{}, false
	}
	return v.rankAt(i + 1)
}

// searchesBeforeIndex is how many tasks Rank finds by a search of the
// text before it indexes the lines.
const searchesBeforeIndex = 16

// rankAt is the rank on the line at offset at of the text (0: none, the
// text's first byte being the "\n" before the first line).
func (v *SchedView) rankAt(at int) (Priority, bool) {
	if at == 0 {
		return Priority{}, false
	}
	line := v.text[at:]
	line = line[:strings.IndexByte(line, '\n')]
	id, p, _, ok := schedLine(line)
	if ok {
		v.ranks[id] = p
	}
	return p, ok
}

// Len is how many tasks the schedule holds.
func (v *SchedView) Len() int { return strings.Count(v.text, "\n") - 1 }

// Tasks lists the tasks, in the order gen ranked them.
func (v *SchedView) Tasks() []string {
	out := make([]string, 0, v.Len())
	for line := range strings.Lines(v.text[1:]) {
		if id, _, ok := strings.Cut(line, "\t"); ok && id != "" {
			out = append(out, id)
		}
	}
	return out
}

// Dependents lists the tasks that need task, each with all it needs.
func (v *SchedView) Dependents(task string) map[string][]string {
	out := map[string][]string{}
	for line := range strings.Lines(v.text[1:]) {
		if !strings.Contains(line, task) {
			continue // the cheap test first: most lines do not name it
		}
		id, _, deps, ok := schedLine(strings.TrimSuffix(line, "\n"))
		if !ok || deps == "" {
			continue
		}
		if needs := strings.Split(deps, ","); slices.Contains(needs, task) {
			out[id] = needs
		}
	}
	return out
}

// Sched reads the schedule gen wrote. Where there is none (state of an
// older paraider that no gen has rewritten yet), it is made from run.json,
// without ranks: every task ranks alike.
func (l Layout) Sched() *SchedView {
	if b, err := ReadOwn(l.Path(SchedPath), MaxOwnFile); err == nil {
		if s, err := DecodeSched(b); err == nil {
			return s
		}
	}
	var run Run
	ReadJSON(l.Path(RunPath), &run)
	old := &Sched{Jobs: max(run.Jobs, 1), Commit: run.Commit, Tasks: run.Tasks, Prio: map[string]Priority{}, Deps: run.Deps}
	v, _ := DecodeSched(old.Encode())
	return v
}
