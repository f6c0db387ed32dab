package state

import (
	"reflect"
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
