package proc

import "testing"

func TestParseStat(t *testing.T) {
	line := "42 (a (b) c) S 7 42 42 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 1000 10 0 0 0"
	p, err := parseStat(42, line)
	if err != nil || p != (Info{PID: 42, PPID: 7, PGID: 42, Start: "98765", Comm: "a (b) c"}) {
		t.Fatalf("parseStat = %+v, %v", p, err)
	}
	z, err := parseStat(43, "43 (x) Z 1 43 43 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0")
	if err != nil || !z.Zombie {
		t.Fatalf("parseStat of a zombie = %+v, %v", z, err)
	}
	for _, bad := range []string{"", "1 x S 1 1", "1 (x) S 1 1 1", "1 (x) S p g 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"} {
		if p, err := parseStat(1, bad); err == nil {
			t.Errorf("parseStat(%q) = %+v, no error", bad, p)
		}
	}
}
