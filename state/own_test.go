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
