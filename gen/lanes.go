package gen

// Lanes are a compile-time stand-in for the `jobs` places paraider exec
// hands out at run time: a target with no semaphore across its jobs
// (GitHub Actions) keeps at most `jobs` agents running by giving each task
// a lane and running a lane's tasks one after another.
type Lanes struct {
	Lane map[string]int    // each task's lane, 0 to jobs-1
	Prev map[string]string // the task before it on its lane; "" for the first
	// Start and End are the schedule the lanes were made from, in the
	// weights' unit.
	Start, End map[string]float64
	Makespan   float64
	// Seconds says the weights were seconds (recorded durations and
	// estimates); else every task weighed 1.
	Seconds bool
}

// ScheduleLanes assigns the graph's tasks to jobs lanes by list
// scheduling: whenever a lane falls free, it takes the ready task that
// comes first in critical-path order (the graph's), with each task lasting
// its weight. Unlike the places at run time, the lanes are fixed before
// anything ran: a task that takes longer than its weight holds up the
// rest of its lane, and a lane's next task waits for it even when another
// lane is idle.
func (g *Graph) ScheduleLanes(jobs int, weight func(id string) float64) Lanes {
	jobs = max(jobs, 1)
	l := Lanes{Lane: map[string]int{}, Prev: map[string]string{}, Start: map[string]float64{}, End: map[string]float64{}}
	free := make([]float64, jobs)
	last := make([]string, jobs)
	done := map[string]bool{}
	for len(done) < len(g.Tasks) {
		lane := 0
		for k := range free {
			if free[k] < free[lane] {
				lane = k
			}
		}
		now := free[lane]
		// The first task in critical-path order whose needs have ended;
		// when none has, the lane waits for the earliest such end.
		pick, wait := -1, -1.0
		for i, t := range g.Tasks {
			if done[t.ID] {
				continue
			}
			ready, at := true, 0.0
			for _, d := range t.Needs {
				end, ok := l.End[d]
				if !ok || !done[d] {
					ready = false
					break
				}
				at = max(at, end)
			}
			if !ready {
				continue
			}
			if at <= now {
				pick = i
				break
			}
			if wait < 0 || at < wait {
				wait = at
			}
		}
		if pick < 0 {
			if wait < 0 {
				break // a cycle, which a checked plan has not
			}
			free[lane] = wait
			continue
		}
		t := g.Tasks[pick]
		l.Lane[t.ID], l.Prev[t.ID] = lane, last[lane]
		l.Start[t.ID], l.End[t.ID] = now, now+weight(t.ID)
		free[lane], last[lane] = l.End[t.ID], t.ID
		done[t.ID] = true
		l.Makespan = max(l.Makespan, l.End[t.ID])
	}
	return l
}
