package state

import (
	"os"
	"strings"
	"testing"
	"time"
)

func writeResult(t *testing.T, l Layout, id, status string, worked time.Duration) {
	t.Helper()
	start := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	r := Result{Task: id, Status: status, Attempts: []Attempt{{N: 1, Start: start, End: start.Add(worked)}}}
	if err := os.MkdirAll(l.Path(Dir+"/results"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(l.Path(ResultPath(id)), r); err != nil {
		t.Fatal(err)
	}
}

// TestWorked: the working time of each success, read once and then from
// the cache while the result keeps its size and time, read again when it
// changes, gone when the result is.
func TestWorked(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeResult(t, l, "a", StatusOK, 2*time.Second)
	writeResult(t, l, "b", StatusFailed, 3*time.Second)
	if got := l.Worked(); len(got) != 1 || got["a"] != 2 {
		t.Fatalf("Worked = %v; want a: 2", got)
	}
	// The cache answers while the result is as it was: a figure planted
	// there comes back.
	cache, err := os.ReadFile(l.Path(WorkedCachePath))
	if err != nil {
		t.Fatal(err)
	}
	planted := strings.Replace(string(cache), "\t2\n", "\t9\n", 1)
	if planted == string(cache) {
		t.Fatalf("no line for a in the cache:\n%s", cache)
	}
	if err := os.WriteFile(l.Path(WorkedCachePath), []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := l.Worked(); got["a"] != 9 {
		t.Fatalf("Worked = %v; want a: 9 from the cache", got)
	}
	// A result written again is read again.
	writeResult(t, l, "a", StatusOK, 15*time.Second)
	if got := l.Worked(); got["a"] != 15 {
		t.Fatalf("Worked = %v after a new result; want a: 15", got)
	}
	// A removed result is gone, from the cache too.
	os.Remove(l.Path(ResultPath("a")))
	if got := l.Worked(); len(got) != 0 {
		t.Fatalf("Worked = %v after the result was removed; want none", got)
	}
	if cache, _ := os.ReadFile(l.Path(WorkedCachePath)); strings.Contains(string(cache), "a\t") {
		t.Errorf("the cache still holds a:\n%s", cache)
	}
	// Junk in the cache is read again from the results.
	writeResult(t, l, "c", StatusOK, 4*time.Second)
	os.WriteFile(l.Path(WorkedCachePath), []byte("c\tx\ty\tz\nnonsense\n"), 0o644)
	if got := l.Worked(); got["c"] != 4 {
		t.Fatalf("Worked = %v with junk in the cache; want c: 4", got)
	}
}

// TestSpecHashes: each spec's Hash, read again when the spec changes.
func TestSpecHashes(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	os.MkdirAll(l.Path(Dir+"/specs"), 0o755)
	write := func(s *Spec) {
		t.Helper()
		if err := WriteJSON(l.Path(SpecPath(s.ID)), s); err != nil {
			t.Fatal(err)
		}
	}
	a := &Spec{ID: "a", Message: "one"}
	write(a)
	os.WriteFile(l.Path(SpecPath("junk")), []byte("{"), 0o644)
	if got := l.SpecHashes(); len(got) != 1 || got["a"] != a.Hash() {
		t.Fatalf("SpecHashes = %v; want a: %s", got, a.Hash())
	}
	a.Message = "a longer message"
	write(a)
	if got := l.SpecHashes(); got["a"] != a.Hash() {
		t.Fatalf("SpecHashes = %v after the spec changed; want a: %s", got, a.Hash())
	}
}
