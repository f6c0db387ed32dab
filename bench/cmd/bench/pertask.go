package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// perTask measures what paraider costs a trivial task as the plan grows
// (issue 25, section 1b): the whole `paraider gen && ninja` of a plan of n
// tasks in place, in a repository with thousands of untracked files, its
// wall time and CPU (every process it waited for, the agents' included),
// beside a plain Ninja file that runs the same agents with the same
// dependencies and a pool of the plan's jobs; then `paraider status` and
// `paraider report` of the finished run.
func perTask(r *report) error {
	sizes, files, untracked := []int{1000, 10000}, 5000, 10000
	if *quick {
		sizes, files, untracked = []int{100}, 200, 200
	}
	r.printf("\n## 4. CPU a task as the plan grows\n\n")
	r.printf("Plans as in section 3 (the first 100 tasks independent, each later one needs two of the 300 before it), jobs 8, isolation none, the stand-in agent writing its file, in a repository of %d files (section 2's) with %d untracked files beside them. paraider: `paraider gen && ninja`, every task run once; CPU is user + system of every process the command waited for, the agents' included. Ninja alone: a plain Ninja file running the same agents with the same dependencies, a pool of depth 8. paraider's cost a task is the difference of the two CPUs over the tasks. `status` and `report` after the run: the median of 5.\n\n", files, untracked)
	r.printf("| tasks | paraider: wall | CPU | Ninja alone: wall | CPU | paraider's CPU a task | wall against Ninja alone | `status` | `report` |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, n := range sizes {
		dir := filepath.Join(*work, fmt.Sprintf("tasks-%d", n))
		if err := bigRepo(dir, files); err != nil {
			return err
		}
		for i := 0; i < untracked; i++ {
			p := filepath.Join(dir, "untracked", fmt.Sprintf("d%03d", i/100), fmt.Sprintf("u%05d.txt", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(fmt.Sprintln("untracked", i)), 0o644); err != nil {
				return err
			}
		}
		tasks := scaleTasks(n)
		text := strings.ReplaceAll(planYAML(tasks, 0, 8, ""), "FAKE_AIDER_SLEEP: 0s, ", "")
		if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(text), 0o644); err != nil {
			return err
		}
		wall, cpu, err := timedCPU(dir, "sh", "-c", "paraider gen >/dev/null && ninja >/dev/null")
		if err != nil {
			return err
		}
		direct := filepath.Join(*work, fmt.Sprintf("tasks-direct-%d", n))
		if err := os.MkdirAll(filepath.Join(direct, "out"), 0o755); err != nil {
			return err
		}
		var b strings.Builder
		b.WriteString("pool agents\n  depth = 8\nrule agent\n  command = $cmd\n  pool = agents\n")
		for _, t := range tasks {
			dep := ""
			for _, d := range t.needs {
				dep += " out/" + d + ".txt"
			}
			if dep != "" {
				dep = " |" + dep
			}
			fmt.Fprintf(&b, "build out/%s.txt: agent%s\n  cmd = env FAKE_AIDER_NO_USAGE=1 %s\n", t.id, dep, shellJoin(directArgs(t)))
		}
		if err := os.WriteFile(filepath.Join(direct, "build.ninja"), []byte(b.String()), 0o644); err != nil {
			return err
		}
		dwall, dcpu, err := timedCPU(direct, "ninja", "-j", "8")
		if err != nil {
			return err
		}
		var status, rep []time.Duration
		for i := 0; i < 5; i++ {
			s, _, err := timed(dir, "paraider", "status")
			if err != nil {
				return err
			}
			t, _, err := timed(dir, "paraider", "report")
			if err != nil {
				return err
			}
			status, rep = append(status, s), append(rep, t)
		}
		ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
		r.printf("| %d | %s | %s | %s | %s | %s | %.1fx | %s | %s |\n", n, wall.Round(100*time.Millisecond), cpu.Round(100*time.Millisecond),
			dwall.Round(100*time.Millisecond), dcpu.Round(100*time.Millisecond), ms((cpu-dcpu)/time.Duration(n)),
			wall.Seconds()/dwall.Seconds(), median(status).Round(time.Millisecond), median(rep).Round(time.Millisecond))
		if !*keep {
			os.RemoveAll(dir)
			os.RemoveAll(direct)
		}
	}
	r.printf("\nTargets (issue 25, section 1b): paraider's CPU a task at most 30 ms at 1,000 and at 10,000 tasks; the 10,000-task run within 3x of Ninja alone; `status` and `report` at 10,000 tasks within 0.3 s.\n")
	return nil
}

// timedCPU runs a command in dir and returns its wall time and the CPU
// of every process it waited for.
func timedCPU(dir, name string, args ...string) (wall, cpu time.Duration, err error) {
	c := exec.Command(name, args...)
	c.Dir = dir
	start := time.Now()
	out, err := c.CombinedOutput()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, fmt.Errorf("%s %v: %v\n%s", name, args, err, tailOf(string(out)))
	}
	return wall, c.ProcessState.UserTime() + c.ProcessState.SystemTime(), nil
}
