package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/plan"
)

// lanes compares the GitHub target's lanes, fixed when the workflow is
// generated, with the places paraider exec hands out as tasks end (the
// Ninja target), on the plans of section 1b, by simulation with the real
// durations: the lanes are made from what gen knows before the first run
// (the estimates where the plan has them, else every task alike).
func lanes(r *report) error {
	if unitForEstimate == 0 {
		unitForEstimate = time.Second
	}
	r.printf("\n## 1c. The GitHub target's lanes against the places at run time\n\n")
	r.printf("Makespan divided by the lower bound, simulated with the tasks' real durations (no start-up costs). ")
	r.printf("Places: whenever one falls free, the ready task with the longest chain ahead takes it (what paraider exec's queue does under Ninja). ")
	r.printf("Lanes: the workflow's `jobs` lanes, fixed at `paraider gen --target github` from the weights gen has before any run; a task starts when its needs and the task before it in its lane have ended.\n\n")
	r.printf("| plan | lower bound (units) | places | lanes |\n|---|--:|--:|--:|\n")
	for _, pl := range commandPlans() {
		lb, _, _ := lowerBound(pl.tasks, pl.jobs)
		dir, err := os.MkdirTemp(*work, "lanes")
		if err != nil {
			return err
		}
		var b strings.Builder
		fmt.Fprintf(&b, "version: 1\nmodel: local/bench\njobs: %d\ntasks:\n", pl.jobs)
		for _, t := range pl.tasks {
			needs := ""
			if len(t.needs) > 0 {
				needs = ", needs: [" + strings.Join(t.needs, ", ") + "]"
			}
			fmt.Fprintf(&b, "  - {id: %s, files: [out/%s.txt], message: %s%s%s}\n", t.id, t.id, t.id, needs, pl.extra(t))
		}
		file := filepath.Join(dir, "paraider.yaml")
		if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
			return err
		}
		p, err := plan.Load(file)
		if err != nil {
			return err
		}
		l, err := gen.WriteGitHub(p, filepath.Join(dir, "wf.yml"), "paraider.yaml", "bench", true)
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		dur := map[string]float64{}
		for _, t := range pl.tasks {
			dur[t.id] = t.units
		}
		r.printf("| %s | %.2f | %.2f | %.2f |\n", pl.name, lb, places(pl.tasks, pl.jobs, dur)/lb, laneMakespan(pl.tasks, l, dur)/lb)
	}
	return nil
}

// places simulates list scheduling on jobs places with the real
// durations, the longest remaining chain first: gen's own scheduler, given
// the true durations, in the order they rank the tasks.
func places(tasks []task, jobs int, dur map[string]float64) float64 {
	rem := map[string]float64{}
	for i := len(tasks) - 1; i >= 0; i-- { // tasks are in a topological order
		t := tasks[i]
		best := 0.0
		for _, o := range tasks {
			if slices.Contains(o.needs, t.id) {
				best = max(best, rem[o.id])
			}
		}
		rem[t.id] = best + dur[t.id]
	}
	g := &gen.Graph{}
	for _, t := range tasks {
		g.Tasks = append(g.Tasks, gen.GraphTask{ID: t.id, Needs: t.needs})
	}
	sort.SliceStable(g.Tasks, func(i, j int) bool { return rem[g.Tasks[i].ID] > rem[g.Tasks[j].ID] })
	return g.ScheduleLanes(jobs, func(id string) float64 { return dur[id] }).Makespan
}

// laneMakespan runs the lanes with the real durations.
func laneMakespan(tasks []task, l gen.Lanes, dur map[string]float64) float64 {
	end := map[string]float64{}
	makespan := 0.0
	order := append([]task(nil), tasks...)
	sort.SliceStable(order, func(i, j int) bool { return l.Start[order[i].id] < l.Start[order[j].id] })
	for len(end) < len(tasks) {
		for _, t := range order {
			if _, done := end[t.id]; done {
				continue
			}
			start, ready := 0.0, true
			for _, n := range append(append([]string(nil), t.needs...), l.Prev[t.id]) {
				if n == "" {
					continue
				}
				e, ok := end[n]
				if !ok {
					ready = false
					break
				}
				start = max(start, e)
			}
			if ready {
				end[t.id] = start + dur[t.id]
				makespan = max(makespan, end[t.id])
			}
		}
	}
	return makespan
}
