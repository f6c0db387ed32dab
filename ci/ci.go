// Package ci runs a plan's tasks as the jobs of a CI workflow (the GitHub
// Actions target of `paraider gen --target github`): each job brings in
// the patches of the tasks its task needs, runs `paraider exec` as on a
// laptop, and leaves its task's patch, result and logs for the jobs after
// it; the report job applies every patch, runs the final checks and
// writes the reports.
//
// A job's files, under .paraider-ci/: in/paraider-task-ID/ (what the jobs
// before left, as download-artifact puts it), out/ID/ (what this job
// leaves: patch, result.json, logs/) and report/.
package ci

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// ArtifactIn is the artifact a task's job left, as the jobs after it find it.
func ArtifactIn(id string) string { return gen.CIInDir + "/" + gen.ArtifactPrefix + id }

// ArtifactOut is what a task's job leaves.
func ArtifactOut(id string) string { return gen.CIOutDir + "/" + id }

// The files of a task's artifact.
const (
	PatchFile  = "patch"       // its declared files' change, git apply-able, binary-safe
	ResultFile = "result.json" // its result record
	LogsDir    = "logs"        // its attempts' logs
)

// Job is one CI job's view of the plan.
type Job struct {
	Plan   *plan.Plan
	Layout state.Layout
	Exe    string // the paraider binary, for the Ninja file gen writes
}

// Open loads the plan and writes its specs, as `paraider gen` does.
func Open(planFile, exe string) (*Job, error) {
	p, err := plan.Load(planFile)
	if err != nil {
		return nil, err
	}
	lay, err := state.NewLayout(p.Root)
	if err != nil {
		return nil, err
	}
	// The Ninja file goes aside: a job runs paraider exec itself.
	if _, err := gen.Generate(p, gen.Options{Output: filepath.Join(p.Root, state.Dir, "ci.ninja"), Force: true, Exe: exe}); err != nil {
		return nil, err
	}
	return &Job{Plan: p, Layout: lay, Exe: exe}, nil
}

// upstream is every task id needs, directly or not, in the order they
// ran (topological).
func (j *Job) upstream(id string) []string {
	want := map[string]bool{}
	var walk func(string)
	walk = func(t string) {
		for _, d := range j.Plan.Task(t).Deps {
			if !want[d] {
				want[d] = true
				walk(d)
			}
		}
	}
	walk(id)
	var out []string
	for _, t := range j.Plan.Topo() {
		if want[t.ID] {
			out = append(out, t.ID)
		}
	}
	return out
}

// Prepare brings in the patches of every task id needs, in the order they
// ran, commits them in the job's checkout (so that the task's own patch
// is its change alone), and returns the key its result is kept under
// between runs: the task's content hash, as exec decides by.
func (j *Job) Prepare(ctx context.Context, id string) (string, error) {
	if j.Plan.Task(id) == nil {
		return "", fmt.Errorf("no task %q in %s", id, j.Plan.File)
	}
	ups := j.upstream(id)
	for _, d := range ups {
		var res state.Result
		if err := state.ReadJSON(j.Layout.Path(ArtifactIn(d)+"/"+ResultFile), &res); err != nil {
			return "", fmt.Errorf("task %s needs %s, whose result is not here (%v): did its job succeed, and did the artifacts download?", id, d, err)
		}
		if res.Status != state.StatusOK {
			return "", fmt.Errorf("task %s needs %s, which failed: %s", id, d, res.Reason)
		}
		if err := j.applyOf(ctx, d, j.Layout.Path(ArtifactIn(d)+"/"+PatchFile)); err != nil {
			return "", fmt.Errorf("applying the patch of %s: %w", d, err)
		}
	}
	if len(ups) > 0 {
		if _, err := j.git(ctx, nil, "-c", "user.name=paraider", "-c", "user.email=paraider@localhost",
			"commit", "-q", "--allow-empty", "--no-verify", "-m", "paraider: the tasks "+id+" needs"); err != nil {
			return "", err
		}
	}
	var spec state.Spec
	if err := state.ReadJSON(j.Layout.Path(state.SpecPath(id)), &spec); err != nil {
		return "", err
	}
	h, err := state.InputHash(j.Layout.Root, &spec)
	if err != nil {
		return "", err
	}
	return "paraider-" + id + "-" + h[:32], nil
}

