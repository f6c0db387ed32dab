package runner

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/state"
)

// ledgerEntry is one attempt's cost, appended to .paraider/ledger.jsonl as
// soon as the attempt ends, so that tasks running side by side see each
// other's spending before their results are written.
type ledgerEntry struct {
	Run     string  `json:"run"`
	Task    string  `json:"task"`
	Attempt int     `json:"attempt"`
	Cost    float64 `json:"cost"`
	// Unknown says the attempt's cost is not known: its agent printed
	// one that cannot be.
	Unknown bool      `json:"unknown,omitempty"`
	End     time.Time `json:"end"`
}

func (r *runner) record(a state.Attempt) {
	lock, err := r.lay.LockWait(state.LedgerLock)
	if err != nil {
		return
	}
	defer lock.Close()
	path := r.lay.Path(state.LedgerPath)
	f, err := state.OpenOwn(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	if state.NotOwn(err) {
		// Junk where the ledger goes (a FIFO, a link): it holds no
		// record of paraider's; a ledger is begun anew.
		os.Remove(path)
		f, err = state.OpenOwn(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY)
	}
	if err != nil {
		return
	}
	defer f.Close()
	b, _ := json.Marshal(ledgerEntry{Run: state.CurrentRun(), Task: r.spec.ID, Attempt: a.N, Cost: a.Cost, Unknown: a.CostUnknown, End: a.End})
	f.Write(append(b, '\n'))
}

// Spent sums the cost of the attempts of the run this process belongs
// to (state.CurrentRun).
func Spent(lay state.Layout) float64 { return SpentBy(lay, state.CurrentRun()) }

// SpentBy sums the cost of the attempts of a run.
func SpentBy(lay state.Layout, run string) float64 {
	total, _ := spending(lay, run)
	return total
}

// Paid is what the ledger holds of a run: its attempts' cost so far, and
// which attempts it has ("task.N"): an attempt is in the ledger from the
// moment its agent ends, before it is judged.
func Paid(lay state.Layout, run string) (total float64, paid map[string]bool) {
	paid = map[string]bool{}
	total, _ = readLedger(lay, run, func(e ledgerEntry) { paid[fmt.Sprintf("%s.%d", e.Task, e.Attempt)] = true })
	return total, paid
}

// spending sums the cost of the attempts of a run, and names the
// attempts whose cost is unknown ("task attempt N").
func spending(lay state.Layout, run string) (total float64, unknown []string) {
	return readLedger(lay, run, nil)
}

// readLedger sums the cost of the attempts of a run, names those whose
// cost is unknown, and gives each entry to each when not nil.
func readLedger(lay state.Layout, run string, each func(ledgerEntry)) (total float64, unknown []string) {
	f, err := state.OpenOwn(lay.Path(state.LedgerPath), os.O_RDONLY)
	if err != nil || run == "" {
		return 0, nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e ledgerEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Run != run {
			continue
		}
		if each != nil {
			each(e)
		}
		total += e.Cost
		if e.Unknown || math.IsNaN(e.Cost) || e.Cost < 0 {
			unknown = append(unknown, fmt.Sprintf("%s attempt %d", e.Task, e.Attempt))
		}
	}
	return total, unknown
}

// overBudget says whether the run's budget is spent, and why, before an
// attempt starts. Attempts already running may still add to it.
func (r *runner) overBudget() (bool, string) {
	if r.spec.Budget <= 0 {
		return false, ""
	}
	spent, unknown := spending(r.lay, state.CurrentRun())
	if len(unknown) > 0 {
		return true, fmt.Sprintf("the cost of %s is unknown (its agent printed one that cannot be), so the run's budget of %s cannot be kept; no new attempt was started",
			strings.Join(unknown, ", "), human.Money(r.spec.Budget))
	}
	if spent < r.spec.Budget {
		return false, ""
	}
	return true, fmt.Sprintf("the run's budget of %s is spent (%s recorded); no new attempt was started",
		human.Money(r.spec.Budget), human.Money(spent))
}

// markRunning says which attempt runs now, for paraider status. Not
// synced: after a crash the mark names a process that is gone, which
// status tells (alive), and the next attempt writes it anew.
func (r *runner) markRunning(n int) {
	state.WriteJSONUnsynced(r.lay.Path(state.RunningPath(r.spec.ID)), state.Running{
		Run: state.CurrentRun(), Task: r.spec.ID, Attempt: n, Of: r.spec.Retries + 1, Started: time.Now().UTC(),
		PID: os.Getpid(), Log: state.LogPath(r.spec.ID, n)})
}
