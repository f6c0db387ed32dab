package plan_test

import (
	"path/filepath"
	"testing"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/plan"
)

// A setting changes a task's work hash exactly when settingFields says it
// changes the work: a task whose work changed runs again (and is paid
// again), one whose tuning changed does not.
func TestWorkFollowsSettingFields(t *testing.T) {
	values := map[string]string{
		"model": "m9", "agent": "claude", "timeout": "9m", "retries": "7", "retry_delay": "9s",
		"env": "{Y: '2'}", "isolation": "none", "undeclared": "drop",
	}
	hash := func(setting string) string {
		src := "version: 1\nmodel: m1\ntasks:\n  - {id: a, files: [a.ts], message: m"
		if setting != "" {
			src += ", " + setting + ": " + values[setting]
		}
		p, err := plan.Parse(filepath.Join(t.TempDir(), "p.yaml"), []byte(src+"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		specs, err := gen.Specs(p)
		if err != nil {
			t.Fatal(err)
		}
		return specs["a"].WorkHash()
	}
	base := hash("")
	for name, work := range plan.SettingWork() {
		if _, ok := values[name]; !ok {
			t.Errorf("setting %q has no value in this test: add one", name)
			continue
		}
		if changed := hash(name) != base; changed != work {
			t.Errorf("setting %q: work hash changed %v; settingFields says it changes the work: %v", name, changed, work)
		}
	}
}
