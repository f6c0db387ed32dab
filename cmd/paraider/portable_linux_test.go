package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPortableBuild runs one plan twice under strace: with the Linux build,
// and with a build tagged paraider_portable, which runs the code macOS
// runs wherever it can run here. Three tasks and one place: the first
// task's agent waits until the other two wait in the queue, so that both
// wait for a wake-up. The Linux build is seen to use inotify (the
// wake-ups) and to be the supervisor's subreaper, which shows the trace
// would catch them; the portable build does neither, and still gets every
// task done.
func TestPortableBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: the full suite (scripts/test.sh) runs it")
	}
	if buildTags != "" {
		t.Skip("compares the Linux build with the portable one: run it without -tags")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("strace is missing in CI: scripts/test.sh installs it")
		}
		t.Skip("strace is missing: scripts/test.sh installs it")
	}
	portable := filepath.Join(t.TempDir(), "paraider")
	build := exec.Command("go", "build", "-tags", "paraider_portable", "-o", portable, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags paraider_portable: %v\n%s", err, out)
	}
	for _, c := range []struct {
		name, bin string
		want      []string // in the trace
		refused   []string // not in it
	}{
		{"linux", filepath.Join(binDir, "paraider"), []string{"inotify_init1(", "PR_SET_CHILD_SUBREAPER"}, nil},
		{"portable", portable, nil, []string{"inotify", "PR_SET_CHILD_SUBREAPER", "PR_SET_PDEATHSIG"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "repo")
			queue := filepath.Join(dir, ".paraider", "slots", "queue")
			// The first agent to run waits (30 s at most) until the other
			// two tasks wait in the queue; the others go on at once.
			first := filepath.Join(t.TempDir(), "first")
			wait := `mkdir ` + first + ` 2>/dev/null || exit 0; i=0; while [ "$(ls ` + queue + ` | grep -c '\.json$')" -lt 2 ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`
			plan := "version: 1\njobs: 1\nmodel: openrouter/x/y\ntasks:\n" +
				"  - {id: a, files: [a.txt], message: write a}\n" +
				"  - {id: b, files: [b.txt], message: write b}\n" +
				"  - {id: c, files: [c.txt], message: write c}\n"
			os.MkdirAll(dir, 0o755)
			os.WriteFile(filepath.Join(dir, "paraider.yaml"), []byte(plan), 0o644)
			os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("build.ninja\n.ninja_*\n.paraider/\n"), 0o644)
			gitIn(t, dir, "init", "-q", "-b", "main")
			commitAll(t, dir, "start")
			run(t, dir, c.bin, "gen")
			trace := filepath.Join(t.TempDir(), "trace")
			cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "-e", "trace=inotify_init,inotify_init1,inotify_add_watch,prctl", "ninja", "-j", "8")
			cmd.Dir = dir
			// The agents and `paraider exec` as Ninja runs it: this build.
			bin := filepath.Join(t.TempDir(), "bin")
			os.MkdirAll(bin, 0o755)
			os.Symlink(c.bin, filepath.Join(bin, "paraider"))
			os.Symlink(filepath.Join(binDir, "aider"), filepath.Join(bin, "aider"))
			cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
				"OPENROUTER_API_KEY=sk-or-v1-testkey-0123456789abcdef", "FAKE_AIDER_SH="+wait)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ninja under strace: %v\n%s", err, out)
			}
			for _, f := range []string{"a.txt", "b.txt", "c.txt"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("%s was not written: %v", f, err)
				}
			}
			data, err := os.ReadFile(trace)
			if err != nil {
				t.Fatal(err)
			}
			got := string(data)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("the trace holds no %s:\n%s", w, got)
				}
			}
			for _, r := range c.refused {
				for _, line := range strings.Split(got, "\n") {
					if strings.Contains(line, r) {
						t.Errorf("the portable build called %s: %s", r, line)
					}
				}
			}
		})
	}
}
