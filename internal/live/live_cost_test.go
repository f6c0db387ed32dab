package live

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/state"
)

// The cost so far counts an attempt once: from the ledger once its agent
// has ended (while its check runs, its running mark still stands and its
// log still shows the same figure), else from what it has reported.
func TestCostSoFarCountsOnce(t *testing.T) {
	lay := state.Layout{Root: t.TempDir()}
	os.MkdirAll(filepath.Join(lay.Root, state.Dir), 0o755)
	ledger := `{"run":"r1","task":"a","attempt":1,"cost":0.0258}
{"run":"r0","task":"a","attempt":1,"cost":1}
`
	if err := os.WriteFile(lay.Path(state.LedgerPath), []byte(ledger), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &report.Status{Run: "r1", Rows: []report.StatusRow{
		{ID: "a", State: report.Running, Attempt: 1, SoFar: agent.Usage{Cost: 0.0258}}, // being judged
		{ID: "b", State: report.Running, Attempt: 1, SoFar: agent.Usage{Cost: 0.01}},   // its agent at work
	}}
	if got := costSoFar(lay, st); got < 0.03579 || got > 0.03581 {
		t.Errorf("cost so far $%.4f; want $0.0358 (a's 0.0258 once, b's 0.0100)", got)
	}
}
