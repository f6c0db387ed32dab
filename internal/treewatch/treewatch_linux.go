//go:build linux && !paraider_portable

package treewatch

import (
	"bytes"
	"errors"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Supported: this system has a watch.
const Supported = true

// Watch is a running watch of a tree.
type Watch struct {
	root string
	skip Skip // the directories left out: read under mu (Also changes it)
	fd   int
	stop [2]int // a pipe: a byte on it ends the reader
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	dirs     map[int]string // watch descriptor -> directory, relative ("." for the root)
	marks    map[int]bool   // watch descriptors of Mark's directories
	attached map[int]string // watch descriptors of Attach's directories -> their names
	out      sink
	seen     *seenSet // Start's: what Stop returns
	lost     bool
}

const dirEvents = unix.IN_CREATE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_DELETE |
	unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
	unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW | unix.IN_EXCL_UNLINK

// Start watches every directory under root that skip does not leave out.
// An error when it cannot (too many directories, the system's limit on
// watches): look at the whole tree instead.
func Start(root string, skip Skip) (*Watch, error) {
	seen := &seenSet{paths: map[string]bool{}}
	w, err := open(root, skip, seen)
	if w != nil {
		w.seen = seen
	}
	return w, err
}

// Stream is Start for a watch that outlives many attempts: what it sees
// goes to ev as it happens, not to Stop.
func Stream(root string, skip Skip, ev Events) (*Watch, error) {
	return open(root, skip, events{ev})
}

func open(root string, skip Skip, out sink) (*Watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, err
	}
	w := &Watch{root: root, skip: skip, fd: fd, done: make(chan struct{}), dirs: map[int]string{}, marks: map[int]bool{}, attached: map[int]string{}, out: out}
	if err := unix.Pipe2(w.stop[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if err := w.addTree(".", false, make([]byte, direntBuf)); err != nil {
		w.closeFds()
		return nil, err
	}
	go w.read()
	return w, nil
}

// direntBuf is the size of a walk's getdents buffer.
const direntBuf = 32 << 10

// Also watches dirs (relative to the root) and the trees under them, from
// now on with skip in place of Start's (and stops watching what skip now
// leaves out): for directories Start left out
// that it should not have (Start's skip was a guess, made while the
// caller worked out the true one). An error when they cannot all be
// watched: the watch can no longer vouch for what it sees.
func (w *Watch) Also(dirs []string, skip Skip) error {
	w.mu.Lock()
	w.skip = skip
	// And no longer watches those it now leaves out.
	for wd, d := range w.dirs {
		if d != "." && skip(d) {
			unix.InotifyRmWatch(w.fd, uint32(wd))
			delete(w.dirs, wd)
		}
	}
	w.mu.Unlock()
	buf := make([]byte, direntBuf)
	for _, d := range dirs {
		if err := w.addTree(d, false, buf); err != nil {
			w.lose()
			return err
		}
	}
	return nil
}

// Mark watches dir (absolute, outside the tree or in a part of it that
// is skipped) for files made in it, which a Stream watch reports by name
// (Events.Mark) in order with the tree's events: a file made there after
// a write in the tree is reported after it.
func (w *Watch) Mark(dir string) error {
	wd, err := unix.InotifyAddWatch(w.fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO|unix.IN_ONLYDIR|unix.IN_DONT_FOLLOW)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.marks[wd] = true
	w.mu.Unlock()
	return nil
}

// Attach watches dir (absolute, one directory, not the directories under
// it, in a part of the tree that is skipped) for files made, written,
// removed or renamed there, reported as paths under rel: a directory of
// the tree's own that a Stream watch leaves out as a whole but for one
// directory of it.
func (w *Watch) Attach(dir, rel string) error {
	wd, err := unix.InotifyAddWatch(w.fd, dir, unix.IN_CREATE|unix.IN_MODIFY|unix.IN_CLOSE_WRITE|unix.IN_DELETE|unix.IN_MOVED_FROM|unix.IN_MOVED_TO|unix.IN_ONLYDIR|unix.IN_DONT_FOLLOW)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.attached[wd] = rel
	w.mu.Unlock()
	return nil
}

// skips reports whether the directory rel is left out.
func (w *Watch) skips(rel string) bool {
	w.mu.Lock()
	skip := w.skip
	w.mu.Unlock()
	return skip(rel)
}

var errTooMany = errors.New("too many directories to watch")

// addTree watches dir and every directory under it; with report, every
// entry found is reported too (a directory made or moved in while the
// watch ran: what it holds came with it). A directory is watched before
// it is listed, so that nothing made in it meanwhile is missed.
func (w *Watch) addTree(dir string, report bool, buf []byte) error {
	abs := filepath.Join(w.root, filepath.FromSlash(dir))
	wd, err := unix.InotifyAddWatch(w.fd, abs, dirEvents)
	if err != nil {
		if dir != "." && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)) {
			return nil // gone meanwhile: its parent is watched, and reports it
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
	entries, err := list(abs, buf)
	if err != nil && !report {
		return err
	}
	for _, e := range entries {
		rel := path.Join(dir, e.name)
		if report {
			w.add(dir, e.name)
		}
		if e.dir && !w.skips(rel) {
			if err := w.addTree(rel, report, buf); err != nil {
				return err
			}
		}
	}
	return nil
}

type entry struct {
	name string
	dir  bool
}

// list reads a directory's entries with getdents and the kind of each
// from the entry itself: a tree of thousands of directories is listed
// at every attempt, and os.ReadDir's file set-up, sorting and
// allocations cost half again as much.
func list(abs string, buf []byte) ([]entry, error) {
	fd, err := unix.Open(abs, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []entry
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			return out, err
		}
		if n <= 0 {
			return out, nil
		}
		out = parseDirents(abs, buf[:n], out)
	}
}

// parseDirents adds the entries of a getdents buffer (linux_dirent64:
// inode, offset, record length, type, name) but . and ..; a kind the
// file system does not give is asked of the file.
func parseDirents(dir string, b []byte, out []entry) []entry {
	for len(b) >= 19 {
		reclen := int(*(*uint16)(unsafe.Pointer(&b[16])))
		if reclen < 19 || reclen > len(b) {
			break
		}
		typ, name := b[18], b[19:reclen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		b = b[reclen:]
		if string(name) == "." || string(name) == ".." {
			continue
		}
		e := entry{name: string(name), dir: typ == unix.DT_DIR}
		if typ == unix.DT_UNKNOWN {
			var st unix.Stat_t
			e.dir = unix.Lstat(filepath.Join(dir, e.name), &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
		}
		out = append(out, e)
	}
	return out
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
		w.mu.Lock()
		if !w.lost {
			w.out.flush()
		}
		w.mu.Unlock()
		if stopping {
			return
		}
	}
}

func (w *Watch) lose() {
	w.mu.Lock()
	w.loseLocked()
	w.mu.Unlock()
}

func (w *Watch) loseLocked() {
	if !w.lost {
		w.lost = true
		w.out.lose()
	}
}

// add reports dir/name, unless the watch is lost.
func (w *Watch) add(dir, name string) {
	w.mu.Lock()
	if !w.lost && !w.out.add(dir, name) {
		w.loseLocked()
	}
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
	mark := w.marks[wd]
	attached, isAttached := w.attached[wd]
	lost := w.lost
	w.mu.Unlock()
	switch {
	case lost:
		return // nothing more to learn: the whole tree is looked at
	case mask&unix.IN_Q_OVERFLOW != 0:
		// Events were dropped: nothing said can be vouched for.
		w.lose()
		return
	case isAttached && mask&unix.IN_IGNORED != 0:
		// The directory went (its watch with it): what is written in
		// one made again would not be seen.
		w.lose()
		return
	case isAttached:
		if name != "" {
			w.add(attached, name)
		}
		return
	case mark:
		if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			w.mu.Lock()
			w.out.mark(name)
			w.mu.Unlock()
		}
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
	if mask&unix.IN_ISDIR != 0 && w.skips(rel) {
		return
	}
	w.add(dir, name)
	if mask&unix.IN_ISDIR == 0 {
		return
	}
	switch {
	case mask&unix.IN_MOVED_FROM != 0:
		// Its watches go on under the old names: what happens in it now
		// would be reported at the wrong paths.
		w.lose()
	case mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
		if err := w.addTree(rel, true, make([]byte, direntBuf)); err != nil {
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
	if w.lost || w.seen == nil {
		return nil, false
	}
	return w.seen.list(), true
}

func (w *Watch) closeFds() {
	unix.Close(w.fd)
	unix.Close(w.stop[0])
	unix.Close(w.stop[1])
}
