package planner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/plan"
)

// TestCombine: the new tasks go after the plan's own, whose bytes stay as
// they were, also with keys after the task list and comments.
func TestCombine(t *testing.T) {
	base := "version: 1\nmodel: m\ntasks:\n  # the first\n  - id: a\n    files: [a.txt]\n    message: >-\n      write a\n\n  - {id: b, files: [b.txt], message: b}   # flow\n\n# final checks\nchecks:\n  t: test -s a.txt\n"
	draft := "tasks:\n  - id: c\n    files: [c.txt]\n    needs: [a]\n    message: write c\n"
	got, err := Combine([]byte(base), []byte(draft))
	if err != nil {
		t.Fatal(err)
	}
	want := "version: 1\nmodel: m\ntasks:\n  # the first\n  - id: a\n    files: [a.txt]\n    message: >-\n      write a\n\n  - {id: b, files: [b.txt], message: b}   # flow\n  - id: c\n    files: [c.txt]\n    needs: [a]\n    message: write c\n\n# final checks\nchecks:\n  t: test -s a.txt\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	var v struct {
		Tasks []struct{ ID string } `yaml:"tasks"`
	}
	if err := yaml.Unmarshal(got, &v); err != nil || len(v.Tasks) != 3 {
		t.Errorf("combined plan reads as %v, %v", v, err)
	}
	if !strings.HasPrefix(string(got), base[:strings.Index(base, "\n# final")]) {
		t.Errorf("the plan's own bytes changed")
	}
	if _, err := Combine([]byte(base), []byte("version: 1\n")); err == nil {
		t.Errorf("a draft without tasks was taken")
	}
}

// Combine works for every layout of a block task list: the dash at column
// 1 with the item at 5 (PyYAML's indent=4), items on the dash's next
// line, comments between items, flow-style items.
func TestCombineLayouts(t *testing.T) {
	draft := "tasks:\n  - {id: new, files: [n.txt], message: n}\n"
	for name, base := range map[string]string{
		"dash at column 1, indent 4": "version: 1\nmodel: m\ntasks:\n-   id: a\n    files: [a.txt]\n    message: a\n-   id: b\n    files: [b.txt]\n    message: b\n",
		"dash at column 5":           "version: 1\nmodel: m\ntasks:\n    - id: a\n      files: [a.txt]\n      message: a\n",
		"item below its dash":        "version: 1\nmodel: m\ntasks:\n  -\n    id: a\n    files: [a.txt]\n    message: a\n",
		"comments between items":     "version: 1\nmodel: m\ntasks:\n  # one\n  - {id: a, files: [a.txt], message: a}\n  # two\n\n  - {id: b, files: [b.txt], message: b}\ncheck_timeout: 1m\n",
		"flow-style list":            "version: 1\nmodel: m\ntasks: [{id: a, files: [a.txt], message: 'it''s a ] in quotes'}, {id: b, files: [b.txt], message: \"b ] \\\" too\"}]  # a ] in a comment\ncheck_timeout: 1m\n",
		"flow-style list on lines":   "version: 1\nmodel: m\ntasks: [\n  {id: a, files: [a.txt], message: a},  # one\n  {id: b, files: [b.txt], message: b}\n]\n",
	} {
		got, err := Combine([]byte(base), []byte(draft))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var v struct {
			Tasks []struct{ ID string } `yaml:"tasks"`
		}
		if err := yaml.Unmarshal(got, &v); err != nil || len(v.Tasks) == 0 || v.Tasks[len(v.Tasks)-1].ID != "new" {
			t.Errorf("%s: the combined plan reads as %+v, %v:\n%s", name, v, err, got)
		}
		if !strings.HasPrefix(string(got), strings.TrimSuffix(base, "check_timeout: 1m\n")) && !strings.Contains(name, "flow") {
			t.Errorf("%s: the plan's own bytes changed:\n%s", name, got)
		}
		if strings.Contains(name, "flow") {
			// The new task goes inside the brackets; the rest is as it was.
			i := strings.Index(string(got), ", {id: new")
			if i < 0 || string(got[:i])+string(got[i+len(", {id: new, files: [n.txt], message: n}"):]) != base {
				t.Errorf("%s: the plan's own bytes changed:\n%s", name, got)
			}
		}
	}
}

// A plan paraider cannot add to (an empty task list) is refused before an
// agent is paid: the draft is not to blame.
func TestAddRefusedBeforePaying(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/paraider.yaml"
	os.WriteFile(file, []byte("version: 1\nmodel: m\ntasks: []\n"), 0o644)
	err := Run(context.Background(), Options{Goal: "more", Plan: file, Add: true, Agent: "no-such-agent"})
	if err == nil || !strings.Contains(err.Error(), "paraider cannot add tasks to") || !strings.Contains(err.Error(), "nothing was spent") {
		t.Errorf("got %v; want paraider's own refusal before any agent", err)
	}
	if _, serr := os.Stat(dir + "/.paraider"); serr == nil {
		t.Errorf("an attempt was prepared")
	}
}

// An agent-written plan that asks for a repair brings an agent that runs
// (and is paid) when a check fails: the person is told, with the repair's
// own environment.
func TestCommandsNameRepairs(t *testing.T) {
	p, err := plan.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(`version: 1
model: m
tasks: [{id: a, files: [a.ts], message: m}]
checks:
  test:
    run: npm test
    repair: {retries: 1, env: {X: "1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(Commands(p), "\n")
	for _, want := range []string{"final check test: npm test", "final check test, when it fails: repair-test repairs it (agent aider, model m, 2 attempts)", "task repair-test env: X=1"} {
		if !strings.Contains(got, want) {
			t.Errorf("Commands lacks %q:\n%s", want, got)
		}
	}
}
