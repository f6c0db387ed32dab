package runner

import (
	"os"
	"syscall"

	proctab "github.com/paraider/paraider/internal/proc"
)

// leftovers returns the live processes of the group and, when sweep is set,
// every live child of this process (orphans reparented to us as subreaper).
// It reaps this process's zombies on the way.
func leftovers(pgid int, sweep bool) []int {
	if nothingLeft(pgid, sweep) {
		return nil
	}
	procs, err := proctab.All()
	if err != nil {
		if syscall.Kill(-pgid, 0) == nil {
			return []int{-pgid}
		}
		return nil
	}
	self, own := os.Getpid(), syscall.Getpgrp()
	var live []int
	for _, p := range procs {
		mine := p.PPID == self
		if p.Zombie {
			// Not the leader, whose cmd.Wait reaps it (reaped here, that
			// Wait fails and the way it ended is lost), nor a child in
			// our own group (git, run by exec.Cmd and waited for there).
			if mine && p.PID != pgid && (p.PGID == pgid || (sweep && p.PGID != own)) {
				var ws syscall.WaitStatus
				syscall.Wait4(p.PID, &ws, syscall.WNOHANG, nil)
			}
			continue
		}
		if p.PGID == pgid || (sweep && mine) {
			live = append(live, p.PID)
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
// with this process as subreaper (Linux), a descendant whose parent died
// is its child; elsewhere such a one went to init, out of reach.
func nothingLeft(pgid int, sweep bool) bool {
	self := os.Getpid()
	if pgid != self && syscall.Kill(-pgid, 0) != syscall.ESRCH {
		return false
	}
	if !sweep && pgid != self {
		return true
	}
	kids, err := proctab.Children(self)
	return err == nil && len(kids) == 0
}
