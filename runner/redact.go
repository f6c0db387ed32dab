package runner

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/paraider/paraider/internal/lazy"
)

// secretSuffixes name environment variables whose values never reach a log,
// a report or an error.
var secretSuffixes = []string{"_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_KEY"}

// keyRE matches the known formats of API keys and tokens, whatever
// variable (or file, or model output) they came from: OpenAI's, Anthropic's
// and OpenRouter's sk-..., GitHub's ghp_/gho_/ghs_/ghu_ and github_pat_...,
// AWS access key ids, Google API keys, Slack tokens.
var keyRE = lazy.Regexp(`\b(?:sk-[A-Za-z0-9_-]{16,}|gh[opsu]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|xox[abprs]-[A-Za-z0-9-]{10,})`)

// Secrets returns the values of the secret variables in env (KEY=VALUE
// form), longest first: those whose names look secret, and those named in
// names (the plan's redact: list, the agent's key variables). Values
// shorter than 4 bytes are left out: replacing them would garble ordinary
// text.
func Secrets(env []string, names ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 4 || seen[v] {
			continue
		}
		uk := strings.ToUpper(k)
		for _, n := range names {
			if k == n {
				seen[v] = true
				out = append(out, v)
				break
			}
		}
		if seen[v] {
			continue
		}
		for _, s := range secretSuffixes {
			if strings.HasSuffix(uk, s) || uk == strings.TrimPrefix(s, "_") {
				seen[v] = true
				out = append(out, v)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// Redact replaces every secret in s, and everything that looks like a
// key, with ***.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return keyRE().ReplaceAllString(s, "***")
}

// redactor is a writer that replaces secrets before they reach w. It holds
// back the end of a write that could be the start of a secret, so a secret
// split across two writes is still caught; Close flushes it.
type redactor struct {
	mu      sync.Mutex
	w       io.Writer
	secrets [][]byte
	keep    int // the longest secret's length less one
	buf     []byte
}

func newRedactor(w io.Writer, secrets []string) *redactor {
	r := &redactor{w: w}
	for _, s := range secrets {
		r.secrets = append(r.secrets, []byte(s))
		r.keep = max(r.keep, len(s)-1)
	}
	return r
}

func (r *redactor) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buf = append(r.buf, p...)
	for _, s := range r.secrets {
		r.buf = bytes.ReplaceAll(r.buf, s, []byte("***"))
	}
	// Keys are matched by their shape, which needs the whole key: a line
	// is written once it is complete. A long line with no break is written
	// up to its last byte that no key holds, so that a key is never cut in
	// two (each half too short for its shape); a run of such bytes longer
	// than holdAtMost is written all the same.
	n := len(r.buf) - r.held()
	if i := bytes.LastIndexByte(r.buf[:max(n, 0)], '\n'); i >= 0 {
		n = i + 1
	} else if n < 4096 {
		n = 0
	} else if i := bytes.LastIndexFunc(r.buf[:n], notInKey); i >= 0 {
		n = i + 1
	} else if n < holdAtMost {
		n = 0
	}
	if n > 0 {
		if _, err := r.w.Write(keyRE().ReplaceAll(r.buf[:n], []byte("***"))); err != nil {
			return 0, err
		}
		r.buf = append(r.buf[:0], r.buf[n:]...)
	}
	return len(p), nil
}

// holdAtMost is the longest run of bytes that could be a key held back
// for the next write.
const holdAtMost = 64 << 10

// notInKey reports whether c is a byte no key of keyRE's shapes holds.
func notInKey(c rune) bool {
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')
}

// held is how many bytes at the end of buf must wait for the next write:
// the longest end that is the start of a secret. Usually none, so the log
// is as fresh as the agent's output.
func (r *redactor) held() int {
	for k := min(len(r.buf), r.keep); k > 0; k-- {
		tail := r.buf[len(r.buf)-k:]
		for _, s := range r.secrets {
			if bytes.HasPrefix(s, tail) {
				return k
			}
		}
	}
	return 0
}

func (r *redactor) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := r.w.Write(keyRE().ReplaceAll(r.buf, []byte("***")))
	r.buf = nil
	return err
}
