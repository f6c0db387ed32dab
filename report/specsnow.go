package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/paraider/paraider/agent"
	"github.com/paraider/paraider/internal/par"
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
	Stamp plan.Stamp `json:"stamp"`
	Jobs  int        `json:"jobs"`
	Tasks int        `json:"tasks"`
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
	key, keyed := plan.Key(file, data)
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
	if json.Unmarshal(line, &h) != nil || h.Stamp.Key != key {
		return nil
	}
	lines, ok := plan.Lines(rest, h.Tasks)
	if !ok {
		return nil
	}
	// The disk looked at while the specs are decoded.
	holds := make(chan bool, 1)
	go func() { holds <- h.Stamp.Holds(root, key) }()
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

// writeSpecsNow keeps s, worked out from p, in cache under key, where
// paraider's directory is there to keep it.
func writeSpecsNow(cache, key string, p *plan.Plan, s *Specs) {
	if fi, err := os.Lstat(filepath.Dir(cache)); err != nil || !fi.IsDir() {
		return
	}
	stamp, ok := p.StampOf(key)
	if !ok {
		return
	}
	h := specsHead{Stamp: stamp, Jobs: s.Jobs, Tasks: len(s.Order)}
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
