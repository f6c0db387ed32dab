//go:build linux && !paraider_portable

package treewatch

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Watch is a running watch of a tree.
type Watch struct {
	root string
	skip Skip
	fd   int
	stop [2]int // a pipe: a byte on it ends the reader
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	dirs map[int]string // watch descriptor -> directory, relative ("." for the root)
	seen seenSet
}

const dirEvents = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK

// Start watches every directory under root that skip does not leave out.
// An error when it cannot (too many directories, the system's limit on
// watches): look at the whole tree instead.
func Start(root string, skip Skip) (*Watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &Watch{root: root, skip: skip, fd: fd, done: make(chan struct{}), dirs: map[int]string{}, seen: seenSet{paths: map[string]bool{}}}
	if err := unix.Pipe2(w.stop[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := w.addTree(".", false); err != nil {
		w.closeFds()
		return nil, err
	}
	go w.read()
	return w, nil
}

var errTooMany = errors.New("too many directories to watch")

// addTree watches dir and every directory under it; with report, every
// entry found is reported too (a directory made or moved in while the
// watch ran: what it holds came with it). A directory is watched before
// it is listed, so that nothing made in it meanwhile is missed.
func (w *Watch) addTree(dir string, report bool) error {
	wd, err := unix.InotifyAddWatch(w.fd, filepath.Join(w.root, filepath.FromSlash(dir)), dirEvents)
	if err != nil {
		if report && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)) {
			return nil // gone again meanwhile: its removal is reported
		}
		return err
	}
	w.mu.Lock()
	w.dirs[wd] = dir
	n := len(w.dirs)
	w.mu.Unlock()
	if n > MaxDirs {
		return errTooMany
	}
	entries, err := os.ReadDir(filepath.Join(w.root, filepath.FromSlash(dir)))
	if err != nil && !report {
		return err
	}
	for _, e := range entries {
		rel := path.Join(dir, e.Name())
		if report {
			w.mu.Lock()
			w.seen.add(dir, e.Name())
			w.mu.Unlock()
		}
		if e.IsDir() && !w.skip(rel) {
			if err := w.addTree(rel, report); err != nil {
				return err
			}
		}
	}
	return nil
}

// read takes the events as they come (the kernel's queue holds 16,384 by
// default: an agent writing a large file in small pieces would fill it)
// until a byte on the stop pipe; then it reads what is left and ends.
func (w *Watch) read() {
	defer close(w.done)
	buf := make([]byte, 64<<10)
	for {
		fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}, {Fd: int32(w.stop[0]), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && !errors.Is(err, unix.EINTR) {
			w.lose()
			return
		}
		stopping := fds[1].Revents != 0
		for {
			n, err := unix.Read(w.fd, buf)
			if n <= 0 || err != nil {
				break
			}
			w.events(buf[:n])
		}
		if stopping {
			return
		}
	}
}

func (w *Watch) lose() {
	w.mu.Lock()
	w.seen.lost, w.seen.paths = true, nil
	w.mu.Unlock()
}

// events reports the paths a buffer of events names.
func (w *Watch) events(buf []byte) {
	for off := 0; off+unix.SizeofInotifyEvent <= len(buf); {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		end := off + unix.SizeofInotifyEvent + int(ev.Len)
		name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:end]), "\x00")
		off = end
		w.event(int(ev.Wd), ev.Mask, name)
	}
}

func (w *Watch) event(wd int, mask uint32, name string) {
	w.mu.Lock()
	dir, known := w.dirs[wd]
	lost := w.seen.lost
	w.mu.Unlock()
	switch {
	case lost:
		return // nothing more to learn: the whole tree is looked at
	case mask&unix.IN_Q_OVERFLOW != 0:
		// Events were dropped: nothing said can be vouched for.
		w.lose()
		return
	case mask&unix.IN_IGNORED != 0 || !known:
		return // a watch ended (its directory went: reported by its parent)
	case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0:
		if dir == "." {
			w.lose() // the root itself went
		}
		return
	}
	rel := path.Join(dir, name)
	if mask&unix.IN_ISDIR != 0 && w.skip(rel) {
		return
	}
	w.mu.Lock()
	w.seen.add(dir, name)
	w.mu.Unlock()
	if mask&unix.IN_ISDIR == 0 {
		return
	}
	switch {
	case mask&unix.IN_MOVED_FROM != 0:
		// Its watches go on under the old names: what happens in it now
		// would be reported at the wrong paths.
		w.lose()
	case mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
		if err := w.addTree(rel, true); err != nil {
			w.lose()
		}
	}
}

// Stop ends the watch and returns the paths (relative to the root,
// slash-separated; a directory stands for what is under it) where
// something was made, written, removed or renamed since Start; ok is
// false when the watch cannot vouch for them (events lost, a directory
// renamed, too many paths): look at the whole tree then. A second Stop
// says false.
func (w *Watch) Stop() (paths []string, ok bool) {
	stopped := false
	w.once.Do(func() {
		stopped = true
		unix.Write(w.stop[1], []byte{0})
		<-w.done
		// Aside: closing an inotify instance waits for the kernel's
		// grace period (up to tens of milliseconds).
		go w.closeFds()
	})
	if !stopped {
		return nil, false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen.lost {
		return nil, false
	}
	return w.seen.list(), true
}

func (w *Watch) closeFds() {
	unix.Close(w.fd)
	unix.Close(w.stop[0])
	unix.Close(w.stop[1])
}
