package runner

import (
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/paraider/paraider/internal/treelog"
)

// A kept look reads back as written, whether its entries were parsed or
// passed on as read, and a damaged one is not taken for a look.
func TestLookRoundTrip(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "look")
	want := map[string]string{"a.txt": "0123abcd", "d/b.txt": "", "d/c d.txt": "ffff"}
	writeLook(p, look{at: treelog.Token{Gen: "g1", Off: 42}, git: "ref 7", dirty: knownDirty(want)})
	l, ok := readLook(p)
	if !ok || l.at != (treelog.Token{Gen: "g1", Off: 42}) || l.git != "ref 7" || !maps.Equal(l.dirty.Map(), want) {
		t.Fatalf("read back %+v (ok %v), want %q", l, ok, want)
	}
	// Passed on unparsed (the journal named nothing to look at again).
	l, _ = readLook(p)
	writeLook(p, look{at: treelog.Token{Gen: "g1", Off: 99}, git: l.git, dirty: l.dirty})
	if l, ok = readLook(p); !ok || l.at.Off != 99 || !maps.Equal(l.dirty.Map(), want) {
		t.Fatalf("passed on: %+v (ok %v), want %q", l, ok, want)
	}
	writeLook(p, look{at: treelog.Token{Gen: "g2"}, git: "x", dirty: knownDirty(map[string]string{})})
	if l, ok = readLook(p); !ok || len(l.dirty.Map()) != 0 {
		t.Fatalf("an empty look: %+v (ok %v)", l, ok)
	}
	for _, bad := range []string{"", "paraider-look 1\x00g\x00", "paraider-look 1\x00g\x001\x00x\x00a\x00", "paraider-look 1\x00g\x001\x00x\x00a\x00b\x00c\x00", "other 1\x00g\x001\x00x\x00"} {
		os.WriteFile(p, []byte(bad), 0o644)
		if l, ok := readLook(p); ok {
			t.Errorf("%q read as a look: %+v", bad, l)
		}
	}
}
