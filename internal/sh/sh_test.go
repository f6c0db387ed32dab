package sh

import (
	"os/exec"
	"testing"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"paraider.yaml", "paraider.yaml"},
		{"--file=a/b.ts", "--file=a/b.ts"},
		{"my plan.yaml", "'my plan.yaml'"},
		{"it's.yaml", `'it'\''s.yaml'`},
		{"$HOME.yaml", "'$HOME.yaml'"},
		{"a*b", "'a*b'"},
		{"", "''"},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestRoundTrip has /bin/sh read the quoted words back.
func TestRoundTrip(t *testing.T) {
	words := []string{"plain", "two words", "it's", `back\slash`, "$(date)", "`x`", "*", "~", "#c", "new\nline", "", "ok:=@%"}
	out, err := exec.Command("/bin/sh", "-c", `for a in `+Join(words)+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	start := 0
	for i, b := range out {
		if b == 0 {
			got = append(got, string(out[start:i]))
			start = i + 1
		}
	}
	if len(got) != len(words) {
		t.Fatalf("sh read %d words %q; want %d", len(got), got, len(words))
	}
	for i := range words {
		if got[i] != words[i] {
			t.Errorf("word %d: sh read %q; want %q", i, got[i], words[i])
		}
	}
}
