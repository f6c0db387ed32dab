package gen

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// Every setting a task inherits reaches its spec, which is all paraider
// exec reads: a setting that taskSpec forgot would be a key the plan takes
// and exec never sees. Each is set to a value other than its default, on
// the task, and looked for in the spec.
func TestSpecCarriesEverySetting(t *testing.T) {
	p, err := plan.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(`version: 1
model: m1
tasks:
  - id: a
    files: [a.ts]
    message: m
    model: m2
    agent: claude
    timeout: 7m
    retries: 5
    retry_delay: 3s
    env: {X: "1"}
    isolation: none
    undeclared: drop
`))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Specs(p)
	if err != nil {
		t.Fatal(err)
	}
	s := specs["a"]
	got := map[string]any{
		"Model": s.Model, "Agent": s.Agent.Name, "Timeout": time.Duration(s.Timeout).String(), "Retries": s.Retries,
		"RetryDelay": time.Duration(s.RetryDelay).String(), "Env": s.Env["X"], "Isolation": string(s.Isolation), "Undeclared": string(s.Undeclared),
	}
	want := map[string]any{
		"Model": "m2", "Agent": "claude", "Timeout": "7m0s", "Retries": 5,
		"RetryDelay": "3s", "Env": "1", "Isolation": "none", "Undeclared": "drop",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("spec's %s = %v; want %v", name, got[name], w)
		}
	}
	// The list above is every setting (state.Settings, which the spec
	// embeds, and the agent): a new one fails here until it is looked for.
	st := reflect.TypeOf(state.Settings{})
	for i := range st.NumField() {
		if _, ok := want[st.Field(i).Name]; !ok {
			t.Errorf("state.Settings.%s is not looked for in the spec: add it to this test", st.Field(i).Name)
		}
	}
}

// Specs shares each profile's agent and redact list among its tasks,
// frozen once: every spec equals the one a whole trip through JSON makes
// (what gen writes and exec reads), for tasks of the default agent, of a
// named one, of a plan's own with keys, env and scratch.
func TestSpecsAsJSONFreezesThem(t *testing.T) {
	p, err := plan.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(`version: 1
model: openrouter/x
redact: [MY_TOKEN]
agents:
  mytool:
    command: mytool run --model {model} {files:--edit} --prompt-file {message_file}
    keys: {"openrouter/": OPENROUTER_API_KEY, "": ALWAYS_KEY}
    output: none
    env: {MYTOOL_DB: "{state}/db"}
    scratch: [".mytool*"]
tasks:
  - {id: a, files: [a.ts], message: m}
  - {id: b, files: [b.ts], read: [a.ts], message: m, needs: [a], agent: claude}
  - {id: c, files: [c.ts], message: m, agent: mytool, env: {X: "1"}}
  - {id: d, files: [d.ts], message: m, agent: mytool}
checks:
  lint:
    run: "true"
    repair: true
`))
	if err != nil {
		t.Fatal(err)
	}
	specs, err := Specs(p)
	if err != nil {
		t.Fatal(err)
	}
	profs, err := profilesOf(p, p.Tasks, map[string]*agent.Profile{})
	if err != nil {
		t.Fatal(err)
	}
	for i, task := range p.Tasks {
		b, err := json.Marshal(specWith(p, task, profs[i]))
		if err != nil {
			t.Fatal(err)
		}
		var want state.Spec
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(specs[task.ID], &want) {
			t.Errorf("%s: Specs gave\n%+v\nwant (through JSON)\n%+v", task.ID, specs[task.ID], &want)
		}
	}
}
