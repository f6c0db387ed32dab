// Command bench measures paraider as a whole process, offline, with the
// stand-in agent: schedule quality against the lower bound and the seed's
// batch method, overhead per task, and scale. It writes a Markdown report.
//
//	go run ./bench/cmd/bench -bin DIR -out bench/RESULTS.md [-quick]
//
// DIR holds the paraider binary and the stand-in built as "aider"; run it
// through bench/run.sh, which builds them.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var (
	binDir  = flag.String("bin", "", "directory with paraider and the stand-in aider")
	out     = flag.String("out", "bench/RESULTS.md", "where to write the report")
	quick   = flag.Bool("quick", false, "a short smoke run (CI): small plans, short durations")
	work    = flag.String("work", "", "scratch directory (default: a new one under bench/.work)")
	only    = flag.String("only", "", "run only this section: schedule, commands, lanes, overhead, scale or tasks")
	keep    = flag.Bool("keep", false, "keep section 4's directories (the finished runs) for a profile of status, report or gen")
	plansOf = flag.String("plans", "", "in the commands section, only the plans whose name matches this regular expression")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	if *binDir == "" {
		return fmt.Errorf("-bin is required (use bench/run.sh)")
	}
	abs, err := filepath.Abs(*binDir)
	if err != nil {
		return err
	}
	*binDir = abs
	os.Setenv("PATH", *binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if *work == "" {
		if err := os.MkdirAll("bench/.work", 0o755); err != nil {
			return err
		}
		dir, err := os.MkdirTemp("bench/.work", "run")
		if err != nil {
			return err
		}
		*work, _ = filepath.Abs(dir)
		defer os.RemoveAll(dir)
	}
	// The scratch directory may sit inside a git repository (this one):
	// git must not find it, or isolation none would run git status on it.
	os.Setenv("GIT_CEILING_DIRECTORIES", *work)
	var r report
	r.header()
	start := time.Now()
	for _, s := range []struct {
		name string
		run  func(*report) error
	}{{"schedule", schedule}, {"commands", commands}, {"lanes", lanes}, {"overhead", overhead}, {"scale", scale}, {"tasks", perTask}} {
		if *only != "" && *only != s.name {
			continue
		}
		if err := s.run(&r); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	r.printf("\nThe whole suite took %s.\n", time.Since(start).Round(time.Second))
	if err := os.WriteFile(*out, []byte(r.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", *out)
	return nil
}

type report struct{ strings.Builder }

func (r *report) printf(format string, args ...any) {
	fmt.Fprintf(r, format, args...)
	fmt.Printf(format, args...)
}

func (r *report) header() {
	kind := "full"
	if *quick {
		kind = "quick (smoke)"
	}
	r.printf("# paraider benchmark results\n\n")
	r.printf("Run %s, %s, with `bench/run.sh`; offline, with the stand-in agent sleeping known durations.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), kind)
	r.printf("- machine: %s, %d cores, %s memory, %s\n", cpuModel(), runtime.NumCPU(), memTotal(), kernel())
	r.printf("- %s, ninja %s, %s\n", runtime.Version(), strings.TrimSpace(output("ninja", "--version")), strings.TrimSpace(output("git", "--version")))
	r.printf("- file creation here (10,000 empty files, Go, in the scratch directory): %s\n", createCost())
}

// task is one task of a benchmark plan: its duration in units.
type task struct {
	id    string
	units float64
	needs []string
}

// planYAML writes tasks as a plan whose stand-in agent sleeps each task's
// duration.
func planYAML(tasks []task, unit time.Duration, jobs int, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\nmodel: local/bench\njobs: %d\nisolation: none\nretries: 0\ntimeout: 1h\n%s", jobs, extra)
	b.WriteString("tasks:\n")
	for _, t := range tasks {
		needs := ""
		if len(t.needs) > 0 {
			needs = ", needs: [" + strings.Join(t.needs, ", ") + "]"
		}
		d := time.Duration(t.units * float64(unit))
		fmt.Fprintf(&b, "  - {id: %s, files: [out/%s.txt], message: %s%s, env: {FAKE_AIDER_SLEEP: %s, FAKE_AIDER_NO_USAGE: \"1\"}}\n",
			t.id, t.id, t.id, needs, d)
	}
	return b.String()
}

// lowerBound is max(critical path, total work / jobs), in units.
func lowerBound(tasks []task, jobs int) (lb, cp, total float64) {
	finish := map[string]float64{}
	for _, t := range tasks { // tasks are in a topological order
		start := 0.0
		for _, n := range t.needs {
			start = max(start, finish[n])
		}
		finish[t.id] = start + t.units
		cp = max(cp, finish[t.id])
		total += t.units
	}
	return max(cp, total/float64(jobs)), cp, total
}

// levels groups tasks as the seed's batch method does.
func levels(tasks []task) [][]task {
	level := map[string]int{}
	var out [][]task
	for _, t := range tasks {
		l := 0
		for _, n := range t.needs {
			l = max(l, level[n]+1)
		}
		level[t.id] = l
		for len(out) <= l {
			out = append(out, nil)
		}
		out[l] = append(out[l], t)
	}
	return out
}

func plans(r *rand.Rand) map[string][]task {
	p := map[string][]task{}
	// Writing the tests takes longest; it needs nothing, but the batch
	// method makes the middleware wait for it.
	p["auth (5)"] = []task{
		{"auth-service", 4, nil}, {"auth-test", 6, nil}, {"jwt-utils", 2, nil},
		{"auth-middleware", 3, []string{"auth-service", "jwt-utils"}}, {"routes", 2, []string{"auth-middleware"}},
	}
	// Two levels, the second needing all of the first: here the batch
	// method is optimal whatever the durations, and paraider can only tie.
	p["crud (6)"] = []task{
		{"create-user", 3, nil}, {"read-user", 2, nil}, {"update-user", 3, nil}, {"delete-user", 2, nil},
		{"user-tests", 6, []string{"create-user", "read-user", "update-user", "delete-user"}},
		{"routes", 2, []string{"create-user", "read-user", "update-user", "delete-user"}},
	}
	if *quick {
		return p
	}
	var wide []task
	for i := 0; i < 40; i++ {
		wide = append(wide, task{fmt.Sprintf("w%02d", i), 1 + 9*r.Float64(), nil})
	}
	p["wide (40)"] = wide
	// A chain of 10 with two side branches hanging off each link; the side
	// tasks come first in the file, as people often write the easy ones.
	var chain, sides []task
	for i := 0; i < 10; i++ {
		c := task{id: fmt.Sprintf("c%02d", i), units: 2 + 2*r.Float64()}
		if i > 0 {
			c.needs = []string{fmt.Sprintf("c%02d", i-1)}
		}
		chain = append(chain, c)
		for j := 0; j < 2; j++ {
			sides = append(sides, task{fmt.Sprintf("s%02d%d", i, j), 1 + 2*r.Float64(), []string{c.id}})
		}
	}
	var mixed []task
	for i := range chain {
		mixed = append(mixed, chain[i])
		mixed = append(mixed, sides[2*i], sides[2*i+1])
	}
	p["chain with sides (30)"] = mixed
	// 10 layers of 20; each task needs 1 to 3 tasks of earlier layers;
	// durations spread 10x.
	var layered []task
	for l := 0; l < 10; l++ {
		for i := 0; i < 20; i++ {
			t := task{id: fmt.Sprintf("L%d_%02d", l, i), units: 1 + 9*r.Float64()}
			if l > 0 {
				seen := map[string]bool{}
				for k := 0; k < 1+r.Intn(3); k++ {
					dep := layered[r.Intn(len(layered))]
					if !seen[dep.id] {
						seen[dep.id] = true
						t.needs = append(t.needs, dep.id)
					}
				}
			}
			layered = append(layered, t)
		}
	}
	p["random layered (200)"] = layered
	return p
}

func schedule(r *report) error {
	unit := 100 * time.Millisecond
	if *quick {
		unit = 20 * time.Millisecond
	}
	const jobs = 4
	r.printf("\n## 1. Schedule quality (jobs = %d, 1 unit = %s)\n\n", jobs, unit)
	r.printf("Makespan divided by the lower bound max(critical path, total work / jobs); lower is better, 1.00 is perfect. ")
	r.printf("`batch` is the seed's method (each dependency level in parallel up to %d, waiting for the whole level); ", jobs)
	r.printf("`plan order` is paraider with edges in declaration order; `critical` is paraider's longest-chain-first order on a first run (every task weighted the same), `critical+history` on a second run, weighted by the recorded durations. All run `paraider exec` per task.\n\n")
	r.printf("| plan | lower bound | batch | plan order | critical | critical+history |\n|---|--:|--:|--:|--:|--:|\n")
	ps := plans(rand.New(rand.NewSource(42)))
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return len(ps[names[i]]) < len(ps[names[j]]) })
	var verdicts []string
	for _, name := range names {
		tasks := ps[name]
		lb, _, _ := lowerBound(tasks, jobs)
		lbd := time.Duration(lb * float64(unit))
		dir := filepath.Join(*work, "sched-"+strings.Fields(name)[0])
		cell := func(d time.Duration) string {
			return fmt.Sprintf("%.2f (%s)", d.Seconds()/lbd.Seconds(), d.Round(10*time.Millisecond))
		}
		batch, err := runBatch(dir+"-batch", tasks, unit, jobs)
		if err != nil {
			return err
		}
		decl, err := runNinja(dir+"-decl", planYAML(tasks, unit, jobs, ""), true)
		if err != nil {
			return err
		}
		crit, err := runNinja(dir+"-crit", planYAML(tasks, unit, jobs, ""), false)
		if err != nil {
			return err
		}
		// The same plan again, every message changed so every task runs,
		// with the first run's durations on record.
		again := strings.ReplaceAll(planYAML(tasks, unit, jobs, ""), ", files:", ", files:")
		again = strings.ReplaceAll(again, "message: ", "message: again ")
		hist, err := runNinja(dir+"-crit", again, false)
		if err != nil {
			return err
		}
		r.printf("| %s | %s | %s | %s | %s | %s |\n", name, lbd.Round(10*time.Millisecond), cell(batch), cell(decl), cell(crit), cell(hist))
		best := min(crit, hist)
		verdicts = append(verdicts, fmt.Sprintf("%s: within 10%% of the lower bound: %s (%.2f); below batch: %s",
			name, yes(best.Seconds() <= 1.10*lbd.Seconds()), best.Seconds()/lbd.Seconds(), yes(best < batch)))
	}
	r.printf("\nTargets, paraider's better run of the two:\n\n")
	for _, v := range verdicts {
		r.printf("- %s\n", v)
	}
	return nil
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// runNinja writes the plan in dir (kept between calls), generates and runs
// ninja, and returns ninja's wall time.
func runNinja(dir, planText string, planOrder bool) (time.Duration, error) {
	if err := genPlan(dir, planText, planOrder); err != nil {
		return 0, err
	}
	// The task edges only: the checks and the report are not part of the
	// schedule, and the batch method has none. -j as paraider gen
	// suggests it.
	targets := []string{"-j", strconv.Itoa(suggestedJobs(planText))}
	specs, _ := filepath.Glob(filepath.Join(dir, ".paraider", "specs", "*.json"))
	for _, sp := range specs {
		targets = append(targets, ".paraider/stamps/task/"+strings.TrimSuffix(filepath.Base(sp), ".json"))
	}
	start := time.Now()
	if out, err := cmd(dir, "ninja", targets...); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, out)
	}
	return time.Since(start), nil
}

// genPlan writes planText in dir and runs paraider gen there.
func genPlan(dir, planText string, planOrder bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(planText), 0o644); err != nil {
		return err
	}
	args := []string{"gen"}
	if planOrder {
		args = append(args, "--plan-order")
	}
	_, err := cmd(dir, "paraider", args...)
	return err
}

