package runner

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/paraider/paraider/state"
)

// # Judging again after a kill
//
// Once an attempt's agent has ended it is paid for (its cost is in the
// ledger at once). With isolation none its files are in the tree, so
// should paraider be killed while it judges them (a kill -9 during the
// task's check), nothing is lost but the verdict. The attempt is kept
// aside (pending) from the moment its files passed every stage before
// the check; the next exec of the task, finding it with the same spec,
// the same inputs and the files as the agent left them, runs the check
// on them instead of the agent. A worktree attempt's files are in its
// worktree, which a killed run cannot hand on: that agent is paid again
// (README: what paraider guarantees).

// pending is an attempt kept for judging again.
type pending struct {
	Run        string        `json:"run"`
	SpecHash   string        `json:"spec_hash"`
	InputHash  string        `json:"input_hash"`
	OutputHash string        `json:"output_hash"` // the task's files as the agent left them
	Attempt    state.Attempt `json:"attempt"`
}

func pendingPath(id string) string { return state.Dir + "/pending/" + id + ".json" }

// keepPending keeps attempt a aside until its verdict is in (dropPending).
// Atomic against a kill, not synced: a power cut costs the agent paid
// again, not a wrong verdict, and every attempt in place writes it.
func (r *runner) keepPending(a state.Attempt) {
	a.End = time.Now().UTC()
	state.WriteJSONUnsynced(r.lay.Path(pendingPath(r.spec.ID)), pending{Run: state.CurrentRun(), SpecHash: r.spec.Hash(),
		InputHash: r.input, OutputHash: r.outputHash(), Attempt: a})
}

func (r *runner) dropPending() { os.Remove(r.lay.Path(pendingPath(r.spec.ID))) }

// judgeAgain judges an attempt a killed paraider left pending, if there
// is one that still holds: its files are checked as they are. It returns
// done when that settled the task (a success, recorded); else the
// attempt is on res as failed, and feedback says why, for the next.
func (r *runner) judgeAgain(ctx context.Context, res *state.Result) (done bool, feedback string, err error) {
	var p pending
	if state.ReadJSON(r.lay.Path(pendingPath(r.spec.ID)), &p) != nil {
		return false, "", nil
	}
	if p.SpecHash != r.spec.Hash() || p.InputHash != res.InputHash || p.OutputHash != r.outputHash() || r.spec.Isolation == state.IsolationWorktree {
		r.dropPending() // its files or its task changed since: it says nothing now
		return false, "", nil
	}
	v, err := r.checkOnly(ctx)
	if err != nil {
		return false, "", err
	}
	a := p.Attempt
	res.Attempts = append(res.Attempts, a)
	res.TokensSent, res.TokensRecv, res.Cost = a.TokensSent, a.TokensRecv, a.Cost
	res.CostUnknown, res.Undeclared = a.CostUnknown, a.Undeclared
	if v != nil {
		r.dropPending()
		res.Attempts[0].Failure, res.Attempts[0].Reason = v.kind, v.reason
		fmt.Fprintf(r.opts.Out, "judged %s's attempt %d again (paraider was stopped while judging it): its files fail the check\n", r.spec.ID, a.N)
		return false, v.reason, nil
	}
	fmt.Fprintf(r.opts.Out, "judged %s's attempt %d again (paraider was stopped while judging it): its files pass; the agent is not paid again\n", r.spec.ID, a.N)
	res.FilesChanged = a.FilesChanged
	res.NotRecorded = "paraider was stopped before this change was recorded"
	err = r.finish(ctx, res, nil)
	r.dropPending()
	return true, "", err
}
