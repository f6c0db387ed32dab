package runner

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// TestNothingLeft: the quick look before a scan of the process table says "nothing
// left" only when no process of the group is left, not even a zombie, and
// (with sweep) this process has no child.
func TestNothingLeft(t *testing.T) {
	// A group of its own whose leader runs: something is left.
	c := exec.Command("sleep", "30")
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := c.Process.Pid
	if nothingLeft(pgid, false) || nothingLeft(pgid, true) {
		t.Fatal("a running leader: nothing left, says the quick look")
	}
	c.Process.Kill()
	// Killed but not reaped: a zombie child is still something.
	waitPidGone(t, pgid)
	if nothingLeft(pgid, true) {
		t.Fatal("a zombie child: nothing left, says the quick look")
	}
	if got := leftovers(pgid, false); len(got) != 0 {
		t.Fatalf("leftovers of a group with only a zombie: %v", got)
	}
	c.Wait()
	if !nothingLeft(pgid, false) || !nothingLeft(pgid, true) {
		t.Fatal("the group is gone and no child is left, yet the quick look sees something")
	}
	// This process's own group always holds this process: with sweep,
	// only its children count.
	if !nothingLeft(os.Getpid(), true) {
		t.Fatal("no child of ours, yet something left in our own group")
	}
	d := exec.Command("sleep", "30")
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { d.Process.Kill(); d.Wait() }()
	if nothingLeft(os.Getpid(), true) {
		t.Fatal("a child of ours runs: nothing left, says the quick look")
	}
}
