package planner

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
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
