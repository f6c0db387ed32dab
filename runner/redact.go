package runner

import (
	"bytes"
	"io"
	"sort"
	"strings"
	"sync"
)

// secretSuffixes name environment variables whose values never reach a log,
// a report or an error.
var secretSuffixes = []string{"_API_KEY", "_TOKEN", "_SECRET", "_PASSWORD", "_KEY"}

// Secrets returns the values of the secret-looking variables in env
// (KEY=VALUE form), longest first. Values shorter than 4 bytes are left out:
// replacing them would garble ordinary text.
func Secrets(env []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || len(v) < 4 || seen[v] {
			continue
		}
		uk := strings.ToUpper(k)
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

// Redact replaces every secret in s with ***.
func Redact(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
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
	if n := len(r.buf) - r.held(); n > 0 {
		if _, err := r.w.Write(r.buf[:n]); err != nil {
			return 0, err
		}
		r.buf = append(r.buf[:0], r.buf[n:]...)
	}
	return len(p), nil
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
	_, err := r.w.Write(r.buf)
	r.buf = nil
	return err
}
