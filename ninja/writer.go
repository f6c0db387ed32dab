package ninja

import (
	"fmt"
	"strings"
)

// Width is where Writer wraps a build statement's line, as Ninja's own
// misc/ninja_syntax.py does: a long list of inputs stays readable in a
// diff.
const Width = 78

// Ninja's lexer ends a path at a space, ':' or '|' and treats '$' as an
// escape, so every path, input or output, is written with these escaped.
// '|', newline, CR and NUL cannot be written at all; the plan rejects them.
var (
	pathEscaper  = strings.NewReplacer("$", "$$", " ", "$ ", ":", "$:")
	valueEscaper = strings.NewReplacer("$", "$$")
)

// EscapePath escapes a path for a build statement.
func EscapePath(s string) string { return pathEscaper.Replace(s) }

// EscapeValue escapes a variable's value so that Ninja takes it literally.
func EscapeValue(s string) string { return valueEscaper.Replace(s) }

// Writer writes a Ninja file, one method per statement: the only place
// paraider spells Ninja's syntax. Paths and values passed to it are raw;
// it escapes them, except where a method says it takes Ninja text.
type Writer struct {
	b strings.Builder
}

// Header opens a generated file: what made it and from what, and the
// Ninja version it needs.
func (w *Writer) Header(text, requiredVersion string) {
	w.Comment(text)
	w.Newline()
	w.Variable("ninja_required_version", requiredVersion)
}

// Comment writes text as comment lines.
func (w *Writer) Comment(text string) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			w.b.WriteString("#\n")
		} else {
			w.b.WriteString("# " + line + "\n")
		}
	}
}

// Newline writes an empty line.
func (w *Writer) Newline() { w.b.WriteString("\n") }

// Variable writes `key = value`, value taken literally.
func (w *Writer) Variable(key, value string) {
	fmt.Fprintf(&w.b, "%s = %s\n", key, EscapeValue(value))
}

// RawVariable writes `key = value` with value as Ninja text, for values
// that refer to other variables.
func (w *Writer) RawVariable(key, value string) {
	fmt.Fprintf(&w.b, "%s = %s\n", key, value)
}

// Pool writes a pool of the given depth.
func (w *Writer) Pool(name string, depth int) {
	fmt.Fprintf(&w.b, "pool %s\n  depth = %d\n", name, depth)
}

// Binding is one variable of a rule or a build statement.
type Binding struct{ Key, Value string }

// Rule writes a rule; its binding values are Ninja text (they may use
// $in, $out and variables).
func (w *Writer) Rule(name string, bindings ...Binding) {
	fmt.Fprintf(&w.b, "rule %s\n", name)
	for _, b := range bindings {
		fmt.Fprintf(&w.b, "  %s = %s\n", b.Key, b.Value)
	}
}

// Edge is one build statement. Paths are raw; binding values are taken
// literally.
type Edge struct {
	Outs, ImplicitOuts []string
	Rule               string
	Ins, Implicit      []string
	Bindings           []Binding
}

// Build writes a build statement, its line wrapped before Width with
// Ninja's `$` line continuation.
func (w *Writer) Build(e Edge) {
	l := line{w: &w.b, col: len("build")}
	w.b.WriteString("build")
	l.paths(e.Outs)
	if len(e.ImplicitOuts) > 0 {
		l.word("|")
		l.paths(e.ImplicitOuts)
	}
	w.b.WriteString(":")
	l.col++
	l.word(e.Rule)
	l.paths(e.Ins)
	if len(e.Implicit) > 0 {
		l.word("|")
		l.paths(e.Implicit)
	}
	w.b.WriteString("\n")
	for _, b := range e.Bindings {
		fmt.Fprintf(&w.b, "  %s = %s\n", b.Key, EscapeValue(b.Value))
	}
}

// Default writes the default targets.
func (w *Writer) Default(targets ...string) {
	l := line{w: &w.b, col: len("default")}
	w.b.WriteString("default")
	l.paths(targets)
	w.b.WriteString("\n")
}

// String is the file so far.
func (w *Writer) String() string { return w.b.String() }

// line writes the words of one statement, wrapping before Width: a word
// that would pass it goes on a continuation line, indented four spaces.
// A single word longer than that is written whole.
type line struct {
	w   *strings.Builder
	col int
}

func (l *line) word(s string) {
	if l.col+1+len(s) > Width && l.col > 4 {
		l.w.WriteString(" $\n    ")
		l.col = 4
	} else {
		l.w.WriteString(" ")
		l.col++
	}
	l.w.WriteString(s)
	l.col += len(s)
}

func (l *line) paths(paths []string) {
	for _, p := range paths {
		l.word(EscapePath(p))
	}
}
