package gen

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// TestGenFromKeptPlan: a gen that loads the plan it kept writes what a
// gen that parses it writes, byte for byte (the Ninja file, the specs,
// run.json, the ranks), and a change to the plan is parsed again.
func TestGenFromKeptPlan(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../plan/testdata/kept")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "paraider.yaml")
	gen := func() map[string]string {
		t.Helper()
		p, kept, err := Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Generate(p, Options{Exe: exe, Kept: kept}); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{}
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.Contains(path, "/bin/") && !strings.HasSuffix(path, ".lock") {
				b, _ := os.ReadFile(path)
				files[strings.TrimPrefix(path, dir)] = string(b)
			}
			return nil
		})
		return files
	}
	parsed := gen() // no plan kept yet: a parse
	keptFile := filepath.Join(dir, state.PlanKeptPath)
	kept, err := os.ReadFile(keptFile)
	if err != nil {
		t.Fatalf("gen kept no plan: %v", err)
	}
	data, _ := os.ReadFile(file)
	key, _ := plan.Key(file, data)
	if plan.FromKept(file, key, kept) == nil {
		t.Fatal("the kept plan does not hold")
	}
	again := gen() // from the kept plan
	for name, b := range parsed {
		if again[name] != b {
			t.Errorf("%s differs from a parse's gen:\n%s\n---\n%s", name, again[name], b)
		}
	}
	if len(again) != len(parsed) {
		t.Errorf("%d files, a parse's gen wrote %d", len(again), len(parsed))
	}
	var w state.Written
	if err := state.ReadJSON(filepath.Join(dir, state.WrittenPath), &w); err != nil || w[state.PlanKeptPath] != state.SumOf(kept) {
		t.Fatalf("written.json does not record the kept plan: %v %v", w, err)
	}
	// An edit: parsed again, and the new spec written.
	src, _ := os.ReadFile(file)
	os.WriteFile(file, []byte(strings.Replace(string(src), "write b", "write b again", 1)), 0o644)
	edited := gen()
	if !strings.Contains(edited["/.paraider/specs/b.json"], "write b again") {
		t.Fatalf("the edit did not reach b's spec:\n%s", edited["/.paraider/specs/b.json"])
	}
	if edited["/"+state.PlanKeptPath] == string(kept) {
		t.Fatal("the kept plan was not replaced after the edit")
	}
}
