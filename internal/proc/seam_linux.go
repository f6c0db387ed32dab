//go:build linux && !paraider_portable

package proc

import (
	"errors"
	"os"
)

// children reads Linux's children files, or the whole table where the
// kernel keeps none.
func children(pid int) ([]int, error) {
	kids, err := childrenFiles(pid)
	if errors.Is(err, ErrUnsupported) {
		return childrenIn(pid)
	}
	return kids, err
}

// exe is this very binary, even when its file was replaced or removed
// since it started.
func exe() (string, error) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return os.Executable()
	}
	return "/proc/self/exe", nil
}
