package ci

import (
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
