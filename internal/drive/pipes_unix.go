//go:build unix

package drive

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// watchedPipes lists this process's inherited pipes it may only write to
// whose reader is still there: among them the one the outer Ninja watches
// its console job by. Another's pipe whose reader goes away is a reader
// of this run's output gone too.
func watchedPipes() []int {
	entries, err := os.ReadDir("/dev/fd")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd < 3 {
			continue
		}
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
			continue
		}
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_ACCMODE != unix.O_WRONLY || broken(fd) {
			continue
		}
		out = append(out, fd)
	}
	return out
}

// broken reports whether nobody reads pipe fd any more: Linux says
// POLLERR, macOS POLLHUP.
func broken(fd int) bool {
	p := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
	n, err := unix.Poll(p, 0)
	return err == nil && n > 0 && p[0].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0
}
