package plan

import (
	"container/heap"
	"slices"
	"sort"
)

// Shape describes how a plan can run.
type Shape struct {
	// Levels groups tasks by dependency depth: level 0 needs nothing, level
	// n needs something of level n-1.
	Levels [][]string
	// CriticalPath is the longest chain of tasks by weight, first to last.
	CriticalPath []string
	// CriticalWeight is the sum of the weights on CriticalPath.
	CriticalWeight float64
	// Width is the most tasks that can ever run at once, ignoring jobs.
	Width int
	// WidthExact is false for large plans, where Width is the widest level:
	// a lower bound.
	WidthExact bool
}

// Weight gives a task's expected duration, in any unit; nil weighs each task 1.
type Weight func(id string) float64

// Of is the weight of task id: 1 when w is nil.
func (w Weight) Of(id string) float64 {
	if w == nil {
		return 1
	}
	return w(id)
}

// Topo returns the tasks in an order where each comes after its deps,
// keeping plan order where it is free.
func (p *Plan) Topo() []*Task {
	out := make([]*Task, 0, len(p.Tasks))
	for _, i := range p.topo(p.users()) {
		out = append(out, p.Tasks[i])
	}
	return out
}

// users lists, by each task's position in the plan, the positions of the
// tasks that need it: the graph by index, without a map look per edge.
func (p *Plan) users() [][]int {
	pos := make(map[string]int, len(p.Tasks))
	for i, t := range p.Tasks {
		pos[t.ID] = i
	}
	users := make([][]int, len(p.Tasks))
	for i, t := range p.Tasks {
		for _, d := range t.Deps {
			if j, ok := pos[d]; ok {
				users[j] = append(users[j], i)
			}
		}
	}
	return users
}

