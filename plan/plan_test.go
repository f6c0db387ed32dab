package plan

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/state"
)

func parse(t *testing.T, src string) *Plan {
	t.Helper()
	p, err := Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The JSON Schema names exactly the keys the loader accepts.
func TestSchemaMatchesLoader(t *testing.T) {
	var s struct {
		Properties map[string]any `json:"properties"`
		Defs       struct {
			Task struct {
				Properties map[string]any `json:"properties"`
			} `json:"task"`
			Agent struct {
				Properties map[string]any `json:"properties"`
			} `json:"agent"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what  string
		props map[string]any
		keys  []string
	}{
		{"plan", s.Properties, planKeys},
		{"task", s.Defs.Task.Properties, taskKeys},
		{"agent", s.Defs.Agent.Properties, agentKeys},
	} {
		var got []string
		for k := range tc.props {
			got = append(got, k)
		}
		want := append([]string(nil), tc.keys...)
		sort.Strings(got)
		sort.Strings(want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("schema %s keys %v; loader accepts %v", tc.what, got, want)
		}
	}
	// The names a key accepts: the schema's enum against the registry the
	// loader checks with.
	enum := func(props map[string]any, key string) []string {
		var out []string
		if p, ok := props[key].(map[string]any); ok {
			for _, v := range p["enum"].([]any) {
				out = append(out, v.(string))
			}
		}
		sort.Strings(out)
		return out
	}
	names := func(list any) []string {
		var out []string
		switch l := list.(type) {
		case []state.Isolation:
			for _, x := range l {
				out = append(out, string(x))
			}
		case []state.Undeclared:
			for _, x := range l {
				out = append(out, string(x))
			}
		case []string:
			out = append(out, l...)
		}
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		what  string
		props map[string]any
		key   string
		want  any
	}{
		{"plan", s.Properties, "isolation", state.Isolations},
		{"task", s.Defs.Task.Properties, "isolation", state.Isolations},
		{"plan", s.Properties, "undeclared", state.UndeclaredModes},
		{"task", s.Defs.Task.Properties, "undeclared", state.UndeclaredModes},
		{"agent", s.Defs.Agent.Properties, "output", agent.ParserNames()},
	} {
		if got, want := enum(tc.props, tc.key), names(tc.want); !reflect.DeepEqual(got, want) {
			t.Errorf("schema %s %s: enum %v; the loader accepts %v", tc.what, tc.key, got, want)
		}
	}
}

func TestExamplesLoad(t *testing.T) {
	for _, f := range []string{"auth", "crud"} {
		p, err := Load(filepath.Join("..", "examples", f, "paraider.yaml"))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(p.Tasks) < 5 {
			t.Errorf("%s: %d tasks", f, len(p.Tasks))
		}
	}
}

func TestDefaultsAndOverrides(t *testing.T) {
	p := parse(t, `version: 1
model: m1
retries: 1
env: {A: plan, B: plan}
tasks:
  - {id: a, files: [x], message: m}
  - {id: b, files: [y], message: m, model: m2, timeout: 90s, retries: 0, env: {B: task}}
`)
	a, b := p.Task("a"), p.Task("b")
	if a.Model != "m1" || a.Timeout != DefaultTimeout || a.Retries != 1 || a.Agent != "aider" || p.Jobs != DefaultJobs {
		t.Errorf("a = %+v", a)
	}
	if b.Model != "m2" || b.Timeout.Seconds() != 90 || b.Retries != 0 {
		t.Errorf("b = %+v", b)
	}
	if b.Env["A"] != "plan" || b.Env["B"] != "task" {
		t.Errorf("b env = %v", b.Env)
	}
}

func TestPathsAreCleaned(t *testing.T) {
	p := parse(t, `version: 1
model: m
tasks:
  - {id: a, files: [./src//a.ts, src/x/../b.ts, src/a.ts], message: m}
`)
	if got := strings.Join(p.Task("a").Files, ","); got != "src/a.ts,src/b.ts" {
		t.Errorf("files = %s", got)
	}
}

// The widest set of tasks that can run at once can be wider than any
// dependency level: c and x are unordered, and so is y.
func TestShapeWidthBeyondLevels(t *testing.T) {
	p := parse(t, `version: 1
model: m
tasks:
  - {id: a, files: [a], message: m}
  - {id: b, files: [b], needs: [a], message: m}
  - {id: c, files: [c], needs: [b], message: m}
  - {id: x, files: [x], needs: [a], message: m}
  - {id: y, files: [y], message: m}
`)
	s := p.Shape(nil)
	if !s.WidthExact || s.Width != 3 {
		t.Errorf("width %d (exact %v); want exactly 3", s.Width, s.WidthExact)
	}
	levels := make([]string, len(s.Levels))
	for i, l := range s.Levels {
		levels[i] = strings.Join(l, " ")
	}
	if got := strings.Join(levels, " | "); got != "a y | b x | c" {
		t.Errorf("levels %s", got)
	}
	if got := strings.Join(s.CriticalPath, " "); got != "a b c" {
		t.Errorf("critical path %s", got)
	}
	// With weights the long side task wins.
	w := func(id string) float64 {
		if id == "x" {
			return 10
		}
		return 1
	}
	s = p.Shape(w)
	if got := strings.Join(s.CriticalPath, " "); got != "a x" || s.CriticalWeight != 11 {
		t.Errorf("weighted critical path %s (%v)", got, s.CriticalWeight)
	}
}

func TestImpliedEdgeIsADep(t *testing.T) {
	p := parse(t, `version: 1
model: m
tasks:
  - {id: use, files: [app.ts], read: [lib.ts], message: m}
  - {id: make, files: [lib.ts], message: m}
`)
	if got := p.Task("use").Deps; !reflect.DeepEqual(got, []string{"make"}) {
		t.Errorf("deps %v", got)
	}
	if !slices.ContainsFunc(p.Notes, func(n Note) bool { return strings.Contains(n.Msg, `"use" reads lib.ts, which task "make" writes`) }) {
		t.Errorf("notes %+v", p.Notes)
	}
	if topo := p.Topo(); topo[0].ID != "make" {
		t.Errorf("topo starts with %s", topo[0].ID)
	}
}

func TestLongestChain(t *testing.T) {
	deps := map[string][]string{"c": {"a", "b"}, "d": {"c"}, "e": nil}
	w := func(id string) float64 { return map[string]float64{"a": 1, "b": 3, "c": 1, "d": 1, "e": 4}[id] }
	chain, weight := LongestChain([]string{"a", "b", "c", "d", "e"}, deps, w)
	if !reflect.DeepEqual(chain, []string{"b", "c", "d"}) || weight != 5 {
		t.Errorf("got %v %v; want [b c d] 5", chain, weight)
	}
	// A cycle (never in a checked plan) ends, and weighs its tasks once.
	chain, _ = LongestChain([]string{"x", "y"}, map[string][]string{"x": {"y"}, "y": {"x"}}, nil)
	if len(chain) == 0 || len(chain) > 2 {
		t.Errorf("cycle: %v", chain)
	}
}
