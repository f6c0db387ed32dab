package live

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// TestNinjaLinesTakeNoSnapshot: the lines Ninja prints scroll up at once,
// each with the block as the latest snapshot made it; a snapshot of the
// run (all its records) is taken on the view's clock only. One a line
// made a run of ten thousand tasks quadratic: 2,000 tasks took 70 s under
// the view against 49 s without it.
func TestNinjaLinesTakeNoSnapshot(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "paraider.yaml")
	yaml := "version: 1\nmodel: m\ntasks:\n  - {id: a, files: [a.txt], message: write a}\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := plan.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	run := state.Run{Plan: "paraider.yaml", Jobs: 1, Tasks: []string{"a"}}
	if err := state.WriteJSON(filepath.Join(root, state.RunPath), run); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "screen"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	l := &View{out: out, p: p, w: func(string) float64 { return 1 }, start: time.Now(), every: time.Hour,
		told: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	for i := range 200 {
		fmt.Fprintf(l, "ok t%d: 1 attempt\n", i)
	}
	l.Close()
	if l.looks != 1 {
		t.Errorf("%d snapshots for 200 lines of Ninja's within the view's first tick; want 1, the tick's", l.looks)
	}
	screen, _ := os.ReadFile(out.Name())
	for _, want := range []string{"ok t0: 1 attempt", "ok t199: 1 attempt", "0 done, 0 running, 1 waiting"} {
		if !strings.Contains(string(screen), want) {
			t.Errorf("the screen lacks %q:\n%s", want, screen)
		}
	}
}
