package gen

import (
	"path/filepath"
	"slices"
	"sort"

	"github.com/paraider/paraider/plan"
)

// Graph is what a plan compiles to, whatever the target: the tasks in the
// order they should start, each with the inputs that make it stale, and
// the final checks that run once every task is done. A target (the Ninja
// file, a GitHub Actions workflow) writes a Graph and decides nothing of
// its own.
type Graph struct {
	// Plan is the plan's file name, relative to its directory; Sources
	// are the files it was read from (the plan and its message files).
	Plan    string
	Sources []string
	// Tasks are in critical-path order: longest remaining chain first.
	Tasks []GraphTask
	// Shared are the files that tasks write, sorted.
	Shared []string
	Checks []*plan.Check
	// Drive, when not 0, is the -j a plain `ninja` needs and would not
	// take by itself (Ninja's own is lower here): the Ninja target's
	// default edge then runs Ninja again with it (internal/drive).
	Drive int
}

// GraphTask is one task in a Graph.
type GraphTask struct {
	ID string
	// Inputs are the files whose content the task's result depends on:
	// its read files and its upstream tasks' files, as exec digests them
	// (state.InputHash). A person's edit to one reruns the task.
	Inputs []string
	// Needs are the tasks that must succeed first.
	Needs []string
	// Files are the task's own: one gone makes its edge dirty, and its
	// exec puts it back from its last success for free.
	Files []string
}

// graphOf is the plan's graph with its tasks in the given order.
func graphOf(p *plan.Plan, order []*plan.Task) *Graph {
	g := &Graph{Plan: filepath.Base(p.File), Sources: p.Sources, Checks: p.Checks, Drive: driveJobs(p)}
	byID := map[string]*plan.Task{}
	for _, t := range p.Tasks {
		byID[t.ID] = t
	}
	shared := map[string]bool{}
	for _, t := range order {
		inputs := append([]string(nil), t.Read...)
		for _, d := range t.Deps {
			for _, f := range byID[d].Files {
				if !slices.Contains(inputs, f) {
					inputs = append(inputs, f)
				}
				shared[f] = true
			}
		}
		g.Tasks = append(g.Tasks, GraphTask{ID: t.ID, Inputs: inputs, Needs: t.Deps, Files: t.Files})
		for _, f := range t.Files {
			shared[f] = true
		}
	}
	for f := range shared {
		g.Shared = append(g.Shared, f)
	}
	sort.Strings(g.Shared)
	return g
}
