package ninja

import (
	"strings"
	"testing"
)

func TestEscapePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"src/a.ts", "src/a.ts"},
		{"my file.ts", "my$ file.ts"},
		{"a:b.ts", "a$:b.ts"},
		{"cost$1.ts", "cost$$1.ts"},
		{"$ :", "$$$ $:"},
	} {
		if got := EscapePath(tc.in); got != tc.want {
			t.Errorf("EscapePath(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestWriterBuild(t *testing.T) {
	var w Writer
	w.Build(Edge{
		Outs:         []string{"out 1"},
		ImplicitOuts: []string{"side:effect"},
		Rule:         "task",
		Ins:          []string{"in$1"},
		Implicit:     []string{"dep a", "dep:b"},
		Bindings:     []Binding{{"id", "x$y"}},
	})
	w.Default("report")
	want := "build out$ 1 | side$:effect: task in$$1 | dep$ a dep$:b\n  id = x$$y\ndefault report\n"
	if got := w.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestWriterWraps: a long statement is cut between words, before Width,
// with `$` continuations; escaped spaces never start a new line.
func TestWriterWraps(t *testing.T) {
	var w Writer
	var ins []string
	for i := 0; i < 20; i++ {
		ins = append(ins, "src/some dir/file"+strings.Repeat("x", i%3)+".ts")
	}
	w.Build(Edge{Outs: []string{"out"}, Rule: "phony", Ins: ins})
	got := w.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 2 {
		t.Fatalf("not wrapped:\n%s", got)
	}
	var words []string
	for i, l := range lines {
		if len(l) > Width+2 { // the " $" continuation may end at Width+2
			t.Errorf("line %d is %d long: %q", i, len(l), l)
		}
		if i < len(lines)-1 && !strings.HasSuffix(l, " $") {
			t.Errorf("line %d does not continue: %q", i, l)
		}
		if i > 0 && !strings.HasPrefix(l, "    ") {
			t.Errorf("line %d is not indented: %q", i, l)
		}
		l = strings.TrimSuffix(strings.TrimSpace(l), " $")
		words = append(words, l)
	}
	// Joined again as Ninja reads them, the statement is unchanged.
	joined := strings.Join(words, " ")
	want := "build out: phony"
	for _, in := range ins {
		want += " " + EscapePath(in)
	}
	if joined != want {
		t.Errorf("read back as\n%s\nwant\n%s", joined, want)
	}
}
