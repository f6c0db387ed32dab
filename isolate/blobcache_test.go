package isolate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/state"
)

// TestDirtyKeepsBlobs: Dirty hashes an untracked file once and takes its
// blob id from the cache while its metadata says it is the same file;
// a write (even one that puts the modification time back) is hashed
// again; a cache written meanwhile on disk (by an agent, say) is not read
// by a process that has read it already; a file too fresh to trust its
// times is never kept.
func TestDirtyKeepsBlobs(t *testing.T) {
	fromCache, forged := strings.Repeat("c", 40), strings.Repeat("f", 40)
	root := committedRepo(t, "tracked.txt")
	old := filepath.Join(root, "old.txt")
	write(t, old, "old bytes")

	defer func(d time.Duration) { sumcache.RacyFor = d }(sumcache.RacyFor)
	sumcache.RacyFor = 0 // every file counts as old enough to trust its times
	ctx := context.Background()
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Dirty(ctx, nil)
	want := BlobID([]byte("old bytes"))
	if err != nil || m["old.txt"] != want {
		t.Fatalf("Dirty = %v, %v; want old.txt %s", m, err, want)
	}
	cachePath := filepath.Join(root, state.Dir, blobCachePath)
	kept, err := readCache(cachePath)
	if err != nil || kept["old.txt"].Sum != want {
		t.Fatalf("the cache on disk: %v, %v; want old.txt's blob", kept, err)
	}

	// A second process reads the cache: shown by a blob id that only the
	// cache holds.
	kept["old.txt"] = sumcache.Entry{Sig: kept["old.txt"].Sig, Sum: fromCache}
	writeCache(t, cachePath, kept)
	r2, _ := Open(root)
	if m, _ := r2.Dirty(ctx, nil); m["old.txt"] != fromCache {
		t.Fatalf("a new process hashed the file again (%q): the cache was not used", m["old.txt"])
	}

	// Same size, the modification time put back: the change time tells.
	fi, _ := os.Stat(old)
	cached := kept["old.txt"].Sig
	// Written until the change time moves on (a coarse clock may give a
	// write within its tick the same time).
	for deadline := time.Now().Add(10 * time.Second); ; {
		write(t, old, "new bytes")
		os.Chtimes(old, fi.ModTime(), fi.ModTime())
		now, _ := os.Lstat(old)
		if sig, _ := sumcache.SigOf(now); sig.Ctime != cached.Ctime {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change time never moved on")
		}
	}
	if m, _ := r2.Dirty(ctx, nil); m["old.txt"] != BlobID([]byte("new bytes")) {
		t.Fatalf("after a write of the same size with the old time: %q; want the new bytes' blob", m["old.txt"])
	}

	// A cache forged on disk after this process read it changes nothing
	// here: the agent cannot vouch for its own write.
	fi, _ = os.Lstat(old)
	sig, _ := sumcache.SigOf(fi)
	writeCache(t, cachePath, map[string]sumcache.Entry{"old.txt": {Sig: sig, Sum: forged}})
	if m, _ := r2.Dirty(ctx, nil); m["old.txt"] != BlobID([]byte("new bytes")) {
		t.Fatalf("a cache written after this process read it was used: %q", m["old.txt"])
	}

	// Too fresh to trust: hashed, not kept.
	sumcache.RacyFor = time.Hour
	os.Remove(cachePath)
	r3, _ := Open(root)
	if m, _ := r3.Dirty(ctx, nil); m["old.txt"] != BlobID([]byte("new bytes")) {
		t.Fatalf("Dirty = %q; want the new bytes' blob", m["old.txt"])
	}
	kept, _ = readCache(cachePath)
	if _, ok := kept["old.txt"]; ok {
		t.Fatalf("a file written within RacyFor was kept: %v", kept)
	}
}

func readCache(path string) (map[string]sumcache.Entry, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return sumcache.Read(path, blobIDLen), nil
}

func writeCache(t *testing.T, path string, entries map[string]sumcache.Entry) {
	t.Helper()
	if err := sumcache.Write(path, entries); err != nil {
		t.Fatal(err)
	}
}

// TestDirtyFIFO: a tracked file replaced by a FIFO is told by its kind,
// not read: reading it waited for a writer for ever, and exec with it.
func TestDirtyFIFO(t *testing.T) {
	root := committedRepo(t, "in.txt")
	os.Remove(filepath.Join(root, "in.txt"))
	if err := syscall.Mkfifo(filepath.Join(root, "in.txt"), 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan map[string]string, 1)
	go func() {
		m, _ := r.Dirty(context.Background(), nil)
		done <- m
	}()
	select {
	case m := <-done:
		if got := m["in.txt"]; !strings.HasPrefix(got, "special") {
			t.Fatalf("a FIFO in the tree maps to %q; want it told as special", got)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Dirty still reads a FIFO after 30 s")
	}
}
