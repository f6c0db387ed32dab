package planner

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

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
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 || list.Style == yaml.FlowStyle {
		return nil, errors.New("the plan has no block list under `tasks:` to add to")
	}
	lines := strings.SplitAfter(string(base), "\n")
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
	// The list's dashes stand at the sequence's column, wherever its
	// items start after them ("-   id: a", PyYAML's indent=4 style, has
	// the dash at column 1 and the item at 5): the new items take the same
	// dash column, each "- " and its item.
	indent := strings.Repeat(" ", max(list.Column-1, 0))
	var add strings.Builder
	if end > 0 && !strings.HasSuffix(lines[end-1], "\n") {
		add.WriteString("\n")
	}
	for _, t := range newTasks.Content {
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(t); err != nil {
			return nil, err
		}
		for i, l := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
			if i == 0 {
				add.WriteString(indent + "- " + l + "\n")
			} else {
				add.WriteString(indent + "  " + l + "\n")
			}
		}
	}
	return []byte(strings.Join(lines[:end], "") + add.String() + strings.Join(lines[end:], "")), nil
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
