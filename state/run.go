package state

import (
	"fmt"
	"os"
	"strings"
)

// RunEnv names the variable through which `paraider run` tells the tasks
// and checks it starts (through Ninja) which run they belong to.
const RunEnv = "PARAIDER_RUN"

// A run is one invocation of ninja (or of `paraider run`): the tasks and
// checks it ran, its wall time, its cost. Its id is the invoking process's
// pid and start time, which no other process shares.

// RunID names the run of the process pid; "" when it cannot be told.
func RunID(pid int) string {
	_, _, start, ok := procStat(pid)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d.%s", pid, start)
}

// procStat reads a process's command name, parent and start time.
func procStat(pid int) (comm string, ppid int, start string, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0, "", false
	}
	s := string(data)
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return "", 0, "", false
	}
	// After the command: state, ppid, ..., start time (the 22nd field of
	// the line).
	f := strings.Fields(s[j+1:])
	if len(f) < 20 {
		return "", 0, "", false
	}
	fmt.Sscan(f[1], &ppid)
	return s[i+1 : j], ppid, f[19], true
}

// CurrentRun is the run a task or check belongs to: the one `paraider
// run` named, else the invocation of ninja that started it (Ninja runs
// each command through /bin/sh, which may or may not stay in between).
func CurrentRun() string {
	if id := os.Getenv(RunEnv); id != "" {
		return id
	}
	pid := os.Getppid()
	for i := 0; i < 4 && pid > 1; i++ {
		comm, ppid, _, ok := procStat(pid)
		if !ok {
			break
		}
		if strings.HasPrefix(comm, "ninja") {
			return RunID(pid)
		}
		pid = ppid
	}
	return RunID(os.Getppid())
}
