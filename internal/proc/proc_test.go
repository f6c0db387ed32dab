package proc

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestGetSelf(t *testing.T) {
	p, err := Get(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.PID != os.Getpid() || p.PPID != os.Getppid() || p.PGID != syscall.Getpgrp() || p.Zombie || p.Start == "" || p.Comm == "" {
		t.Fatalf("Get(self) = %+v; want pid %d, parent %d, group %d, alive, a start and a name", p, os.Getpid(), os.Getppid(), syscall.Getpgrp())
	}
	again, _ := Get(os.Getpid())
	if again.Start != p.Start {
		t.Errorf("start time changed between two looks: %q, then %q", p.Start, again.Start)
	}
}

func TestGetGone(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if p, err := Get(cmd.Process.Pid); err == nil && p.PID == cmd.Process.Pid && !p.Zombie {
		t.Fatalf("Get of a reaped process = %+v, no error", p)
	}
}

// TestChild starts a child in its own group and a directory of its own and
// finds it every way the package offers: among this process's children,
// in the whole table, with its group, arguments and directory; then, once
// it has exited and before it is reaped, as a zombie.
func TestChild(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sleep", "30")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer cmd.Process.Kill()

	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, pid) {
		t.Fatalf("Children(self) = %v, %v; want %d among them", kids, err, pid)
	}
	table, err := childrenIn(os.Getpid())
	if err != nil || !slices.Contains(table, pid) {
		t.Fatalf("children from the whole table = %v, %v; want %d among them", table, err, pid)
	}
	p, err := Get(pid)
	if err != nil || p.PPID != os.Getpid() || p.PGID != pid || p.Zombie {
		t.Fatalf("Get(child) = %+v, %v; want parent %d, group %d, alive", p, err, os.Getpid(), pid)
	}
	procs, err := All()
	if err != nil || !slices.ContainsFunc(procs, func(q Info) bool { return q.PID == pid && q.PGID == pid }) {
		t.Fatalf("All() (%d processes, %v) misses the child %d", len(procs), err, pid)
	}
	if a, err := Args(pid); err != nil || !slices.Equal(a, []string{"sleep", "30"}) {
		t.Errorf("Args(child) = %q, %v; want [sleep 30]", a, err)
	}
	if got, err := Cwd(pid); err != ErrUnsupported {
		want, _ := filepath.EvalSymlinks(dir)
		if err != nil || got != want {
			t.Errorf("Cwd(child) = %q, %v; want %q", got, err, want)
		}
	}

	syscall.Kill(pid, syscall.SIGKILL)
	// Not reaped: a zombie until Wait. Wait for the kernel to say so.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if p, err := Get(pid); err == nil && p.Zombie {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed child %d never shows as a zombie", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Wait()
	if kids, _ := Children(os.Getpid()); slices.Contains(kids, pid) {
		t.Errorf("reaped child %d is still among the children %v", pid, kids)
	}
}

func TestParseProcargs(t *testing.T) {
	blob := binary.LittleEndian.AppendUint32(nil, 3)
	blob = append(blob, "/bin/paraider\x00\x00\x00\x00paraider\x00exec\x00a b\x00HOME=/x\x00"...)
	exe, got, err := parseProcargs(blob)
	if err != nil || exe != "/bin/paraider" || !slices.Equal(got, []string{"paraider", "exec", "a b"}) {
		t.Fatalf("parseProcargs = %q, %q, %v; want /bin/paraider [paraider exec a b]", exe, got, err)
	}
	for _, bad := range [][]byte{nil, {1, 0}, binary.LittleEndian.AppendUint32(nil, 1)} {
		if _, got, err := parseProcargs(bad); err == nil {
			t.Errorf("parseProcargs(%q) = %q, no error", bad, got)
		}
	}
}

func TestExeOf(t *testing.T) {
	got, err := ExeOf(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a, errA := os.Stat(got)
	b, errB := os.Stat(want)
	if errA != nil || errB != nil || !os.SameFile(a, b) {
		t.Errorf("ExeOf(self) = %q; want the test binary %q", got, want)
	}
}
