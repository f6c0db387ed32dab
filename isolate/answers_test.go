package isolate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paraider/paraider/state"
)

// Open asks git about the repository once, and again whenever what git
// read to answer moved: a configuration file written or made (a filter
// git-lfs sets up), an include it cannot follow, a kept answer naming
// another place. Counted by the git processes started, through a git on
// PATH that logs each start.
func TestOpenKeepsGitsAnswers(t *testing.T) {
	real, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git not installed")
	}
	bin, home := t.TempDir(), t.TempDir()
	logf := filepath.Join(t.TempDir(), "starts")
	write(t, filepath.Join(bin, "git"), "#!/bin/sh\necho \"$*\" >> "+logf+"\nexec "+real+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(bin, "git"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := committedRepo(t, "a.txt")
	if err := os.Mkdir(filepath.Join(root, state.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	old := settleFor
	settleFor = 0 // the files here were written a moment ago
	t.Cleanup(func() { settleFor = old })

	starts := func() int {
		b, _ := os.ReadFile(logf)
		return strings.Count(string(b), "\n")
	}
	open := func(what string, asked bool) *Repo {
		t.Helper()
		before := starts()
		r, err := Open(root)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := starts() > before; got != asked {
			t.Fatalf("%s: git asked = %v, want %v", what, got, asked)
		}
		if r.Top != root && r.Top != evalSymlinks(t, root) {
			t.Fatalf("%s: top %q, want %q", what, r.Top, root)
		}
		return r
	}
	open("first open", true)
	open("again", false)
	open("and again", false)

	write(t, filepath.Join(home, ".gitconfig"), "[filter \"lfs\"]\n\tclean = git-lfs clean -- %f\n")
	r := open("a filter in a new ~/.gitconfig", true)
	if !slices.Contains(r.exact, "filter.lfs.clean=") {
		t.Fatalf("the new filter is not turned off: %q", r.exact)
	}
	if r = open("after the filter", false); !slices.Contains(r.exact, "filter.lfs.clean=") {
		t.Fatalf("the kept answers lost the filter: %q", r.exact)
	}

	run(t, root, real, "config", "include.path", filepath.Join(home, "more"))
	open("an include", true)
	open("an include, again", true)
	run(t, root, real, "config", "--unset", "include.path")
	open("the include gone", true)
	open("the include gone, again", false)

	p := filepath.Join(root, state.Dir, answersPath)
	var a answers
	if b, err := os.ReadFile(p); err != nil || json.Unmarshal(b, &a) != nil {
		t.Fatalf("no kept answers: %v", err)
	}
	a.Lines[0] = home
	b, _ := json.Marshal(a)
	write(t, p, string(b))
	open("answers naming another top", true)
}

func evalSymlinks(t *testing.T, p string) string {
	t.Helper()
	q, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// Reached through a link (macOS's /tmp and /var are links), the plan's
// directory keeps git's answers too: git names it with the link resolved.
func TestOpenKeepsAnswersThroughALink(t *testing.T) {
	real := committedRepo(t, "a.txt")
	if err := os.Mkdir(filepath.Join(real, state.Dir), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	old := settleFor
	settleFor = 0
	t.Cleanup(func() { settleFor = old })
	if _, err := Open(link); err != nil {
		t.Fatal(err)
	}
	if _, kept := openKept(link); !kept {
		t.Fatal("the answers kept for a directory reached through a link are not used")
	}
}
