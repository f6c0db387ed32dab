package runner

import (
	"bytes"
	"strings"
	"testing"
)

func TestSecrets(t *testing.T) {
	env := []string{"OPENROUTER_API_KEY=sk-or-1234", "GITHUB_TOKEN=ghp_abcdef", "DB_SECRET=hunter22",
		"AWS_SECRET_ACCESS_KEY=aws-key-1", "SHORT_TOKEN=ab", "HOME=/root", "PATH=/usr/bin"}
	got := Secrets(env)
	for _, want := range []string{"sk-or-1234", "ghp_abcdef", "hunter22", "aws-key-1"} {
		if !contains(got, want) {
			t.Errorf("Secrets lacks %q: %q", want, got)
		}
	}
	for _, not := range []string{"ab", "/root", "/usr/bin"} {
		if contains(got, not) {
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
	r.Write([]byte("text"))
	if out.String() != "plain text" {
		t.Fatalf("without secrets nothing is held back; got %q", out.String())
	}
	r.Close()
	if !strings.HasSuffix(out.String(), "text") {
		t.Fatal(out.String())
	}
}
