package planner

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Combine appends the tasks of draft (a YAML document with a `tasks:` list
// of new tasks) to the task list of the plan text base, leaving every byte
// of base as it was: the new tasks go after the last line of its task
// list, indented as its tasks are.
func Combine(base, draft []byte) ([]byte, error) {
	var b, d yaml.Node
	if err := yaml.Unmarshal(base, &b); err != nil {
		return nil, fmt.Errorf("the plan: %w", err)
	}
	if err := yaml.Unmarshal(draft, &d); err != nil {
		return nil, fmt.Errorf("the draft: %w", err)
	}
	newTasks := tasksOf(&d)
	if newTasks == nil || len(newTasks.Content) == 0 {
		return nil, errors.New("the draft has no `tasks:` list of new tasks")
	}
	list := tasksOf(&b)
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, errors.New("the plan has no list under `tasks:` to add to")
	}
	if list.Style == yaml.FlowStyle {
		return addToFlow(base, list, newTasks)
	}
	lines := strings.SplitAfter(string(base), "\n")
	end := listEnd(&b, lines)
	// The list's dashes stand at the sequence's column, wherever its
	// items start after them ("-   id: a", PyYAML's indent=4 style, has
	// the dash at column 1 and the item at 5): the new items take the same
	// dash column, each "- " and its item.
	indent := strings.Repeat(" ", max(list.Column-1, 0))
	var add strings.Builder
	if end > 0 && !strings.HasSuffix(lines[end-1], "\n") {
		add.WriteString("\n")
	}
	if err := writeItems(&add, newTasks, indent); err != nil {
		return nil, err
	}
	return []byte(strings.Join(lines[:end], "") + add.String() + strings.Join(lines[end:], "")), nil
}

// listEnd is the line where the plan's task list ends: before the next
// top-level key, or at the end, with the blank lines and comments at its
// end left after the new tasks.
func listEnd(b *yaml.Node, lines []string) int {
	// The task list ends before the next top-level key, or at the end.
	end := len(lines)
	top := b.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "tasks" {
			continue
		}
		if i+2 < len(top.Content) {
			end = top.Content[i+2].Line - 1
		}
	}
	// Blank lines and comments at its end stay after the new tasks.
	for end > 0 {
		l := strings.TrimSpace(lines[end-1])
		if l != "" && !strings.HasPrefix(l, "#") {
			break
		}
		end--
	}
	return end
}

// writeItems writes each new task as an item of a block list whose dashes
// stand at indent.
func writeItems(add *strings.Builder, newTasks *yaml.Node, indent string) error {
	for _, t := range newTasks.Content {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(t); err != nil {
			return err
		}
		for i, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
			if i == 0 {
				add.WriteString(indent + "- " + l + "\n")
			} else {
				add.WriteString(indent + "  " + l + "\n")
			}
		}
	}
	return nil
}

// tasksOf is the value of the document's top-level `tasks:` key.
func tasksOf(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "tasks" {
			return m.Content[i+1]
		}
	}
	return nil
}

// addToFlow appends the new tasks inside a flow-style task list
// (`tasks: [{id: a, ...}, ...]`), before its closing bracket, in flow
// style: the plan's own bytes stay as they are.
func addToFlow(base []byte, list, newTasks *yaml.Node) ([]byte, error) {
	start := offsetOf(base, list.Line, list.Column)
	end := closingBracket(base, start)
	if start < 0 || end < 0 {
		return nil, errors.New("the plan's flow-style task list has no closing ] that paraider can find")
	}
	var add strings.Builder
	for _, t := range newTasks.Content {
		flowStyle(t)
		out, err := yaml.Marshal(t)
		if err != nil {
			return nil, err
		}
		add.WriteString(", " + strings.TrimSpace(string(out)))
	}
	// After the last item, before any space or comment ahead of the ].
	at := end
	for at > start && strings.ContainsRune(" \t\r\n", rune(base[at-1])) {
		at--
	}
	return []byte(string(base[:at]) + add.String() + string(base[at:])), nil
}

// flowStyle makes n and what it holds print on one line.
func flowStyle(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "\n") {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		flowStyle(c)
	}
}

// offsetOf is the byte offset of a 1-based line and column; -1 when out
// of the text.
func offsetOf(text []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(string(text[off:]), '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	// Columns count characters; YAML's are runes.
	for c := 1; c < col && off < len(text); c++ {
		_, size := utf8.DecodeRune(text[off:])
		off += size
	}
	if off >= len(text) {
		return -1
	}
	return off
}

// closingBracket is the offset of the ] that closes the [ at open,
// skipping quoted strings and comments; -1 when there is none.
func closingBracket(text []byte, open int) int {
	if open < 0 || open >= len(text) || text[open] != '[' {
		return -1
	}
	depth := 0
	for i := open; i < len(text); i++ {
		switch c := text[i]; c {
		case '\'':
			for i++; i < len(text); i++ {
				if text[i] == '\'' {
					if i+1 < len(text) && text[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case '#':
			if i > 0 && (text[i-1] == ' ' || text[i-1] == '\t' || text[i-1] == '\n') {
				for i < len(text) && text[i] != '\n' {
					i++
				}
			}
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
