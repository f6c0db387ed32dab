package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/paraider/paraider/plan"
)

// Forecast is what a run would do (`paraider run -n`), judged from a
// status of the plan as it is now, as paraider exec will judge: by the
// tasks' work and inputs, not by the specs' times as ninja -n would (a
// changed timeout reruns no task).
type Forecast struct {
	Will    []string // would run
	Maybe   []string // up to date, but need a task that would run: they run if its files change
	Fresh   []string // up to date
	Running []string // running now, in another run
	Checks  []string // the final checks after them; none for a run of some tasks
}

// ForecastOf is the forecast of a run of the tasks asked for and what
// they need (every task, then the final checks, when none is asked for),
// in an order that respects needs.
func ForecastOf(p *plan.Plan, st *Status, asked []string) Forecast {
	scope := map[string]bool{}
	var add func(id string)
	add = func(id string) {
		if !scope[id] {
			scope[id] = true
			for _, d := range p.Task(id).Deps {
				add(d)
			}
		}
	}
	for _, id := range asked {
		add(id)
	}
	var f Forecast
	if len(asked) == 0 {
		for _, t := range p.Tasks {
			scope[t.ID] = true
		}
		for _, c := range p.Checks {
			f.Checks = append(f.Checks, c.Name)
		}
	}
	states := map[string]string{}
	for _, r := range st.Rows {
		states[r.ID] = r.State
	}
	runs, after := map[string]bool{}, map[string]bool{}
	for _, t := range p.Topo() {
		if !scope[t.ID] {
			continue
		}
		switch states[t.ID] {
		case UpToDate, Done:
			for _, d := range t.Deps {
				if runs[d] || after[d] {
					after[t.ID] = true
				}
			}
			if after[t.ID] {
				f.Maybe = append(f.Maybe, t.ID)
			} else {
				f.Fresh = append(f.Fresh, t.ID)
			}
		case Running:
			f.Running = append(f.Running, t.ID)
		default:
			runs[t.ID] = true
			f.Will = append(f.Will, t.ID)
		}
	}
	return f
}

// Write says the forecast, a line for each kind of task.
func (f Forecast) Write(w io.Writer) {
	list := func(ids []string) string {
		if len(ids) == 0 {
			return "none"
		}
		return strings.Join(ids, ", ")
	}
	fmt.Fprintln(w, "paraider run -n: what a run would do, judged from the plan as it is now; nothing was written or run")
	fmt.Fprintf(w, "  would run:                           %s\n", list(f.Will))
	fmt.Fprintf(w, "  would run if what they need changes: %s\n", list(f.Maybe))
	fmt.Fprintf(w, "  up to date:                          %s\n", list(f.Fresh))
	if len(f.Running) > 0 {
		fmt.Fprintf(w, "  running now (in another run):        %s\n", list(f.Running))
	}
	if len(f.Checks) > 0 {
		fmt.Fprintf(w, "  then the final checks:               %s\n", list(f.Checks))
	}
}
