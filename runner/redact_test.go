package runner

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	env := []string{"OPENROUTER_API_KEY=sk-or-1234", "GITHUB_TOKEN=ghp_abcdef", "DB_SECRET=hunter22",
		"AWS_SECRET_ACCESS_KEY=aws-key-1", "SHORT_TOKEN=ab", "HOME=/root", "PATH=/usr/bin"}
	got := Secrets(env)
	for _, want := range []string{"sk-or-1234", "ghp_abcdef", "hunter22", "aws-key-1"} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets lacks %q: %q", want, got)
		}
	}
	for _, not := range []string{"ab", "/root", "/usr/bin"} {
		if slices.Contains(got, not) {
			t.Errorf("Secrets has %q: %q", not, got)
		}
	}
}

// A secret split across writes, at every split point, is still replaced.
func TestRedactorSplitWrites(t *testing.T) {
	secret := "sk-or-v1-0123456789"
	text := "key=" + secret + " and again " + secret + "\n"
	for i := 0; i <= len(text); i++ {
		for j := i; j <= len(text); j += 3 {
			var out bytes.Buffer
			r := newRedactor(&out, []string{secret})
			r.Write([]byte(text[:i]))
			r.Write([]byte(text[i:j]))
			r.Write([]byte(text[j:]))
			r.Close()
			if got := out.String(); got != "key=*** and again ***\n" {
				t.Fatalf("split at %d,%d: got %q", i, j, got)
			}
		}
	}
}

func TestRedactorPassesTextThrough(t *testing.T) {
	var out bytes.Buffer
	r := newRedactor(&out, nil)
	r.Write([]byte("plain "))
	r.Write([]byte("text\nmore"))
	if out.String() != "plain text\n" {
		t.Fatalf("a complete line is written at once; got %q", out.String())
	}
	r.Close()
	if out.String() != "plain text\nmore" {
		t.Fatalf("Close writes the rest; got %q", out.String())
	}
}

// Keys of known shapes are caught whatever variable they came from, also
// split across writes.
func TestRedactorKeyShapes(t *testing.T) {
	keys := []string{
		"sk-or-v1-0123456789abcdef0123", "sk-ant-api03-abcdefghijklmnop", "sk-proj-ABCDEFGHIJKLMNOPQRST",
		"ghp_0123456789abcdefghijABCDEFGHIJ", "github_pat_11ABCDEFG0123456789_abcdefghij",
		"AKIAIOSFODNN7EXAMPLE", "AIzaSyA0123456789abcdefghijklmnopqrstuv",
	}
	for _, k := range keys {
		text := "key " + k + " here\n"
		for i := 1; i < len(text); i++ {
			var out bytes.Buffer
			r := newRedactor(&out, nil)
			r.Write([]byte(text[:i]))
			r.Write([]byte(text[i:]))
			r.Close()
			if got := out.String(); got != "key *** here\n" {
				t.Fatalf("%s split at %d: got %q", k, i, got)
			}
		}
		if got := Redact("reason: "+k, nil); got != "reason: ***" {
			t.Errorf("Redact: %q", got)
		}
	}
	// Ordinary words with the same starts are left alone.
	for _, s := range []string{"task-sk-1", "risk-free", "AKIA", "ghp_short"} {
		if got := Redact(s, nil); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

// Variables the plan names in redact: are secret whatever their names.
func TestSecretsByName(t *testing.T) {
	env := []string{"NPM_AUTH=npm-auth-value", "MYSECRET=hunter2hunter2", "PLAIN=visible-value", "OPENAI_API_KEY=k-123456"}
	got := Secrets(env, "NPM_AUTH", "MYSECRET")
	want := map[string]bool{"npm-auth-value": true, "hunter2hunter2": true, "k-123456": true}
	if len(got) != len(want) {
		t.Fatalf("Secrets = %q", got)
	}
	for _, s := range got {
		if !want[s] {
			t.Errorf("Secrets has %q", s)
		}
	}
}

// TestRedactorLongLine: a key of a known shape in a long line with no
// break (an agent's JSON stream, a minified file) is caught wherever the
// writes cut it, also past the 4 KB after which such a line is written
// in parts; and text with no such key goes out whole.
func TestRedactorLongLine(t *testing.T) {
	key := "sk-ant-api03-abcdefghijklmnopqrstuvwxyz"
	filler := strings.Repeat("word, ", 1000) // 6,000 bytes
	text := filler + key + " " + filler
	for _, cut := range []int{4090, 4096, len(filler) + 5, len(filler) + 20, len(filler) + len(key) - 1} {
		var out bytes.Buffer
		r := newRedactor(&out, nil)
		r.Write([]byte(text[:cut]))
		r.Write([]byte(text[cut:]))
		r.Close()
		got := out.String()
		if strings.Contains(got, "abcdefghij") || got != filler+"*** "+filler {
			t.Fatalf("cut at %d: the key is not redacted whole (%d bytes out; around it: %q)", cut, len(got), got[len(filler)-10:min(len(got), len(filler)+60)])
		}
	}
	// A run of key bytes longer than is held back goes out all the same.
	var out bytes.Buffer
	r := newRedactor(&out, nil)
	blob := strings.Repeat("A", holdAtMost+10)
	r.Write([]byte(blob))
	if out.Len() == 0 {
		t.Fatal("a 64 KB run with no break and no key was held back whole")
	}
	r.Close()
	if out.String() != blob {
		t.Fatalf("the run was changed: %d bytes out of %d", out.Len(), len(blob))
	}
}
