package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ValidID reports whether s can be a task id.
func ValidID(s string) bool { return len(s) <= MaxIDLength && idPattern.MatchString(s) }

// Limits on what a plan may hold. Each is far above what a real plan
// needs; past it the value is a typo or an attack, and would fail later
// in a worse place (Ninja's pool depth, a 2 GB read, a file name).
const (
	MaxPlanSize   = 10 << 20 // bytes of the plan file, and of a message file
	MaxIDLength   = 100      // a task id is a file name in .paraider/
	MaxJobs       = 1000
	MaxRetries    = 100
	MaxTimeout    = 7 * 24 * time.Hour
	MaxRetryDelay = time.Hour
	MaxEstimate   = 7 * 24 * time.Hour
	MaxBudget     = 1e6 // dollars
)

// NoPlanError says there is no plan file: nothing is invalid yet.
type NoPlanError struct{ File string }

func (e *NoPlanError) Error() string { return "no plan: " + e.File + " does not exist" }

// Hint says how to get one, with what an installed paraider has.
func (e *NoPlanError) Hint() string {
	return "`paraider init` writes a starter plan; `paraider plan \"GOAL\"` has an agent write one; -f FILE names another"
}

// Load reads and checks the plan in file. On any problem it returns Errors
// holding all of them.
func Load(file string) (*Plan, error) {
	data, err := readRegular(file, MaxPlanSize)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &NoPlanError{File: file}
		}
		var le *limitError
		if errors.As(err, &le) {
			return nil, Errors{{File: file, Msg: le.msg, Hint: le.hint}}
		}
		return nil, Errors{{File: file, Msg: shortErr(err)}}
	}
	return Parse(file, data)
}

// limitError says why a file was not read: not a regular file, or too large.
type limitError struct{ msg, hint string }

func (e *limitError) Error() string { return e.msg }

// readRegular reads a regular file of at most max bytes. It looks before it
// opens: opening a FIFO would block until a writer came, and /dev/zero
// never ends.
func readRegular(name string, max int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &limitError{msg: fmt.Sprintf("not a regular file (%s)", state.FileKind(fi.Mode())), hint: "name a plain file"}
	}
	if fi.Size() > max {
		return nil, &limitError{msg: fmt.Sprintf("%d bytes, more than the %d MiB paraider reads", fi.Size(), max>>20), hint: "is this the right file?"}
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The file may have grown since the look.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err == nil && int64(len(data)) > max {
		return nil, &limitError{msg: fmt.Sprintf("more than the %d MiB paraider reads", max>>20), hint: "is this the right file?"}
	}
	return data, err
}

// Parse checks a plan held in memory; file names it in errors and fixes the
// root that paths are relative to.
func Parse(file string, data []byte) (*Plan, error) {
	d := &decoder{file: file, lines: strings.Split(string(data), "\n")}
	p := &Plan{
		File:    file,
		Root:    filepath.Dir(file),
		Version: 1,
		Jobs:    DefaultJobs,
		Settings: Settings{
			Agent:      DefaultAgent,
			Timeout:    DefaultTimeout,
			Retries:    DefaultRetries,
			RetryDelay: DefaultRetryDelay,
		},
		byID: map[string]*Task{},
	}
	p.Sources = []string{filepath.Base(file)}

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		msg := yamlLineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
		line, col := d.yamlPosition(err)
		hint := "check the indentation and quoting; a value holding \": \" or starting with a special character needs quotes"
		if line > 0 && line <= len(d.lines) && col <= len(d.lines[line-1]) && d.lines[line-1][col-1] == '\t' {
			msg, hint = "a tab in the indentation", "indent with spaces: YAML does not take tabs"
		}
		d.errorf(line, col, hint, "%s", msg)
		return nil, d.errs
	}
	var more yaml.Node
	if err := dec.Decode(&more); err != io.EOF {
		line := more.Line
		if err != nil {
			line = yamlErrorLine(err)
		} else if len(more.Content) > 0 {
			line = more.Content[0].Line
		}
		// Point at the `---` that starts it.
		for l := line; l >= 1 && l <= len(d.lines); l-- {
			if strings.HasPrefix(d.lines[l-1], "---") {
				line = l
				break
			}
		}
		d.errorf(line, 1, "a plan is one YAML document: remove the `---` and what follows, or merge it into the first", "a second YAML document in the plan")
		return nil, d.errs
	}
	if len(doc.Content) == 0 {
		d.errs = append(d.errs, &Error{File: file, Msg: "the plan is empty", Hint: "a plan needs at least `version: 1` and `tasks:`"})
		return nil, d.errs
	}
	d.plan(p, doc.Content[0])
	// The graph checks run even after other problems, over the tasks that
	// have a usable id, so that one run reports them all.
	d.graph(p)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	return p, nil
}

