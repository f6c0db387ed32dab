package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/internal/par"
	"github.com/paraider/paraider/state"
)

// recordsCachePath keeps what a status needs of each result (a record),
// by the result file's size and time: a status of ten thousand tasks
// decoded ten thousand results of attempts, times and token counts to
// use a tenth of each, and most had not changed since the last status.
// A new shape of record needs a new name: the file says nothing of its
// own.
const recordsCachePath = state.Dir + "/status-records"

// digestsCachePath keeps the digest of each file a status digested (the
// tasks' files, as outputs and as inputs), by the file's metadata
// (internal/sumcache): a status of ten thousand tasks read and hashed
// ten thousand files, most unchanged since the last status.
const digestsCachePath = state.Dir + "/status-digests"

// sha256Hex is the SHA-256 of the file at p, in hex: state.FileDigest's
// sum of a regular file.
func sha256Hex(p string) (string, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// record is what a status needs of a task's result: enough to judge the
// task as exec would, and to draw its row.
type record struct {
	Status      string `json:"s"`
	SpecHash    string `json:"sh,omitempty"`
	InputHash   string `json:"ih,omitempty"`
	OutputHash  string `json:"oh,omitempty"`
	Check       string `json:"c,omitempty"`
	Run         string `json:"r,omitempty"`
	Reason      string `json:"re,omitempty"` // its first line
	Interrupted bool   `json:"i,omitempty"`
	Took        int64  `json:"d"`           // ns, start to end (state.Result.Duration)
	Finished    int64  `json:"e,omitempty"` // unix ns; 0: not known
	Attempts    int    `json:"a"`
}

func recordOf(res *state.Result) *record {
	r := &record{
		Status: res.Status, SpecHash: res.SpecHash, InputHash: res.InputHash, OutputHash: res.OutputHash,
		Check: res.Check, Run: res.Run, Reason: human.FirstLine(res.Reason), Interrupted: res.Interrupted,
		Took: int64(res.Duration()), Attempts: len(res.Attempts),
	}
	if !res.Finished.IsZero() {
		r.Finished = res.Finished.UnixNano()
	}
	return r
}

// Duration is the task's time from its start to its end, as
// state.Result's.
func (r *record) Duration() time.Duration { return time.Duration(r.Took) }

// FinishedAt is when the task's last attempt ended; zero when not known.
func (r *record) FinishedAt() time.Time {
	if r.Finished == 0 {
		return time.Time{}
	}
	return time.Unix(0, r.Finished)
}

// statusRecords returns the record of each result under root, a result
// decoded only when its file changed since the last status (state.MemoDir).
func statusRecords(root string) map[string]*record {
	path := state.Layout{Root: root}.Path
	var fresh sync.Map // file name -> *record, decoded just now
	values := state.MemoDir(filepath.Dir(path(state.ResultPath("x"))), path(recordsCachePath), func(file string) string {
		var res state.Result
		if state.ReadJSON(file, &res) != nil {
			return ""
		}
		r := recordOf(&res)
		b, err := json.Marshal(r)
		if err != nil {
			return ""
		}
		fresh.Store(filepath.Base(file), r)
		return string(b) // JSON: no tab nor newline outside its strings' escapes
	})
	ids := make([]string, 0, len(values))
	for id := range values {
		ids = append(ids, id)
	}
	decoded := make([]*record, len(ids))
	par.Each(len(ids), func(i int) {
		if r, ok := fresh.Load(ids[i] + ".json"); ok {
			decoded[i] = r.(*record)
			return
		}
		var r record
		if json.Unmarshal([]byte(values[ids[i]]), &r) == nil {
			decoded[i] = &r
		}
	})
	out := make(map[string]*record, len(ids))
	for i, id := range ids {
		if decoded[i] != nil {
			out[id] = decoded[i]
		}
	}
	return out
}
