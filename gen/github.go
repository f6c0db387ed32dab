package gen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/sh"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// GitHub's limits on one workflow run.
const (
	MaxGitHubJobs     = 256
	MaxGitHubWorkflow = 500 << 10
)

// GitHubOptions are what the workflow needs besides the graph.
type GitHubOptions struct {
	Plan     *plan.Plan
	Version  string // paraider's version, installed in each job when not on PATH
	Self     string // the workflow's path, relative to the plan's directory
	PlanArg  string // the plan's path from the repository's top
	Lanes    Lanes
	Profiles map[string]*agent.Profile // each task's agent, by task id
}

// GitHub is the GitHub Actions target: the graph as a workflow with a job
// per task, `jobs` lanes standing in for the places (see ScheduleLanes),
// and a report job. It fails when the plan is past GitHub's limits.
func (g *Graph) GitHub(o GitHubOptions) (string, error) {
	if n := len(g.Tasks) + 1; n > MaxGitHubJobs {
		return "", fmt.Errorf("the plan has %d tasks: a GitHub Actions run holds at most %d jobs, one of them the report: split the plan, or run it with Ninja", len(g.Tasks), MaxGitHubJobs)
	}
	w := &ghWriter{g: g, o: o, ids: jobIDs(g)}
	w.header()
	for _, t := range g.Tasks {
		w.taskJob(t)
	}
	w.reportJob()
	out := w.b.String()
	if len(out) > MaxGitHubWorkflow {
		return "", fmt.Errorf("the workflow would be %d KB: GitHub takes at most %d KB: split the plan", len(out)>>10, MaxGitHubWorkflow>>10)
	}
	return out, nil
}

type ghWriter struct {
	b   strings.Builder
	g   *Graph
	o   GitHubOptions
	ids map[string]string // task id -> job id
}

// ReportJob is the id of the report job.
const ReportJob = "paraider-report"

// ArtifactPrefix names each task's artifact: paraider-task-ID.
const ArtifactPrefix = "paraider-task-"

// Where a workflow's jobs keep what they bring in and leave (see package
// ci): the artifacts of the jobs before, each task's own, the report's.
const (
	CIDir       = ".paraider-ci"
	CIInDir     = CIDir + "/in"
	CIOutDir    = CIDir + "/out"
	CIReportDir = CIDir + "/report"
)

// jobIDs gives each task a job id GitHub accepts (letters, digits, '_'
// and '-', starting with a letter or '_'): task- and the task's id with
// '.' as '_', numbered when two would meet.
func jobIDs(g *Graph) map[string]string {
	ids := map[string]string{}
	used := map[string]bool{ReportJob: true}
	for _, t := range g.Tasks {
		base := "task-" + strings.ReplaceAll(t.ID, ".", "_")
		id := base
		for n := 2; used[id]; n++ {
			id = fmt.Sprintf("%s-%d", base, n)
		}
		used[id] = true
		ids[t.ID] = id
	}
	return ids
}

// yamlQuote quotes a YAML scalar: a JSON string is a YAML string.
func yamlQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (w *ghWriter) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteString("\n")
}

func (w *ghWriter) header() {
	p := w.o.Plan
	w.line(0, "%s%s from %s. Do not edit: change the plan and run", generatedMark, w.o.Version, w.g.Plan)
	w.line(0, "# `paraider gen --target github -o %s`.", w.o.Self)
	w.line(0, "# One job per task; at most %d agents at once: each task runs in one of %d", p.Jobs, p.Jobs)
	w.line(0, "# lanes, after the task before it in its lane (needed for order only).")
	w.line(0, "name: paraider")
	on := "workflow_dispatch:"
	if p.GitHub != nil && p.GitHub.On != "" {
		on = p.GitHub.On
	}
	if strings.Contains(on, "\n") || strings.HasSuffix(on, ":") {
		w.line(0, "on:")
		for _, l := range strings.Split(on, "\n") {
			w.line(1, "%s", l)
		}
	} else {
		w.line(0, "on: %s", on)
	}
	perm := "read"
	if p.GitHub != nil && p.GitHub.Push == "branch" {
		perm = "write"
	}
	w.line(0, "permissions:")
	w.line(1, "contents: %s", perm)
	// One run id for every job (and a re-run of failed jobs): the report
	// tells the tasks this run ran from those an earlier run left cached.
	w.line(0, "env:")
	w.line(1, "PARAIDER_RUN: gh-${{ github.run_id }}")
	w.line(0, "concurrency:")
	w.line(1, "group: paraider-${{ github.ref }}")
	w.line(1, "cancel-in-progress: false")
	w.line(0, "jobs:")
}

