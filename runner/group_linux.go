//go:build linux && !paraider_portable

package runner

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in a process group of its own, and has the
// kernel kill it should paraider die without a chance to clean up (kill -9).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// becomeSubreaper makes this process the reaper of its orphaned
// descendants, so that a grandchild whose parent died is reparented here
// rather than to PID 1. That lets paraider find and stop processes that left
// the agent's process group, and reap zombies that an init which never
// reaps (common in containers) would leave behind. On a kernel without it
// (before 3.4) orphans go to init, and the group kill still reaches every
// process that stayed in the agent's group: nothing to report.
func becomeSubreaper() {
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

// agentProcAttr is the agent's process attributes under the supervisor:
// should the supervisor be killed, the agent is too.
func agentProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
