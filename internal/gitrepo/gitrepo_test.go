package gitrepo

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMaybeRepo: outside every repository paraider does not start git to
// hear so; inside one (or a directory of it) it asks git.
func TestMaybeRepo(t *testing.T) {
	for _, v := range []string{"GIT_DIR", "GIT_WORK_TREE"} {
		if old, ok := os.LookupEnv(v); ok {
			os.Unsetenv(v)
			t.Cleanup(func() { os.Setenv(v, old) })
		}
	}
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if MaybeRepo(sub) || IsRepo(sub) {
		if _, err := os.Stat("/.git"); err != nil {
			t.Errorf("%s is no repository, yet MaybeRepo says it may be", sub)
		}
	}
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if !MaybeRepo(sub) || !IsRepo(sub) {
		t.Errorf("%s is in a repository, but MaybeRepo %v, IsRepo %v", sub, MaybeRepo(sub), IsRepo(sub))
	}
}

// InsideGitDir: .git/ is; the working tree is not.
func TestInsideGitDir(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("git", "init", "-q", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if InsideGitDir(dir) || !InsideGitDir(filepath.Join(dir, ".git")) {
		t.Errorf("InsideGitDir: working tree %v, .git %v", InsideGitDir(dir), InsideGitDir(filepath.Join(dir, ".git")))
	}
}
