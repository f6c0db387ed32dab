package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoRun: a build.ninja written by `go run` keeps working after go run's
// temporary binary is gone, and Ninja finds paraider without PATH.
func TestGoRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds paraider again with go run")
	}
	dir := t.TempDir()
	plan := "version: 1\nmodel: openrouter/test/model\ntasks:\n  - {id: a, files: [a.txt], message: write a}\n"
	if err := os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(plan), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("go", "run", ".", "-f", filepath.Join(dir, "paraider.yaml"), "gen")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("go run . gen: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, ".paraider", "bin", "paraider")
	fi, err := os.Lstat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is %v; want an executable copy, since go run's binary is deleted", bin, fi.Mode())
	}
	ninjaFile, err := os.ReadFile(filepath.Join(dir, "build.ninja"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ninjaFile), "go-build") {
		t.Fatalf("build.ninja names go run's temporary directory:\n%s", ninjaFile)
	}

	// PATH holds the stand-in aider and the system tools, not paraider.
	ninja := exec.Command("ninja")
	ninja.Dir = dir
	ninja.Env = append(os.Environ(),
		"PATH="+filepath.Join(binDir, "aider-only")+string(os.PathListSeparator)+"/usr/bin:/bin",
		"OPENROUTER_API_KEY=sk-or-v1-test")
	if err := os.MkdirAll(filepath.Join(binDir, "aider-only"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(binDir, "aider"), filepath.Join(binDir, "aider-only", "aider")); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	out, err := ninja.CombinedOutput()
	if err != nil {
		t.Fatalf("ninja: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok a: 1 attempt") {
		t.Fatalf("ninja output lacks the task's line:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); err != nil {
		t.Fatal(err)
	}
}
