// Package agent knows the coding agents paraider drives: their profiles (how
// to build a command line, which key a model needs, how to install them) and
// how to read what they print (token usage, cost, failed model calls).
package agent

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/shlex"
	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/internal/lazy"
	"github.com/paraider/paraider/templates"
)

// Profile describes one agent.
type Profile struct {
	Name    string            `yaml:"-" json:"name"`
	Command string            `yaml:"command" json:"command"` // template, split with shlex
	Install string            `yaml:"install" json:"install,omitempty"`
	Keys    map[string]string `yaml:"keys" json:"keys,omitempty"` // model prefix -> env var
	Output  string            `yaml:"output" json:"output"`       // a name in Parsers
	// PromptFiles adds the task's files to the message, for agents whose
	// command line cannot name them.
	PromptFiles bool `yaml:"prompt_files" json:"prompt_files,omitempty"`
	// Scratch are patterns of files the agent makes for itself (Aider's
	// tags cache), never counted as changes to the repository.
	Scratch []string `yaml:"scratch" json:"scratch,omitempty"`
	// Env is set for the agent, with the command's scalar placeholders
	// ({state}, {task}, ...) filled in ({state} as an absolute path): state
	// an agent must not share between parallel runs.
	Env map[string]string `yaml:"env" json:"env,omitempty"`
	// Model is a model to start with, for `paraider init`; not part of a
	// task's spec.
	Model string `yaml:"model" json:"-"`
}

// UsesModel says whether the profile passes a model to its agent: its
// command or environment has {model}. One that does not needs none.
func (p *Profile) UsesModel() bool {
	if strings.Contains(p.Command, "{model}") {
		return true
	}
	for _, v := range p.Env {
		if strings.Contains(v, "{model}") {
			return true
		}
	}
	return false
}

// ExpandEnv fills the placeholders of the profile's environment, as
// KEY=VALUE entries in a stable order.
func (p *Profile) ExpandEnv(v Vars) []string {
	keys := make([]string, 0, len(p.Env))
	for k := range p.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	scalars := map[string]string{"model": v.Model, "message": v.Message, "message_file": v.MessageFile, "task": v.Task, "state": v.State}
	var out []string
	for _, k := range keys {
		out = append(out, k+"="+placeholderRE().ReplaceAllStringFunc(p.Env[k], func(ph string) string {
			return scalars[ph[1:len(ph)-1]]
		}))
	}
	return out
}

// Builtins returns the names of the built-in profiles, sorted.
func Builtins() []string {
	entries, err := fs.Glob(templates.FS, "*.yaml")
	if err != nil {
		panic(err) // the pattern is constant
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = strings.TrimSuffix(e, ".yaml")
	}
	sort.Strings(names)
	return names
}

// Builtin returns the built-in profile of that name: a copy of the one
// read from templates/ once per process (a plan of 10,000 tasks asked
// for it 10,000 times, parsing its YAML each time: 0.85 s of a gen).
func Builtin(name string) (*Profile, error) {
	v, _ := builtins.LoadOrStore(name, sync.OnceValues(func() (*Profile, error) { return readBuiltin(name) }))
	p, err := v.(func() (*Profile, error))()
	if err != nil {
		return nil, err
	}
	return p.clone(), nil
}

// builtins holds each built-in profile asked for, read once.
var builtins sync.Map // name -> func() (*Profile, error)

// clone is a copy that shares nothing the caller could change.
func (p *Profile) clone() *Profile {
	c := *p
	c.Keys = maps.Clone(p.Keys)
	c.Env = maps.Clone(p.Env)
	c.Scratch = slices.Clone(p.Scratch)
	return &c
}

func readBuiltin(name string) (*Profile, error) {
	data, err := templates.FS.ReadFile(name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in agent %q (known: %s)", name, strings.Join(Builtins(), ", "))
	}
	p := &Profile{Name: name}
	if err := yaml.Unmarshal(data, p); err != nil {
		return nil, fmt.Errorf("built-in agent %q: %w", name, err)
	}
	if err := CheckTemplate(p.Command); err != nil {
		return nil, fmt.Errorf("built-in agent %q: %w", name, err)
	}
	return p, nil
}

