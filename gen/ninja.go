package gen

import (
	"fmt"
	"strings"
)

// Ninja's lexer ends a path at a space, ':' or '|' and treats '$' as an
// escape, so every path, input or output, is written with these escaped.
// '|', newline, CR and NUL cannot be written at all; the plan rejects them.
var (
	pathEscaper  = strings.NewReplacer("$", "$$", " ", "$ ", ":", "$:")
	valueEscaper = strings.NewReplacer("$", "$$")
)

func escapePath(s string) string  { return pathEscaper.Replace(s) }
func escapeValue(s string) string { return valueEscaper.Replace(s) }

// shellQuote quotes s for /bin/sh, which runs every Ninja command.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writer writes a Ninja file, one method per statement. Values passed to it
// are raw; it escapes them.
type writer struct {
	b strings.Builder
}

func (w *writer) comment(text string) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			w.b.WriteString("#\n")
		} else {
			w.b.WriteString("# " + line + "\n")
		}
	}
}

func (w *writer) newline() { w.b.WriteString("\n") }

// variable writes `key = value`; value is escaped, so it is taken literally.
func (w *writer) variable(key, value string) {
	fmt.Fprintf(&w.b, "%s = %s\n", key, escapeValue(value))
}

// rawVariable writes `key = value` with value as Ninja text, for values that
// refer to other variables.
func (w *writer) rawVariable(key, value string, indent bool) {
	if indent {
		w.b.WriteString("  ")
	}
	fmt.Fprintf(&w.b, "%s = %s\n", key, value)
}

func (w *writer) pool(name string, depth int) {
	fmt.Fprintf(&w.b, "pool %s\n  depth = %d\n", name, depth)
}

type binding struct{ key, value string }

// rule writes a rule; binding values are Ninja text (they may use $in, $out
// and variables).
func (w *writer) rule(name string, bindings ...binding) {
	fmt.Fprintf(&w.b, "rule %s\n", name)
	for _, b := range bindings {
		w.rawVariable(b.key, b.value, true)
	}
}

// edge is one build statement. Paths are raw; bindings are literal values.
type edge struct {
	outs, implicitOuts       []string
	rule                     string
	ins, implicit, orderOnly []string
	bindings                 []binding
}

func (w *writer) build(e edge) {
	w.b.WriteString("build")
	writePaths(&w.b, e.outs)
	if len(e.implicitOuts) > 0 {
		w.b.WriteString(" |")
		writePaths(&w.b, e.implicitOuts)
	}
	w.b.WriteString(": " + e.rule)
	writePaths(&w.b, e.ins)
	if len(e.implicit) > 0 {
		w.b.WriteString(" |")
		writePaths(&w.b, e.implicit)
	}
	if len(e.orderOnly) > 0 {
		w.b.WriteString(" ||")
		writePaths(&w.b, e.orderOnly)
	}
	w.b.WriteString("\n")
	for _, b := range e.bindings {
		fmt.Fprintf(&w.b, "  %s = %s\n", b.key, escapeValue(b.value))
	}
}

func (w *writer) defaults(targets ...string) {
	w.b.WriteString("default")
	writePaths(&w.b, targets)
	w.b.WriteString("\n")
}

func writePaths(b *strings.Builder, paths []string) {
	for _, p := range paths {
		b.WriteString(" ")
		b.WriteString(escapePath(p))
	}
}

func (w *writer) String() string { return w.b.String() }
