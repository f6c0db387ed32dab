package gen

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestNinjaGolden pins the whole Ninja file of the auth example, byte for
// byte, as gen writes it on a two-core machine (Ninja's own -j 3, below the
// 7 the plan needs: the default edge runs Ninja again) and on a larger
// one; run with -update after a deliberate change.
func TestNinjaGolden(t *testing.T) {
	p, err := plan.Load(filepath.Join("..", "examples", "auth", "paraider.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func() int) { defaultJobs = f }(defaultJobs)
	defaultJobs = func() int { return 3 }
	golden(t, Ninja(p, "build.ninja", nil), "auth.ninja")
	defaultJobs = func() int { return 10 }
	golden(t, Ninja(p, "build.ninja", nil), "auth-8-cores.ninja")
}

func golden(t *testing.T, got, name string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Ninja file differs from %s (run go test ./gen -update to accept):\n%s", golden, got)
	}
}

// TestCriticalPathFirst: the longest chain's head is written before
// independent short tasks, whatever their order in the plan.
func TestCriticalPathFirst(t *testing.T) {
	src := `version: 1
model: m
tasks:
  - {id: short1, files: [s1], message: m}
  - {id: short2, files: [s2], message: m}
  - {id: head, files: [h], message: m}
  - {id: mid, files: [m], needs: [head], message: m}
  - {id: tail, files: [t], needs: [mid], message: m}
`
	p, err := plan.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := Ninja(p, "build.ninja", nil)
	order := edgeOrder(got)
	want := []string{"head", "mid", "short1", "short2", "tail"} // remaining chains 3, 2, 1, 1, 1
	if len(order) != len(want) {
		t.Fatalf("edges %v; want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("edges %v; want %v", order, want)
		}
	}
}

func edgeOrder(ninja string) []string {
	var ids []string
	for _, line := range splitLines(ninja) {
		if len(line) > len("  id = ") && line[:7] == "  id = " {
			ids = append(ids, line[7:])
		}
	}
	return ids
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range s {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

// With recorded durations, the chain that takes longest goes first, even
// when another chain has more tasks; without history every task weighs the
// same.
func TestCriticalPathByRecordedDurations(t *testing.T) {
	root := t.TempDir()
	src := `version: 1
model: m
tasks:
  - {id: quick1, files: [q1], message: m}
  - {id: quick2, files: [q2], needs: [quick1], message: m}
  - {id: quick3, files: [q3], needs: [quick2], message: m}
  - {id: slow1, files: [s1], message: m}
  - {id: slow2, files: [s2], needs: [slow1], message: m}
`
	p, err := plan.Parse(filepath.Join(root, "paraider.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	order := func() []string {
		return edgeOrder(Ninja(p, "build.ninja", Weights(root, p)))
	}
	if got := order(); got[0] != "quick1" {
		t.Errorf("without history: %v; want the three-task chain first", got)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The quick ones waited long for a place (Ninja started them with the
	// others): that wait is not their weight.
	for id, d := range map[string]time.Duration{"quick1": time.Second, "quick2": time.Second, "quick3": time.Second,
		"slow1": 5 * time.Minute, "slow2": 5 * time.Minute} {
		waited := time.Duration(0)
		if strings.HasPrefix(id, "quick") {
			waited = time.Hour
		}
		start := t0.Add(waited)
		r := state.Result{Task: id, Status: state.StatusOK, Started: t0, Finished: start.Add(d),
			Attempts: []state.Attempt{{N: 1, Start: start, End: start.Add(d)}}}
		if err := state.WriteJSON(filepath.Join(root, state.ResultPath(id)), r); err != nil {
			t.Fatal(err)
		}
	}
	if got := order(); got[0] != "slow1" || got[1] != "slow2" {
		t.Errorf("with history: %v; want slow1, slow2 first (the quick ones' wait for a place is not their weight)", got)
	}
	// A reset of every task (`paraider reset --all`) removes the results
	// and keeps the durations: the order stays.
	lay := state.Layout{Root: root}
	ids := []string{"quick1", "quick2", "quick3", "slow1", "slow2"}
	if err := lay.KeepDurations(ids); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		os.Remove(filepath.Join(root, state.ResultPath(id)))
	}
	if got := order(); got[0] != "slow1" || got[1] != "slow2" {
		t.Errorf("after a reset: %v; want slow1, slow2 first still (the durations are kept)", got)
	}
	if d := lay.Durations(); d["slow1"] != 300 || d["quick1"] != 1 {
		t.Errorf("kept durations %v; want slow1 300 s, quick1 1 s (working time, not the wait)", d)
	}
}

// Estimates in the plan order a first run; recorded durations win later.
func TestCriticalPathByEstimates(t *testing.T) {
	root := t.TempDir()
	src := `version: 1
model: m
tasks:
  - {id: quick1, files: [q1], message: m, estimate: 10s}
  - {id: quick2, files: [q2], needs: [quick1], message: m, estimate: 10s}
  - {id: quick3, files: [q3], needs: [quick2], message: m, estimate: 10s}
  - {id: slow1, files: [s1], message: m, estimate: 20m}
  - {id: slow2, files: [s2], needs: [slow1], message: m}
`
	p, err := plan.Parse(filepath.Join(root, "paraider.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := Ninja(p, "build.ninja", Weights(root, p))
	if order := edgeOrder(got); order[0] != "slow1" {
		t.Errorf("with estimates: %v; want slow1 first", order)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := state.Result{Task: "slow1", Status: state.StatusOK, Started: t0, Finished: t0.Add(time.Second),
		Attempts: []state.Attempt{{N: 1, Start: t0, End: t0.Add(time.Second)}}}
	if err := state.WriteJSON(filepath.Join(root, state.ResultPath("slow1")), r); err != nil {
		t.Fatal(err)
	}
	got = Ninja(p, "build.ninja", Weights(root, p))
	if order := edgeOrder(got); order[0] != "quick1" {
		t.Errorf("with slow1's recorded 1s: %v; want quick1 first", order)
	}
}
