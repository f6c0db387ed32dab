// Package treelog keeps a journal of the paths written in a tree while a
// run lasts, for the attempts of that run to read: what changed in the
// main tree between two moments, without a look at the whole tree.
//
// With isolation none, each attempt needs the main tree's changed files as
// it starts and what it wrote outside its own files when it ends. Asking
// git (git status) reads the metadata of every file in the tree: tens of
// milliseconds at 5,000 files, 150 at 50,000, twice per task; a watch of
// the tree started by the attempt itself must walk every directory. One
// watch for the whole run (the host: the process that runs Ninja, see
// runner.HostTreeLog) costs one walk per run; each attempt reads the
// journal's few new records instead.
//
// The journal, in the directory given (.paraider/treelog):
//
//	lock      held (flock) by the host while it writes the journal
//	journal   "paraider-treelog 1\0g:GEN\0", then records: "p:PATH\0" a
//	          path written, "c:NAME\0" a cookie, "l:\0" the journal can no
//	          longer vouch for what follows (and ends)
//	cookies/  a reader makes a file here and waits for its record: every
//	          write made before it is then in the journal (inotify keeps
//	          one queue, in order, per watch)
//	cookie    the file the readers' cookies are links to (makeCookie)
//
// A reader's Token is a generation and the offset just after one of its
// cookies. Where the journal cannot answer (no host, another generation,
// a lost record, a host that does not answer within syncWait), the reader
// says so and the caller looks at the whole tree, as it would without it.
//
// The journal is within an agent's reach, as the tree is: it speeds up
// paraider's look, it is not a record anyone is judged by.
package treelog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/paraider/paraider/internal/treewatch"
)

const (
	lockName    = "lock"
	journalName = "journal"
	cookiesName = "cookies"
	// seedName is the file every cookie is a link to (makeCookie).
	seedName = "cookie"
	magic    = "paraider-treelog 1\x00"
	// restartPrefix names a cookie that asks the host to start again: a
	// reader found the host watching less than it should (the rules of
	// what git ignores changed).
	restartPrefix = "restart."
	// wakePrefix names a reader's call for a host that has not started
	// a generation yet (AwaitReader): not a cookie to record.
	wakePrefix = "wake."
)

// syncWait bounds a reader's wait for its cookie: the host answers within
// microseconds when the machine is idle.
var syncWait = 2 * time.Second

// Token is a moment in the journal: a generation and an offset.
type Token struct {
	Gen string
	Off int64
}

// ErrNoHost: no host keeps the journal now, or it did not answer.
var ErrNoHost = errors.New("no journal of the tree")

