package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A released place wakes a waiting task at once, not at its next poll.
func TestWakerWakes(t *testing.T) {
	dir := t.TempDir()
	w := newWaker(dir)
	defer w.close()
	go func() {
		time.Sleep(50 * time.Millisecond)
		os.WriteFile(filepath.Join(dir, "released"), nil, 0o644)
	}()
	start := time.Now()
	w.wait(10 * time.Second)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("woke after %s: the event did not wake it", took)
	}
	// Opening a place's lock read-only and closing it wakes no one.
	os.WriteFile(filepath.Join(dir, "slot-0.lock"), nil, 0o644)
	w.wait(time.Millisecond) // drain
	f, _ := os.OpenFile(filepath.Join(dir, "slot-0.lock"), os.O_RDONLY, 0)
	f.Close()
	start = time.Now()
	w.wait(200 * time.Millisecond)
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("a read-only close woke it after %s", took)
	}
}

// TestChildren: the children files and the scan of every stat agree on
// this process's children.
func TestChildren(t *testing.T) {
	var cmds []*exec.Cmd
	for i := 0; i < 3; i++ {
		c := exec.Command("sleep", "30")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	want := map[int]bool{}
	for _, c := range cmds {
		want[c.Process.Pid] = true
	}
	byStat := childrenByStat(os.Getpid())
	got, ok := children(os.Getpid())
	if !ok {
		t.Skip("no /proc/PID/task/TID/children here")
	}
	for _, list := range [][]int{got, byStat} {
		seen := 0
		for _, pid := range list {
			if want[pid] {
				seen++
			}
		}
		if seen != len(want) {
			t.Errorf("children %v; want all of %v", list, want)
		}
	}
}
