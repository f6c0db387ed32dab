package plan

// How the plan's YAML is read: each value checked for its kind and range,
// and every mistake kept with its line and column (decoder).

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/internal/lazy"
)

type decoder struct {
	file  string
	lines []string
	errs  Errors
	nodes map[*Task]*taskNodes // positions, for the graph checks
	disk  *disk                // what the path checks learnt of the plan's directory
	// misspelt are the known keys that an unknown key looked like.
	misspelt map[string]bool
	// repairs keep the positions of the checks' repairs.
	repairs map[*Task]*repairNodes
}

func (d *decoder) errorf(line, col int, hint, format string, args ...any) {
	e := &Error{File: d.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if line > 0 && line <= len(d.lines) {
		e.src = strings.TrimRight(d.lines[line-1], "\r")
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) nodeErr(n *yaml.Node, hint, format string, args ...any) {
	d.errorf(n.Line, n.Column, hint, format, args...)
}

var yamlLineRE = lazy.Regexp(`line (\d+): `)

// yamlPosition is where a YAML syntax error is. The parser names the line
// a construct began on for some errors: an unclosed `[` or `{` is reported
// at the line before the bracket; the bracket itself is found from there.
// A tab where indentation is expected is pointed at.
func (d *decoder) yamlPosition(err error) (int, int) {
	line := yamlErrorLine(err)
	msg := err.Error()
	for _, br := range []struct{ open, close string }{{"[", "]"}, {"{", "}"}} {
		if !strings.Contains(msg, "did not find expected ',' or '"+br.close+"'") {
			continue
		}
		for l := max(line, 1); l <= len(d.lines); l++ {
			text := d.lines[l-1]
			if i := strings.LastIndex(text, br.open); i >= 0 && strings.Count(text, br.open) > strings.Count(text, br.close) {
				return l, i + 1
			}
		}
	}
	// A tab in the indentation: the parser names its line, or the line
	// before it (the construct the tab's line would continue).
	for _, l := range []int{line, line + 1} {
		if l > 0 && l <= len(d.lines) {
			if i := strings.IndexByte(d.lines[l-1], '\t'); i >= 0 && strings.TrimLeft(d.lines[l-1][:i], " ") == "" {
				return l, i + 1
			}
		}
	}
	return line, 1
}

func yamlErrorLine(err error) int {
	if m := yamlLineRE().FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields walks a mapping, calling set for each known key and reporting
// unknown and repeated keys.
func (d *decoder) fields(n *yaml.Node, what string, known []string, set func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "%s must be a mapping of keys to values, not %s", what, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key := k.Value
		if seen[key] {
			d.nodeErr(k, "remove one of them", "key %q appears twice in %s", key, what)
			continue
		}
		seen[key] = true
		if !slices.Contains(known, key) {
			hint := "known keys: " + strings.Join(known, ", ")
			if s := suggest(key, known); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
				if d.misspelt == nil {
					d.misspelt = map[string]bool{}
				}
				d.misspelt[s] = true
			}
			d.nodeErr(k, hint, "unknown key %q in %s", key, what)
			continue
		}
		set(key, k, v)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.nodeErr(n, "", "%s must be a string, not %s", what, kindName(n))
		return "", false
	}
	if strings.ContainsRune(n.Value, 0) {
		// No program argument, environment value or file name can hold
		// one: it would fail at run time, after money was spent.
		d.nodeErr(n, "remove the NUL byte (\\0)", "%s holds a NUL byte", what)
		return "", false
	}
	return n.Value, true
}

var sizeRE = lazy.Regexp(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]I?B?|B)?$`)

// size reads a size in bytes: a whole number, or one with a unit (10MB,
// 512KiB, 1G; K, M and G count in 1024s, as people mean them for files).
func (d *decoder) size(n *yaml.Node, what string) int64 {
	if n.Kind == yaml.ScalarNode {
		if m := sizeRE().FindStringSubmatch(strings.ToUpper(n.Value)); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			mult := 1.0
			if m[2] != "" {
				mult = map[byte]float64{'B': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}[m[2][0]]
			}
			if v := f * mult; v >= 1 && v <= 1<<50 {
				return int64(v)
			}
		}
	}
	d.nodeErr(n, "write a size such as 10MB, 512KB or 1GB", "%s must be a size in bytes, not %s", what, kindName(n))
	return 0
}

// price reads compare_price: {name, input, output}, dollars per million
// tokens.
func (d *decoder) price(n *yaml.Node) *Price {
	pr := &Price{}
	var haveIn, haveOut bool
	d.fields(n, "compare_price", []string{"name", "input", "output"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			pr.Name, _ = d.str(v, "compare_price name")
		case "input", "output":
			f, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!float" && v.Tag != "!!int") || err != nil || f < 0 || f > 10000 {
				d.nodeErr(v, "dollars per million tokens, such as 3.00", "compare_price %s must be a price from 0 to 10000, not %s", key, kindName(v))
				return
			}
			if key == "input" {
				pr.Input, haveIn = f, true
			} else {
				pr.Output, haveOut = f, true
			}
		}
	})
	if deref(n).Kind == yaml.MappingNode && (pr.Name == "" || !haveIn || !haveOut) {
		d.nodeErr(n, "write compare_price: {name: claude-sonnet-4-5, input: 3.00, output: 15.00}", "compare_price needs name, input and output")
	}
	return pr
}

// model reads a model name. It becomes one argument of the agent's command
// line: a name starting with '-' would be read as an option, and a line
// break has no place in one.
func (d *decoder) model(n *yaml.Node) (string, bool) {
	s, ok := d.str(n, "model")
	if !ok {
		return "", false
	}
	switch {
	case strings.HasPrefix(s, "-"):
		d.nodeErr(n, "a model name such as openrouter/provider/model; the agent would read this as an option", "model %q starts with '-'", s)
		return "", false
	case strings.ContainsAny(s, "\n\r\t"):
		d.nodeErr(n, "write the model name on one line", "model %q holds a line break or tab", s)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= lo && v <= hi {
			return v, true
		}
	}
	d.nodeErr(n, "", "%s must be a whole number from %d to %d, not %s", what, lo, hi, kindName(n))
	return 0, false
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		return v, err == nil
	}
	d.nodeErr(n, "", "%s must be true or false, not %s", what, kindName(n))
	return false, false
}

func (d *decoder) duration(n *yaml.Node, what string, max time.Duration) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode {
		if v, err := time.ParseDuration(n.Value); err == nil && v > 0 {
			if v <= max {
				return v, true
			}
			d.nodeErr(n, "", "%s must be at most %s, not %s", what, limitText(max), kindName(n))
			return 0, false
		}
	}
	d.nodeErr(n, `write a duration with its unit, such as 90s, 10m or 1h30m`, "%s must be a positive duration, not %s", what, kindName(n))
	return 0, false
}

// limitText writes a limit as a person would: 168h as 7 days.
func limitText(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// choice reads one of a fixed set of names (a typed list such as
// state.Isolations).
func choice[T ~string](d *decoder, n *yaml.Node, what string, choices []T) T {
	if n.Kind == yaml.ScalarNode && slices.Contains(choices, T(n.Value)) {
		return T(n.Value)
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	list := strings.Join(names, ", ")
	d.nodeErr(n, "use one of: "+list, "%s must be one of %s, not %s", what, list, kindName(n))
	return ""
}

func (d *decoder) strList(n *yaml.Node, what string) ([]string, []*yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		// A single string where a list is expected: accept it as a list of one.
		if s, ok := d.str(n, what); ok {
			return []string{s}, []*yaml.Node{n}
		}
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		d.nodeErr(n, "", "%s must be a list of strings, not %s", what, kindName(n))
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for _, c := range n.Content {
		c = deref(c)
		if s, ok := d.str(c, what+" entry"); ok {
			out = append(out, s)
			nodes = append(nodes, c)
		}
	}
	return out, nodes
}

func (d *decoder) strMap(n *yaml.Node, what string) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "%s must be a mapping of names to strings, not %s", what, kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if _, dup := out[k.Value]; dup {
			d.nodeErr(k, "remove one of them", "key %q appears twice in %s", k.Value, what)
			continue
		}
		if s, ok := d.str(v, what+" "+k.Value); ok {
			out[k.Value] = s
		}
	}
	return out
}

func shortErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