// applyOf applies task id's patch from its artifact, which is input: it
// may touch only the task's own files, and none through a directory that
// is a symlink (git apply --index writes through one).
func (j *Job) applyOf(ctx context.Context, id, patch string) error {
	if fi, err := os.Stat(patch); err != nil || fi.Size() == 0 {
		return j.apply(ctx, patch)
	}
	t := j.Plan.Task(id)
	if t == nil {
		return fmt.Errorf("no task %q in the plan", id)
	}
	numstat, err := j.git(ctx, nil, "apply", "--numstat", "-z", patch)
	if err != nil {
		return err
	}
	top, err := j.git(ctx, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return err
	}
	prefix, err := j.git(ctx, nil, "rev-parse", "--show-prefix")
	if err != nil {
		return err
	}
	if err := checkPatch(strings.TrimSpace(top), strings.TrimSpace(prefix), t.Files, numstat); err != nil {
		return fmt.Errorf("artifact %s: %w; refused", filepath.Base(ArtifactIn(id)), err)
	}
	return j.apply(ctx, patch)
}

// checkPatch refuses a patch (as `git apply --numstat -z` lists it) that
// touches a path other than files (relative to the plan's directory,
// prefix from the repository's top) or one under a symlink in top.
func checkPatch(top, prefix string, files []string, numstat string) error {
	allowed := map[string]bool{}
	for _, f := range files {
		allowed[prefix+f] = true
	}
	fields := strings.Split(strings.TrimSuffix(numstat, "\x00"), "\x00")
	var paths []string
	for i := 0; i < len(fields); i++ {
		parts := strings.SplitN(fields[i], "\t", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[2] != "" {
			paths = append(paths, parts[2])
		} else if i+2 < len(fields) { // a rename: the source, then the destination
			paths = append(paths, fields[i+1], fields[i+2])
			i += 2
		}
	}
	for _, p := range paths {
		if !allowed[p] {
			return fmt.Errorf("its patch touches %s, which is not one of its task's files", p)
		}
		if dir := state.SymlinkParent(top, p); dir != "" {
			return fmt.Errorf("its patch touches %s, under %s, a symlink", p, dir)
		}
	}
	return nil
}

// apply applies a patch to the checkout and its index; an empty patch is
// no change.
func (j *Job) apply(ctx context.Context, patch string) error {
	fi, err := os.Stat(patch)
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return nil
	}
	_, err = j.git(ctx, nil, "apply", "--binary", "--index", "--whitespace=nowarn", patch)
	return err
}

// Finish leaves the task's artifact in Out(id): its patch (its declared
// files against the commit Prepare made), its result and its logs. A job
// whose agent never ran (a failure before it) leaves a failed result
// that says so. cached says the artifact came from an earlier run's
// cache: it is left as it is.
func (j *Job) Finish(ctx context.Context, id string, cached bool) error {
	t := j.Plan.Task(id)
	if t == nil {
		return fmt.Errorf("no task %q in %s", id, j.Plan.File)
	}
	out := j.Layout.Path(ArtifactOut(id))
	if cached {
		if _, err := os.Stat(filepath.Join(out, ResultFile)); err != nil {
			return fmt.Errorf("the cache held no result for %s: %w", id, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(out, LogsDir), 0o755); err != nil {
		return err
	}
	var res state.Result
	if err := state.ReadJSON(j.Layout.Path(state.ResultPath(id)), &res); err != nil {
		now := time.Now().UTC()
		res = state.Result{Task: id, Run: state.CurrentRun(), Status: state.StatusFailed, Started: now, Finished: now,
			Reason: "the job failed before paraider exec recorded anything: see the job's log", Attempts: []state.Attempt{}}
	}
	if err := state.WriteJSON(filepath.Join(out, ResultFile), res); err != nil {
		return err
	}
	for _, a := range res.Attempts {
		if a.Log == "" {
			continue
		}
		if data, err := os.ReadFile(j.Layout.Path(a.Log)); err == nil {
			if err := os.WriteFile(filepath.Join(out, LogsDir, filepath.Base(a.Log)), data, 0o644); err != nil {
				return err
			}
		}
	}
	var patch []byte
	if res.Status == state.StatusOK {
		args := append([]string{"add", "-A", "--"}, t.Files...)
		if _, err := j.git(ctx, nil, args...); err != nil {
			return err
		}
		args = append([]string{"diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "HEAD", "--"}, t.Files...)
		d, err := j.git(ctx, nil, args...)
		if err != nil {
			return err
		}
		patch = []byte(d)
	}
	return os.WriteFile(filepath.Join(out, PatchFile), patch, 0o644)
}

func (j *Job) git(ctx context.Context, env []string, args ...string) (string, error) {
	return j.run(ctx, env, "", args...)
}

// gitStdin runs git with stdin.
func (j *Job) gitStdin(ctx context.Context, stdin string, args ...string) (string, error) {
	return j.run(ctx, nil, stdin, args...)
}

func (j *Job) run(ctx context.Context, env []string, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = j.Layout.Root
	cmd.Env = append(os.Environ(), env...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// ErrFailed says a task or a check failed: the report says which.
var ErrFailed = errors.New("a task or a final check failed")