func (w *ghWriter) runsOn() string {
	if g := w.o.Plan.GitHub; g != nil && g.RunsOn != "" {
		return yamlQuote(g.RunsOn)
	}
	return "ubuntu-latest"
}

// paraider is a paraider command line for a job's step, naming the plan
// when it is not paraider.yaml at the repository's top.
func (w *ghWriter) paraider(args string) string {
	if w.o.PlanArg == "" || w.o.PlanArg == "paraider.yaml" {
		return "paraider " + args
	}
	return "paraider -f " + sh.Quote(w.o.PlanArg) + " " + args
}

// install is the step that installs paraider when it is not on PATH.
func (w *ghWriter) install() {
	v := w.o.Version
	if v == "" || v == "devel" || v == "(devel)" || strings.Contains(v, "+dirty") {
		v = "latest"
	}
	w.step(step{name: "paraider", run: "command -v paraider >/dev/null || CGO_ENABLED=0 go install " + yamlQuote("github.com/paraider/paraider/cmd/paraider@"+v)})
}

// taskJob writes one task's job.
func (w *ghWriter) taskJob(t GraphTask) {
	pt := w.o.Plan.Task(t.ID)
	id := w.ids[t.ID]
	w.line(1, "%s:", id)
	w.line(2, "name: %s", yamlQuote(t.ID))
	needs := append([]string(nil), t.Needs...)
	prev := w.o.Lanes.Prev[t.ID]
	if prev != "" && !slices.Contains(needs, prev) {
		needs = append(needs, prev)
	}
	if len(needs) > 0 {
		var ids []string
		for _, n := range needs {
			ids = append(ids, w.ids[n])
		}
		w.line(2, "needs: [%s]", strings.Join(ids, ", "))
		// The lane's task before runs first but need not succeed; the
		// tasks it needs must.
		cond := "!cancelled()"
		for _, n := range t.Needs {
			cond += fmt.Sprintf(" && needs.%s.result == 'success'", w.ids[n])
		}
		w.line(2, "if: ${{ %s }}", cond)
	}
	w.line(2, "runs-on: %s", w.runsOn())
	// Every attempt may take its timeout, and the backoff between them;
	// ten minutes for checkout, install and the artifacts.
	minutes := int((time.Duration(pt.Retries+1)*time.Duration(pt.Timeout) + time.Duration(pt.Retries)*5*time.Minute).Minutes()) + 10
	w.line(2, "timeout-minutes: %d", minutes)
	w.line(2, "steps:")
	w.line(3, "- uses: actions/checkout@v4")
	w.install()
	if prof := w.o.Profiles[t.ID]; prof != nil {
		w.agent(prof)
	}
	out := CIOutDir + "/" + t.ID
	cached := "steps.cache.outputs.cache-hit"
	key := "${{ steps.prep.outputs.key }}"
	if len(t.Needs) > 0 {
		w.step(step{name: "the tasks it needs", uses: "actions/download-artifact@v4",
			with: [][2]string{{"pattern", yamlQuote(ArtifactPrefix + "*")}, {"path", CIInDir}}})
	}
	w.step(step{name: "prepare", id: "prep", run: w.paraider("ci prepare " + t.ID)})
	w.step(step{name: "earlier result", id: "cache", uses: "actions/cache/restore@v4",
		with: [][2]string{{"path", out}, {"key", key}}})
	env := w.secretEnv(t.ID)
	w.step(step{name: "run", cond: cached + " != 'true'", env: env, run: w.paraider("exec " + t.ID)})
	w.step(step{name: "record", cond: "${{ !cancelled() }}", run: w.paraider("ci finish " + t.ID + " --cached=${{ " + cached + " == 'true' }}")})
	w.step(step{name: "keep for later runs", cond: "success() && " + cached + " != 'true'", uses: "actions/cache/save@v4",
		with: [][2]string{{"path", out}, {"key", key}}})
	w.step(step{name: "artifact", cond: "${{ !cancelled() }}", uses: "actions/upload-artifact@v4",
		with: [][2]string{{"name", yamlQuote(ArtifactPrefix + t.ID)}, {"path", out}, {"include-hidden-files", "true"}, {"if-no-files-found", "error"}}})
}

