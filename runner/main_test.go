package runner

import (
	"os"
	"testing"

	proctab "github.com/paraider/paraider/internal/proc"
)

// The test binary is its own supervisor, as the paraider binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SuperviseArg {
		Supervise(os.Args[2:])
	}
	if exe, err := proctab.Exe(); err == nil && os.Getenv("PARAIDER_TEST_NO_SUPERVISOR") == "" {
		Supervisor = []string{exe, SuperviseArg}
	}
	os.Exit(m.Run())
}
