// Package sumcache keeps a sum of each file's bytes (a git blob id, a
// SHA-256) with the file's metadata when it was taken, so that a file is
// read and hashed again only when its metadata changed: git's index does
// the same for the same reason. Looking at the main tree before and after
// every attempt, and a status of ten thousand tasks' files, hashed every
// file each time.
package sumcache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/paraider/paraider/state"
)

// RacyFor is how old a file's times must be when it is hashed for its sum
// to be kept: a file written within the same tick of the file system's
// clock as its hash could be written again without its times changing
// (git's "racily clean" entries). Times older than this that are still the
// same mean the same bytes: a write sets the change time, which no program
// can set back.
var RacyFor = 3 * time.Second

// Sig is what a file's metadata says of its bytes: the same size, times,
// inode and mode, the same bytes (but see RacyFor).
type Sig struct {
	Size  int64
	Mtime int64
	Ctime int64
	Ino   uint64
	Mode  os.FileMode
}

// SigOf is fi's Sig; false where the system does not tell the change
// time (then no sum is kept).
func SigOf(fi os.FileInfo) (Sig, bool) {
	ctime, ino, ok := ctimeOf(fi)
	return Sig{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Ctime: ctime, Ino: ino, Mode: fi.Mode()}, ok
}

// Entry is a file's sum and its Sig when it was taken.
type Entry struct {
	Sig Sig
	Sum string
}

// Cache is one process's view of the kept sums in a file: read once, the
// first time it is asked (for the main tree's look, before the agent runs,
// so that an agent writing the file cannot vouch for its own changes), and
// written back when it learnt something. Several processes write it; the
// last one wins, and any version is only a hint that the file's metadata
// confirms.
type Cache struct {
	mu      sync.Mutex
	path    string
	sumLen  int // of a valid sum, in bytes: a record of another length is left out
	loaded  bool
	changed bool
	entries map[string]Entry // by key: a path, relative or not, as its user names it
}

// New is the cache kept in the file at path, of sums sumLen bytes long.
func New(path string, sumLen int) *Cache { return &Cache{path: path, sumLen: sumLen} }

func (c *Cache) load() {
	if c.loaded {
		return
	}
	c.loaded = true
	c.entries = Read(c.path, c.sumLen)
}

// Sum returns the sum of the file at p (key in the cache), whose Lstat is
// fi, from the cache when the cache holds an entry that fi confirms, else
// from sum(p), kept when the file's times are old enough (RacyFor).
func (c *Cache) Sum(key, p string, fi os.FileInfo, sum func(p string) (string, error)) (string, error) {
	sig, ok := SigOf(fi)
	c.mu.Lock()
	c.load()
	e, hit := c.entries[key]
	c.mu.Unlock()
	if ok && hit && e.Sig == sig {
		return e.Sum, nil
	}
	now := time.Now()
	s, err := sum(p)
	if err != nil || !ok || len(s) != c.sumLen {
		return s, err
	}
	if limit := now.Add(-RacyFor).UnixNano(); sig.Mtime < limit && sig.Ctime < limit {
		c.mu.Lock()
		c.entries[key] = Entry{Sig: sig, Sum: s}
		c.changed = true
		c.mu.Unlock()
	}
	return s, nil
}

// Save writes the cache back when it learnt something, keeping only the
// entries keep says to (the files still of interest).
func (c *Cache) Save(keep func(key string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.entries {
		if !keep(key) {
			delete(c.entries, key)
			c.changed = true
		}
	}
	if !c.changed || c.path == "" {
		return
	}
	c.changed = false
	Write(c.path, c.entries)
}

// Read reads the cache file at path as it is, sums sumLen bytes long;
// none when it cannot be read.
func Read(path string, sumLen int) map[string]Entry {
	b, err := state.ReadOwn(path, state.MaxOwnFile)
	if err != nil {
		return map[string]Entry{}
	}
	return decode(b, sumLen)
}

// Write writes entries to the cache file at path, atomically, unsynced: it
// is derived again when lost.
func Write(path string, entries map[string]Entry) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return state.WriteUnsynced(path, encode(entries))
}

// The file holds one record per file, each ended by a NUL (a path may hold
// a newline): "SUM SIZE MTIME CTIME INO MODE KEY". A record that does
// not read so is left out: the file is a hint, written by paraider but
// within an agent's reach, and is parsed by hand rather than by a decoder
// not meant for hostile input (encoding/gob).
func encode(entries map[string]Entry) []byte {
	var b bytes.Buffer
	for key, e := range entries {
		fmt.Fprintf(&b, "%s %d %d %d %d %d %s\x00", e.Sum, e.Sig.Size, e.Sig.Mtime, e.Sig.Ctime, e.Sig.Ino, uint32(e.Sig.Mode), key)
	}
	return b.Bytes()
}

func decode(data []byte, sumLen int) map[string]Entry {
	out := map[string]Entry{}
	for _, rec := range bytes.Split(data, []byte{0}) {
		f := bytes.SplitN(rec, []byte{' '}, 7)
		if len(f) != 7 || len(f[0]) != sumLen || len(f[6]) == 0 {
			continue
		}
		size, err1 := strconv.ParseInt(string(f[1]), 10, 64)
		mtime, err2 := strconv.ParseInt(string(f[2]), 10, 64)
		ctime, err3 := strconv.ParseInt(string(f[3]), 10, 64)
		ino, err4 := strconv.ParseUint(string(f[4]), 10, 64)
		mode, err5 := strconv.ParseUint(string(f[5]), 10, 32)
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil && err5 == nil {
			out[string(f[6])] = Entry{Sum: string(f[0]), Sig: Sig{Size: size, Mtime: mtime, Ctime: ctime, Ino: ino, Mode: os.FileMode(mode)}}
		}
	}
	return out
}
