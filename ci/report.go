package ci

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// Report is the report job: it applies every task's patch in the order
// they ran, takes their results and logs as its own, runs the final
// checks on the whole change, and writes the reports and the whole
// change (paraider.patch, git apply-able on the commit the run started
// from). summary, when not "", is the file the Markdown report is added
// to ($GITHUB_STEP_SUMMARY). It returns ErrFailed when a task or a check
// failed.
func (j *Job) Report(ctx context.Context, summary string, out io.Writer) error {
	for _, t := range j.Plan.Topo() {
		in := j.Layout.Path(ArtifactIn(t.ID))
		var res state.Result
		if state.ReadJSON(filepath.Join(in, ResultFile), &res) != nil {
			continue // its job did not run: not run
		}
		if err := checkArtifact(t.ID, &res); err != nil {
			return fmt.Errorf("artifact %s: %w; refused", filepath.Base(in), err)
		}
		if err := state.WriteJSON(j.Layout.Path(state.ResultPath(t.ID)), res); err != nil {
			return err
		}
		logs, _ := os.ReadDir(filepath.Join(in, LogsDir))
		for _, l := range logs {
			// An artifact is input: a link in it is not followed.
			data, err := state.ReadOwn(filepath.Join(in, LogsDir, l.Name()), 1<<30)
			if err != nil {
				return fmt.Errorf("artifact %s: %w", filepath.Base(in), err)
			}
			if err := state.WriteFile(j.Layout.Path(state.Dir+"/logs/"+l.Name()), data, 0o644); err != nil {
				return err
			}
		}
		if res.Status == state.StatusOK {
			if err := j.applyOf(ctx, t.ID, filepath.Join(in, PatchFile)); err != nil {
				return fmt.Errorf("applying the patch of %s: %w", t.ID, err)
			}
		}
	}
	rep, err := report.Build(report.Options{Root: j.Layout.Root})
	if err != nil {
		return err
	}
	if rep.Failed+rep.Interrupted+rep.NotRun == 0 {
		for _, c := range j.Plan.Checks {
			// A failed check is in its record; the report says it.
			runner.Check(ctx, c.Name, runner.Options{Root: j.Layout.Root, Out: out})
		}
		// What the repairs changed is part of the change, as the tasks'
		// patches are: staged, so that paraider.patch holds it.
		for _, t := range j.repaired() {
			if _, err := j.git(ctx, nil, append([]string{"add", "--"}, t.files...)...); err != nil {
				return fmt.Errorf("staging the change of %s: %w", t.id, err)
			}
		}
		if rep, err = report.Build(report.Options{Root: j.Layout.Root, Run: state.CurrentRun()}); err != nil {
			return err
		}
	}
	if err := j.writeReports(ctx, rep, summary); err != nil {
		return err
	}
	fmt.Fprintln(out)
	rep.WriteText(out)
	if !rep.OK() {
		return ErrFailed
	}
	return nil
}

// writeReports writes the report in every format and the whole change
// into ReportDir, and the Markdown one into the job's summary.
func (j *Job) writeReports(ctx context.Context, rep *report.Report, summary string) error {
	dir := j.Layout.Path(gen.CIReportDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, format := range map[string]string{"report.md": "markdown", "report.json": "json", "junit.xml": "junit", "report.txt": "text"} {
		var b bytes.Buffer
		if err := rep.Write(&b, format); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
		if format == "markdown" && summary != "" {
			f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			f.Write(b.Bytes())
			if err := f.Close(); err != nil {
				return err
			}
		}
	}
	patch, err := j.git(ctx, nil, "diff", "--cached", "--binary", "--no-color", "--no-ext-diff", "HEAD")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "paraider.patch"), []byte(patch), 0o644); err != nil {
		return err
	}
	return j.keepRecords(dir)
}

