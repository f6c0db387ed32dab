package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/state"
)

// TestStatusRecordsCache: a status reads each result once and then from
// status.cache while the result file keeps its size and time; a result
// written again, removed, or a cache that cannot be read, is read from
// the results again. Each row is as the result says.
func TestStatusRecordsCache(t *testing.T) {
	root := t.TempDir()
	writeRun(t, root)
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	writeResult(t, root, "a", state.StatusOK, t0, 10*time.Second, 0)
	writeResult(t, root, "b", state.StatusFailed, t0, 3*time.Second, 0)
	rows := func(what string) map[string]StatusRow {
		t.Helper()
		st, err := BuildStatus(root, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]StatusRow{}
		for _, r := range st.Rows {
			out[r.ID] = r
		}
		return out
	}
	got := rows("first")
	if a := got["a"]; a.State != Done || a.Attempt != 1 || a.Elapsed != 10*time.Second {
		t.Fatalf("a: %+v; want done, 1 attempt, 10s", a)
	}
	if b := got["b"]; b.State != Failed || b.LastLine != "the agent ended with exit status 1" {
		t.Fatalf("b: %+v; want FAILED with its reason", b)
	}

	// The cache answers while b's result is as it was: a reason planted
	// there comes back.
	cachePath := filepath.Join(root, recordsCachePath)
	cache, err := os.ReadFile(cachePath)
	if err != nil {
		t.Fatal(err)
	}
	planted := strings.Replace(string(cache), "exit status 1", "planted reason", 1)
	if planted == string(cache) {
		t.Fatalf("no reason of b in the cache:\n%s", cache)
	}
	if err := os.WriteFile(cachePath, []byte(planted), 0o644); err != nil {
		t.Fatal(err)
	}
	if b := rows("planted")["b"]; b.LastLine != "the agent ended with planted reason" {
		t.Fatalf("b: %+v; want the planted reason, from the cache", b)
	}

	// b written again (a success) is read again; a removed is pending.
	writeResult(t, root, "b", state.StatusOK, t0, 4*time.Second, 0)
	os.Remove(filepath.Join(root, state.ResultPath("a")))
	got = rows("rewritten")
	if b := got["b"]; b.State != Done || b.Elapsed != 4*time.Second {
		t.Fatalf("b: %+v after a new result; want done in 4s", b)
	}
	if a := got["a"]; a.State != Pending {
		t.Fatalf("a: %+v after its result was removed; want pending", a)
	}

	// Junk in the cache: the results are read again.
	if err := os.WriteFile(cachePath, []byte("b\t1\t2\t{\"s\":\"failed\"}\nnonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b := rows("junk")["b"]; b.State != Done {
		t.Fatalf("b: %+v with junk in the cache; want done", b)
	}
}
