package proc

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"
)

// sZomb is p_stat of a process that has exited and waits to be reaped
// (SZOMB, sys/proc.h).
const sZomb = 5

func info(k *unix.KinfoProc) Info {
	comm := k.Proc.P_comm[:]
	if i := bytes.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	t := k.Proc.P_starttime
	return Info{
		PID:    int(k.Proc.P_pid),
		PPID:   int(k.Eproc.Ppid),
		PGID:   int(k.Eproc.Pgid),
		Zombie: k.Proc.P_stat == sZomb,
		Start:  fmt.Sprintf("%d.%06d", t.Sec, t.Usec),
		Comm:   string(comm),
	}
}

// get asks sysctl kern.proc.pid.PID; a pid with no process gives an
// empty answer.
func get(pid int) (Info, error) {
	k, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil {
		return Info{}, err
	}
	if k.Proc.P_pid != int32(pid) {
		return Info{}, fmt.Errorf("process %d: %w", pid, unix.ESRCH)
	}
	return info(k), nil
}

func all() ([]Info, error) {
	ks, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(ks))
	for i := range ks {
		out = append(out, info(&ks[i]))
	}
	return out, nil
}

// args asks sysctl kern.procargs2.PID: argc (4 bytes), the executable's
// path, NULs, then argc arguments each ended by a NUL, then the
// environment.
func args(pid int) ([]string, error) {
	data, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return nil, err
	}
	_, out, err := parseProcargs(data)
	return out, err
}

// exeOf is the executable's path in kern.procargs2.PID.
func exeOf(pid int) (string, error) {
	data, err := unix.SysctlRaw("kern.procargs2", pid)
	if err != nil {
		return "", err
	}
	exe, _, err := parseProcargs(data)
	return exe, err
}

// cwd would need proc_pidinfo from libproc, which takes cgo.
func cwd(pid int) (string, error) { return "", ErrUnsupported }
