package gen

import (
	"runtime"

	"github.com/paraider/paraider/plan"
)

// NinjaJobs is the -j that lets a plan's agents run as its jobs says:
// Ninja's own default (ncpu+2, 3 on two cores) may be below it. Above
// jobs, so that the ready tasks wait in paraider's queue, where the
// critical path goes first, and not in Ninja's: every task of a plan of
// up to waitAhead tasks, else twice jobs (a waiting paraider exec is a
// sleeping process of a few megabytes). When Ninja's slots are all taken
// by waiting tasks, Ninja, not paraider, picks the next ready task to
// start, and the chain's next link may wait behind it.
func NinjaJobs(p *plan.Plan) int {
	return max(min(max(2*p.Jobs, waitAhead), len(p.Tasks))+len(p.Checks), defaultJobs())
}

// waitAhead is how many tasks NinjaJobs lets wait in paraider's queue at
// least.
const waitAhead = 32

// defaultJobs is Ninja's own -j here; tests pin it.
var defaultJobs = DefaultNinjaJobs

// DefaultNinjaJobs is the -j Ninja takes when given none on this machine
// (its GuessParallelism: ncpu+2, but 3 on two cores and 2 on one).
func DefaultNinjaJobs() int {
	switch n := runtime.NumCPU(); n {
	case 0, 1:
		return 2
	case 2:
		return 3
	default:
		return n + 2
	}
}

// driveJobs is the -j of the inner Ninja that a plain `ninja` runs
// (internal/drive), or 0 when Ninja's own -j is enough for the plan.
func driveJobs(p *plan.Plan) int {
	if j := NinjaJobs(p); j > defaultJobs() {
		return j
	}
	return 0
}
