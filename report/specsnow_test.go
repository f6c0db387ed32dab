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

// specsPlan is a plan with what a spec is made of: two agents (one the
// plan's own), names to redact, a message file, reads written by another
// task and reads that must exist, and a check with a repair.
const specsPlan = `version: 1
jobs: 3
model: openrouter/some/model
redact: [NPM_AUTH]
agents:
  mytool:
    command: mytool run --model {model} {files:--edit} --prompt-file {message_file}
    output: none
tasks:
  - id: a
    files: [src/a.ts]
    read: [docs/spec.md]
    message_file: msgs/a.md
  - id: b
    agent: mytool
    files: [src/b.ts]
    read: [src/a.ts]
    message: write b
  - id: c
    files: [src/c.ts]
    needs: [a]
    message: write c
checks:
  test:
    run: "true"
    repair: true
`

// specsDir is a directory holding specsPlan, its message file and the
// file it reads, and paraider's directory; it returns the plan's path.
func specsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"paraider.yaml": specsPlan, "msgs/a.md": "write a\n", "docs/spec.md": "spec\n"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
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
	if len(first.Order) != 3 || first.ByID["b"].Agent.Name != "mytool" || first.ByID["a"].Message != "write a\n" {
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
		{"the plan edited", func() { write("paraider.yaml", strings.Replace(specsPlan, "write c", "write c again", 1)) }},
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
