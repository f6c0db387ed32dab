//go:build linux && !paraider_portable

package runner

import (
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paraider/paraider/state"
)

// The watches on Linux: inotify on the specs directory (the guard, for
// plans too large to stat each spec) and on a waiting task's queue entry
// (its wake-ups). watch_other.go does the same by polling, for macOS and
// for the paraider_portable build that tests it here.

// watchSpecs starts watching the specs directory for writes, anew.
func (g *guard) watchSpecs() {
	g.stopSpecs()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return
	}
	dir := filepath.Join(g.root, state.Dir, "specs")
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return
	}
	g.specFd = fd
}

func (g *guard) stopSpecs() {
	if g.specFd > 0 {
		unix.Close(g.specFd)
	}
	g.specFd = 0
}

// writtenSpecs lists the spec files written since watchSpecs.
func (g *guard) writtenSpecs() []string {
	if g.specFd <= 0 {
		return nil
	}
	defer g.stopSpecs()
	seen := map[string]bool{}
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(g.specFd, buf)
		if n <= 0 || err != nil {
			break
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
			if strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".") {
				seen[filepath.Join(g.root, state.Dir, "specs", name)] = true
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// waker wakes a waiting task when its queue entry is touched (see
// wakeNext), through inotify.
type waker struct{ fd int }

func newWaker(entry string) sleeper {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return &waker{fd: -1}
	}
	if _, err := unix.InotifyAddWatch(fd, entry, unix.IN_ATTRIB); err != nil {
		unix.Close(fd)
		return &waker{fd: -1}
	}
	return &waker{fd: fd}
}

// wait returns after an event, or after d.
func (w *waker) wait(d time.Duration) {
	sleeping()
	if w.fd < 0 {
		time.Sleep(d)
		return
	}
	unix.Poll([]unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}, int(d/time.Millisecond))
	buf := make([]byte, 4096)
	for {
		if n, _ := unix.Read(w.fd, buf); n <= 0 {
			return
		}
	}
}

func (w *waker) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
	}
}