// Lock takes the host's lock in dir: an error when another host holds it.
// release lets it go.
func Lock(dir string) (release func(), err error) {
	if err := os.MkdirAll(filepath.Join(dir, cookiesName), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// A reader's look for a host takes the lock shared for an instant:
	// a few tries tell it from another host, which holds it.
	for try := 0; ; try++ {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if try == 20 {
			f.Close()
			return nil, fmt.Errorf("another run keeps the tree's journal: %w", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// hosted reports whether a host holds the lock in dir.
func hosted(dir string) bool {
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) != nil
}

// Writer writes a generation of the journal: the Events of a
// treewatch.Stream watch.
type Writer struct {
	dir     string
	f       *os.File
	buf     []byte
	since   map[string]bool // paths written since the last cookie
	trouble chan string     // why the host should start again (cap 1)
	ended   bool
	ready   bool // renamed into place (Ready)
}

var _ treewatch.Events = (*Writer)(nil)

// Create starts a new generation of the journal in dir (taken by Lock):
// it records from now on, and readers see it once Ready says so (until
// then they find the last one, ended, or none).
func Create(dir string) (*Writer, error) {
	var nonce [8]byte
	rand.Read(nonce[:])
	cookies := filepath.Join(dir, cookiesName)
	// Cookies left by readers that were killed.
	if old, err := os.ReadDir(cookies); err == nil {
		for _, e := range old {
			os.Remove(filepath.Join(cookies, e.Name()))
		}
	}
	tmp := filepath.Join(dir, journalName+".new")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, since: map[string]bool{}, trouble: make(chan string, 1)}
	if _, err := f.WriteString(magic + "g:" + hex.EncodeToString(nonce[:]) + "\x00"); err != nil {
		f.Close()
		return nil, err
	}
	w.dir = dir
	return w, nil
}

// Ready puts the generation where readers find it: the watch now covers
// every directory it should.
func (w *Writer) Ready() error {
	if err := os.Rename(filepath.Join(w.dir, journalName+".new"), filepath.Join(w.dir, journalName)); err != nil {
		return err
	}
	w.ready = true
	return nil
}

// Trouble says why the journal's host should start a new generation:
// the watch lost track, a reader asked, or a .gitignore was written (what
// git ignores, and so what is watched, may have changed).
func (w *Writer) Trouble() <-chan string { return w.trouble }

func (w *Writer) troubled(why string) {
	select {
	case w.trouble <- why:
	default:
	}
}

// Path records a path written.
func (w *Writer) Path(p string) {
	if w.ended {
		return
	}
	if isIgnoreFile(p) {
		w.troubled("a .gitignore was written: " + p)
	}
	if w.since[p] {
		return
	}
	w.since[p] = true
	w.buf = append(append(append(w.buf, "p:"...), p...), 0)
}

// Mark records a reader's cookie, or takes a request to start again.
func (w *Writer) Mark(name string) {
	if w.ended {
		return
	}
	if strings.HasPrefix(name, restartPrefix) {
		w.troubled("a reader asked")
		return
	}
	if strings.HasPrefix(name, wakePrefix) {
		return
	}
	clear(w.since)
	w.buf = append(append(append(w.buf, "c:"...), name...), 0)
}

// Flush writes what was recorded.
func (w *Writer) Flush() {
	if len(w.buf) == 0 || w.ended {
		return
	}
	if _, err := w.f.Write(w.buf); err != nil {
		w.end()
		w.troubled("writing the journal: " + err.Error())
	}
	w.buf = w.buf[:0]
}

// Lost ends the generation: readers past this point look at the whole
// tree.
func (w *Writer) Lost() {
	w.end()
	w.troubled("the watch lost track")
}

// Close ends the generation (readers waiting for a cookie stop waiting)
// and closes the file.
func (w *Writer) Close() {
	w.end()
	w.f.Close()
	if !w.ready {
		// Never read: a run that ended before its watch was ready.
		os.Remove(filepath.Join(w.dir, journalName+".new"))
	}
}

func (w *Writer) end() {
	if !w.ended {
		w.ended = true
		w.f.Write(append(w.buf, "l:\x00"...))
		w.buf = nil
	}
}

// isIgnoreFile reports whether p is a .gitignore.
func isIgnoreFile(p string) bool { return p == ".gitignore" || strings.HasSuffix(p, "/.gitignore") }

// Reader reads the journal for one process.
type Reader struct {
	dir string
	mu  sync.Mutex
	n   int // cookies made
}

// Open is the journal in dir, or nil when no host keeps it.
func Open(dir string) *Reader {
	if !hosted(dir) {
		return nil
	}
	return &Reader{dir: dir}
}

// Dir is the journal's directory.
func (r *Reader) Dir() string { return r.dir }

// Restart asks the host to start a new generation.
func (r *Reader) Restart() {
	p := filepath.Join(r.dir, cookiesName, fmt.Sprintf("%s%d", restartPrefix, os.Getpid()))
	if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
		f.Close()
	}
	os.Remove(p)
}

// Since makes sure that every write made before it is in the journal and
// returns now, a token for this moment, and the paths written between
// from and now (relative to the tree's root, slash-separated, a directory
// standing for what is under it). ok is false when the journal cannot
// tell what happened since from (another generation, from's zero, a lost
// record, a .gitignore written, more than treewatch.MaxPaths paths): look
// at the whole tree, and use now from then on. Where the host is starting
// a generation, Since waits for it. An error (ErrNoHost) when the host did
// not answer within syncWait: now is no token.
func (r *Reader) Since(ctx context.Context, from Token) (paths []string, now Token, ok bool, err error) {
	deadline := time.Now().Add(syncWait)
	for {
		var read os.FileInfo // the journal that ended, if one did
		paths, now, ok, err = r.since(ctx, from, deadline, &read)
		if !errors.Is(err, errEnded) {
			return paths, now, ok, err
		}
		// The host is between generations (starting, or starting
		// again, or waiting for a first reader: AwaitReader): the next
		// comes with a new file.
		wake := r.wake()
		waited := r.waitNew(ctx, deadline, read)
		os.Remove(wake)
		if !waited {
			return nil, Token{}, false, ErrNoHost
		}
	}
}

// wake calls a host that waits for a first reader (AwaitReader), and
// returns the call's path.
func (r *Reader) wake() string {
	p := filepath.Join(r.dir, cookiesName, fmt.Sprintf("%s%d", wakePrefix, os.Getpid()))
	if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
		f.Close()
	}
	return p
}

// AwaitReader waits, with the host's lock taken, until a reader calls
// (a file in the cookies directory: a cookie, a call, a request to start
// again) or ctx ends; it reports whether one did. A run whose tasks are
// all done (a no-op ninja) never starts a generation: its look at the
// whole tree and its watch of every directory cost more than the run.
func AwaitReader(ctx context.Context, dir string) bool {
	cookies := filepath.Join(dir, cookiesName)
	for {
		if f, err := os.Open(cookies); err == nil {
			names, _ := f.Readdirnames(1)
			f.Close()
			if len(names) > 0 {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(awaitEvery):
		}
	}
}

// awaitEvery is how often AwaitReader looks for a reader's call: the
// first attempt of a run waits at most this long more for the journal.
const awaitEvery = 5 * time.Millisecond

// errEnded: the journal's generation ended (or none was made yet).
var errEnded = errors.New("the journal's generation ended")

// waitNew waits for a new generation of the journal (another file than
// was, the one that ended; any where was is nil) while a host holds the
// lock, until the deadline. The one that ended, not the one there now: a
// host quick to start again may have put the next in place already.
func (r *Reader) waitNew(ctx context.Context, deadline time.Time, was os.FileInfo) bool {
	p := filepath.Join(r.dir, journalName)
	if fi, err := os.Stat(p); err == nil && (was == nil || !os.SameFile(fi, was)) {
		return true
	}
	for pause := 50 * time.Microsecond; ; pause = min(2*pause, 2*time.Millisecond) {
		if time.Now().After(deadline) || ctx.Err() != nil || !hosted(r.dir) {
			return false
		}
		time.Sleep(pause)
		if fi, err := os.Stat(p); err == nil && (was == nil || !os.SameFile(fi, was)) {
			return true
		}
	}
}

func (r *Reader) since(ctx context.Context, from Token, deadline time.Time, read *os.FileInfo) (paths []string, now Token, ok bool, err error) {
	r.mu.Lock()
	r.n++
	cookie := fmt.Sprintf("%d.%d", os.Getpid(), r.n)
	r.mu.Unlock()
	f, err := os.Open(filepath.Join(r.dir, journalName))
	if err != nil {
		return nil, Token{}, false, errEnded
	}
	defer f.Close()
	*read, _ = f.Stat()
	gen, start, err := header(f)
	if err != nil {
		return nil, Token{}, false, errEnded
	}
	ok = from.Gen == gen && from.Off >= start
	if ok {
		start = from.Off
	}
	cp := filepath.Join(r.dir, cookiesName, cookie)
	if err := makeCookie(r.dir, cp); err != nil {
		return nil, Token{}, false, err
	}
	defer os.Remove(cp)

	set := map[string]bool{}
	want := "c:" + cookie
	off, pending := start, []byte(nil)
	buf := make([]byte, 64<<10)
	pause := 20 * time.Microsecond
	for {
		n, rerr := f.ReadAt(buf, off)
		off += int64(n)
		pending = append(pending, buf[:n]...)
		// Whole records only: a write may be read half done.
		for {
			i := bytes.IndexByte(pending, 0)
			if i < 0 {
				break
			}
			rec := string(pending[:i])
			pending = pending[i+1:]
			switch {
			case rec == want:
				now := Token{Gen: gen, Off: off - int64(len(pending))}
				if !ok || len(set) > treewatch.MaxPaths {
					return nil, now, false, nil
				}
				return treewatch.Collapse(set), now, true, nil
			case rec == "l:":
				return nil, Token{}, false, errEnded
			case ok && strings.HasPrefix(rec, "p:"):
				if p := rec[2:]; isIgnoreFile(p) {
					// What git ignores changed: files nobody wrote may
					// now be untracked, or no longer.
					ok = false
				} else if len(set) <= treewatch.MaxPaths {
					set[p] = true
				}
			}
		}
		if n > 0 {
			continue
		}
		if rerr != nil && rerr != io.EOF {
			return nil, Token{}, false, rerr
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, Token{}, false, ErrNoHost
		}
		time.Sleep(pause)
		if pause < 2*time.Millisecond {
			pause *= 2
		} else if !hosted(r.dir) {
			return nil, Token{}, false, ErrNoHost
		} else if now, err := os.Stat(f.Name()); err == nil && *read != nil && !os.SameFile(now, *read) {
			// Another generation is in place: this one's host is gone
			// without its end (a run killed), and the cookie is
			// answered in the new one.
			return nil, Token{}, false, errEnded
		}
	}
}

// makeCookie makes the cookie file cp: a hard link to the seed file
// beside the cookies (made by the first reader that finds none), which
// the watch reports as a file made like any other. A file made anew
// would cost the file system an inode, and its removal another freed:
// on ext4, each new inode then looks past the recently freed ones, and
// a run of ten thousand tasks spent more on that than on all its
// cookies' other work. Where the file system makes no link, a file.
func makeCookie(dir, cp string) error {
	seed := filepath.Join(dir, seedName)
	err := os.Link(seed, cp)
	if errors.Is(err, os.ErrNotExist) {
		if f, err := os.OpenFile(seed, os.O_WRONLY|os.O_CREATE, 0o644); err == nil {
			f.Close()
		}
		err = os.Link(seed, cp)
	}
	if err == nil {
		return nil
	}
	f, err := os.OpenFile(cp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// header reads the journal's magic and generation, and returns the offset
// of its first record.
func header(f *os.File) (gen string, off int64, err error) {
	var b [64]byte
	n, _ := f.ReadAt(b[:], 0)
	rest, ok := bytes.CutPrefix(b[:n], []byte(magic+"g:"))
	i := bytes.IndexByte(rest, 0)
	if !ok || i < 0 {
		return "", 0, ErrNoHost
	}
	return string(rest[:i]), int64(len(magic) + 2 + i + 1), nil
}