type decoder struct {
	file  string
	lines []string
	errs  Errors
	nodes map[*Task]*taskNodes // positions, for the graph checks
	disk  *disk                // what the path checks learnt of the plan's directory
	// misspelt are the known keys that an unknown key looked like.
	misspelt map[string]bool
	// repairs keep the positions of the checks' repairs.
	repairs map[*Task]*repairNodes
}

func (d *decoder) errorf(line, col int, hint, format string, args ...any) {
	e := &Error{File: d.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if line > 0 && line <= len(d.lines) {
		e.src = strings.TrimRight(d.lines[line-1], "\r")
	}
	d.errs = append(d.errs, e)
}

func (d *decoder) nodeErr(n *yaml.Node, hint, format string, args ...any) {
	d.errorf(n.Line, n.Column, hint, format, args...)
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

// yamlPosition is where a YAML syntax error is. The parser names the line
// a construct began on for some errors: an unclosed `[` or `{` is reported
// at the line before the bracket; the bracket itself is found from there.
// A tab where indentation is expected is pointed at.
func (d *decoder) yamlPosition(err error) (int, int) {
	line := yamlErrorLine(err)
	msg := err.Error()
	for _, br := range []struct{ open, close string }{{"[", "]"}, {"{", "}"}} {
		if !strings.Contains(msg, "did not find expected ',' or '"+br.close+"'") {
			continue
		}
		for l := max(line, 1); l <= len(d.lines); l++ {
			text := d.lines[l-1]
			if i := strings.LastIndex(text, br.open); i >= 0 && strings.Count(text, br.open) > strings.Count(text, br.close) {
				return l, i + 1
			}
		}
	}
	// A tab in the indentation: the parser names its line, or the line
	// before it (the construct the tab's line would continue).
	for _, l := range []int{line, line + 1} {
		if l > 0 && l <= len(d.lines) {
			if i := strings.IndexByte(d.lines[l-1], '\t'); i >= 0 && strings.TrimLeft(d.lines[l-1][:i], " ") == "" {
				return l, i + 1
			}
		}
	}
	return line, 1
}

func yamlErrorLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// fields walks a mapping, calling set for each known key and reporting
// unknown and repeated keys.
func (d *decoder) fields(n *yaml.Node, what string, known []string, set func(key string, k, v *yaml.Node)) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "%s must be a mapping of keys to values, not %s", what, kindName(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		key := k.Value
		if seen[key] {
			d.nodeErr(k, "remove one of them", "key %q appears twice in %s", key, what)
			continue
		}
		seen[key] = true
		if !slices.Contains(known, key) {
			hint := "known keys: " + strings.Join(known, ", ")
			if s := suggest(key, known); s != "" {
				hint = fmt.Sprintf("did you mean %q?", s)
				if d.misspelt == nil {
					d.misspelt = map[string]bool{}
				}
				d.misspelt[s] = true
			}
			d.nodeErr(k, hint, "unknown key %q in %s", key, what)
			continue
		}
		set(key, k, v)
	}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.nodeErr(n, "", "%s must be a string, not %s", what, kindName(n))
		return "", false
	}
	if strings.ContainsRune(n.Value, 0) {
		// No program argument, environment value or file name can hold
		// one: it would fail at run time, after money was spent.
		d.nodeErr(n, "remove the NUL byte (\\0)", "%s holds a NUL byte", what)
		return "", false
	}
	return n.Value, true
}

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]I?B?|B)?$`)

// size reads a size in bytes: a whole number, or one with a unit (10MB,
// 512KiB, 1G; K, M and G count in 1024s, as people mean them for files).
func (d *decoder) size(n *yaml.Node, what string) int64 {
	if n.Kind == yaml.ScalarNode {
		if m := sizeRE.FindStringSubmatch(strings.ToUpper(n.Value)); m != nil {
			f, _ := strconv.ParseFloat(m[1], 64)
			mult := 1.0
			if m[2] != "" {
				mult = map[byte]float64{'B': 1, 'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30, 'T': 1 << 40}[m[2][0]]
			}
			if v := f * mult; v >= 1 && v <= 1<<50 {
				return int64(v)
			}
		}
	}
	d.nodeErr(n, "write a size such as 10MB, 512KB or 1GB", "%s must be a size in bytes, not %s", what, kindName(n))
	return 0
}

// price reads compare_price: {name, input, output}, dollars per million
// tokens.
func (d *decoder) price(n *yaml.Node) *Price {
	pr := &Price{}
	var haveIn, haveOut bool
	d.fields(n, "compare_price", []string{"name", "input", "output"}, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			pr.Name, _ = d.str(v, "compare_price name")
		case "input", "output":
			f, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!float" && v.Tag != "!!int") || err != nil || f < 0 || f > 10000 {
				d.nodeErr(v, "dollars per million tokens, such as 3.00", "compare_price %s must be a price from 0 to 10000, not %s", key, kindName(v))
				return
			}
			if key == "input" {
				pr.Input, haveIn = f, true
			} else {
				pr.Output, haveOut = f, true
			}
		}
	})
	if deref(n).Kind == yaml.MappingNode && (pr.Name == "" || !haveIn || !haveOut) {
		d.nodeErr(n, "write compare_price: {name: claude-sonnet-4-5, input: 3.00, output: 15.00}", "compare_price needs name, input and output")
	}
	return pr
}

// model reads a model name. It becomes one argument of the agent's command
// line: a name starting with '-' would be read as an option, and a line
// break has no place in one.
func (d *decoder) model(n *yaml.Node) (string, bool) {
	s, ok := d.str(n, "model")
	if !ok {
		return "", false
	}
	switch {
	case strings.HasPrefix(s, "-"):
		d.nodeErr(n, "a model name such as openrouter/provider/model; the agent would read this as an option", "model %q starts with '-'", s)
		return "", false
	case strings.ContainsAny(s, "\n\r\t"):
		d.nodeErr(n, "write the model name on one line", "model %q holds a line break or tab", s)
		return "", false
	}
	return s, true
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if v, err := strconv.Atoi(n.Value); err == nil && v >= lo && v <= hi {
			return v, true
		}
	}
	d.nodeErr(n, "", "%s must be a whole number from %d to %d, not %s", what, lo, hi, kindName(n))
	return 0, false
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		v, err := strconv.ParseBool(strings.ToLower(n.Value))
		return v, err == nil
	}
	d.nodeErr(n, "", "%s must be true or false, not %s", what, kindName(n))
	return false, false
}

func (d *decoder) duration(n *yaml.Node, what string, max time.Duration) (time.Duration, bool) {
	if n.Kind == yaml.ScalarNode {
		if v, err := time.ParseDuration(n.Value); err == nil && v > 0 {
			if v <= max {
				return v, true
			}
			d.nodeErr(n, "", "%s must be at most %s, not %s", what, limitText(max), kindName(n))
			return 0, false
		}
	}
	d.nodeErr(n, `write a duration with its unit, such as 90s, 10m or 1h30m`, "%s must be a positive duration, not %s", what, kindName(n))
	return 0, false
}

// limitText writes a limit as a person would: 168h as 7 days.
func limitText(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m")
}

// choice reads one of a fixed set of names (a typed list such as
// state.Isolations).
func choice[T ~string](d *decoder, n *yaml.Node, what string, choices []T) T {
	if n.Kind == yaml.ScalarNode && slices.Contains(choices, T(n.Value)) {
		return T(n.Value)
	}
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	list := strings.Join(names, ", ")
	d.nodeErr(n, "use one of: "+list, "%s must be one of %s, not %s", what, list, kindName(n))
	return ""
}

func (d *decoder) strList(n *yaml.Node, what string) ([]string, []*yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		// A single string where a list is expected: accept it as a list of one.
		if s, ok := d.str(n, what); ok {
			return []string{s}, []*yaml.Node{n}
		}
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		d.nodeErr(n, "", "%s must be a list of strings, not %s", what, kindName(n))
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for _, c := range n.Content {
		c = deref(c)
		if s, ok := d.str(c, what+" entry"); ok {
			out = append(out, s)
			nodes = append(nodes, c)
		}
	}
	return out, nodes
}

func (d *decoder) strMap(n *yaml.Node, what string) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "%s must be a mapping of names to strings, not %s", what, kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if _, dup := out[k.Value]; dup {
			d.nodeErr(k, "remove one of them", "key %q appears twice in %s", k.Value, what)
			continue
		}
		if s, ok := d.str(v, what+" "+k.Value); ok {
			out[k.Value] = s
		}
	}
	return out
}

// settingKeys are the keys of Settings, which the plan and its tasks
// both take (decoder.setting).
var settingKeys = []string{"model", "agent", "timeout", "retries", "retry_delay", "env", "isolation", "undeclared"}

var planKeys = append([]string{"version", "jobs", "agents", "keep_failed", "worktree", "budget", "redact", "tasks", "checks", "check_timeout", "compare_price", "github", "commit"}, settingKeys...)

var githubKeys = []string{"runs_on", "on", "push"}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var taskKeys = append([]string{"id", "files", "read", "needs", "message", "message_file", "check", "allow_unchanged", "estimate"}, settingKeys...)
var worktreeKeys = []string{"copy", "link", "max_untracked"}
var agentKeys = []string{"command", "install", "keys", "output", "scratch", "prompt_files", "env"}

// taskNodes keeps the positions of a task's parts for the graph checks.
type taskNodes struct {
	id    *yaml.Node
	needs []*yaml.Node
	files []*yaml.Node
	read  []*yaml.Node
	settingNodes
}

// settingNodes keeps the positions of the settings that later checks
// point at.
type settingNodes struct {
	agent     *yaml.Node
	model     *yaml.Node
	isolation *yaml.Node
}

// setting decodes a key of Settings, at the plan's level or a task's, into
// s; false when key is not one of them.
func (d *decoder) setting(s *Settings, at *settingNodes, key string, v *yaml.Node) bool {
	switch key {
	case "model":
		at.model = v
		s.Model, _ = d.model(v)
	case "agent":
		at.agent = v
		s.Agent, _ = d.str(v, "agent")
	case "timeout":
		if t, ok := d.duration(v, "timeout", MaxTimeout); ok {
			s.Timeout = t
		}
	case "retries":
		if r, ok := d.integer(v, "retries", 0, MaxRetries); ok {
			s.Retries = r
		}
	case "retry_delay":
		if t, ok := d.duration(v, "retry_delay", MaxRetryDelay); ok {
			s.RetryDelay = t
		}
	case "env":
		s.Env = d.strMap(v, "env")
	case "isolation":
		at.isolation = v
		s.Isolation = choice(d, v, "isolation", state.Isolations)
	case "undeclared":
		s.Undeclared = choice(d, v, "undeclared", state.UndeclaredModes)
	default:
		return false
	}
	return true
}

func (d *decoder) plan(p *Plan, root *yaml.Node) {
	tasksNode, at := d.planFields(p, root)
	if deref(root).Kind != yaml.MappingNode {
		return
	}
	d.where(p)
	if p.Undeclared == "" {
		p.Undeclared = state.UndeclaredFail
	}
	nodes := d.tasks(p, tasksNode)
	d.resolve(p, nodes)
	d.settleRepairs(p, nodes)
	d.isolation(p, at, nodes)
	for _, t := range p.Tasks {
		d.taskPaths(p, t, nodes[t])
	}
	d.repairPaths(p)
}

// planFields decodes the plan's own keys; the tasks are left for tasks.
func (d *decoder) planFields(p *Plan, root *yaml.Node) (tasksNode *yaml.Node, at settingNodes) {
	d.fields(root, "the plan", planKeys, func(key string, k, v *yaml.Node) {
		if d.setting(&p.Settings, &at, key, v) {
			return
		}
		switch key {
		case "version":
			if n, ok := d.integer(v, "version", 1, 1<<20); ok && n != 1 {
				d.nodeErr(v, "this paraider reads plans of version 1", "unsupported plan version %d", n)
			}
		case "jobs":
			if n, ok := d.integer(v, "jobs", 1, MaxJobs); ok {
				p.Jobs = n
			}
		case "agents":
			p.Agents = d.agents(v)
		case "keep_failed":
			p.KeepFailed, _ = d.boolean(v, "keep_failed")
		case "commit":
			p.Commit, _ = d.boolean(v, "commit")
		case "budget":
			p.Budget = d.budget(v)
		case "worktree":
			d.fields(v, "worktree", worktreeKeys, func(key string, _, v *yaml.Node) {
				switch key {
				case "copy":
					p.Copy, _ = d.paths(v, "worktree copy")
				case "link":
					p.Link, _ = d.paths(v, "worktree link")
				case "max_untracked":
					p.MaxUntracked = d.size(v, "worktree max_untracked")
				}
			})
		case "redact":
			p.Redact = d.redact(v)
		case "tasks":
			tasksNode = v
		case "checks":
			p.Checks = d.checks(v)
		case "compare_price":
			p.Compare = d.price(v)
		case "check_timeout":
			p.CheckTimeout, _ = d.duration(v, "check_timeout", MaxTimeout)
		case "github":
			p.GitHub = d.github(v)
		}
	})
	return tasksNode, at
}

// github reads the settings of the GitHub Actions target.
func (d *decoder) github(n *yaml.Node) *GitHub {
	g := &GitHub{}
	d.fields(n, "github", githubKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "runs_on":
			g.RunsOn, _ = d.str(v, "github runs_on")
		case "on":
			if v.Kind == yaml.AliasNode || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
				d.nodeErr(v, "write the events as GitHub does, e.g. `on: {pull_request: {paths: [src/**]}}`", "github on is empty")
				return
			}
			out, err := yaml.Marshal(v)
			if err != nil {
				d.nodeErr(v, "", "github on: %v", err)
				return
			}
			g.On = strings.TrimRight(string(out), "\n")
		case "push":
			if s, ok := d.str(v, "github push"); ok && s != "branch" {
				d.nodeErr(v, "`push: branch` commits the run's change on a branch paraider/RUN and pushes it", "github push must be branch, not %q", s)
			} else if ok {
				g.Push = s
			}
		}
	})
	return g
}

// budget reads dollars: a positive number.
func (d *decoder) budget(v *yaml.Node) float64 {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!float" || v.Tag == "!!int") {
		if f, err := strconv.ParseFloat(v.Value, 64); err == nil && f > 0 && f <= MaxBudget {
			return f
		}
	}
	d.nodeErr(v, "write dollars as a number, e.g. `budget: 5.00`", "budget must be a positive number of dollars, at most %.0f, not %s", float64(MaxBudget), kindName(v))
	return 0
}

// redact reads the names of variables whose values are never shown.
func (d *decoder) redact(v *yaml.Node) []string {
	var out []string
	names, nodes := d.strList(v, "redact")
	for i, n := range names {
		if !envNameRE.MatchString(n) {
			d.nodeErr(nodes[i], "name an environment variable, such as NPM_AUTH", "redact entry %q is not a variable name", n)
			continue
		}
		out = append(out, n)
	}
	return out
}

// tasks decodes the task list, each id once.
func (d *decoder) tasks(p *Plan, tasksNode *yaml.Node) map[*Task]*taskNodes {
	nodes := map[*Task]*taskNodes{}
	switch {
	case tasksNode == nil:
		if !d.misspelt["tasks"] { // else the misspelt key says it, where it is
			d.errorf(0, 0, "add a `tasks:` list; see examples/", "the plan has no tasks")
		}
		return nodes
	case tasksNode.Kind != yaml.SequenceNode:
		d.nodeErr(tasksNode, "", "tasks must be a list, not %s", kindName(tasksNode))
		return nodes
	case len(tasksNode.Content) == 0:
		d.nodeErr(tasksNode, "add at least one task", "the task list is empty")
	}
	folded := map[string]*Task{} // by lower-case id
	for _, tn := range tasksNode.Content {
		t, tnodes := d.task(p, deref(tn))
		if t == nil {
			continue
		}
		if t.ID != "" {
			if prev, dup := p.byID[t.ID]; dup {
				d.nodeErr(tnodes.id, fmt.Sprintf("the first is at line %d; give each task its own id", prev.line), "duplicate task id %q", t.ID)
				continue
			}
			// Ids are file names (specs, stamps, logs), and macOS's file
			// system, like GitHub's job ids, ignores case.
			if prev, dup := folded[strings.ToLower(t.ID)]; dup {
				d.nodeErr(tnodes.id, fmt.Sprintf("task %q is at line %d; ids are file names, and macOS (and GitHub's job ids) ignore case: give each its own", prev.ID, prev.line), "task id %q differs from %q only in case", t.ID, prev.ID)
				continue
			}
			folded[strings.ToLower(t.ID)] = t
			p.byID[t.ID] = t
		}
		p.Tasks = append(p.Tasks, t)
		nodes[t] = tnodes
	}
	return nodes
}

func (d *decoder) agents(n *yaml.Node) map[string]*agent.Profile {
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "agents must be a mapping of names to agent profiles, not %s", kindName(n))
		return nil
	}
	out := map[string]*agent.Profile{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if !idPattern.MatchString(k.Value) {
			d.nodeErr(k, "use letters, digits, '.', '_' and '-'", "bad agent name %q", k.Value)
			continue
		}
		def := &agent.Profile{Name: k.Value, Output: "none"}
		d.fields(v, "agent "+k.Value, agentKeys, func(key string, _, v *yaml.Node) {
			switch key {
			case "command":
				def.Command, _ = d.str(v, "command")
				if def.Command != "" {
					if err := agent.CheckTemplate(def.Command); err != nil {
						d.nodeErr(v, "placeholders are {model}, {message}, {message_file}, {task}, {state}, {files}, {read}, {files:FLAG} and {read:FLAG}", "bad command template: %v", err)
					}
				}
			case "install":
				def.Install, _ = d.str(v, "install")
			case "keys":
				def.Keys = d.strMap(v, "keys")
				// Values are environment variables' names: they become
				// names in a workflow's env: and ${{ secrets.NAME }}.
				for i := 0; i+1 < len(v.Content); i += 2 {
					if val := deref(v.Content[i+1]); !envNameRE.MatchString(val.Value) {
						d.nodeErr(val, "an environment variable's name: letters, digits and _, not starting with a digit (e.g. OPENROUTER_API_KEY)", "agent %q: key variable %q is not a variable name", k.Value, val.Value)
					}
				}
			case "scratch":
				def.Scratch, _ = d.strList(v, "scratch")
			case "output":
				if s, ok := d.str(v, "output"); ok {
					if _, ok := agent.Parsers[s]; !ok {
						d.nodeErr(v, "use one of: "+agent.ParserHelp(), "unknown output parser %q", s)
					}
					def.Output = s
				}
			case "prompt_files":
				def.PromptFiles, _ = d.boolean(v, "prompt_files")
			case "env":
				def.Env = d.strMap(v, "env")
			}
		})
		if def.Command == "" {
			d.nodeErr(k, "give the agent a `command:` template", "agent %q has no command", k.Value)
		}
		out[k.Value] = def
	}
	return out
}

func (d *decoder) checks(n *yaml.Node) []*Check {
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "write checks as `name: command`, e.g. `lint: npm run lint`", "checks must be a mapping of names to commands, not %s", kindName(n))
		return nil
	}
	var out []*Check
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if !idPattern.MatchString(k.Value) {
			d.nodeErr(k, "use letters, digits, '.', '_' and '-', starting with a letter or digit", "bad check name %q", k.Value)
			continue
		}
		if seen[k.Value] {
			d.nodeErr(k, "remove one of them", "check %q appears twice", k.Value)
			continue
		}
		seen[k.Value] = true
		if c := d.check(k, v); c != nil {
			out = append(out, c)
		}
	}
	return out
}

func (d *decoder) task(p *Plan, n *yaml.Node) (*Task, *taskNodes) {
	t := &Task{line: n.Line, col: n.Column, Settings: Settings{Retries: -1}}
	tn := &taskNodes{}
	var hasFiles, emptyFiles, hasMessage bool
	var msgNode, msgFileNode *yaml.Node
	d.fields(n, "a task", taskKeys, func(key string, k, v *yaml.Node) {
		if d.setting(&t.Settings, &tn.settingNodes, key, v) {
			return
		}
		switch key {
		case "id":
			tn.id = v
			if s, ok := d.str(v, "id"); ok {
				t.ID = s
				if !idPattern.MatchString(s) {
					d.nodeErr(v, "ids use letters, digits, '.', '_' and '-', and start with a letter or digit", "bad task id %q", s)
				} else if len(s) > MaxIDLength {
					d.nodeErr(v, "an id names files under .paraider/; shorten it", "task id of %d characters, more than %d", len(s), MaxIDLength)
				}
			}
		case "files":
			hasFiles = true
			t.Files, tn.files = d.paths(v, "files")
			emptyFiles = v.Kind == yaml.SequenceNode && len(v.Content) == 0 || v.Tag == "!!null"
		case "read":
			t.Read, tn.read = d.paths(v, "read")
		case "needs":
			t.Needs, tn.needs = d.strList(v, "needs")
		case "message":
			msgNode = v
			t.Message, hasMessage = d.str(v, "message")
		case "message_file":
			msgFileNode = v
			t.MessageFile, _ = d.str(v, "message_file")
		case "check":
			t.Check, _ = d.str(v, "check")
		case "allow_unchanged":
			t.AllowUnchanged, _ = d.boolean(v, "allow_unchanged")
		case "estimate":
			t.Estimate, _ = d.duration(v, "estimate", MaxEstimate)
		}
	})
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	name := "this task"
	if t.ID != "" {
		name = fmt.Sprintf("task %q", t.ID)
	}
	if tn.id == nil {
		d.nodeErr(n, "add `id: some-name`", "a task has no id")
		tn.id = n
	}
	if !hasFiles {
		d.nodeErr(n, "list the files the agent may create or edit under `files:`", "%s has no files", name)
	} else if emptyFiles {
		d.nodeErr(n, "list the files the agent may create or edit under `files:`", "%s has an empty file list", name)
	}
	d.message(p, t, n, msgNode, msgFileNode, hasMessage, name)
	for i, f := range t.Read {
		if slices.Contains(t.Files, f) {
			d.nodeErr(tn.read[i], "a file the task edits is already in its context; remove it from read", "%s both edits and reads %s", name, f)
		}
	}
	return t, tn
}

// message settles a task's message: written in the plan, or read from its
// message_file (which becomes one of the plan's sources); one of them,
// not empty, and small enough for an agent's command line.
func (d *decoder) message(p *Plan, t *Task, n, msgNode, msgFileNode *yaml.Node, hasMessage bool, name string) {
	switch {
	case msgNode != nil && msgFileNode != nil:
		d.nodeErr(msgFileNode, "keep one of them", "%s has both message and message_file", name)
	case msgFileNode != nil && t.MessageFile != "":
		rel, ok := d.cleanPath(msgFileNode, t.MessageFile, "message_file")
		if ok {
			data, err := readRegular(filepath.Join(p.Root, filepath.FromSlash(rel)), MaxPlanSize)
			if err != nil {
				d.nodeErr(msgFileNode, "the path is relative to the plan's directory", "cannot read message_file: %v", shortErr(err))
			} else if bytes.IndexByte(data, 0) >= 0 {
				d.nodeErr(msgFileNode, "a message is text; remove the NUL bytes", "message_file %s holds a NUL byte", rel)
			} else {
				t.Message, t.MessageFile = string(data), rel
				p.Sources = append(p.Sources, rel)
			}
		}
	case msgNode == nil:
		d.nodeErr(n, "add `message:` (what the agent should do) or `message_file:`", "%s has no message", name)
	}
	if (hasMessage || t.MessageFile != "") && strings.TrimSpace(t.Message) == "" {
		node := msgNode
		if node == nil {
			node = msgFileNode
		}
		d.nodeErr(node, "", "%s has an empty message", name)
	}
	// Linux limits one argument to 128 KiB; leave room for the rest.
	if len(t.Message) > 100<<10 {
		node := msgNode
		if node == nil {
			node = msgFileNode
		}
		d.nodeErr(node, "split the task, or move reference material into a `read:` file", "%s has a message of %d bytes, more than the 100 KiB an agent's command line can carry", name, len(t.Message))
	}
}

func shortErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (d *decoder) paths(n *yaml.Node, what string) ([]string, []*yaml.Node) {
	raw, nodes := d.strList(n, what)
	var out []string
	var outNodes []*yaml.Node
	seen := map[string]bool{}
	for i, s := range raw {
		p, ok := d.cleanPath(nodes[i], s, what)
		if !ok || seen[p] {
			continue
		}
		seen[p] = true
		out = append(out, p)
		outNodes = append(outNodes, nodes[i])
	}
	return out, outNodes
}

// cleanPath checks a path of the plan: relative, inside the repository, and
// writable in a Ninja file.
func (d *decoder) cleanPath(n *yaml.Node, s, what string) (string, bool) {
	switch {
	case s == "":
		d.nodeErr(n, "", "empty path in %s", what)
		return "", false
	case strings.ContainsAny(s, "\n\r\x00|"):
		d.nodeErr(n, "rename the file: Ninja cannot name a path holding a newline, carriage return, NUL or '|'", "path %q in %s cannot be written in a Ninja file", s, what)
		return "", false
	case path.IsAbs(s) || filepath.IsAbs(s) || filepath.VolumeName(s) != "":
		d.nodeErr(n, "write paths relative to the plan's directory", "absolute path %q in %s", s, what)
		return "", false
	}
	c := path.Clean(filepath.ToSlash(s))
	if c == ".." || strings.HasPrefix(c, "../") {
		d.nodeErr(n, "tasks work inside the repository; move the plan up or the file in", "path %q in %s leaves the repository", s, what)
		return "", false
	}
	if c == "." {
		d.nodeErr(n, "name a file", "path %q in %s is the repository itself", s, what)
		return "", false
	}
	first, _, _ := strings.Cut(c, "/")
	if first == ".git" || first == ".paraider" {
		d.nodeErr(n, "", "path %q in %s is inside %s, which belongs to %s", s, what, first, map[string]string{".git": "git", ".paraider": "paraider"}[first])
		return "", false
	}
	return c, true
}

// resolve fills in inherited settings and checks names that refer to other
// parts of the plan.
func (d *decoder) resolve(p *Plan, nodes map[*Task]*taskNodes) {
	agents := knownAgents(p)
	for _, t := range p.Tasks {
		tn := nodes[t]
		d.inherit(p, t, tn, agents)
		for i, need := range t.Needs {
			if p.byID[need] == nil {
				hint := ""
				ids := make([]string, 0, len(p.Tasks))
				for _, o := range p.Tasks {
					ids = append(ids, o.ID)
				}
				if s := suggest(need, ids); s != "" {
					hint = fmt.Sprintf("did you mean %q?", s)
				}
				d.nodeErr(tn.needs[i], hint, "task %q needs %q, which is not a task of this plan", t.ID, need)
			} else if need == t.ID {
				d.nodeErr(tn.needs[i], "", "task %q needs itself", t.ID)
			}
		}
	}
	d.nodes = nodes
}

// knownAgents are the names of the built-in agents and the plan's own,
// sorted.
func knownAgents(p *Plan) []string {
	agents := agent.Builtins()
	for name := range p.Agents {
		if !slices.Contains(agents, name) {
			agents = append(agents, name)
		}
	}
	sort.Strings(agents)
	return agents
}

// inherit fills in the settings a task leaves to the plan, its model from
// its agent's profile when neither names one, and checks that both are
// known.
func (d *decoder) inherit(p *Plan, t *Task, tn *taskNodes, agents []string) {
	t.Settings.inherit(p.Settings)
	prof := p.Agents[t.Agent]
	if prof == nil {
		prof, _ = agent.Builtin(t.Agent)
	}
	if t.Model == "" && prof != nil {
		// The agent's own starting model (its profile's `model:`).
		t.Model = prof.Model
	}
	if t.Model == "" && (prof == nil || prof.UsesModel()) {
		d.nodeErr(tn.id, "set `model:` for the plan, or for this task", "task %q has no model", t.ID)
	}
	if !slices.Contains(agents, t.Agent) {
		hint := "known agents: " + strings.Join(agents, ", ")
		if s := suggest(t.Agent, agents); s != "" {
			hint = fmt.Sprintf("did you mean %q? known agents: %s", s, strings.Join(agents, ", "))
		}
		if tn.agent != nil {
			d.nodeErr(tn.agent, hint, "unknown agent %q", t.Agent)
		} else {
			d.errorf(0, 0, hint, "unknown agent %q", t.Agent)
		}
	}
}
