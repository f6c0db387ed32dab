package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/paraider/paraider/internal/sumcache"
)

// What is worked out from a plan (the checked plan itself, for gen; its
// frozen specs, for status) can be kept for the next reader of the same
// plan: parsing ten thousand tasks' YAML and looking at their paths on
// disk was most of a `paraider gen` or `status` that changed nothing.
// A Stamp says what the kept work was worked out from; where it Holds, a
// new parse would give the same plan.

// Stamp is what a plan was worked out from: its file's path and bytes and
// the paraider program (Key), its message files' bytes, and what its load
// found on disk.
type Stamp struct {
	Key     string            `json:"key"`
	Sources map[string]string `json:"sources"` // each message file's SHA-256, by its path in the plan
	Disk    Disk              `json:"disk"`
}

// Key is the key of what this program works out from the plan in file
// holding data: false when the program cannot be looked at (then nothing
// is kept). The program's path and metadata stand for its code: another
// build, another key.
func Key(file string, data []byte) (string, bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", false
	}
	sig, ok := sumcache.SigOf(fi)
	if !ok {
		return "", false
	}
	h := sha256.New()
	fmt.Fprintf(h, "paraider plan 1\x00%s\x00%s\x00%+v\x00", abs, exe, sig)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), true
}

// sumOf is the SHA-256 of a text, in hex.
func sumOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// StampOf is the stamp of p, loaded from bytes of key: false when it
// cannot be told (a source no task names).
func (p *Plan) StampOf(key string) (Stamp, bool) {
	s := Stamp{Key: key, Sources: map[string]string{}, Disk: p.Disk()}
	// The message files as the plan holds them: their bytes read again
	// now could be newer than the parse.
	for _, t := range append(slices.Clone(p.Tasks), p.Repairs()...) {
		if t.MessageFile != "" {
			s.Sources[t.MessageFile] = sumOf(t.Message)
		}
	}
	for _, rel := range p.Sources[1:] {
		if _, ok := s.Sources[rel]; !ok {
			return Stamp{}, false
		}
	}
	return s, true
}

// Holds reports whether a parse of the plan under root, whose bytes have
// key, would give what s was stamped on: the same key, the message
// files' bytes, and the disk as the load found it.
func (s Stamp) Holds(root, key string) bool {
	if s.Key != key {
		return false
	}
	for rel, sum := range s.Sources {
		data, err := Read(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil || sumOf(string(data)) != sum {
			return false
		}
	}
	return s.Disk.Holds(root)
}

// Kept is p as kept for a later load (FromKept): its stamp in JSON on
// the first line, then the plan in gob. nil when p cannot be kept.
func (p *Plan) Kept(key string) []byte {
	s, ok := p.StampOf(key)
	if !ok {
		return nil
	}
	head, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	buf := bytes.NewBuffer(append(head, '\n'))
	if gob.NewEncoder(buf).Encode(p) != nil {
		return nil
	}
	return buf.Bytes()
}

// FromKept is the plan in file, whose bytes have key, from kept (Kept's):
// nil unless its stamp holds. The plan is as Parse would give it but for
// the lines and columns of its nodes, which only a parse's errors use.
func FromKept(file, key string, kept []byte) *Plan {
	head, body, ok := bytes.Cut(kept, []byte("\n"))
	var s Stamp
	if !ok || json.Unmarshal(head, &s) != nil || s.Key != key {
		return nil
	}
	root := filepath.Dir(file)
	holds := make(chan bool, 1)
	go func() { holds <- s.Holds(root, key) }()
	p := new(Plan)
	err := gob.NewDecoder(bytes.NewReader(body)).Decode(p)
	if !<-holds || err != nil {
		return nil
	}
	p.File, p.Root, p.inGit = file, root, s.Disk.InGit
	p.byID = make(map[string]*Task, len(p.Tasks))
	for _, t := range p.Tasks {
		if t == nil || p.byID[t.ID] != nil {
			return nil
		}
		p.byID[t.ID] = t
	}
	// gob keeps no empty list: a parse gives every task its deps, empty
	// or not (run.json writes an empty list of deps as such).
	for _, t := range append(slices.Clone(p.Tasks), p.Repairs()...) {
		if t.Deps == nil {
			t.Deps = []string{}
		}
	}
	return p
}
