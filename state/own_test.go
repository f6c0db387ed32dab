package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// ReadOwn gives a regular file's bytes whole, whatever its size up to
// max, and refuses one over max, a link or a FIFO.
func TestReadOwn(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 4096, 1 << 20} {
		p := filepath.Join(dir, "f")
		want := bytes.Repeat([]byte("x"), n)
		os.WriteFile(p, want, 0o644)
		if got, err := ReadOwn(p, 1<<21); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: read %d bytes, %v", n, len(got), err)
		}
		if n > 0 {
			var not *ErrNotOwnFile
			if _, err := ReadOwn(p, int64(n-1)); !errors.As(err, &not) {
				t.Fatalf("%d bytes with a cap of %d: %v; want ErrNotOwnFile", n, n-1, err)
			}
		}
	}
	os.Symlink(filepath.Join(dir, "f"), filepath.Join(dir, "link"))
	if _, err := ReadOwn(filepath.Join(dir, "link"), 100); !NotOwn(err) {
		t.Fatalf("a link: %v; want it refused", err)
	}
	if _, err := ReadOwn(filepath.Join(dir, "none"), 100); !os.IsNotExist(err) {
		t.Fatalf("a missing file: %v; want not-exist", err)
	}
}

// Known: a task or a repair is known; anything else is an
// *UnknownTaskError that lists the ids.
func TestRunKnown(t *testing.T) {
	run := &Run{Tasks: []string{"a", "b"}, Checks: []Check{{Name: "test", Command: "true", Repair: "repair-test"}, {Name: "lint", Command: "true"}}}
	if err := run.Known([]string{"a", "repair-test"}); err != nil {
		t.Errorf("Known(a, repair-test) = %v", err)
	}
	err := run.Known([]string{"b", "repair-lint"})
	var u *UnknownTaskError
	if !errors.As(err, &u) || u.ID != "repair-lint" || u.Hint() != "the tasks are: a, b, repair-test" {
		t.Errorf("Known(b, repair-lint) = %v (%+v)", err, u)
	}
	if run.Repaired("repair-test") != "test" || run.Repaired("a") != "" {
		t.Errorf("Repaired: %q, %q", run.Repaired("repair-test"), run.Repaired("a"))
	}
}
