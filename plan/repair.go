package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/paraider/paraider/state"
	"go.yaml.in/yaml/v3"
)

// A final check may ask for repair: when it fails after the tasks, a
// task of its own (RepairID) is given the check's output and every file
// the tasks declared, and the check judges its work. Its settings are the
// plan's where `repair:` sets none.

// checkKeys are the keys of a check written as a mapping, and repairKeys
// those of its `repair:` mapping.
var (
	checkKeys  = []string{"run", "repair"}
	repairKeys = append([]string{"files"}, settingKeys...)
)

// repairNodes keep the positions of a repair's parts, for the checks made
// once the tasks are known.
type repairNodes struct {
	key   *yaml.Node // the check's name
	extra []string   // its `files:`, cleaned
	files []*yaml.Node
	settingNodes
}

// Repairs are the tasks that repair the final checks, in the checks'
// order.
func (p *Plan) Repairs() []*Task {
	var out []*Task
	for _, c := range p.Checks {
		if c.Repair != nil {
			out = append(out, c.Repair)
		}
	}
	return out
}

// check decodes one final check: `name: command`, or a mapping with
// `run: command` and `repair: true` or the repair's settings.
func (d *decoder) check(k, v *yaml.Node) *Check {
	c := &Check{Name: k.Value, line: k.Line, col: k.Column}
	what := fmt.Sprintf("check %q", c.Name)
	switch {
	case v.Kind == yaml.MappingNode:
		hasRun := false
		d.fields(v, what, checkKeys, func(key string, _, v *yaml.Node) {
			switch key {
			case "run":
				hasRun = true
				c.Command, _ = d.str(v, "run of "+what)
			case "repair":
				c.Repair = d.repair(c, k, v)
			}
		})
		if !hasRun {
			d.nodeErr(v, "add `run: COMMAND`, the shell command the check runs", "%s has no command", what)
			return nil
		}
	default:
		s, ok := d.str(v, what)
		if !ok {
			return nil
		}
		c.Command = s
	}
	if strings.TrimSpace(c.Command) == "" {
		d.nodeErr(v, "", "%s has an empty command", what)
		return nil
	}
	return c
}

// repair decodes a check's `repair:`: true, false, or a mapping of the
// repair task's settings and extra files.
func (d *decoder) repair(c *Check, k, v *yaml.Node) *Task {
	t := &Task{ID: RepairID(c.Name), line: k.Line, col: k.Column, Settings: Settings{Settings: state.Settings{Retries: -1}}}
	rn := &repairNodes{key: k}
	switch v.Kind {
	case yaml.ScalarNode:
		if on, _ := d.boolean(v, fmt.Sprintf("repair of check %q", c.Name)); !on {
			return nil
		}
	case yaml.MappingNode:
		d.fields(v, fmt.Sprintf("the repair of check %q", c.Name), repairKeys, func(key string, _, v *yaml.Node) {
			if d.setting(&t.Settings, &rn.settingNodes, key, v) {
				return
			}
			// files: what it may change besides the tasks' files.
			t.Files, rn.files = d.paths(v, "files")
			rn.extra = t.Files
			for i, f := range t.Files {
				if strings.ContainsAny(f, "*?[") {
					d.nodeErr(rn.files[i], "name each file by its path, as a task's files are", "pattern %q in the repair's files: patterns are not expanded", f)
				}
			}
		})
	default:
		d.nodeErr(v, "write `repair: true`, or a mapping of its settings (retries, agent, model, files, timeout)",
			"repair of check %q must be true, false or a mapping, not %s", c.Name, kindName(v))
		return nil
	}
	if d.repairs == nil {
		d.repairs = map[*Task]*repairNodes{}
	}
	d.repairs[t] = rn
	return t
}

// settleRepairs makes each repair a task once the plan's tasks are known:
// its id free, its settings the plan's where it sets none, every task
// before it, and every task's files its own, besides its `files:`.
func (d *decoder) settleRepairs(p *Plan, nodes map[*Task]*taskNodes) {
	repairs := p.Repairs()
	if len(repairs) == 0 {
		return
	}
	ids := make([]string, 0, len(p.Tasks))
	var files []string
	for _, t := range p.Tasks {
		ids = append(ids, t.ID)
		files = append(files, t.Files...)
	}
	agents := knownAgents(p)
	for _, c := range p.Checks {
		t := c.Repair
		if t == nil {
			continue
		}
		rn := d.repairs[t]
		tn := &taskNodes{id: rn.key, files: rn.files, settingNodes: rn.settingNodes}
		nodes[t] = tn
		switch {
		case p.byID[t.ID] != nil:
			d.nodeErr(rn.key, "rename the check or the task", "the repair of check %q is a task named %q, and the plan has a task of that id", c.Name, t.ID)
		case len(t.ID) > MaxIDLength:
			d.nodeErr(rn.key, "shorten the check's name", "the repair of check %q would be a task id of %d characters, more than %d", c.Name, len(t.ID), MaxIDLength)
		}
		d.inherit(p, t, tn, agents)
		all := append(slices.Clone(files), t.Files...)
		slices.Sort(all)
		t.Files = slices.Compact(all)
		t.Deps = ids
		t.Needs = ids
		t.AllowUnchanged = true // the check judges it
		t.Message = repairMessage(c)
	}
}

// repairPaths checks the files a repair adds against the disk, as a
// task's are.
func (d *decoder) repairPaths(p *Plan) {
	for _, t := range p.Repairs() {
		if rn := d.repairs[t]; len(rn.extra) > 0 {
			d.taskPaths(p, &Task{ID: t.ID, Files: rn.extra}, &taskNodes{id: rn.key, files: rn.files})
		}
	}
}

// repairMessage is what a repair is asked to do, the part that does not
// change from run to run (the check's output is added when it runs): it
// is part of the repair's work, so a changed command is new work.
func repairMessage(c *Check) string {
	return fmt.Sprintf("make `%s` pass\n\n"+
		"The final check %q runs `%s` in the repository, and it fails now that the plan's tasks "+
		"have changed the files you are given. Find the cause in its output below and change those files "+
		"so that it passes: keep what the tasks built, and fix where their parts meet. Do not weaken, skip "+
		"or delete the check's tests, and change no other file. The check runs again to judge your work.",
		c.Command, c.Name, c.Command)
}
