package state

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxOwnFile caps what paraider reads of one of its own files (a result,
// a spec, run.json, a queue entry): ten thousand tasks' run.json is a
// few megabytes, and a larger file is junk, not a record.
const MaxOwnFile = 64 << 20

// ErrNotOwnFile says a path under .paraider/ is no regular file of
// paraider's (a link, a FIFO, a device, a directory) or is too large to
// be one.
type ErrNotOwnFile struct {
	Path, What string
}

func (e *ErrNotOwnFile) Error() string {
	return fmt.Sprintf("%s: %s, not a file paraider wrote: ignored", e.Path, e.What)
}

// ReadOwn reads one of paraider's own files defensively: without
// following a symbolic link, without blocking on a FIFO or a device
// (opened non-blocking, then only a regular file is read), and at most
// max bytes. Anything else is an *ErrNotOwnFile; a missing file is
// os.ErrNotExist as usual.
func ReadOwn(name string, max int64) ([]byte, error) {
	f, size, err := openSized(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if size > max {
		return nil, &ErrNotOwnFile{name, fmt.Sprintf("%d bytes (more than %d)", size, max)}
	}
	// Read into a buffer of the size the file says (plus one byte, to see
	// it grow meanwhile): io.ReadAll's growing buffer cost a 10,000-task
	// plan's exec a third of its reading of run.json.
	data := make([]byte, size+1)
	n, err := io.ReadFull(f, data)
	switch {
	case err == io.ErrUnexpectedEOF || err == io.EOF:
		data, err = data[:n], nil // all of it
	case err == nil:
		// It grew since: the rest, up to max.
		var rest []byte
		rest, err = io.ReadAll(io.LimitReader(f, max-size))
		data = append(data, rest...)
	}
	if err == nil && int64(len(data)) > max {
		return nil, &ErrNotOwnFile{name, fmt.Sprintf("more than %d bytes", max)}
	}
	return data, err
}

// openSized opens one of paraider's own files (OpenOwn) and says its size.
func openSized(name string) (*os.File, int64, error) {
	f, err := OpenOwn(name, os.O_RDONLY)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// ReadOwnTail reads the last max bytes (at most) of one of paraider's own
// files, as ReadOwn does: the tail of a log.
func ReadOwnTail(name string, max int64) ([]byte, error) {
	f, size, err := openSized(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if off := size - max; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, max))
}

// OpenOwn opens one of paraider's own files with flag (os.O_RDONLY, or
// with os.O_CREATE for a lock) without following a symbolic link and
// without blocking on a FIFO or a device: only a regular file is
// returned, anything else is an *ErrNotOwnFile.
func OpenOwn(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		// A link (O_NOFOLLOW), a FIFO without a reader (ENXIO), ...
		if fi, lerr := os.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			return nil, &ErrNotOwnFile{name, FileKind(fi.Mode())}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &ErrNotOwnFile{name, FileKind(fi.Mode())}
	}
	return f, nil
}

// NotOwn reports whether err says a path is no file of paraider's.
func NotOwn(err error) bool {
	var e *ErrNotOwnFile
	return errors.As(err, &e)
}

// FileKind names what a path that is no regular file is, for people: "a
// directory", "a named pipe", ...
func FileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a plain file"
}

// GenLock is held by `paraider gen` while it writes paraider's own files
// (alone), and by an attempt's guard while it looks at them (shared): so
// the guard never sees half of a gen.
const GenLock = Dir + "/locks/gen.lock"

// WrittenPath is what gen last wrote to each of paraider's own files
// that the guard watches (Written): a change the guard sees there is
// gen's, not an agent's.
const WrittenPath = Dir + "/written.json"

// Written maps paraider's own files (paths relative to the plan's
// directory) to the sum (OwnSum) of what gen last wrote there.
type Written map[string]string

// OwnSum is the sum of a file as gen leaves it: of its bytes, or of the
// target of a symbolic link.
func OwnSum(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	var data []byte
	if fi.Mode()&os.ModeSymlink != 0 {
		t, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		data = []byte("symlink\x00" + t)
	} else if data, err = ReadOwn(path, 1<<30); err != nil {
		return "", err
	}
	return SumOf(data), nil
}

// SumOf is the hex SHA-256 of data.
func SumOf(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// ReadWritten reads what gen last wrote, under the gen lock shared (gen
// may be writing now: this waits for it, up to ctx). A missing or damaged
// record is empty.
func (l Layout) ReadWritten(ctx context.Context) Written {
	lock, err := LockFile(ctx, l.Path(GenLock), true, syscall.LOCK_SH)
	if err != nil {
		return nil
	}
	defer lock.Close()
	w := Written{}
	if data, err := ReadOwn(l.Path(WrittenPath), MaxOwnFile); err == nil {
		json.Unmarshal(data, &w)
	}
	return w
}
