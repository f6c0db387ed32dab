package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// get reads /proc/PID/stat: "pid (comm) state ppid pgrp ...", where comm
// may hold spaces and parentheses, and the start time is the line's
// 22nd field.
func get(pid int) (Info, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Info{}, err
	}
	return parseStat(pid, string(data))
}

func parseStat(pid int, s string) (Info, error) {
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return Info{}, fmt.Errorf("/proc/%d/stat: no command in %q", pid, s)
	}
	f := strings.Fields(s[j+1:])
	if len(f) < 20 {
		return Info{}, fmt.Errorf("/proc/%d/stat: %d fields after the command, want 20 or more", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return Info{}, fmt.Errorf("/proc/%d/stat: parent %q or group %q is not a number", pid, f[1], f[2])
	}
	return Info{PID: pid, PPID: ppid, PGID: pgrp, Zombie: f[0] == "Z" || f[0] == "X", Start: f[19], Comm: s[i+1 : j]}, nil
}

// all reads every process's stat; those that end meanwhile are left out.
func all() ([]Info, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := get(pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// args reads /proc/PID/cmdline: the arguments, each ended by a NUL.
func args(pid int) ([]string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, nil // a zombie, or a kernel thread
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

func exeOf(pid int) (string, error) { return os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe") }

func cwd(pid int) (string, error) { return os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd") }

// childrenFiles lists pid's children from its threads' children files, a
// few small files rather than every process's stat (thousands on a busy
// machine); ErrUnsupported where the kernel has none
// (CONFIG_PROC_CHILDREN).
func childrenFiles(pid int) ([]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	threads, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, t := range threads {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if os.IsNotExist(err) {
			if _, gone := os.Stat(dir + "/" + t.Name()); gone != nil {
				continue // the thread ended meanwhile
			}
			return nil, ErrUnsupported
		}
		if err != nil {
			return nil, err
		}
		for _, f := range strings.Fields(string(data)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