// topo is Topo by position in the plan.
func (p *Plan) topo(users [][]int) []int {
	indeg := make([]int, len(p.Tasks))
	for _, us := range users {
		for _, u := range us {
			indeg[u]++
		}
	}
	// Ready tasks in plan order: a heap of positions, so that a plan of
	// n tasks sorts in O(n log n), not a sort of the ready list per task.
	ready := &posHeap{}
	for i := range p.Tasks {
		if indeg[i] == 0 {
			*ready = append(*ready, i)
		}
	}
	heap.Init(ready)
	out := make([]int, 0, len(p.Tasks))
	for ready.Len() > 0 {
		i := heap.Pop(ready).(int)
		out = append(out, i)
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	return out
}

type posHeap []int

func (h posHeap) Len() int           { return len(h) }
func (h posHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h posHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *posHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *posHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Remaining returns, for each task, the weight of the longest chain that
// starts with it and runs through the tasks that depend on it.
func (p *Plan) Remaining(w Weight) map[string]float64 {
	users := p.users()
	byPos := p.remaining(w, users, p.topo(users))
	rem := make(map[string]float64, len(p.Tasks))
	for i, t := range p.Tasks {
		rem[t.ID] = byPos[i]
	}
	return rem
}

// remaining is Remaining by position in the plan, given the graph and
// its order (topo's).
func (p *Plan) remaining(w Weight, users [][]int, topo []int) []float64 {
	rem := make([]float64, len(p.Tasks))
	for k := len(topo) - 1; k >= 0; k-- {
		i := topo[k]
		best := 0.0
		for _, u := range users[i] {
			best = max(best, rem[u])
		}
		rem[i] = w.Of(p.Tasks[i].ID) + best
	}
	return rem
}

// CriticalOrder orders the tasks longest remaining chain first (by w; ties
// in dependency order, then plan order), with each task's remaining
// weight.
func (p *Plan) CriticalOrder(w Weight) ([]*Task, map[string]float64) {
	users := p.users()
	order := p.topo(users)
	byPos := p.remaining(w, users, order)
	// Stable: equals keep Topo's order.
	sort.SliceStable(order, func(a, b int) bool { return byPos[order[a]] > byPos[order[b]] })
	out := make([]*Task, len(order))
	rem := make(map[string]float64, len(p.Tasks))
	for k, i := range order {
		out[k] = p.Tasks[i]
		rem[p.Tasks[i].ID] = byPos[i]
	}
	return out, rem
}

// Shape works out the levels, the critical path and the width.
func (p *Plan) Shape(w Weight) Shape {
	var s Shape
	topo := p.Topo()
	level := map[string]int{}
	ids := make([]string, len(topo))
	deps := make(map[string][]string, len(topo))
	for i, t := range topo {
		l := 0
		for _, d := range t.Deps {
			l = max(l, level[d]+1)
		}
		level[t.ID] = l
		for len(s.Levels) <= l {
			s.Levels = append(s.Levels, nil)
		}
		s.Levels[l] = append(s.Levels[l], t.ID)
		ids[i], deps[t.ID] = t.ID, t.Deps
	}
	s.CriticalPath, s.CriticalWeight = LongestChain(ids, deps, w)
	for _, l := range s.Levels {
		s.Width = max(s.Width, len(l))
	}
	if len(topo) <= maxExactWidth {
		s.Width, s.WidthExact = width(p, topo), true
	}
	return s
}

// LongestChain is the heaviest chain of a dependency graph by w, first to
// last, and its weight: ids are the graph's nodes (a tie goes to the
// first), deps what each needs (a tie goes to the first listed). A plan
// and the records of a run (for the report) both have such a graph.
func LongestChain(ids []string, deps map[string][]string, w Weight) ([]string, float64) {
	dist := make(map[string]float64, len(ids))
	prev := make(map[string]string, len(ids))
	// Depth first, without recursion: a chain may be long. A task met
	// again while its own deps are being worked out (a cycle, which a
	// checked plan has not) counts as weighing nothing.
	entered := map[string]bool{}
	for _, root := range ids {
		stack := []string{root}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			if _, done := dist[id]; done {
				stack = stack[:len(stack)-1]
				continue
			}
			pending := false
			if !entered[id] {
				entered[id] = true
				for _, d := range deps[id] {
					if _, done := dist[d]; !done && !entered[d] {
						stack = append(stack, d)
						pending = true
					}
				}
			}
			if pending {
				continue
			}
			best, from := 0.0, ""
			for _, d := range deps[id] {
				if dd, done := dist[d]; done && (dd > best || from == "") {
					best, from = dd, d
				}
			}
			dist[id], prev[id] = best+w.Of(id), from
			stack = stack[:len(stack)-1]
		}
	}
	end := ""
	for _, id := range ids {
		if end == "" || dist[id] > dist[end] {
			end = id
		}
	}
	var chain []string
	for id := end; id != ""; id = prev[id] {
		chain = append(chain, id)
	}
	slices.Reverse(chain)
	return chain, dist[end]
}

// maxExactWidth bounds the plans whose width is computed exactly: the
// matching below is quadratic in memory and cubic in time.
const maxExactWidth = 1500

// width is the largest antichain of the task order (Dilworth): the number of
// tasks minus a maximum matching in the bipartite graph of "a before b".
func width(p *Plan, topo []*Task) int {
	n := len(topo)
	idx := map[string]int{}
	for i, t := range topo {
		idx[t.ID] = i
	}
	// after[i] lists every j that transitively depends on i.
	words := (n + 63) / 64
	closure := make([][]uint64, n)
	for i := n - 1; i >= 0; i-- {
		closure[i] = make([]uint64, words)
	}
	for i := 0; i < n; i++ {
		for _, d := range topo[i].Deps {
			j := idx[d]
			// everything before d is before i too
			closure[j][i/64] |= 1 << (i % 64)
		}
	}
	// propagate in reverse topological order: later(j) |= later(k) for k in later(j)
	for j := n - 1; j >= 0; j-- {
		for k := j + 1; k < n; k++ {
			if closure[j][k/64]&(1<<(k%64)) != 0 {
				for w := range closure[j] {
					closure[j][w] |= closure[k][w]
				}
			}
		}
	}
	match := make([]int, n) // right node -> left node
	for i := range match {
		match[i] = -1
	}
	var seen []bool
	var try func(u int) bool
	try = func(u int) bool {
		for v := u + 1; v < n; v++ {
			if closure[u][v/64]&(1<<(v%64)) == 0 || seen[v] {
				continue
			}
			seen[v] = true
			if match[v] < 0 || try(match[v]) {
				match[v] = u
				return true
			}
		}
		return false
	}
	matched := 0
	for u := 0; u < n; u++ {
		seen = make([]bool, n)
		if try(u) {
			matched++
		}
	}
	return n - matched
}
