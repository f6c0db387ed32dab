package ci

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraider/paraider/state"
)

// A CI artifact is input: a result whose logs lead elsewhere (.git/config,
// where actions/checkout keeps the token; a path out of the checkout) is
// refused, named.
func TestCheckArtifact(t *testing.T) {
	ok := &state.Result{Task: "a", Attempts: []state.Attempt{{N: 1, Log: state.LogPath("a", 1)}, {N: 2}}}
	if err := checkArtifact("a", ok); err != nil {
		t.Errorf("a job's own result refused: %v", err)
	}
	for _, bad := range []*state.Result{
		{Task: "a", Attempts: []state.Attempt{{N: 1, Log: ".git/config"}}},
		{Task: "a", Attempts: []state.Attempt{{N: 1, Log: "../../../../etc/hostname"}}},
		{Task: "a", Attempts: []state.Attempt{{N: 1, Log: state.LogPath("b", 1)}}},
		{Task: "b", Attempts: []state.Attempt{{N: 1, Log: state.LogPath("b", 1)}}},
		{Task: "a", Attempts: []state.Attempt{{N: 1, Worktree: "../.."}}},
	} {
		if err := checkArtifact("a", bad); err == nil || !strings.Contains(err.Error(), "not") && !strings.Contains(err.Error(), "worktree") {
			t.Errorf("%+v accepted (%v)", bad, err)
		}
	}
}

// An artifact's patch may touch only its task's own files (with the
// plan's prefix from the repository's top), none through a symlink.
func TestCheckPatch(t *testing.T) {
	top := t.TempDir()
	os.MkdirAll(filepath.Join(top, "app", "real"), 0o755)
	os.Symlink(t.TempDir(), filepath.Join(top, "app", "link"))
	files := []string{"a.txt", "real/b.txt", "link/c.txt"}
	for numstat, want := range map[string]string{
		"1\t0\tapp/a.txt\x001\t1\tapp/real/b.txt\x00":          "",
		"1\t0\tapp/a.txt\x001\t0\t.github/workflows/x.yml\x00": "touches .github/workflows/x.yml, which is not one of its task's files",
		"1\t0\ta.txt\x00":                         "touches a.txt, which is not one",
		"0\t0\t\x00app/a.txt\x00app/evil.txt\x00": "touches app/evil.txt",
		"1\t0\tapp/link/c.txt\x00":                "under app/link, a symlink",
	} {
		err := checkPatch(top, "app/", files, numstat)
		switch {
		case want == "" && err != nil:
			t.Errorf("%q refused: %v", numstat, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v; want %q", numstat, err, want)
		}
	}
}