// runPlain runs the plan as the README says: paraider gen, then plain
// ninja (the default target: where Ninja's own -j is too low, the edge that
// runs Ninja again, which keeps the run's journal of the main tree; the
// report at the end).
func runPlain(dir, planText string) (time.Duration, error) {
	if err := genPlan(dir, planText, false); err != nil {
		return 0, err
	}
	start := time.Now()
	if out, err := cmd(dir, "ninja"); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, out)
	}
	return time.Since(start), nil
}

// runBatch is the seed's method: every level's tasks in parallel, at most
// jobs at once, the next level only when the whole level is done.
func runBatch(dir string, tasks []task, unit time.Duration, jobs int) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(planYAML(tasks, unit, jobs, "")), 0o644); err != nil {
		return 0, err
	}
	if _, err := cmd(dir, "paraider", "gen"); err != nil {
		return 0, err
	}
	start := time.Now()
	for _, level := range levels(tasks) {
		err := eachLimited(level, jobs, func(t task) error {
			if out, err := cmd(dir, "paraider", "exec", t.id); err != nil {
				return fmt.Errorf("%s: %v\n%s", t.id, err, out)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func overhead(r *report) error {
	n := 40
	files := 5000
	if *quick {
		n, files = 5, 200
	}
	r.printf("\n## 2. Overhead per task\n\n")
	rounds := 5
	if *quick {
		rounds = 1
	}
	sizes := []int{files, 10 * files}
	if *quick {
		sizes = sizes[:1]
	}
	r.printf("%d tasks one after another (jobs 1) with an agent that writes its file and exits at once (the stand-in), outside git and in generated repositories of %s files (nested as source trees are: src/pNN/mN/sN/fNNNNN.ts, ten files a directory, 40 B to 3 KB); each run as the README says, `paraider gen && ninja` (plain ninja: the edge that runs Ninja again, with the run's journal of the main tree, and the report at the end); time per task, the median of %d rounds that take turns (this machine's speed drifts by a third within minutes: each round measures them side by side). Overhead is paraider's time less ninja running the same agent directly, in the same round set. Targets: issue 25, section 1.\n\n", n, strings.Trim(strings.Join(strings.Fields(fmt.Sprint(sizes)), " and "), "[]"), rounds)
	var tasks []task
	for i := 0; i < n; i++ {
		tasks = append(tasks, task{id: fmt.Sprintf("o%03d", i)})
	}
	plainYAML := strings.ReplaceAll(planYAML(tasks, 0, 1, ""), "FAKE_AIDER_SLEEP: 0s, ", "")
	wtYAML := strings.Replace(plainYAML, "isolation: none", "isolation: worktree", 1)
	per := func(d time.Duration) time.Duration { return (d / time.Duration(n)).Round(100 * time.Microsecond) }
	spread := func(ds []time.Duration) string {
		return fmt.Sprintf("%s-%s", per(slices.Min(ds)), per(slices.Max(ds)))
	}
	r.printf("| how | per task | rounds | overhead | target |\n|---|--:|--:|--:|--:|\n")
	for k, files := range sizes {
		wtDir := filepath.Join(*work, fmt.Sprintf("over-repo-%d", files))
		if err := bigRepo(wtDir, files); err != nil {
			return err
		}
		// The first run makes the pool's slot: every file of the repository.
		wt, err := runPlain(wtDir, wtYAML)
		if err != nil {
			return err
		}
		var directs, nones, inRepo, warms []time.Duration
		for round := 1; round <= rounds; round++ {
			d, err := directAgent(filepath.Join(*work, fmt.Sprintf("over-direct-%d-%d", files, round)), n)
			if err != nil {
				return err
			}
			none, err := runPlain(filepath.Join(*work, fmt.Sprintf("over-none-%d-%d", files, round)), plainYAML)
			if err != nil {
				return err
			}
			// The same plan in the repository: exec looks at the whole
			// tree before and after each attempt (git status).
			// Each its own messages: isolation is not part of a task's
			// work, and the same message would find it done already.
			repoNone, err := runPlain(wtDir, strings.ReplaceAll(plainYAML, "message: ", fmt.Sprintf("message: in place %d ", round)))
			if err != nil {
				return err
			}
			// The next run, every task changed: its attempts find the slot
			// the first run left warm.
			warm, err := runPlain(wtDir, strings.ReplaceAll(wtYAML, "message: ", fmt.Sprintf("message: again %d ", round)))
			if err != nil {
				return err
			}
			directs, nones, inRepo, warms = append(directs, d), append(nones, none), append(inRepo, repoNone), append(warms, warm)
		}
		d, none, repoNone, warm := median(directs), median(nones), median(inRepo), median(warms)
		noneTarget, wtTarget := "< 50ms", "< 150ms"
		if k > 0 {
			noneTarget, wtTarget = "< 150ms", "< 400ms"
		}
		if k == 0 {
			r.printf("| ninja runs the agent directly | %s | %s | | |\n", per(d), spread(directs))
			r.printf("| paraider exec, isolation none, outside git | %s | %s | %s | < 20ms |\n", per(none), spread(nones), per(none-d))
		}
		r.printf("| paraider exec, isolation none, in a repository of %d files | %s | %s | %s | %s |\n", files, per(repoNone), spread(inRepo), per(repoNone-d), noneTarget)
		r.printf("| paraider exec, worktree, repository of %d files, a whole first run (the pool's start included; one run, before the rounds) | %s | | %s | %s |\n", files, per(wt), per(wt-d), wtTarget)
		r.printf("| the same, the next run (warm slots) | %s | %s | %s | %s |\n", per(warm), spread(warms), per(warm-d), wtTarget)
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// directAgent runs the stand-in n times under ninja with no paraider.
func directAgent(dir string, n int) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var b strings.Builder
	b.WriteString("pool one\n  depth = 1\nrule agent\n  command = aider --model local/bench --yes-always --no-auto-commits --file $out --message go\n  pool = one\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "build out/d%03d.txt: agent\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "build.ninja"), []byte(b.String()), 0o644); err != nil {
		return 0, err
	}
	start := time.Now()
	if out, err := cmdEnv(dir, []string{"FAKE_AIDER_NO_USAGE=1"}, "ninja", "-j", "1"); err != nil {
		return 0, fmt.Errorf("%v\n%s", err, out)
	}
	return time.Since(start), nil
}

// bigRepo makes a git repository of files files in dir.
func bigRepo(dir string, files int) error {
	sizes := []int{40, 200, 800, 3000}
	for i := 0; i < files; i++ {
		// Ten files a directory, three levels under src/, as source trees
		// have (a tree of few large directories flatters whatever walks
		// directories, the tree watch among them).
		leaf := i / 10
		p := filepath.Join(dir, "src", fmt.Sprintf("p%02d", leaf/100), fmt.Sprintf("m%d", leaf/10%10), fmt.Sprintf("s%d", leaf%10), fmt.Sprintf("f%05d.ts", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		line := fmt.Sprintf("export const v%d = %d;\n", i, i)
		body := strings.Repeat(line, max(1, sizes[i%len(sizes)]/len(line)))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("build.ninja\n.ninja_*\n"), 0o644)
	for _, a := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "files"}} {
		if out, err := cmd(dir, "git", a...); err != nil {
			return fmt.Errorf("git %v: %v\n%s", a, err, out)
		}
	}
	return nil
}

func scale(r *report) error {
	sizes := []int{1000, 10000}
	if *quick {
		sizes = []int{1000}
	}
	r.printf("\n## 3. Scale\n\n")
	r.printf("Plans whose first 100 tasks are independent and each later task needs two of the 300 before it. `gen` is the whole `paraider gen` process: fresh (every spec new) and again (nothing changed, what the generator edge does); peak memory is the process's maximum resident set. The agent here appends a line to its file with sh (no stand-in), so that a run of every task is quick.\n\n")
	r.printf("| tasks | gen fresh | gen again | peak memory | ninja no-op | edit one task: ran | expected |\n|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, n := range sizes {
		dir := filepath.Join(*work, fmt.Sprintf("scale-%d", n))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		tasks := scaleTasks(n)
		text := scaleYAML(tasks, "")
		if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(text), 0o644); err != nil {
			return err
		}
		fresh, rss1, err := timed(dir, "paraider", "gen")
		if err != nil {
			return err
		}
		again, rss2, err := timed(dir, "paraider", "gen")
		if err != nil {
			return err
		}
		if out, err := cmd(dir, "ninja", "-j", "8"); err != nil {
			return fmt.Errorf("first run: %v\n%s", err, tailOf(out))
		}
		var noops []time.Duration
		for i := 0; i < 5; i++ {
			d, _, err := timed(dir, "ninja")
			if err != nil {
				return err
			}
			noops = append(noops, d)
		}
		sort.Slice(noops, func(i, j int) bool { return noops[i] < noops[j] })
		// Edit one task in the middle; count what runs.
		mid := tasks[n/2].id
		want := 1 + len(dependents(tasks, mid))
		edited := scaleYAML(tasks, mid)
		if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(edited), 0o644); err != nil {
			return err
		}
		out, err := cmd(dir, "ninja", "-j", "8")
		if err != nil {
			return fmt.Errorf("run after the edit: %v\n%s", err, tailOf(out))
		}
		ran := strings.Count(out, "\nok ") + strings.Count(out, "\nup to date ")
		if strings.HasPrefix(out, "ok ") {
			ran++
		}
		r.printf("| %d | %s | %s | %s | %s (median of 5) | %d | %d |\n", n, fresh.Round(time.Millisecond), again.Round(time.Millisecond),
			mib(max(rss1, rss2)), noops[2].Round(time.Millisecond), ran, want)
	}
	r.printf("\nTargets: gen of 10,000 tasks under 1 s and 100 MB; ninja no-op under 0.5 s; the edit reruns exactly the task and its dependents.\n")
	return genGrowth(r)
}

// genGrowth shows that gen grows linearly with the plan, for a plan of
// independent tasks (where a sorted ready list once made it quadratic) and
// a layered one.
func genGrowth(r *report) error {
	sizes := []int{1000, 10000, 50000}
	if *quick {
		sizes = []int{1000}
	}
	r.printf("\n### gen as plans grow\n\n`paraider gen` again (nothing changed), per task: flat when gen is linear. Wide: independent tasks; layered: layers of 100, each task needing two of the layer before.\n\n")
	r.printf("| tasks | wide | per task | layered | per task |\n|--:|--:|--:|--:|--:|\n")
	for _, n := range sizes {
		var cells []string
		for _, shape := range []string{"wide", "layered"} {
			tasks := make([]task, n)
			rnd := rand.New(rand.NewSource(int64(n)))
			for i := range tasks {
				tasks[i].id = fmt.Sprintf("t%05d", i)
				if shape == "layered" && i >= 100 {
					base := (i/100 - 1) * 100
					tasks[i].needs = []string{fmt.Sprintf("t%05d", base+rnd.Intn(100)), fmt.Sprintf("t%05d", base+rnd.Intn(100))}
					if tasks[i].needs[0] == tasks[i].needs[1] {
						tasks[i].needs = tasks[i].needs[:1]
					}
				}
			}
			dir := filepath.Join(*work, fmt.Sprintf("growth-%s-%d", shape, n))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(scaleYAML(tasks, "")), 0o644); err != nil {
				return err
			}
			if _, _, err := timed(dir, "paraider", "gen"); err != nil {
				return err
			}
			again, _, err := timed(dir, "paraider", "gen")
			if err != nil {
				return err
			}
			cells = append(cells, again.Round(time.Millisecond).String(), fmt.Sprintf("%.0f µs", float64(again.Microseconds())/float64(n)))
			os.RemoveAll(dir)
		}
		r.printf("| %d | %s |\n", n, strings.Join(cells, " | "))
	}
	return nil
}

func scaleTasks(n int) []task {
	r := rand.New(rand.NewSource(7))
	var tasks []task
	for i := 0; i < n; i++ {
		t := task{id: fmt.Sprintf("t%05d", i)}
		if i >= 100 {
			lo := max(0, i-300)
			a, b := lo+r.Intn(i-lo), lo+r.Intn(i-lo)
			t.needs = append(t.needs, fmt.Sprintf("t%05d", a))
			if b != a {
				t.needs = append(t.needs, fmt.Sprintf("t%05d", b))
			}
		}
		tasks = append(tasks, t)
	}
	return tasks
}

func scaleYAML(tasks []task, edited string) string {
	var b strings.Builder
	b.WriteString("version: 1\nmodel: local/bench\njobs: 8\nisolation: none\nretries: 0\nagent: appender\n")
	b.WriteString("agents:\n  appender:\n    command: sh -c 'mkdir -p \"$(dirname \"$0\")\" && date +%N >> \"$0\"' {files}\ntasks:\n")
	for _, t := range tasks {
		needs := ""
		if len(t.needs) > 0 {
			needs = ", needs: [" + strings.Join(t.needs, ", ") + "]"
		}
		msg := t.id
		if t.id == edited {
			msg += " edited"
		}
		fmt.Fprintf(&b, "  - {id: %s, files: [out/%s.txt], message: %s%s}\n", t.id, t.id, msg, needs)
	}
	return b.String()
}

func dependents(tasks []task, id string) map[string]bool {
	deps := map[string]bool{}
	for _, t := range tasks { // topological order
		for _, n := range t.needs {
			if n == id || deps[n] {
				deps[t.id] = true
			}
		}
	}
	return deps
}

func timed(dir, name string, args ...string) (time.Duration, int64, error) {
	c := exec.Command(name, args...)
	c.Dir = dir
	start := time.Now()
	out, err := c.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %v: %v\n%s", name, args, err, out)
	}
	var rss int64
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024
	}
	return d, rss, nil
}

