package plan

// The plan's own keys: the settings tasks inherit, the agents it defines,
// the GitHub target, the budget, redaction and the final checks.

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/lazy"
	"github.com/paraider/paraider/state"
)

// settingFields are the keys of Settings, which the plan and its tasks
// both take: each key once, with how it is decoded and whether it changes
// what a task does (its work, state.Spec.WorkHash: a task whose work
// changed runs again; TestWorkFollowsSettingFields holds the hash to
// this column).
var settingFields = []struct {
	name   string
	work   bool
	decode func(d *decoder, s *Settings, at *settingNodes, v *yaml.Node)
}{
	{"model", true, func(d *decoder, s *Settings, at *settingNodes, v *yaml.Node) {
		at.model = v
		s.Model, _ = d.model(v)
	}},
	{"agent", true, func(d *decoder, s *Settings, at *settingNodes, v *yaml.Node) {
		at.agent = v
		s.Agent, _ = d.str(v, "agent")
	}},
	{"timeout", false, func(d *decoder, s *Settings, _ *settingNodes, v *yaml.Node) {
		if t, ok := d.duration(v, "timeout", MaxTimeout); ok {
			s.Timeout = state.Duration(t)
		}
	}},
	{"retries", false, func(d *decoder, s *Settings, _ *settingNodes, v *yaml.Node) {
		if r, ok := d.integer(v, "retries", 0, MaxRetries); ok {
			s.Retries = r
		}
	}},
	{"retry_delay", false, func(d *decoder, s *Settings, _ *settingNodes, v *yaml.Node) {
		if t, ok := d.duration(v, "retry_delay", MaxRetryDelay); ok {
			s.RetryDelay = state.Duration(t)
		}
	}},
	{"env", false, func(d *decoder, s *Settings, _ *settingNodes, v *yaml.Node) { s.Env = d.strMap(v, "env") }},
	{"isolation", false, func(d *decoder, s *Settings, at *settingNodes, v *yaml.Node) {
		at.isolation = v
		s.Isolation = choice(d, v, "isolation", state.Isolations)
	}},
	{"undeclared", false, func(d *decoder, s *Settings, _ *settingNodes, v *yaml.Node) {
		s.Undeclared = choice(d, v, "undeclared", state.UndeclaredModes)
	}},
}

// settingKeys are the names of settingFields.
var settingKeys = func() []string {
	var names []string
	for _, f := range settingFields {
		names = append(names, f.name)
	}
	return names
}()

var planKeys = append([]string{"version", "jobs", "agents", "keep_failed", "worktree", "budget", "redact", "tasks", "checks", "check_timeout", "compare_price", "github", "commit"}, settingKeys...)

var githubKeys = []string{"runs_on", "on", "push"}

var envNameRE = lazy.Regexp(`^[A-Za-z_][A-Za-z0-9_]*$`)

var worktreeKeys = []string{"copy", "link", "max_untracked"}

var agentKeys = []string{"command", "install", "keys", "output", "scratch", "prompt_files", "env"}

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
	for _, f := range settingFields {
		if f.name == key {
			f.decode(d, s, at, v)
			return true
		}
	}
	return false
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
		if !envNameRE().MatchString(n) {
			d.nodeErr(nodes[i], "name an environment variable, such as NPM_AUTH", "redact entry %q is not a variable name", n)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (d *decoder) agents(n *yaml.Node) map[string]*agent.Profile {
	if n.Kind != yaml.MappingNode {
		d.nodeErr(n, "", "agents must be a mapping of names to agent profiles, not %s", kindName(n))
		return nil
	}
	out := map[string]*agent.Profile{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if !idPattern().MatchString(k.Value) {
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
					if val := deref(v.Content[i+1]); !envNameRE().MatchString(val.Value) {
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
		if !idPattern().MatchString(k.Value) {
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
