package report

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The report's git status of the changed files is the lines git prints
// for them (odd names quoted as git quotes them, a staged rename), whether
// the files are few (named to git one by one) or many (asked for by
// their directories, or the whole tree, and picked out), for a plan at the
// repository's top and in a subdirectory; files changed by no task are
// left out.
func TestGitStatusAsGitPrintsIt(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	git := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return string(out)
	}
	odd := []string{"a b.txt", "c\td.txt", "q\"q.txt", "back\\slash.txt", "é.txt", "plain.txt", "d/deep/x.txt", "new\nline.txt"}
	for _, sub := range []string{"", "plan"} {
		for _, many := range []int{0, maxPathspecs + 1} {
			top := t.TempDir()
			root := filepath.Join(top, sub)
			write := func(p, s string) {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			git(top, "init", "-q")
			write("renamed-from.txt", "r\n")
			write("tracked.txt", "t\n")
			write("other.txt", "o\n")
			git(top, "add", "-A")
			git(top, "commit", "-qm", "one")
			git(root, "mv", "renamed-from.txt", "renamed-to.txt")
			write("tracked.txt", "changed\n")
			write("other.txt", "changed, by no task\n")
			files := append([]string{"renamed-to.txt", "tracked.txt"}, odd...)
			for _, f := range odd {
				write(f, f)
			}
			for i := 0; i < many; i++ {
				f := fmt.Sprintf("out/%03d.txt", i)
				write(f, f)
				files = append(files, f)
			}
			write("unasked/u.txt", "u")
			args := append([]string{"status", "--porcelain=v1", "--untracked-files=all", "--"}, files...)
			want := strings.Split(strings.TrimRight(git(root, args...), "\n"), "\n")
			got, note := gitStatus(root, slices.Clone(files))
			slices.Sort(got)
			slices.Sort(want)
			if note != "" || !slices.Equal(got, want) {
				t.Errorf("plan in %q, %d files: got (%q)\n%s\nwant (git's own)\n%s", sub, len(files), note, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}
