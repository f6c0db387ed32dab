package state

import (
	"bytes"
	"fmt"
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

// DecodeSched reads what Encode wrote; an error when it is not that.
func DecodeSched(data []byte) (*Sched, error) {
	text := string(data)
	head, rest, _ := strings.Cut(text, "\n")
	f := strings.Fields(strings.TrimPrefix(head, schedHeader))
	if !strings.HasPrefix(head, schedHeader+" ") || len(f) != 2 {
		return nil, fmt.Errorf("not a schedule: %.40q", head)
	}
	// Sized at once: growing maps of ten thousand tasks was most of the
	// cost of reading this.
	n := strings.Count(rest, "\n") + 1
	s := &Sched{Tasks: make([]string, 0, n), Prio: make(map[string]Priority, n), Deps: make(map[string][]string, n)}
	jobs, err1 := strconv.Atoi(strings.TrimPrefix(f[0], "jobs="))
	commit, err2 := strconv.ParseBool(strings.TrimPrefix(f[1], "commit="))
	if err1 != nil || err2 != nil || jobs < 1 {
		return nil, fmt.Errorf("a schedule's header %q: want jobs=N commit=BOOL", head)
	}
	s.Jobs, s.Commit = jobs, commit
	for n := 2; rest != ""; n++ {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		var c [4]string
		var ok [3]bool
		c[0], line, ok[0] = strings.Cut(line, "\t")
		c[1], line, ok[1] = strings.Cut(line, "\t")
		c[2], c[3], ok[2] = strings.Cut(line, "\t")
		if !ok[0] || !ok[1] || !ok[2] || c[0] == "" || strings.Contains(c[3], "\t") {
			return nil, fmt.Errorf("a schedule's line %d: want 4 fields", n)
		}
		rem, err1 := strconv.ParseFloat(c[1], 64)
		order, err2 := strconv.Atoi(c[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("a schedule's line %d: rank %q, order %q", n, c[1], c[2])
		}
		s.Tasks = append(s.Tasks, c[0])
		s.Prio[c[0]] = Priority{Remaining: rem, Order: order}
		if c[3] != "" {
			s.Deps[c[0]] = strings.Split(c[3], ",")
		}
	}
	return s, nil
}

// Sched reads the schedule gen wrote. Where there is none (state of an
// older paraider that no gen has rewritten yet), it is made from run.json,
// without ranks: every task ranks alike.
func (l Layout) Sched() *Sched {
	if b, err := ReadOwn(l.Path(SchedPath), MaxOwnFile); err == nil {
		if s, err := DecodeSched(b); err == nil {
			return s
		}
	}
	var run Run
	ReadJSON(l.Path(RunPath), &run)
	return &Sched{Jobs: max(run.Jobs, 1), Commit: run.Commit, Tasks: run.Tasks, Prio: map[string]Priority{}, Deps: run.Deps}
}
