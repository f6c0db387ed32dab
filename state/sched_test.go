package state

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func TestSchedRoundTrip(t *testing.T) {
	s := &Sched{Jobs: 4, Commit: true, Tasks: []string{"b", "a.x", "c"},
		Prio: map[string]Priority{"b": {Remaining: 12.5, Order: 0}, "a.x": {Remaining: 3, Order: 1}, "c": {Remaining: 1e-9, Order: 2}},
		Deps: map[string][]string{"c": {"a.x", "b"}}}
	v, err := DecodeSched(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if v.Jobs != 4 || !v.Commit || v.Len() != 3 || !reflect.DeepEqual(v.Tasks(), s.Tasks) {
		t.Fatalf("round trip: jobs %d, commit %t, %d tasks %v; want 4, true, %v", v.Jobs, v.Commit, v.Len(), v.Tasks(), s.Tasks)
	}
	for _, id := range s.Tasks {
		if p, ok := v.Rank(id); !ok || p != s.Prio[id] {
			t.Errorf("Rank(%s) = %+v, %t; want %+v", id, p, ok, s.Prio[id])
		}
	}
	// "a" is a prefix of "a.x" and "x" a suffix: neither is a task.
	for _, id := range []string{"a", "x", "d"} {
		if p, ok := v.Rank(id); ok {
			t.Errorf("Rank(%s) = %+v; want no rank", id, p)
		}
	}
	if got := v.Dependents("a.x"); !reflect.DeepEqual(got, map[string][]string{"c": {"a.x", "b"}}) {
		t.Errorf("Dependents(a.x) = %v; want c", got)
	}
	if got := v.Dependents("a"); len(got) != 0 {
		t.Errorf("Dependents(a) = %v; want none (a.x is another task)", got)
	}
	for _, bad := range []string{"", "{}", "# paraider sched v1 jobs=0 commit=false\n", "# paraider sched v2 jobs=2 commit=false\n"} {
		if s, err := DecodeSched([]byte(bad)); err == nil {
			t.Errorf("DecodeSched(%q) = %+v, no error", bad, s)
		}
	}
	// A line that is not what Encode writes is no rank.
	for _, bad := range []string{"# paraider sched v1 jobs=2 commit=false\na\t1\n", "# paraider sched v1 jobs=2 commit=false\na\tx\t1\t\n"} {
		v, err := DecodeSched([]byte(bad))
		if err != nil {
			t.Fatalf("DecodeSched(%q): %v", bad, err)
		}
		if p, ok := v.Rank("a"); ok {
			t.Errorf("Rank(a) of %q = %+v; want none", bad, p)
		}
	}
}

// Rank answers the same once it has indexed the lines (past a few
// searches) as by a search: every task's rank, none for a prefix or a
// suffix of one, the first line of a task listed twice.
func TestSchedRankIndexed(t *testing.T) {
	s := &Sched{Jobs: 2, Prio: map[string]Priority{}}
	for i := 0; i < 3*searchesBeforeIndex; i++ {
		id := fmt.Sprintf("t%d.x", i)
		s.Tasks = append(s.Tasks, id)
		s.Prio[id] = Priority{Remaining: float64(i) / 3, Order: i}
	}
	text := append(s.Encode(), "t5.x\t99\t99\t\n"...) // a second line for t5.x
	v, err := DecodeSched(text)
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		for _, id := range append(slices.Clone(s.Tasks), "t1", "1.x", "x", "") {
			want, wantOK := s.Prio[id]
			if p, ok := v.Rank(id); ok != wantOK || p != want {
				t.Errorf("round %d, Rank(%q) = %+v, %t; want %+v, %t", round, id, p, ok, want, wantOK)
			}
		}
		if v.lines == nil {
			t.Fatalf("round %d: %d tasks ranked and no index", round, len(s.Tasks))
		}
		v.ranks = map[string]Priority{} // the index alone answers now
	}
}
