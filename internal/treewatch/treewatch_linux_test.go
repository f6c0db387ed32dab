//go:build linux && !paraider_portable

package treewatch

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func write(t *testing.T, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, root string, skip Skip) *Watch {
	t.Helper()
	w, err := Start(root, skip)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop() })
	return w
}

// Every kind of change an agent makes is reported at its path, however
// deep, in directories made while the watch ran too; what happens under a
// skipped directory is not.
func TestWatchSeesChanges(t *testing.T) {
	root := t.TempDir()
	for _, f := range []string{"a.txt", "keep.txt", "gone.txt", "old.txt", "mode.sh", "src/deep/x.go", "ignored/big.bin"} {
		write(t, root, f, "was\n")
	}
	w := start(t, root, SkipUnder("ignored"))
	write(t, root, "a.txt", "now\n")
	write(t, root, "src/deep/y.go", "new\n")
	write(t, root, "made/in/one/go.txt", "new\n") // MkdirAll, then the file: made before the watch reaches it
	write(t, root, "ignored/big.bin", "now\n")
	os.Remove(filepath.Join(root, "gone.txt"))
	os.Rename(filepath.Join(root, "old.txt"), filepath.Join(root, "src/new.txt"))
	os.Chmod(filepath.Join(root, "mode.sh"), 0o755)
	paths, ok := w.Stop()
	if !ok {
		t.Fatal("the watch cannot vouch for what it saw")
	}
	want := []string{"a.txt", "gone.txt", "made", "mode.sh", "old.txt", "src/deep/y.go", "src/new.txt"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if p, ok := w.Stop(); ok || p != nil {
		t.Errorf("a second Stop says %q, %v; want nothing, false", p, ok)
	}
}

// What a new directory holds is reported even when it was filled before
// the watch reached it: the files of a tree made in one go.
func TestWatchSeesNewTreeFilledAtOnce(t *testing.T) {
	root := t.TempDir()
	w := start(t, root, SkipUnder())
	src := t.TempDir()
	write(t, src, "pkg/a/b/c.txt", "x")
	write(t, src, "pkg/d.txt", "x")
	if err := os.Rename(filepath.Join(src, "pkg"), filepath.Join(root, "pkg")); err != nil {
		t.Fatal(err)
	}
	// Then written inside: the new directories are watched.
	write(t, root, "pkg/a/b/c.txt", "y")
	paths, ok := w.Stop()
	if !ok || !slices.Equal(paths, []string{"pkg"}) {
		t.Errorf("paths %q, %v; want [pkg], true", paths, ok)
	}
}

// A write just before Stop is never missed: Stop reads what the kernel
// has queued.
func TestWatchStopReadsEverything(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < 200; i++ {
		w := start(t, root, SkipUnder())
		write(t, root, "f.txt", "x")
		if paths, ok := w.Stop(); !ok || !slices.Equal(paths, []string{"f.txt"}) {
			t.Fatalf("round %d: paths %q, %v; want [f.txt], true", i, paths, ok)
		}
	}
}

// Where a watch cannot tell, it says so: a directory renamed (its watches
// would report under the old name), too many paths, too many directories.
func TestWatchSaysWhenItCannotTell(t *testing.T) {
	root := t.TempDir()
	write(t, root, "dir/f.txt", "x")
	w := start(t, root, SkipUnder())
	if err := os.Rename(filepath.Join(root, "dir"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Stop(); ok {
		t.Error("a renamed directory: the watch vouched for what it saw")
	}

	defer func(n int) { MaxPaths = n }(MaxPaths)
	MaxPaths = 3
	w = start(t, root, SkipUnder())
	for _, f := range []string{"1", "2", "3", "4"} {
		write(t, root, f, "x")
	}
	if _, ok := w.Stop(); ok {
		t.Error("more paths than MaxPaths: the watch vouched for them")
	}

	defer func(n int) { MaxDirs = n }(MaxDirs)
	MaxDirs = 2
	write(t, root, "a/b/c/d.txt", "x")
	if w, err := Start(root, SkipUnder()); err == nil {
		w.Stop()
		t.Error("more directories than MaxDirs: Start did not refuse")
	}
}

// Also takes on directories Start left out, and the skip it is given from
// then on: a directory made later under one now left out is not watched,
// nor is one Start watched that it leaves out.
func TestWatchAlso(t *testing.T) {
	root := t.TempDir()
	write(t, root, "guessed/deep/f.txt", "x")
	write(t, root, "ignored/f.txt", "x")
	w := start(t, root, SkipUnder("guessed"))
	if err := w.Also([]string{"guessed"}, SkipUnder("ignored")); err != nil {
		t.Fatal(err)
	}
	write(t, root, "guessed/deep/f.txt", "y")
	os.Mkdir(filepath.Join(root, "ignored", "new"), 0o755)
	write(t, root, "ignored/f.txt", "y") // no longer watched

	paths, ok := w.Stop()
	if !ok || !slices.Equal(paths, []string{"guessed/deep/f.txt"}) {
		t.Errorf("paths %q, %v; want [guessed/deep/f.txt], true", paths, ok)
	}
}