// keepRecords copies the records the report was made from (the tasks'
// results and the checks') into dir/state, laid out as under .paraider/:
// `paraider report` on a checkout with the patch applied and these
// records in place gives the same reports.
func (j *Job) keepRecords(dir string) error {
	var rels []string
	for _, t := range j.Plan.Tasks {
		rels = append(rels, state.ResultPath(t.ID))
	}
	for _, c := range j.Plan.Checks {
		rels = append(rels, state.CheckResult(c.Name))
	}
	for _, t := range j.Plan.Repairs() {
		rels = append(rels, state.ResultPath(t.ID))
	}
	for _, rel := range rels {
		data, err := os.ReadFile(j.Layout.Path(rel))
		if os.IsNotExist(err) {
			continue
		} else if err != nil {
			return err
		}
		if err := state.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Push commits the change on branch, one commit per task in an order
// that respects needs (with the message and trailers `paraider run
// --commit` gives), and pushes it to origin, for a person to review as a
// pull request: each agent's work its own commit.
func (j *Job) Push(ctx context.Context, branch string) error {
	ident := []string{"-c", "user.name=paraider", "-c", "user.email=paraider@localhost"}
	if _, err := j.git(ctx, nil, "checkout", "-q", "-b", branch); err != nil {
		return err
	}
	// Report staged every patch: commit them task by task, each task's
	// own patch (its artifact's) applied to the index on the commit
	// before, in needs order, so that each commit holds exactly that
	// task's change and git revert of it takes back just that (the final
	// tree per task would give a task's file with a later task's edits).
	if _, err := j.git(ctx, nil, "reset", "-q"); err != nil {
		return err
	}
	for _, t := range j.Plan.Topo() {
		var res state.Result
		var spec state.Spec
		if state.ReadJSON(j.Layout.Path(state.ResultPath(t.ID)), &res) != nil || res.Status != state.StatusOK ||
			state.ReadJSON(j.Layout.Path(state.SpecPath(t.ID)), &spec) != nil {
			continue
		}
		patch := j.Layout.Path(ArtifactIn(t.ID) + "/" + PatchFile)
		if fi, err := os.Stat(patch); err != nil || fi.Size() == 0 {
			continue // it changed nothing
		}
		// Checked when `ci report` applied it (applyOf), in this job.
		if _, err := j.git(ctx, nil, "apply", "--cached", "--binary", "--whitespace=nowarn", patch); err != nil {
			return fmt.Errorf("committing %s's change: %w", t.ID, err)
		}
		if staged, _ := j.git(ctx, nil, "diff", "--cached", "--name-only"); staged == "" {
			continue // it changed nothing
		}
		args := append(append([]string(nil), ident...), "commit", "-q", "--no-verify", "-F", "-")
		if _, err := j.gitStdin(ctx, runner.CommitMessage(&spec, &res), args...); err != nil {
			return err
		}
	}
	// Then each repair that succeeded, a commit of its own, as in
	// commit mode: what it changed is in the tree, after every task's.
	for _, t := range j.repaired() {
		if _, err := j.git(ctx, nil, append([]string{"add", "--"}, t.files...)...); err != nil {
			return fmt.Errorf("committing %s's change: %w", t.id, err)
		}
		if staged, _ := j.git(ctx, nil, "diff", "--cached", "--name-only"); staged == "" {
			continue
		}
		args := append(append([]string(nil), ident...), "commit", "-q", "--no-verify", "-F", "-")
		if _, err := j.gitStdin(ctx, runner.CommitMessage(t.spec, t.res), args...); err != nil {
			return err
		}
	}
	_, err := j.git(ctx, nil, "push", "-q", "origin", branch)
	return err
}

// repair is a check's repair that succeeded in this job, with the files
// it changed.
type repair struct {
	id    string
	files []string
	spec  *state.Spec
	res   *state.Result
}

// repaired are the repairs that succeeded in this job and changed files,
// in the checks' order. A report job starts from a fresh checkout: every
// result of a repair in it is this job's.
func (j *Job) repaired() []repair {
	var out []repair
	for _, t := range j.Plan.Repairs() {
		var res state.Result
		var spec state.Spec
		if state.ReadJSON(j.Layout.Path(state.ResultPath(t.ID)), &res) != nil || res.Status != state.StatusOK || len(res.FilesChanged) == 0 ||
			state.ReadJSON(j.Layout.Path(state.SpecPath(t.ID)), &spec) != nil {
			continue
		}
		out = append(out, repair{id: t.ID, files: res.FilesChanged, spec: &spec, res: &res})
	}
	return out
}

// checkArtifact refuses a result from a CI artifact that names anything
// but what a job of task id writes: every path paraider reads from it
// stays inside the artifact (a log named .git/config, where checkout keeps
// the token, or ../../etc/hostname, would go into the report).
func checkArtifact(id string, res *state.Result) error {
	if res.Task != id {
		return fmt.Errorf("its result is of task %q, not %q", res.Task, id)
	}
	for _, a := range res.Attempts {
		if a.Log != "" && a.Log != state.LogPath(id, a.N) {
			return fmt.Errorf("attempt %d names the log %q, not %s", a.N, a.Log, state.LogPath(id, a.N))
		}
		if a.Worktree != "" {
			return fmt.Errorf("attempt %d names a worktree, %q, which no CI job keeps", a.N, a.Worktree)
		}
	}
	return nil
}
