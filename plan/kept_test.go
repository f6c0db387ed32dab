package plan

import (
	"bytes"
	"encoding/gob"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// keptDir is a copy of testdata/kept (a plan with what a plan holds, its
// message file and a file it reads); it returns the plan's path.
func keptDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("testdata/kept")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "paraider.yaml")
}

// gobOf is p's exported fields, encoded: two plans that encode alike
// hold the same (a nil and an empty list alike).
func gobOf(t *testing.T, p *Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(p); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestKeptIsTheParse: a plan kept and read back is the plan a parse
// gives, found by id, with its repairs and its notes; and it is read
// back only while what it was parsed from holds.
func TestKeptIsTheParse(t *testing.T) {
	file := keptDir(t)
	dir := filepath.Dir(file)
	p, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(file)
	key, ok := Key(file, data)
	if !ok {
		t.Fatal("no key")
	}
	kept := p.Kept(key)
	if kept == nil {
		t.Fatal("not kept")
	}
	q := FromKept(file, key, kept)
	if q == nil {
		t.Fatal("not read back")
	}
	if !bytes.Equal(gobOf(t, q), gobOf(t, p)) {
		t.Fatalf("kept plan differs from the parse:\n%+v\n%+v", q, p)
	}
	// And to the empty lists: all but the nodes' places, which only the
	// parse's errors use.
	for _, t := range append(p.Tasks, p.Repairs()...) {
		t.line, t.col = 0, 0
	}
	for _, c := range p.Checks {
		c.line, c.col = 0, 0
	}
	if !reflect.DeepEqual(q, p) {
		t.Fatalf("kept plan differs from the parse:\n%#v\n%#v", q, p)
	}
	if q.Task("b") == nil || q.Task("b").Agent != "mytool" || len(q.Repairs()) != 1 || len(q.Notes) == 0 || q.inGit != p.inGit {
		t.Fatalf("kept plan incomplete: %+v", q)
	}
	if strings.Join(q.Task("b").Deps, ",") != "a" || q.Agents["mytool"].Command == "" || q.Task("a").Message != "write a\n" {
		t.Fatalf("kept plan lost fields: %+v", q)
	}
	if FromKept(file, key+"0", kept) != nil {
		t.Fatal("read back under another key")
	}
	if FromKept(file, key, kept[:len(kept)-10]) != nil {
		t.Fatal("read back from a damaged file")
	}
	os.WriteFile(filepath.Join(dir, "msgs/a.md"), []byte("write a, better\n"), 0o644)
	if FromKept(file, key, kept) != nil {
		t.Fatal("read back with its message file changed")
	}
}
