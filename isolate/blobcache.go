package isolate

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

// blobCachePath keeps the blob id of each changed or untracked file Dirty
// hashed, with the file's metadata when it was hashed. Dirty runs before
// and after every attempt, and hashing every untracked file each time
// cost about 60 µs a file (0.6 s a look at 10,000 untracked files), where
// git status itself takes a few milliseconds.
const blobCachePath = "dirty-blobs"

// racyFor is how old a file's times must be when it is hashed for its
// blob id to be kept: a file written within the same tick of the file
// system's clock as its hash could be written again without its times
// changing (git's "racily clean" entries). Times older than this that are
// still the same mean the same bytes: a write sets the change time, which
// no program can set back.
var racyFor = 3 * time.Second

// fileSig is what a file's metadata says of its bytes: the same size,
// times, inode and mode, the same bytes (but see racyFor).
type fileSig struct {
	Size  int64
	Mtime int64
	Ctime int64
	Ino   uint64
	Mode  os.FileMode
}

func sigOf(fi os.FileInfo) (fileSig, bool) {
	ctime, ino, ok := ctimeOf(fi)
	return fileSig{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Ctime: ctime, Ino: ino, Mode: fi.Mode()}, ok
}

type cachedBlob struct {
	Sig  fileSig
	Blob string
}

// blobCache is one process's view of the kept blob ids: read once, the
// first time Dirty looks (before the agent runs, so that an agent writing
// the file cannot vouch for its own changes), and written back when it
// learnt something. Several processes write it; the last one wins, and
// any version is only a hint that the file's metadata confirms.
type blobCache struct {
	mu      sync.Mutex
	path    string
	loaded  bool
	changed bool
	entries map[string]cachedBlob // by path relative to the plan's directory
}

func (c *blobCache) load() {
	if c.loaded {
		return
	}
	c.loaded = true
	c.entries = map[string]cachedBlob{}
	if b, err := state.ReadOwn(c.path, state.MaxOwnFile); err == nil {
		c.entries = decodeBlobs(b)
	}
}

// blob returns the blob id of the file at p (rel in the cache), hashing
// it only when the cache holds no entry its metadata confirms.
func (c *blobCache) blob(rel, p string, fi os.FileInfo) (string, error) {
	sig, ok := sigOf(fi)
	c.mu.Lock()
	c.load()
	e, hit := c.entries[rel]
	c.mu.Unlock()
	if ok && hit && e.Sig == sig {
		return e.Blob, nil
	}
	now := time.Now()
	blob, err := fileBlob(p)
	if err != nil || !ok || blob == "" {
		return blob, err
	}
	if limit := now.Add(-racyFor).UnixNano(); sig.Mtime < limit && sig.Ctime < limit {
		c.mu.Lock()
		c.entries[rel] = cachedBlob{Sig: sig, Blob: blob}
		c.changed = true
		c.mu.Unlock()
	}
	return blob, nil
}

// save writes the cache back when it learnt something, keeping only the
// files still changed or untracked (seen).
func (c *blobCache) save(seen map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for rel := range c.entries {
		if _, ok := seen[rel]; !ok {
			delete(c.entries, rel)
			c.changed = true
		}
	}
	if !c.changed || c.path == "" {
		return
	}
	c.changed = false
	if os.MkdirAll(filepath.Dir(c.path), 0o755) == nil {
		state.WriteUnsynced(c.path, encodeBlobs(c.entries))
	}
}

// The file holds one record per file, each ended by a NUL (a path may hold
// a newline): "BLOB SIZE MTIME CTIME INO MODE PATH". A record that does
// not read so is left out: the file is a hint, written by paraider but
// within an agent's reach, and is parsed by hand rather than by a decoder
// not meant for hostile input (encoding/gob).
func encodeBlobs(entries map[string]cachedBlob) []byte {
	var b bytes.Buffer
	for rel, e := range entries {
		fmt.Fprintf(&b, "%s %d %d %d %d %d %s\x00", e.Blob, e.Sig.Size, e.Sig.Mtime, e.Sig.Ctime, e.Sig.Ino, uint32(e.Sig.Mode), rel)
	}
	return b.Bytes()
}

func decodeBlobs(data []byte) map[string]cachedBlob {
	out := map[string]cachedBlob{}
	for _, rec := range bytes.Split(data, []byte{0}) {
		f := bytes.SplitN(rec, []byte{' '}, 7)
		if len(f) != 7 || len(f[0]) != 40 || len(f[6]) == 0 {
			continue
		}
		size, err1 := strconv.ParseInt(string(f[1]), 10, 64)
		mtime, err2 := strconv.ParseInt(string(f[2]), 10, 64)
		ctime, err3 := strconv.ParseInt(string(f[3]), 10, 64)
		ino, err4 := strconv.ParseUint(string(f[4]), 10, 64)
		mode, err5 := strconv.ParseUint(string(f[5]), 10, 32)
		if err1 == nil && err2 == nil && err3 == nil && err4 == nil && err5 == nil {
			out[string(f[6])] = cachedBlob{Blob: string(f[0]), Sig: fileSig{Size: size, Mtime: mtime, Ctime: ctime, Ino: ino, Mode: os.FileMode(mode)}}
		}
	}
	return out
}