// agent is the step that installs an agent when it is not on PATH.
func (w *ghWriter) agent(prof *agent.Profile) {
	bin := sh.Quote(strings.Fields(prof.Command)[0])
	install := prof.InstallCommand()
	if install == "" {
		install = "echo " + sh.Quote("paraider: "+bin+" is not on PATH: "+prof.Install) + " >&2; exit 1"
	}
	w.step(step{name: yamlQuote("agent " + prof.Name), run: "command -v " + bin + " >/dev/null || { " + install + "; }"})
}

// step is one step of a job; its values are YAML as written.
type step struct {
	name, id, cond, uses, run string
	env, with                 [][2]string
}

func (w *ghWriter) step(s step) {
	w.line(3, "- name: %s", s.name)
	for _, kv := range [][2]string{{"id", s.id}, {"if", s.cond}, {"uses", s.uses}} {
		if kv[1] != "" {
			w.line(4, "%s: %s", kv[0], kv[1])
		}
	}
	for _, m := range []struct {
		key string
		kvs [][2]string
	}{{"env", s.env}, {"with", s.with}} {
		if len(m.kvs) > 0 {
			w.line(4, "%s:", m.key)
			for _, kv := range m.kvs {
				w.line(5, "%s: %s", kv[0], kv[1])
			}
		}
	}
	if s.run != "" {
		// Always a quoted scalar: a path holding " #" or ": " must not
		// end the command or break the file.
		w.line(4, "run: %s", yamlQuote(s.run))
	}
}

// secrets are the variables the task's agent needs for its model: its
// profile's keys, passed from repository secrets to the agent's step only.
func (w *ghWriter) secrets(id string) []string {
	prof := w.o.Profiles[id]
	if prof == nil {
		return nil
	}
	if k := prof.KeyFor(w.model(id)); k != "" {
		return []string{k}
	}
	return nil
}

// secretEnv is a step's environment: the keys the agents of these tasks
// need, each once, from the repository's secrets.
func (w *ghWriter) secretEnv(ids ...string) [][2]string {
	var env [][2]string
	for _, id := range ids {
		for _, k := range w.secrets(id) {
			if kv := [2]string{k, "${{ secrets." + k + " }}"}; !slices.Contains(env, kv) {
				env = append(env, kv)
			}
		}
	}
	return env
}

// model is the model of a task or of a check's repair.
func (w *ghWriter) model(id string) string {
	if t := w.o.Plan.Task(id); t != nil {
		return t.Model
	}
	for _, t := range w.o.Plan.Repairs() {
		if t.ID == id {
			return t.Model
		}
	}
	return ""
}

// The report job runs the final checks on the whole change, and the
// repair of a check that asks for one: it installs the repairs' agents
// and passes their keys to that step alone.
func (w *ghWriter) reportJob() {
	p := w.o.Plan
	w.line(1, "%s:", ReportJob)
	w.line(2, "name: report")
	var all []string
	for _, t := range w.g.Tasks {
		all = append(all, w.ids[t.ID])
	}
	w.line(2, "needs: [%s]", strings.Join(all, ", "))
	w.line(2, "if: ${{ !cancelled() }}")
	w.line(2, "runs-on: %s", w.runsOn())
	minutes := time.Duration(max(len(p.Checks), 1)) * p.CheckTimeout
	var repairs []string
	for _, t := range p.Repairs() {
		// Each attempt, its backoff, and the checks again after it.
		minutes += time.Duration(t.Retries+1)*(time.Duration(t.Timeout)+time.Duration(len(p.Checks))*p.CheckTimeout) + time.Duration(t.Retries)*5*time.Minute
		repairs = append(repairs, t.ID)
	}
	env := w.secretEnv(repairs...)
	installed := map[string]bool{}
	w.line(2, "timeout-minutes: %d", int(minutes.Minutes())+10)
	w.line(2, "steps:")
	w.line(3, "- uses: actions/checkout@v4")
	w.install()
	for _, t := range p.Repairs() {
		if prof := w.o.Profiles[t.ID]; prof != nil && !installed[prof.Name] {
			installed[prof.Name] = true
			w.agent(prof)
		}
	}
	w.step(step{name: "the tasks' results", uses: "actions/download-artifact@v4",
		with: [][2]string{{"pattern", yamlQuote(ArtifactPrefix + "*")}, {"path", CIInDir}}})
	w.step(step{name: "checks and report", env: env, run: w.paraider("ci report")})
	if p.GitHub != nil && p.GitHub.Push == "branch" {
		w.step(step{name: "push the change", cond: "success()", run: w.paraider("ci push paraider/${{ github.run_number }}")})
	}
	w.step(step{name: "artifact", cond: "always()", uses: "actions/upload-artifact@v4",
		with: [][2]string{{"name", "paraider-report"}, {"path", CIReportDir}, {"include-hidden-files", "true"}}})
}

