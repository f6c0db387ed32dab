//go:build linux

package runner

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestSuperviseWithoutGate: the supervisor run without its pipes (by
// hand, fd 4 an event fd another tool left open) says so and ends at once,
// rather than waiting for a job forever.
func TestSuperviseWithoutGate(t *testing.T) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Skip("no eventfd here")
	}
	ev := os.NewFile(uintptr(efd), "eventfd")
	defer ev.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], SuperviseArg)
	cmd.ExtraFiles = []*os.File{ev, ev}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("the supervisor waited for a job on an event fd")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "pipes on fds 3 and 4") {
		t.Fatalf("exit %v, output %q; want exit 2 and what it needs", err, out)
	}
}
