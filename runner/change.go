package runner

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// CommitEnv set to 1 commits each task that succeeds (`paraider run
// --commit`), as the plan's `commit: true` does.
const CommitEnv = "PARAIDER_COMMIT"

// image is a declared file before the task ran, and its content, stored
// only if the task succeeds and changes it.
type image struct {
	img  *state.Image
	data []byte
}

// snapshotImages is the snapshot of the task's declared files in the main
// tree before it runs, and their images from the same reading: what
// `paraider diff` shows a change from, and what `paraider revert` puts
// back (nil when one is no file: a directory where one is declared).
func (r *runner) snapshotImages() (map[string]fileState, map[string]image) {
	snap, imgs := map[string]fileState{}, map[string]image{}
	for _, f := range r.spec.Files {
		st, data, ok := statData(r.lay.Path(f))
		snap[f] = st
		switch {
		case imgs == nil:
		case !ok:
			imgs = nil
		case !st.exists:
			imgs[f] = image{}
		default:
			imgs[f] = image{&state.Image{Blob: hex.EncodeToString(st.sum[:]), Mode: st.mode & (os.ModeSymlink | os.ModePerm)}, data}
		}
	}
	return snap, imgs
}

// recordChange writes what the task's success did to its files, and in
// commit mode makes it a commit of its own. A success that changed
// nothing leaves the last record alone: the files still hold what it says.
func (r *runner) recordChange(ctx context.Context, res *state.Result, before map[string]image) {
	if before == nil {
		return
	}
	ch := state.Change{Task: r.spec.ID, Run: res.Run, At: res.Finished}
	notRecorded := func(err error) {
		res.NotRecorded = Redact(err.Error(), r.secrets)
	}
	for _, f := range r.spec.Files {
		after, data, err := state.ReadImage(r.lay.Path(f))
		if err != nil {
			notRecorded(err)
			return
		}
		b := before[f]
		if sameImage(b.img, after) {
			continue
		}
		for _, side := range []image{b, {after, data}} {
			if side.img == nil {
				continue
			}
			if _, err := r.lay.PutBlob(side.data); err != nil {
				notRecorded(err)
				return
			}
		}
		ch.Files = append(ch.Files, state.FileChange{Path: f, Before: b.img, After: after})
	}
	if len(ch.Files) == 0 {
		return
	}
	if r.commitMode() {
		ch.Commit, ch.NotCommitted = r.commit(ctx, res, &ch)
		res.Commit, res.NotCommitted = ch.Commit, ch.NotCommitted
	}
	if err := state.WriteJSONUnsynced(r.lay.Path(state.ChangePath(r.spec.ID)), ch); err != nil {
		notRecorded(err)
	}
}

func sameImage(a, b *state.Image) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// commitMode says whether each task that succeeds becomes a commit.
func (r *runner) commitMode() bool {
	return r.schedule().Commit || os.Getenv(CommitEnv) == "1"
}

// commit makes the task's change one commit on the current branch; it
// returns the commit, or why there is none.
func (r *runner) commit(ctx context.Context, res *state.Result, ch *state.Change) (commit, why string) {
	repo := r.openMain()
	if repo == nil {
		var err error
		if repo, err = isolate.Open(r.root); err != nil {
			return "", "not in a git repository"
		}
	}
	var files []string
	for _, f := range ch.Files {
		files = append(files, f.Path)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	commit, err := repo.Commit(cctx, files, CommitMessage(r.spec, res))
	var refusal *isolate.Refusal
	switch {
	case errors.As(err, &refusal):
		return "", refusal.Msg
	case err != nil && commit != "":
		return commit, err.Error()
	case err != nil:
		return "", Redact(err.Error(), r.secrets)
	case commit == "":
		return "", "its files are as HEAD has them"
	}
	return commit, ""
}

// CommitMessage is a task's commit message: "<task>: <the first line of
// its message>", then trailers saying who did it and what it cost.
func CommitMessage(s *state.Spec, res *state.Result) string {
	subject := strings.TrimSpace(human.FirstLine(strings.TrimSpace(s.Message)))
	if len([]rune(subject)) > 72 {
		subject = string([]rune(subject)[:71]) + "…"
	}
	model := s.Model
	if model == "" {
		model = "(the agent's default)"
	}
	return fmt.Sprintf("%s: %s\n\nParaider-Task: %s\nParaider-Agent: %s\nParaider-Model: %s\nParaider-Attempts: %d\nParaider-Cost: %s\nParaider-Tokens: %d sent, %d received\n",
		s.ID, subject, s.ID, s.Agent.Name, model, len(res.Attempts), human.Money(res.Cost), res.TokensSent, res.TokensRecv)
}
