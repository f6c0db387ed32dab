//go:build !linux || paraider_portable

package runner

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// becomeSubreaper is Linux's alone; elsewhere orphans go to init.
func becomeSubreaper() {}

// leftovers says whether any process of the group is left. Without /proc,
// zombies count as alive, so stopping may wait out its bound.
func leftovers(pgid int, sweep bool) []int {
	if syscall.Kill(-pgid, 0) == nil {
		return []int{-pgid}
	}
	return nil
}

// agentProcAttr is the agent's process attributes under the supervisor:
// no parent-death signal here.
func agentProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
