package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The agents without paraider, for section 1b's comparison columns: the
// stand-in run directly, with the same durations and log, by a plain
// Ninja file with a pool of depth jobs, by make -j jobs, and level by
// level (the seed's batch script: each dependency level in parallel up to
// jobs, waiting for the whole level).

// directArgs is the stand-in's command line for t, as paraider would start
// Aider with isolation none.
func directArgs(t task) []string {
	return []string{"aider", "--model", "local/bench", "--yes-always", "--no-auto-commits",
		"--file", "out/" + t.id + ".txt", "--message", "make " + t.id}
}

// directEnv is what every direct agent gets: the plan's env, and its own
// duration.
func directEnv(log string, t task, unit time.Duration) []string {
	return []string{"FAKE_AIDER_LOG=" + log, "FAKE_AIDER_NO_USAGE=1",
		"FAKE_AIDER_SLEEP=" + time.Duration(t.units*float64(unit)).String()}
}

// runDirect runs pl's agents with how ("Ninja pool", "make -j" or
// "batch") in a fresh directory and returns the agents' makespan.
func runDirect(pl commandPlan, unit time.Duration, nb ninjaBinary, how string) (time.Duration, error) {
	dir, err := os.MkdirTemp(*work, "direct")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		return 0, err
	}
	log := filepath.Join(dir, "agents.log")
	line := func(t task) string {
		return "env " + strings.Join(directEnv(log, t, unit), " ") + " " + shellJoin(directArgs(t))
	}
	switch how {
	case "Ninja pool":
		var b strings.Builder
		fmt.Fprintf(&b, "pool agents\n  depth = %d\nrule agent\n  command = $cmd\n  pool = agents\n", pl.jobs)
		for _, t := range pl.tasks {
			var deps []string
			for _, d := range t.needs {
				deps = append(deps, "out/"+d+".txt")
			}
			dep := ""
			if len(deps) > 0 {
				dep = " | " + strings.Join(deps, " ")
			}
			fmt.Fprintf(&b, "build out/%s.txt: agent%s\n  cmd = %s\n", t.id, dep, strings.ReplaceAll(line(t), "$", "$$"))
		}
		if err := os.WriteFile(filepath.Join(dir, "build.ninja"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
		// -j as high as paraider's: the pool, not -j, holds the agents.
		if out, err := cmdEnv(dir, nil, nb.path, "-j", fmt.Sprint(max(len(pl.tasks), defaultNinjaJobs()))); err != nil {
			return 0, fmt.Errorf("ninja: %v\n%s", err, tailOf(out))
		}
	case "make -j":
		var b strings.Builder
		b.WriteString("all:")
		for _, t := range pl.tasks {
			b.WriteString(" out/" + t.id + ".txt")
		}
		b.WriteString("\n")
		for _, t := range pl.tasks {
			fmt.Fprintf(&b, "out/%s.txt:", t.id)
			for _, d := range t.needs {
				b.WriteString(" out/" + d + ".txt")
			}
			fmt.Fprintf(&b, "\n\t%s\n", strings.ReplaceAll(line(t), "$", "$$"))
		}
		if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte(b.String()), 0o644); err != nil {
			return 0, err
		}
		if out, err := cmdEnv(dir, nil, "make", "-j", fmt.Sprint(pl.jobs)); err != nil {
			return 0, fmt.Errorf("make: %v\n%s", err, tailOf(out))
		}
	case "batch":
		for _, level := range levels(pl.tasks) {
			if err := runLevel(dir, log, level, unit, pl.jobs); err != nil {
				return 0, err
			}
		}
	default:
		return 0, fmt.Errorf("no direct runner %q", how)
	}
	return makespan(log)
}

// runLevel runs one level's agents, at most jobs at once, and waits for
// them all.
func runLevel(dir, log string, level []task, unit time.Duration, jobs int) error {
	return eachLimited(level, jobs, func(t task) error {
		args := directArgs(t)
		c := exec.Command(args[0], args[1:]...)
		c.Dir = dir
		c.Env = append(os.Environ(), directEnv(log, t, unit)...)
		if out, err := c.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", t.id, err, tailOf(string(out)))
		}
		return nil
	})
}

// eachLimited runs do for every task, at most jobs at once, and returns
// the first error once all are done.
func eachLimited(tasks []task, jobs int, do func(task) error) error {
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	errs := make(chan error, len(tasks))
	for _, t := range tasks {
		wg.Add(1)
		sem <- struct{}{}
		go func(t task) {
			defer wg.Done()
			defer func() { <-sem }()
			if err := do(t); err != nil {
				errs <- err
			}
		}(t)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// shellJoin quotes args for /bin/sh.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
