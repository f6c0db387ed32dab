package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/par"
	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/state"
)

// specsNowPath keeps the specs SpecsNow worked out last, with what they
// were worked out from: the plan's bytes, its message files' bytes, the
// paraider program, and what its load found on disk (plan.Disk). A
// status of ten thousand tasks spent most of its time parsing the plan
// and freezing its specs, and the plan had mostly not changed since the
// last one. A new shape of spec needs a new program, which misses the
// cache: the key holds the program's metadata.
const specsNowPath = state.Dir + "/status-specs"

// specsHead is the first line of the file at specsNowPath, in JSON; a
// line for each spec follows, in the plan's order: its id, a tab, which
// of the shared parts it has, a tab, and the spec without its agent's
// part in JSON (which holds no newline), so that the lines are decoded
// side by side.
type specsHead struct {
	Key     string            `json:"key"`     // specsKey's
	Sources map[string]string `json:"sources"` // each message file's SHA-256, by its path in the plan
	Disk    plan.Disk         `json:"disk"`
	Jobs    int               `json:"jobs"`
	Tasks   int               `json:"tasks"`
	// Shared are the agents' parts of the specs, each once (most of a
	// spec's bytes, the same for all the tasks of an agent).
	Shared []json.RawMessage `json:"shared"`
}

// agentPart is the part of a spec that is its agent's.
type agentPart struct {
	Agent  agent.Profile `json:"agent"`
	Redact []string      `json:"redact,omitempty"`
}

// SpecsNow are the tasks of the plan in file as they are now, frozen in
// memory as gen would freeze them: nil when the plan does not load (then
// the generated specs are the ones to go by). They come from the cache at
// specsNowPath where it was worked out from the same bytes by the same
// program and the disk is as its load found it.
func SpecsNow(file string) *Specs {
	data, err := plan.Read(file)
	if err != nil {
		return nil
	}
	root := filepath.Dir(file)
	cache := filepath.Join(root, specsNowPath)
	key, keyed := specsKey(file, data)
	if keyed {
		if s := readSpecsNow(cache, key, root); s != nil {
			return s
		}
	}
	p, err := plan.Parse(file, data)
	if err != nil {
		return nil
	}
	s := SpecsOf(p)
	if s != nil && keyed {
		writeSpecsNow(cache, key, p, s)
	}
	return s
}

// specsKey is the key of specs worked out from the plan in file holding
// data, by this program: false when the program cannot be looked at.
func specsKey(file string, data []byte) (string, bool) {
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
	fmt.Fprintf(h, "status-specs 1\x00%s\x00%s\x00%+v\x00", abs, exe, sig)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), true
}

// sumOf is the SHA-256 of a message, in hex.
func sumOf(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// readSpecsNow returns the specs kept in cache under key, where the
// message files under root hold what they held and the disk is as the
// plan's load found it; nil otherwise.
func readSpecsNow(cache, key, root string) *Specs {
	b, err := state.ReadOwn(cache, plan.MaxPlanSize*8)
	if err != nil {
		return nil
	}
	line, rest, _ := bytes.Cut(b, []byte("\n"))
	var h specsHead
	if json.Unmarshal(line, &h) != nil || h.Key != key {
		return nil
	}
	lines := make([][]byte, 0, h.Tasks)
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		lines = append(lines, line)
	}
	if len(lines) != h.Tasks {
		return nil
	}
	// The disk looked at while the specs are decoded.
	holds := make(chan bool, 1)
	go func() { holds <- sourcesHold(root, h.Sources) && h.Disk.Holds(root) }()
	shared := make([]agentPart, len(h.Shared))
	for i, raw := range h.Shared {
		if json.Unmarshal(raw, &shared[i]) != nil {
			<-holds
			return nil
		}
	}
	ids := make([]string, len(lines))
	list := make([]*state.Spec, len(lines))
	par.Each(len(lines), func(i int) {
		id, rest, ok1 := bytes.Cut(lines[i], []byte("\t"))
		n, js, ok2 := bytes.Cut(rest, []byte("\t"))
		p, err := strconv.Atoi(string(n))
		var s state.Spec
		if !ok1 || !ok2 || err != nil || p < 0 || p >= len(shared) || json.Unmarshal(js, &s) != nil {
			return
		}
		s.Agent, s.Redact = shared[p].Agent, shared[p].Redact
		ids[i], list[i] = string(id), &s
	})
	if !<-holds {
		return nil
	}
	s := &Specs{Order: ids, Jobs: h.Jobs, ByID: make(map[string]*state.Spec, len(list))}
	for i, id := range ids {
		if list[i] == nil || s.ByID[id] != nil {
			return nil
		}
		s.ByID[id] = list[i]
	}
	return s
}

// sourcesHold reports whether the message files under root hold what
// their sums say.
func sourcesHold(root string, sums map[string]string) bool {
	for rel, sum := range sums {
		data, err := plan.Read(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil || sumOf(string(data)) != sum {
			return false
		}
	}
	return true
}

// writeSpecsNow keeps s, worked out from p, in cache under key, where
// paraider's directory is there to keep it.
func writeSpecsNow(cache, key string, p *plan.Plan, s *Specs) {
	if fi, err := os.Lstat(filepath.Dir(cache)); err != nil || !fi.IsDir() {
		return
	}
	h := specsHead{Key: key, Sources: map[string]string{}, Disk: p.Disk(), Jobs: s.Jobs, Tasks: len(s.Order)}
	// The message files as the plan holds them: their bytes read again
	// now could be newer than the parse.
	for _, t := range append(slices.Clone(p.Tasks), p.Repairs()...) {
		if t.MessageFile != "" {
			h.Sources[t.MessageFile] = sumOf(t.Message)
		}
	}
	for _, rel := range p.Sources[1:] {
		if _, ok := h.Sources[rel]; !ok {
			return // a source of the plan that no task names: not kept
		}
	}
	index := map[string]int{}
	var body bytes.Buffer
	for _, id := range s.Order {
		spec := *s.ByID[id]
		part, err := json.Marshal(agentPart{spec.Agent, spec.Redact})
		if err != nil {
			return
		}
		n, ok := index[string(part)]
		if !ok {
			n = len(h.Shared)
			index[string(part)] = n
			h.Shared = append(h.Shared, part)
		}
		spec.Agent, spec.Redact = agent.Profile{}, nil
		js, err := json.Marshal(&spec)
		if err != nil {
			return
		}
		fmt.Fprintf(&body, "%s\t%d\t%s\n", id, n, js)
	}
	head, err := json.Marshal(&h)
	if err != nil {
		return
	}
	state.WriteUnsynced(cache, append(append(head, '\n'), body.Bytes()...))
}
