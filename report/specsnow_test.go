package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paraider/paraider/plan"
)

// specsDir is a copy of plan/testdata/kept (a plan with what a spec is
// made of, its message file and a file it reads), with paraider's
// directory; it returns the plan's path.
func specsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../plan/testdata/kept")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".paraider"), 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "paraider.yaml")
}

// parsed are the specs of the plan in file from a parse, no cache.
func parsed(t *testing.T, file string) *Specs {
	t.Helper()
	p, err := plan.Load(file)
	if err != nil {
		return nil
	}
	return SpecsOf(p)
}

// sameSpecs fails the test unless got and want are the same specs, to the
// hash exec judges by.
func sameSpecs(t *testing.T, got, want *Specs) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("specs: got %v, want %v", got, want)
	}
	if got == nil {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("specs from the cache differ from a parse's:\ngot  %+v\nwant %+v", got, want)
	}
	for id, s := range want.ByID {
		if got.ByID[id].Hash() != s.Hash() || got.ByID[id].WorkHash() != s.WorkHash() {
			t.Fatalf("%s: hashes differ", id)
		}
	}
}

// TestSpecsNowCached: a status's specs come from the cache once the plan
// was read, and are a parse's specs whatever changed since: the plan, a
// message file, the disk its checks looked at, the repository around it.
func TestSpecsNowCached(t *testing.T) {
	file := specsDir(t)
	dir := filepath.Dir(file)
	cache := filepath.Join(dir, specsNowPath)
	first := SpecsNow(file)
	sameSpecs(t, first, parsed(t, file))
	if len(first.Order) != 4 || first.ByID["b"].Agent.Name != "mytool" || first.ByID["a"].Message != "write a\n" {
		t.Fatalf("unexpected specs: %+v", first)
	}
	// The cache is used: a mark put in it shows in the next specs.
	b, err := os.ReadFile(cache)
	if err != nil {
		t.Fatal(err)
	}
	marked := strings.Replace(string(b), `"message":"write c"`, `"message":"from the cache"`, 1)
	if marked == string(b) {
		t.Fatalf("no spec of c in the cache:\n%s", b)
	}
	if err := os.WriteFile(cache, []byte(marked), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := SpecsNow(file).ByID["c"].Message; got != "from the cache" {
		t.Fatalf("c's message %q: the cache was not read", got)
	}
	os.WriteFile(cache, b, 0o644)
	sameSpecs(t, SpecsNow(file), first)

	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		change func()
	}{
		{"the plan edited", func() {
			src, _ := os.ReadFile(file)
			write("paraider.yaml", strings.Replace(string(src), "write c", "write c again", 1))
		}},
		{"a message file edited", func() { write("msgs/a.md", "write a, better\n") }},
		{"the cache damaged", func() { write(".paraider/status-specs", string(b[:len(b)/2])) }},
		{"a task's file made a directory", func() { os.MkdirAll(filepath.Join(dir, "src/c.ts"), 0o755) }},
		{"a directory of the tasks' files made a link out", func() {
			os.RemoveAll(filepath.Join(dir, "src"))
			os.Symlink(t.TempDir(), filepath.Join(dir, "src"))
		}},
		{"the link gone", func() { os.Remove(filepath.Join(dir, "src")) }},
		{"a read that no task writes removed", func() { os.Remove(filepath.Join(dir, "docs/spec.md")) }},
		{"it put back", func() { write("docs/spec.md", "spec\n") }},
		{"a git repository made around the plan (worktrees by default)", func() {
			if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
				t.Fatalf("git init: %v: %s", err, out)
			}
		}},
		{"nothing", func() {}},
	}
	for _, step := range steps {
		step.change()
		want := parsed(t, file)
		// Twice: the first may work the specs out and keep them, the
		// second reads them from the cache.
		sameSpecs(t, SpecsNow(file), want)
		sameSpecs(t, SpecsNow(file), want)
		if want != nil {
			if _, err := os.Stat(cache); err != nil {
				t.Fatalf("after %s: no cache: %v", step.name, err)
			}
		}
	}
	if iso := SpecsNow(file).ByID["a"].Isolation; iso != "worktree" {
		t.Fatalf("isolation in a repository %q, want worktree", iso)
	}
}
