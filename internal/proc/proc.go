//go:build unix

// Package proc reads the process table: one process's parent, group,
// state and start time, the children of a process, its arguments and its
// working directory. It owns every look at /proc (Linux) and at sysctl
// kern.proc (macOS); nothing else in paraider reads them. It only reads:
// signalling a process or a group stays with the caller, who owns it.
//
// Linux reads /proc; macOS asks the kernel through sysctl. The build tag
// paraider_portable makes a Linux build find children the way macOS does
// (from the whole table rather than Linux's children files), so that the
// code macOS runs is the code the tests run here.
package proc

import (
	"errors"
	"slices"
	"syscall"
)

// Info is what the kernel says of one process.
type Info struct {
	PID, PPID, PGID int
	// Zombie: it has exited and waits for its parent to reap it.
	Zombie bool
	// Start is when it started, in the kernel's own units: with the pid
	// it names the process, which no later one with the same pid shares.
	Start string
	// Comm is the command name the kernel keeps (cut to 15 or 16 bytes).
	Comm string
}

// ErrUnsupported is returned where this system cannot tell.
var ErrUnsupported = errors.ErrUnsupported

// Get returns what the kernel says of process pid; an error when it has
// gone or cannot be read.
func Get(pid int) (Info, error) { return get(pid) }

// All lists every process this one can see.
func All() ([]Info, error) { return all() }

// Children lists the pids of pid's children.
func Children(pid int) ([]int, error) { return children(pid) }

// Args returns process pid's arguments, as it was started.
func Args(pid int) ([]string, error) { return args(pid) }

// ExeOf returns the path of the executable process pid runs: Linux's
// /proc/PID/exe, macOS's path as the process was started with (which may
// be relative to where it started).
func ExeOf(pid int) (string, error) { return exeOf(pid) }

// Cwd returns process pid's working directory; ErrUnsupported where the
// system does not tell (macOS, without cgo).
func Cwd(pid int) (string, error) { return cwd(pid) }

// childrenIn picks pid's children from the whole table: how every system
// can tell.
func childrenIn(pid int) ([]int, error) {
	procs, err := all()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, p := range procs {
		if p.PPID == pid && p.PID != pid {
			out = append(out, p.PID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Running reports whether process pid runs: it exists and is not a
// zombie. Where the table cannot be read, whether it exists.
func Running(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	p, err := get(pid)
	return err != nil || !p.Zombie
}

// Exe is a path that starts this very binary again (Linux: even when its
// file was replaced since it started).
func Exe() (string, error) { return exe() }
