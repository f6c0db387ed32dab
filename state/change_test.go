package state

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestImagesAndPrune(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	file := l.Path("src/a.bin")
	os.MkdirAll(filepath.Dir(file), 0o755)
	data := []byte("\x00\x01binary\xff")
	if err := os.WriteFile(file, data, 0o755); err != nil {
		t.Fatal(err)
	}
	img, content, err := ReadImage(file)
	if err != nil || img == nil || string(content) != string(data) {
		t.Fatalf("ReadImage: %v, %q, %v", img, content, err)
	}
	if id, err := l.PutBlob(content); err != nil || id != img.Blob {
		t.Fatalf("PutBlob: %s, %v; want %s", id, err, img.Blob)
	}
	if same, err := SameImage(file, img); !same || err != nil {
		t.Fatalf("SameImage of the file it was read from: %v, %v", same, err)
	}
	if none, _, _ := ReadImage(l.Path("missing")); none != nil {
		t.Fatalf("a missing file's image is %v; want nil", none)
	}
	os.Remove(file)
	if err := l.WriteImage(file, img); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(file); string(got) != string(data) {
		t.Fatalf("written back: %q; want %q", got, data)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v; want 0755", fi.Mode().Perm())
	}
	if err := l.WriteImage(file, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a nil image leaves the file: %v", err)
	}

	// Prune keeps what a record names and what is recent.
	unused, _ := l.PutBlob([]byte("nobody's"))
	recent, _ := l.PutBlob([]byte("just stored"))
	if err := WriteJSON(l.Path(ChangePath("t")), Change{Task: "t", Files: []FileChange{{Path: "src/a.bin", After: img}}}); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	for _, id := range []string{unused, img.Blob} {
		os.Chtimes(l.blobPath(id), old, old)
	}
	n, err := l.PruneBlobs()
	if err != nil || n != 1 {
		t.Fatalf("PruneBlobs = %d, %v; want 1 removed", n, err)
	}
	for id, want := range map[string]bool{unused: false, recent: true, img.Blob: true} {
		if _, err := l.Blob(id); (err == nil) != want {
			t.Errorf("blob %.8s kept = %v; want %v", id, err == nil, want)
		}
	}
}

// SymlinkParent names the first directory of a path that is a symlink:
// paraider writes nothing through one (revert, the restore of a deleted
// output).
func TestSymlinkParent(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "real", "deep"), 0o755)
	os.Symlink(t.TempDir(), filepath.Join(root, "link"))
	os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "real", "loop"))
	for rel, want := range map[string]string{
		"a.txt":            "",
		"real/deep/a.txt":  "",
		"link/a.txt":       "link",
		"real/loop/a.txt":  "real/loop",
		"missing/dir/a.go": "",
	} {
		if got := SymlinkParent(root, rel); got != want {
			t.Errorf("SymlinkParent(%q) = %q; want %q", rel, got, want)
		}
	}
}
