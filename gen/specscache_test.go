package gen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// TestSpecsCache: a gen that changed nothing writes no spec, the specs
// are the bytes json.MarshalIndent writes, and a spec changed on disk
// (another size, or only another time) is compared and put back, cache or
// not.
func TestSpecsCache(t *testing.T) {
	dir := t.TempDir()
	path := scalePlan(t, dir, 20)
	exe := filepath.Join(dir, "paraider-bin")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	gen := func() (*plan.Plan, *Summary) {
		t.Helper()
		p, err := plan.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := Generate(p, Options{Exe: exe})
		if err != nil {
			t.Fatal(err)
		}
		return p, sum
	}
	p, first := gen()
	if len(first.SpecsWritten) != 20 {
		t.Fatalf("first gen wrote %d specs; want 20", len(first.SpecsWritten))
	}
	if _, again := gen(); len(again.SpecsWritten) != 0 {
		t.Fatalf("gen again wrote %v; want none", again.SpecsWritten)
	}
	spec := filepath.Join(dir, state.SpecPath("t00003"))
	want, err := json.MarshalIndent(specWith(p, p.Task("t00003"), mustProfile(t, p, p.Task("t00003").Agent)), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(spec)
	if err != nil || string(got) != string(want)+"\n" {
		t.Fatalf("spec on disk:\n%s\nwant json.MarshalIndent's:\n%s", got, want)
	}
	// Changed content: put back.
	if err := os.WriteFile(spec, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, s := gen(); !slices.Equal(s.SpecsWritten, []string{"t00003"}) {
		t.Fatalf("after a spec was changed, gen wrote %v; want [t00003]", s.SpecsWritten)
	}
	if got, _ := os.ReadFile(spec); string(got) != string(want)+"\n" {
		t.Fatalf("spec not put back:\n%s", got)
	}
	// Same size, another time (content swapped for bytes of the same
	// length): compared, and put back.
	bad := []byte(string(want) + "\n")
	bad[len(bad)-2] = ' '
	if err := os.WriteFile(spec, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(time.Hour)
	os.Chtimes(spec, future, future)
	if _, s := gen(); !slices.Equal(s.SpecsWritten, []string{"t00003"}) {
		t.Fatalf("after a spec of the same size was changed, gen wrote %v; want [t00003]", s.SpecsWritten)
	}
}

func mustProfile(t *testing.T, p *plan.Plan, name string) *agent.Profile {
	t.Helper()
	prof, err := Profile(p, name)
	if err != nil {
		t.Fatal(err)
	}
	return prof
}
