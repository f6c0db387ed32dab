package gen

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

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
