//go:build !linux || paraider_portable

package runner

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// becomeSubreaper is Linux's alone; elsewhere orphans go to init.
func becomeSubreaper() {}

// agentProcAttr is the agent's process attributes under the supervisor:
// no parent-death signal here.
func agentProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }
