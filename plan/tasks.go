package plan

// The tasks: each one decoded, its paths cleaned, and the names it refers
// to resolved with the settings it inherits.

import (
	"bytes"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

var taskKeys = append([]string{"id", "files", "read", "needs", "message", "message_file", "check", "allow_unchanged", "estimate"}, settingKeys...)

// taskNodes keeps the positions of a task's parts for the graph checks.
type taskNodes struct {
	id    *yaml.Node
	needs []*yaml.Node
	files []*yaml.Node
	read  []*yaml.Node
	settingNodes
}

// tasks decodes the task list, each id once.
func (d *decoder) tasks(p *Plan, tasksNode *yaml.Node) map[*Task]*taskNodes {
	nodes := map[*Task]*taskNodes{}
	switch {
	case tasksNode == nil:
		if !d.misspelt["tasks"] { // else the misspelt key says it, where it is
			d.errorf(0, 0, "add a `tasks:` list; see examples/", "the plan has no tasks")
		}
		return nodes
	case tasksNode.Kind != yaml.SequenceNode:
		d.nodeErr(tasksNode, "", "tasks must be a list, not %s", kindName(tasksNode))
		return nodes
	case len(tasksNode.Content) == 0:
		d.nodeErr(tasksNode, "add at least one task", "the task list is empty")
	}
	folded := map[string]*Task{} // by lower-case id
	for _, tn := range tasksNode.Content {
		t, tnodes := d.task(p, deref(tn))
		if t == nil {
			continue
		}
		if t.ID != "" {
			if prev, dup := p.byID[t.ID]; dup {
				d.nodeErr(tnodes.id, fmt.Sprintf("the first is at line %d; give each task its own id", prev.line), "duplicate task id %q", t.ID)
				continue
			}
			// Ids are file names (specs, stamps, logs), and macOS's file
			// system, like GitHub's job ids, ignores case.
			if prev, dup := folded[strings.ToLower(t.ID)]; dup {
				d.nodeErr(tnodes.id, fmt.Sprintf("task %q is at line %d; ids are file names, and macOS (and GitHub's job ids) ignore case: give each its own", prev.ID, prev.line), "task id %q differs from %q only in case", t.ID, prev.ID)
				continue
			}
			folded[strings.ToLower(t.ID)] = t
			p.byID[t.ID] = t
		}
		p.Tasks = append(p.Tasks, t)
		nodes[t] = tnodes
	}
	return nodes
}

func (d *decoder) task(p *Plan, n *yaml.Node) (*Task, *taskNodes) {
	t := &Task{line: n.Line, col: n.Column, Settings: Settings{Settings: state.Settings{Retries: -1}}}
	tn := &taskNodes{}
	var hasFiles, emptyFiles, hasMessage bool
	var msgNode, msgFileNode *yaml.Node
	d.fields(n, "a task", taskKeys, func(key string, k, v *yaml.Node) {
		if d.setting(&t.Settings, &tn.settingNodes, key, v) {
			return
		}
		switch key {
		case "id":
			tn.id = v
			t.ID = d.taskID(v)
		case "files":
			hasFiles = true
			t.Files, tn.files = d.paths(v, "files")
			emptyFiles = v.Kind == yaml.SequenceNode && len(v.Content) == 0 || v.Tag == "!!null"
		case "read":
			t.Read, tn.read = d.paths(v, "read")
		case "needs":
			t.Needs, tn.needs = d.strList(v, "needs")
		case "message":
			msgNode = v
			t.Message, hasMessage = d.str(v, "message")
		case "message_file":
			msgFileNode = v
			t.MessageFile, _ = d.str(v, "message_file")
		case "check":
			t.Check, _ = d.str(v, "check")
		case "allow_unchanged":
			t.AllowUnchanged, _ = d.boolean(v, "allow_unchanged")
		case "estimate":
			t.Estimate, _ = d.duration(v, "estimate", MaxEstimate)
		}
	})
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	d.taskWhole(t, tn, n, hasFiles, emptyFiles)
	d.message(p, t, n, msgNode, msgFileNode, hasMessage, taskName(t))
	return t, tn
}

// taskID decodes a task's id: a name for files under .paraider/.
func (d *decoder) taskID(v *yaml.Node) string {
	s, ok := d.str(v, "id")
	switch {
	case !ok:
	case !idPattern().MatchString(s):
		d.nodeErr(v, "ids use letters, digits, '.', '_' and '-', and start with a letter or digit", "bad task id %q", s)
	case len(s) > MaxIDLength:
		d.nodeErr(v, "an id names files under .paraider/; shorten it", "task id of %d characters, more than %d", len(s), MaxIDLength)
	}
	return s
}

// taskName names a task in a message: by its id when it has one.
func taskName(t *Task) string {
	if t.ID != "" {
		return fmt.Sprintf("task %q", t.ID)
	}
	return "this task"
}

// taskWhole checks what a task needs as a whole: an id, files, and no
// file both edited and read.
func (d *decoder) taskWhole(t *Task, tn *taskNodes, n *yaml.Node, hasFiles, emptyFiles bool) {
	name := taskName(t)
	if tn.id == nil {
		d.nodeErr(n, "add `id: some-name`", "a task has no id")
		tn.id = n
	}
	if !hasFiles {
		d.nodeErr(n, "list the files the agent may create or edit under `files:`", "%s has no files", name)
	} else if emptyFiles {
		d.nodeErr(n, "list the files the agent may create or edit under `files:`", "%s has an empty file list", name)
	}
	for i, f := range t.Read {
		if slices.Contains(t.Files, f) {
			d.nodeErr(tn.read[i], "a file the task edits is already in its context; remove it from read", "%s both edits and reads %s", name, f)
		}
	}
}

// message settles a task's message: written in the plan, or read from its
// message_file (which becomes one of the plan's sources); one of them,
// not empty, and small enough for an agent's command line.
func (d *decoder) message(p *Plan, t *Task, n, msgNode, msgFileNode *yaml.Node, hasMessage bool, name string) {
	switch {
	case msgNode != nil && msgFileNode != nil:
		d.nodeErr(msgFileNode, "keep one of them", "%s has both message and message_file", name)
	case msgFileNode != nil && t.MessageFile != "":
		rel, ok := d.cleanPath(msgFileNode, t.MessageFile, "message_file")
		if ok {
			data, err := readRegular(filepath.Join(p.Root, filepath.FromSlash(rel)), MaxPlanSize)
			if err != nil {
				d.nodeErr(msgFileNode, "the path is relative to the plan's directory", "cannot read message_file: %v", shortErr(err))
			} else if bytes.IndexByte(data, 0) >= 0 {
				d.nodeErr(msgFileNode, "a message is text; remove the NUL bytes", "message_file %s holds a NUL byte", rel)
			} else {
				t.Message, t.MessageFile = string(data), rel
				p.Sources = append(p.Sources, rel)
			}
		}
	case msgNode == nil:
		d.nodeErr(n, "add `message:` (what the agent should do) or `message_file:`", "%s has no message", name)
	}
	if (hasMessage || t.MessageFile != "") && strings.TrimSpace(t.Message) == "" {
		node := msgNode
		if node == nil {
			node = msgFileNode
		}
		d.nodeErr(node, "", "%s has an empty message", name)
	}
	// Linux limits one argument to 128 KiB; leave room for the rest.
	if len(t.Message) > 100<<10 {
		node := msgNode
		if node == nil {
			node = msgFileNode
		}
		d.nodeErr(node, "split the task, or move reference material into a `read:` file", "%s has a message of %d bytes, more than the 100 KiB an agent's command line can carry", name, len(t.Message))
	}
}

func (d *decoder) paths(n *yaml.Node, what string) ([]string, []*yaml.Node) {
	raw, nodes := d.strList(n, what)
	var out []string
	var outNodes []*yaml.Node
	seen := map[string]bool{}
	for i, s := range raw {
		p, ok := d.cleanPath(nodes[i], s, what)
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		outNodes = append(outNodes, nodes[i])
	}
	return out, outNodes
}

// cleanPath checks a path of the plan: relative, inside the repository, and
// writable in a Ninja file.
func (d *decoder) cleanPath(n *yaml.Node, s, what string) (string, bool) {
	switch {
	case s == "":
		d.nodeErr(n, "", "empty path in %s", what)
		return "", false
	case strings.ContainsAny(s, "\n\r\x00|"):
		d.nodeErr(n, "rename the file: Ninja cannot name a path holding a newline, carriage return, NUL or '|'", "path %q in %s cannot be written in a Ninja file", s, what)
		return "", false
	case path.IsAbs(s) || filepath.IsAbs(s) || filepath.VolumeName(s) != "":
		d.nodeErr(n, "write paths relative to the plan's directory", "absolute path %q in %s", s, what)
		return "", false
	}
	c := path.Clean(filepath.ToSlash(s))
	if c == ".." || strings.HasPrefix(c, "../") {
		d.nodeErr(n, "tasks work inside the repository; move the plan up or the file in", "path %q in %s leaves the repository", s, what)
		return "", false
	}
	if c == "." {
		d.nodeErr(n, "name a file", "path %q in %s is the repository itself", s, what)
		return "", false
	}
	first, _, _ := strings.Cut(c, "/")
	if first == ".git" || first == ".paraider" {
		d.nodeErr(n, "", "path %q in %s is inside %s, which belongs to %s", s, what, first, map[string]string{".git": "git", ".paraider": "paraider"}[first])
		return "", false
	}
	return c, true
}

// resolve fills in inherited settings and checks names that refer to other
// parts of the plan.
func (d *decoder) resolve(p *Plan, nodes map[*Task]*taskNodes) {
	agents := knownAgents(p)
	for _, t := range p.Tasks {
		tn := nodes[t]
		d.inherit(p, t, tn, agents)
		for i, need := range t.Needs {
			if p.byID[need] == nil {
				hint := ""
				ids := make([]string, 0, len(p.Tasks))
				for _, o := range p.Tasks {
					ids = append(ids, o.ID)
				}
				if s := suggest(need, ids); s != "" {
					hint = fmt.Sprintf("did you mean %q?", s)
				}
				d.nodeErr(tn.needs[i], hint, "task %q needs %q, which is not a task of this plan", t.ID, need)
			} else if need == t.ID {
				d.nodeErr(tn.needs[i], "", "task %q needs itself", t.ID)
			}
		}
	}
	d.nodes = nodes
}

// knownAgents are the names of the built-in agents and the plan's own,
// sorted.
func knownAgents(p *Plan) []string {
	agents := agent.Builtins()
	for name := range p.Agents {
		if !slices.Contains(agents, name) {
			agents = append(agents, name)
		}
	}
	sort.Strings(agents)
	return agents
}

// inherit fills in the settings a task leaves to the plan, its model from
// its agent's profile when neither names one, and checks that both are
// known.
func (d *decoder) inherit(p *Plan, t *Task, tn *taskNodes, agents []string) {
	t.Settings.inherit(p.Settings)
	prof := p.Agents[t.Agent]
	if prof == nil {
		prof, _ = agent.Builtin(t.Agent)
	}
	if t.Model == "" && prof != nil {
		// The agent's own starting model (its profile's `model:`).
		t.Model = prof.Model
	}
	if t.Model == "" && (prof == nil || prof.UsesModel()) {
		d.nodeErr(tn.id, "set `model:` for the plan, or for this task", "task %q has no model", t.ID)
	}
	if !slices.Contains(agents, t.Agent) {
		hint := "known agents: " + strings.Join(agents, ", ")
		if s := suggest(t.Agent, agents); s != "" {
			hint = fmt.Sprintf("did you mean %q? known agents: %s", s, strings.Join(agents, ", "))
		}
		if tn.agent != nil {
			d.nodeErr(tn.agent, hint, "unknown agent %q", t.Agent)
		} else {
			d.errorf(0, 0, hint, "unknown agent %q", t.Agent)
		}
	}
}
