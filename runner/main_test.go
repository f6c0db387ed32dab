package runner

import (
	"os"
	"testing"
)

// The test binary is its own supervisor, as the paraider binary is.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SuperviseArg {
		Supervise(os.Args[2:])
	}
	if os.Getenv("PARAIDER_TEST_NO_SUPERVISOR") == "" {
		Supervisor = []string{"/proc/self/exe", SuperviseArg}
	}
	os.Exit(m.Run())
}
