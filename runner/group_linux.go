//go:build linux && !paraider_portable

package runner

import (
	"os"
	"strconv"
	"strings"
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

// procInfo is what /proc says of one process.
type procInfo struct {
	pid, ppid, pgrp int
	zombie          bool
}

// processes lists every process visible in /proc.
func processes() ([]procInfo, bool) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parens.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 3 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		pgrp, _ := strconv.Atoi(f[2])
		out = append(out, procInfo{pid: pid, ppid: ppid, pgrp: pgrp, zombie: f[0] == "Z" || f[0] == "X"})
	}
	return out, true
}

// leftovers returns the live processes of the group and, when sweep is set,
// every live child of this process (orphans reparented to us as subreaper).
// It reaps this process's zombies on the way.
func leftovers(pgid int, sweep bool) []int {
	if nothingLeft(pgid, sweep) {
		return nil
	}
	procs, ok := processes()
	if !ok {
		if syscall.Kill(-pgid, 0) == nil {
			return []int{-pgid}
		}
		return nil
	}
	self, own := os.Getpid(), syscall.Getpgrp()
	var live []int
	for _, p := range procs {
		mine := p.ppid == self
		if p.zombie {
			// Not the leader, whose cmd.Wait reaps it (reaped here, that
			// Wait fails and the way it ended is lost), nor a child in
			// our own group (git, run by exec.Cmd and waited for there).
			if mine && p.pid != pgid && (p.pgrp == pgid || (sweep && p.pgrp != own)) {
				var ws syscall.WaitStatus
				syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
			}
			continue
		}
		if p.pgrp == pgid || (sweep && mine) {
			live = append(live, p.pid)
		}
	}
	return live
}

// nothingLeft is the quick look for the usual end of a run, before
// reading every process's stat (thousands on a busy machine): the group
// has no process left, not even a zombie, and this process no child (with
// sweep), or, for this process's own group (the supervisor's), no child
// at all. Processes join a group only by inheriting it (paraider's groups
// are new; setpgid into a group takes the same session and is done by
// no agent), so the group's other processes descend from its leader; and
// with this process as subreaper, a descendant whose parent died is its
// child.
func nothingLeft(pgid int, sweep bool) bool {
	self := os.Getpid()
	if pgid != self && syscall.Kill(-pgid, 0) != syscall.ESRCH {
		return false
	}
	if !sweep && pgid != self {
		return true
	}
	kids, ok := children(self)
	return ok && len(kids) == 0
}

// agentProcAttr is the agent's process attributes under the supervisor:
// should the supervisor be killed, the agent is too.
func agentProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
