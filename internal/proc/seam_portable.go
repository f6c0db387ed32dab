//go:build unix && (!linux || paraider_portable)

package proc

import "os"

// children picks pid's children from the whole table, as macOS must.
func children(pid int) ([]int, error) { return childrenIn(pid) }

// exe is this binary's path as the system gives it: a binary replaced
// since it started is the new one.
func exe() (string, error) { return os.Executable() }
