package runner

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraider/paraider/internal/treelog"
)

// A kept look reads back as written, whether its entries were parsed or
// passed on as read, and even once another look replaced the file after
// its header was read; a damaged header is not taken for a look, and
// damaged entries are not taken for the tree's state.
func TestLookRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "look")
	want := map[string]string{"a.txt": "0123abcd", "d/b.txt": "", "d/c d.txt": "ffff"}
	mapOf := func(l look) map[string]string {
		t.Helper()
		m, ok := l.dirty.Map()
		if !ok {
			t.Fatalf("the entries of %+v could not be read", l)
		}
		return m
	}
	writeLook(p, look{at: treelog.Token{Gen: "g1", Off: 42}, git: "ref 7", dirty: knownDirty(want)})
	l, ok := readLook(p)
	if !ok || l.at != (treelog.Token{Gen: "g1", Off: 42}) || l.git != "ref 7" || !maps.Equal(mapOf(l), want) {
		t.Fatalf("read back %+v (ok %v), want %q", l, ok, want)
	}
	// Passed on unread (the journal named nothing to look at again).
	l, _ = readLook(p)
	writeLook(p, look{at: treelog.Token{Gen: "g1", Off: 99}, git: l.git, dirty: l.dirty})
	if l, ok = readLook(p); !ok || l.at.Off != 99 || !maps.Equal(mapOf(l), want) {
		t.Fatalf("passed on: %+v (ok %v), want %q", l, ok, want)
	}
	// Replaced after its header was read: the entries are the header's.
	l, _ = readLook(p)
	writeLook(p, look{at: treelog.Token{Gen: "g3"}, git: "x", dirty: knownDirty(map[string]string{"other": "1"})})
	if !maps.Equal(mapOf(l), want) {
		t.Fatalf("read after a new look replaced it: %q, want %q", mapOf(l), want)
	}
	writeLook(p, look{at: treelog.Token{Gen: "g2"}, git: "x", dirty: knownDirty(map[string]string{})})
	if l, ok = readLook(p); !ok || len(mapOf(l)) != 0 {
		t.Fatalf("an empty look: %+v (ok %v)", l, ok)
	}
	for _, bad := range []string{"", "paraider-look 1\x00g\x00", "paraider-look 1\x00g\x00x\x00x\x00", "other 1\x00g\x001\x00x\x00"} {
		os.WriteFile(p, []byte(bad), 0o644)
		if l, ok := readLook(p); ok {
			t.Errorf("%q read as a look: %+v", bad, l)
		}
	}
	for _, bad := range []string{"paraider-look 1\x00g\x001\x00x\x00a\x00", "paraider-look 1\x00g\x001\x00x\x00a\x00b\x00c\x00", "paraider-look 1\x00g\x001\x00x\x00a\x00b"} {
		os.WriteFile(p, []byte(bad), 0o644)
		l, ok := readLook(p)
		if !ok {
			t.Fatalf("%q: the header not read", bad)
		}
		if m, read := l.dirty.Map(); read {
			t.Errorf("%q: its entries read as %q", bad, m)
		}
	}
}