func cmd(dir, name string, args ...string) (string, error) {
	return cmdEnv(dir, nil, name, args...)
}

func cmdEnv(dir string, env []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, name, args...)
	c.Dir = dir
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	return string(out), err
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }

// suggestedJobs is the -j paraider gen suggests for a plan's text: twice
// its jobs (no more than its tasks), at least Ninja's own default.
func suggestedJobs(planText string) int {
	jobs, tasks := 4, strings.Count(planText, "\n  - {id: ")
	for _, l := range strings.Split(planText, "\n") {
		if v, ok := strings.CutPrefix(l, "jobs: "); ok {
			jobs, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return max(min(max(2*jobs, 32), tasks), defaultNinjaJobs())
}

func output(name string, args ...string) string {
	out, _ := exec.Command(name, args...).Output()
	return string(out)
}

func tailOf(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

func mib(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	data, _ := os.ReadFile("/proc/meminfo")
	var kb int64
	fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(data), "\n", 2)[0], "MemTotal:"), "%d", &kb)
	return fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
}

// createCost times creating 10,000 small files, to put gen's fresh time
// in context: on some machines file creation alone takes seconds.
func createCost() string {
	dir, err := os.MkdirTemp(*work, "create")
	if err != nil {
		return "?"
	}
	defer os.RemoveAll(dir)
	start := time.Now()
	for i := 0; i < 10000; i++ {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), []byte("x"), 0o644)
	}
	return time.Since(start).Round(time.Millisecond).String()
}
