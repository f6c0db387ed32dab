package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraider/paraider/state"
)

// A spec written in place during an attempt is found both ways the guard
// looks: each spec's stat (a plan of few tasks) and inotify (many).
func TestGuardSpecs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		tasks []string
	}{
		{"stat of each spec", []string{"a", "b"}},
		{"inotify on the specs directory", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, id := range []string{"a", "b"} {
				p := filepath.Join(root, filepath.FromSlash(state.SpecPath(id)))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(`{"id":"`+id+`"}`), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			g := newGuard(context.Background(), root, tc.tasks)
			if (g.specs == nil) != (tc.tasks == nil) {
				t.Fatalf("specs looked at one by one: %v", g.specs)
			}
			before := g.take()
			if tp := g.settle(before, t.TempDir()); tp != nil {
				t.Fatalf("nothing changed, yet: %v", tp.lines)
			}
			before = g.take()
			f, err := os.OpenFile(filepath.Join(root, filepath.FromSlash(state.SpecPath("b"))), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(`{"id":"b","message":"forged"}`)
			f.Close()
			tp := g.settle(before, t.TempDir())
			if tp == nil || len(tp.lines) != 1 || !strings.Contains(tp.lines[0], "specs/b.json (paraider's own file: removed") {
				t.Fatalf("a forged spec: %+v", tp)
			}
		})
	}
}
