package report

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/state"
)

// TestStatusRecordsCache: a status reads each result once and then from
// status-records while the result file keeps its size and time; a result
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

// TestStatusDigestsCache: a status takes a file's digest from
// status-digests while the file's metadata is as it was (a digest planted
// there is believed), hashes it again after a write, and a task's files
// changed by hand show as such.
func TestStatusDigestsCache(t *testing.T) {
	defer func(d time.Duration) { sumcache.RacyFor = d }(sumcache.RacyFor)
	sumcache.RacyFor = 0 // every file counts as old enough to trust its times
	root := t.TempDir()
	writeRun(t, root)
	file := filepath.Join(root, "a.txt")
	if err := os.WriteFile(file, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	var spec state.Spec
	if err := state.ReadJSON(filepath.Join(root, state.SpecPath("a")), &spec); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	writeResult(t, root, "a", state.StatusOK, t0, time.Second, 0)
	var res state.Result
	state.ReadJSON(filepath.Join(root, state.ResultPath("a")), &res)
	res.OutputHash = state.OutputHash(root, spec.Files)
	if err := state.WriteJSON(filepath.Join(root, state.ResultPath("a")), res); err != nil {
		t.Fatal(err)
	}
	specs := &Specs{Order: []string{"a"}, ByID: map[string]*state.Spec{"a": &spec}, Jobs: 1}
	lineOfA := func() string {
		t.Helper()
		st, err := BuildStatusOf(root, t0.Add(time.Hour), specs)
		if err != nil || len(st.Rows) != 1 || st.Rows[0].State != Done {
			t.Fatalf("status: %+v, %v; want a done", st, err)
		}
		return st.Rows[0].LastLine
	}
	if line := lineOfA(); line != "" {
		t.Fatalf("a's files as it left them: %q; want no line", line)
	}
	cachePath := filepath.Join(root, digestsCachePath)
	kept := sumcache.Read(cachePath, sha256.Size*2)
	if _, ok := kept[file]; !ok {
		t.Fatalf("the cache holds %v; want a.txt", kept)
	}

	// Written again (until the change time moves on: a coarse clock may
	// give a write within its tick the same time): hashed again.
	fi, _ := os.Lstat(file)
	before, _ := sumcache.SigOf(fi)
	for deadline := time.Now().Add(10 * time.Second); ; {
		os.WriteFile(file, []byte("two"), 0o644)
		fi, _ = os.Lstat(file)
		if now, _ := sumcache.SigOf(fi); now.Ctime != before.Ctime {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change time never moved on")
		}
	}
	if line := lineOfA(); !strings.Contains(line, "changed by hand") {
		t.Fatalf("after a write: %q; want it changed by hand", line)
	}

	// The cache answers while the file is as it was: "one"'s digest
	// planted for the file that holds "two" is believed.
	sig, _ := sumcache.SigOf(fi)
	one := sha256.Sum256([]byte("one"))
	if err := sumcache.Write(cachePath, map[string]sumcache.Entry{file: {Sig: sig, Sum: hex.EncodeToString(one[:])}}); err != nil {
		t.Fatal(err)
	}
	if line := lineOfA(); line != "" {
		t.Fatalf("with the planted digest: %q; want no line (the cache was not read)", line)
	}
}

// TestRecordTimes: a record's time and end are the result's, and none
// where the result has none (a zero time has no Unix nanoseconds).
func TestRecordTimes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	r := recordOf(&state.Result{Started: t0, Finished: t0.Add(90 * time.Second)})
	if r.Duration() != 90*time.Second || !r.FinishedAt().Equal(t0.Add(90*time.Second)) {
		t.Errorf("record: %s, ended %s; want 1m30s, ended %s", r.Duration(), r.FinishedAt(), t0.Add(90*time.Second))
	}
	none := recordOf(&state.Result{Finished: t0})
	if zero := recordOf(&state.Result{}); zero.Duration() != 0 || !zero.FinishedAt().IsZero() {
		t.Errorf("a result with no times: %s, ended %s; want 0 and none", zero.Duration(), zero.FinishedAt())
	}
	if none.Duration() != (&state.Result{Finished: t0}).Duration() {
		t.Errorf("no start: %s; want the result's %s", none.Duration(), (&state.Result{Finished: t0}).Duration())
	}
}
