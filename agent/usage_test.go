package agent

import (
	"testing"
	"time"
)

func TestUsageError(t *testing.T) {
	for out, want := range map[string]string{
		"usage: aider [-h] ...\naider: error: unrecognized arguments: --yes\n": "aider: error: unrecognized arguments: --yes",
		"error: unknown option '--frobnicate'\n":                               "error: unknown option '--frobnicate'",
		"error: unexpected argument '--x' found\n\nUsage: codex exec\n":        "error: unexpected argument '--x' found",
		"Unknown argument: frob\n":                                             "Unknown argument: frob",
		"Tokens: 1k sent, 20 received.\nlitellm.RateLimitError: slow\n":        "",
		"I got an error: argument parsing is hard\n":                           "",
	} {
		if got := UsageError(out); got != want {
			t.Errorf("UsageError(%q) = %q; want %q", out, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for out, want := range map[string]time.Duration{
		"litellm.RateLimitError: 429, Retry-After: 30\n":        30 * time.Second,
		`{"error": {"retry_after": 12.5}}`:                      12500 * time.Millisecond,
		"Quota exceeded. Please retry in 20.5s.":                20500 * time.Millisecond,
		"retry-after: 1500ms":                                   1500 * time.Millisecond,
		"Retry after 2 seconds, then retry after 7 seconds":     7 * time.Second,
		"Retrying in 0.2 seconds...\nlitellm.RateLimitError: x": 0,
		"nothing here": 0,
	} {
		if got := RetryAfter(out); got != want {
			t.Errorf("RetryAfter(%q) = %v; want %v", out, got, want)
		}
	}
}