// DefaultWorkflow is where `paraider gen --target github` writes, relative
// to the repository's top.
const DefaultWorkflow = ".github/workflows/paraider.yml"

// noExpressions refuses plan text that would carry a GitHub expression
// (${{ ... }}) into the workflow, where GitHub evaluates it in every
// string, quoted or not (${{ github.event.issue.title }} is the classic
// injection): the plan's path, the agents' names, install commands and key
// variables.
func noExpressions(p *plan.Plan, planArg string) error {
	check := func(what, s string) error {
		if strings.Contains(s, "${{") {
			return fmt.Errorf("%s holds ${{, a GitHub expression, which would be evaluated in the workflow: remove it (the GitHub target carries no plan text with one)", what)
		}
		return nil
	}
	if err := check("the plan's path "+planArg, planArg); err != nil {
		return err
	}
	for _, t := range slices.Concat(p.Tasks, p.Repairs()) {
		prof, err := Profile(p, t.Agent)
		if err != nil {
			return err
		}
		for what, s := range map[string]string{"agent " + yamlQuote(prof.Name) + "'s name": prof.Name, "agent " + yamlQuote(prof.Name) + "'s install": prof.Install} {
			if err := check(what, s); err != nil {
				return err
			}
		}
		for _, k := range prof.Keys {
			if err := check("agent "+yamlQuote(prof.Name)+"'s key variable", k); err != nil {
				return err
			}
		}
	}
	return nil
}

// generatedMark starts every workflow paraider writes.
const generatedMark = "# Generated by paraider "

// WriteGitHub writes the plan's workflow to out (refusing a file paraider
// did not write, unless force) and returns its lane schedule. planArg is
// the plan's path from the repository's top, as the jobs name it.
func WriteGitHub(p *plan.Plan, out, planArg, version string, force bool) (Lanes, error) {
	if !force {
		if data, err := os.ReadFile(out); err == nil && !strings.HasPrefix(string(data), generatedMark) {
			return Lanes{}, &ForeignError{Path: out}
		}
	}
	if err := noExpressions(p, planArg); err != nil {
		return Lanes{}, err
	}
	w, timed := weights(p.Root, p)
	order, _ := p.CriticalOrder(w)
	g := graphOf(p, order)
	lanes := g.ScheduleLanes(p.Jobs, func(id string) float64 { return w.Of(id) })
	lanes.Seconds = timed
	profiles := map[string]*agent.Profile{}
	for _, t := range slices.Concat(p.Tasks, p.Repairs()) {
		prof, err := Profile(p, t.Agent)
		if err != nil {
			return Lanes{}, err
		}
		profiles[t.ID] = prof
	}
	self := out
	if root, err := filepath.Abs(p.Root); err == nil {
		if rel, err := filepath.Rel(root, out); err == nil {
			self = filepath.ToSlash(rel)
		}
	}
	text, err := g.GitHub(GitHubOptions{Plan: p, Version: version, Self: self, PlanArg: planArg, Lanes: lanes, Profiles: profiles})
	if err != nil {
		return Lanes{}, err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return Lanes{}, err
	}
	_, err = state.WriteIfChanged(out, []byte(text))
	return lanes, err
}
