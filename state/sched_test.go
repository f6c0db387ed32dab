package state

import (
	"reflect"
	"testing"
)

func TestSchedRoundTrip(t *testing.T) {
	s := &Sched{Jobs: 4, Commit: true, Tasks: []string{"b", "a.x", "c"},
		Prio: map[string]Priority{"b": {Remaining: 12.5, Order: 0}, "a.x": {Remaining: 3, Order: 1}, "c": {Remaining: 1e-9, Order: 2}},
		Deps: map[string][]string{"c": {"a.x", "b"}}}
	got, err := DecodeSched(s.Encode())
	if err != nil || !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip: %+v, %v; want %+v", got, err, s)
	}
	for _, bad := range []string{"", "{}", "# paraider sched v1 jobs=0 commit=false\n", "# paraider sched v1 jobs=2 commit=false\na\t1\n",
		"# paraider sched v1 jobs=2 commit=false\na\tx\t1\t\n", "# paraider sched v2 jobs=2 commit=false\n"} {
		if s, err := DecodeSched([]byte(bad)); err == nil {
			t.Errorf("DecodeSched(%q) = %+v, no error", bad, s)
		}
	}
}
