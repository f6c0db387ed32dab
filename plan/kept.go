package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/paraider/paraider/internal/par"
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

// keptHead is the second line of a kept plan (Kept): the plan but its
// tasks, which follow, one a line, to be decoded side by side.
type keptHead struct {
	Plan  *Plan `json:"plan"`
	Tasks int   `json:"tasks"`
}

// Kept is p as kept for a later load (FromKept): its stamp, then the plan
// but its tasks, then a line for each task, each in JSON (which holds no
// newline). nil when p cannot be kept.
func (p *Plan) Kept(key string) []byte {
	s, ok := p.StampOf(key)
	if !ok {
		return nil
	}
	rest := *p
	rest.Tasks = nil
	h := keptHead{Plan: &rest, Tasks: len(p.Tasks)}
	var buf bytes.Buffer
	for _, v := range []any{s, h} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		buf.Write(append(b, '\n'))
	}
	for _, t := range p.Tasks {
		b, err := json.Marshal(t)
		if err != nil {
			return nil
		}
		buf.Write(append(b, '\n'))
	}
	return buf.Bytes()
}

// FromKept is the plan in file, whose bytes have key, from kept (Kept's):
// nil unless its stamp holds. The plan is as Parse would give it but for
// the lines and columns of its nodes, which only a parse's errors use.
func FromKept(file, key string, kept []byte) *Plan {
	line, rest, _ := bytes.Cut(kept, []byte("\n"))
	var s Stamp
	if json.Unmarshal(line, &s) != nil || s.Key != key {
		return nil
	}
	root := filepath.Dir(file)
	holds := make(chan bool, 1)
	go func() { holds <- s.Holds(root, key) }()
	p := decodeKept(rest)
	if !<-holds || p == nil {
		return nil
	}
	p.File, p.Root, p.inGit = file, root, s.Disk.InGit
	return p
}

// Lines are the n lines of rest, a kept file after its head (a line a
// task: Kept's, and status's specs), to be decoded side by side; false
// when it holds another number of lines.
func Lines(rest []byte, n int) ([][]byte, bool) {
	lines := make([][]byte, 0, n)
	for len(rest) > 0 {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		lines = append(lines, line)
	}
	return lines, len(lines) == n
}

// decodeKept is the plan in kept's lines after the stamp: nil when they
// do not hold one.
func decodeKept(kept []byte) *Plan {
	line, rest, _ := bytes.Cut(kept, []byte("\n"))
	var h keptHead
	if json.Unmarshal(line, &h) != nil || h.Plan == nil {
		return nil
	}
	lines, ok := Lines(rest, h.Tasks)
	if !ok {
		return nil
	}
	p := h.Plan
	p.Tasks = make([]*Task, len(lines))
	par.Each(len(lines), func(i int) {
		var t Task
		if json.Unmarshal(lines[i], &t) == nil {
			p.Tasks[i] = &t
		}
	})
	p.byID = make(map[string]*Task, len(p.Tasks))
	for _, t := range p.Tasks {
		if t == nil || p.byID[t.ID] != nil {
			return nil
		}
		p.byID[t.ID] = t
	}
	// JSON keeps no empty environment (state.Settings leaves it out),
	// and a parse gives every task one, empty or not.
	for _, t := range append(slices.Clone(p.Tasks), p.Repairs()...) {
		if t.Env == nil {
			t.Env = map[string]string{}
		}
	}
	return p
}
