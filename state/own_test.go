package state

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
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

// TestWriteIfChangedReadsNoDevice: gen's writes compare with what is
// there only where it is a regular file (or a link to one): a link to a
// device that never ends or to a FIFO without a writer, put in place of
// one of paraider's own files, is replaced, not read for ever.
func TestWriteIfChangedReadsNoDevice(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	data := []byte("gen's bytes\n")
	for _, target := range []string{"/dev/zero", fifo} {
		name := filepath.Join(dir, "sched")
		os.Remove(name)
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
		done := make(chan bool, 1)
		go func() {
			changed, err := WriteIfChanged(name, data)
			done <- changed && err == nil
		}()
		select {
		case ok := <-done:
			if !ok {
				t.Fatalf("a link to %s: not written", target)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("a link to %s: WriteIfChanged still reading it after 10 s", target)
		}
		fi, err := os.Lstat(name)
		if got, _ := os.ReadFile(name); err != nil || !fi.Mode().IsRegular() || string(got) != string(data) {
			t.Fatalf("a link to %s: %v %q, want a file holding gen's bytes", target, fi.Mode(), got)
		}
	}
	// A regular file that holds the bytes, and a link to one (a person's
	// Ninja file kept elsewhere), are left as they are.
	name := filepath.Join(dir, "sched")
	if changed, err := WriteIfChanged(name, data); changed || err != nil {
		t.Fatalf("the same bytes written again: %v %v", changed, err)
	}
	real := filepath.Join(dir, "real.ninja")
	os.WriteFile(real, data, 0o644)
	link := filepath.Join(dir, "build.ninja")
	os.Symlink(real, link)
	if changed, err := WriteIfChanged(link, data); changed || err != nil {
		t.Fatalf("a link to a file of the same bytes: %v %v", changed, err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("a link to a file of the same bytes was replaced")
	}
}
