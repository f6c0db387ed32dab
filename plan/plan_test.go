package plan

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

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
	type props struct {
		Properties map[string]any `json:"properties"`
	}
	var s struct {
		Properties map[string]any `json:"properties"`
		Defs       struct {
			Task   props `json:"task"`
			Agent  props `json:"agent"`
			Check  props `json:"check"`
			Repair props `json:"repair"`
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
		{"check", s.Defs.Check.Properties, checkKeys},
		{"repair", s.Defs.Repair.Properties, repairKeys},
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
	if a.Model != "m1" || time.Duration(a.Timeout) != DefaultTimeout || a.Retries != 1 || a.Agent != "aider" || p.Jobs != DefaultJobs {
		t.Errorf("a = %+v", a)
	}
	if b.Model != "m2" || time.Duration(b.Timeout).Seconds() != 90 || b.Retries != 0 {
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

// A check takes `repair:` in its long form; the repair is a task of its
// own: the plan's settings where it sets none, every task's files and its
// own, every task before it.
func TestCheckRepair(t *testing.T) {
	p := parse(t, `version: 1
model: m1
retries: 1
tasks:
  - {id: a, files: [src/a.ts], message: m}
  - {id: b, files: [src/b.ts], message: m, model: m2}
checks:
  lint: npm run lint
  test:
    run: npm test
    repair: true
  types:
    run: tsc
    repair: {retries: 3, model: m3, files: [src/types.d.ts, src/a.ts], timeout: 15m}
  off:
    run: "true"
    repair: false
`)
	if len(p.Checks) != 4 || p.Checks[0].Repair != nil || p.Checks[3].Repair != nil {
		t.Fatalf("checks = %+v", p.Checks)
	}
	test, types := p.Checks[1].Repair, p.Checks[2].Repair
	if test == nil || test.ID != "repair-test" || test.Model != "m1" || test.Retries != 1 || test.Agent != "aider" || time.Duration(test.Timeout) != DefaultTimeout {
		t.Errorf("repair-test = %+v", test)
	}
	if got := strings.Join(test.Files, ","); got != "src/a.ts,src/b.ts" {
		t.Errorf("repair-test files = %s", got)
	}
	if got := strings.Join(test.Deps, ","); got != "a,b" {
		t.Errorf("repair-test deps = %s", got)
	}
	if !strings.HasPrefix(test.Message, "make `npm test` pass\n") || !test.AllowUnchanged {
		t.Errorf("repair-test message = %q, allow_unchanged %v", test.Message, test.AllowUnchanged)
	}
	if types.Model != "m3" || types.Retries != 3 || time.Duration(types.Timeout).Minutes() != 15 {
		t.Errorf("repair-types = %+v", types)
	}
	if got := strings.Join(types.Files, ","); got != "src/a.ts,src/b.ts,src/types.d.ts" {
		t.Errorf("repair-types files = %s", got)
	}
	if got := len(p.Repairs()); got != 2 {
		t.Errorf("Repairs() = %d", got)
	}
}

// A repair's mistakes are pointed at.
func TestCheckRepairErrors(t *testing.T) {
	for _, tc := range []struct{ checks, want string }{
		{"test: {repair: true}", `5:9: check "test" has no command`},
		{"test: {run: x, repair: yes}", `5:26: repair of check "test" must be true or false`},
		{"test: {run: x, repair: [a]}", `repair of check "test" must be true, false or a mapping`},
		{"test: {run: x, repair: {retry: 2}}", `unknown key "retry" in the repair of check "test"`},
		{"test: {run: x, repair: {files: [src/**]}}", `pattern "src/**" in the repair's files`},
		{"test: {run: x, repair: {agent: nope}}", `unknown agent "nope"`},
		{"test: {run: x, rpair: true}", `did you mean "repair"?`},
		{"a: {run: x, repair: true}", `the repair of check "a" is a task named "repair-a"`},
		{"test: {run: '', repair: true}", `check "test" has an empty command`},
	} {
		src := "version: 1\nmodel: m\ntasks: [{id: repair-a, files: [x], message: m}]\nchecks:\n  " + tc.checks + "\n"
		_, err := Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.checks, err, tc.want)
		}
	}
}