// KeyFor returns the environment variable that must be set for model, or "".
// The longest matching prefix wins.
func (p *Profile) KeyFor(model string) string {
	best, key := -1, ""
	for prefix, env := range p.Keys {
		if strings.HasPrefix(model, prefix) && len(prefix) > best {
			best, key = len(prefix), env
		}
	}
	return key
}

// Vars are the values a command template can use.
type Vars struct {
	Model       string
	Message     string
	MessageFile string // a file holding Message
	Task        string
	State       string // a directory of this attempt's own, for history files
	Files       []string
	Read        []string
}

var (
	placeholderRE = lazy.Regexp(`\{([a-z_]+)(?::([^{}]*))?\}`)
	scalarVars    = []string{"model", "message", "message_file", "task", "state"}
	listVars      = []string{"files", "read"}
)

// CheckTemplate reports whether a command template can be expanded.
func CheckTemplate(tmpl string) error {
	_, err := templateWords(tmpl)
	return err
}

// templateWords splits a command template into its words, once it is
// known to expand: quotes closed, placeholders known, the program named.
func templateWords(tmpl string) ([]string, error) {
	words, err := shlex.Split(tmpl)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("the command is empty")
	}
	for _, w := range words {
		for _, m := range placeholderRE().FindAllStringSubmatch(w, -1) {
			name, hasArg := m[1], strings.Contains(m[0], ":")
			switch {
			case slices.Contains(listVars, name):
				if m[0] != w {
					return nil, fmt.Errorf("{%s} must stand alone as a word", name)
				}
			case slices.Contains(scalarVars, name):
				if hasArg {
					return nil, fmt.Errorf("{%s} takes no flag", name)
				}
			default:
				return nil, fmt.Errorf("unknown placeholder {%s}", name)
			}
		}
	}
	if strings.Contains(words[0], "{") {
		return nil, fmt.Errorf("the program name cannot be a placeholder")
	}
	return words, nil
}

// Expand builds an argv from a template. Words are split first and filled
// in after, so values never need quoting. A word {files} becomes one word per
// file, {files:--file} becomes "--file F" per file, and {files:--file=}
// becomes "--file=F" per file, which keeps a path that starts with '-' from
// being read as an option; the same for {read}.
func Expand(tmpl string, v Vars) ([]string, error) {
	words, err := templateWords(tmpl)
	if err != nil {
		return nil, err
	}
	scalars := map[string]string{
		"model": v.Model, "message": v.Message, "message_file": v.MessageFile,
		"task": v.Task, "state": v.State,
	}
	lists := map[string][]string{"files": v.Files, "read": v.Read}
	var argv []string
	for _, w := range words {
		if m := placeholderRE().FindStringSubmatch(w); m != nil && m[0] == w && slices.Contains(listVars, m[1]) {
			for _, item := range lists[m[1]] {
				switch flag := m[2]; {
				case strings.HasSuffix(flag, "="):
					argv = append(argv, flag+item)
				case flag != "":
					argv = append(argv, flag, item)
				default:
					argv = append(argv, item)
				}
			}
			continue
		}
		argv = append(argv, placeholderRE().ReplaceAllStringFunc(w, func(ph string) string {
			return scalars[ph[1:len(ph)-1]]
		}))
	}
	return argv, nil
}

// InstallCommand is the command in the profile's install hint (the first
// part between backquotes), for a machine that installs the agent on
// its own (a CI job); "" when the hint names none.
func (p *Profile) InstallCommand() string {
	_, rest, ok := strings.Cut(p.Install, "`")
	if !ok {
		return ""
	}
	cmd, _, ok := strings.Cut(rest, "`")
	if !ok {
		return ""
	}
	return strings.TrimSpace(cmd)
}
