package agent

import (
	"strconv"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/lazy"
)

// usageRE matches the lines command-line parsers print when they reject
// their arguments: argparse (Aider), commander (Claude Code, opencode),
// clap (Codex), yargs (Gemini CLI). Such a run fails the same way every
// time: retrying it only pays again.
var usageRE = lazy.Regexp(`(?m)^.*(?:` +
	`error: unrecognized arguments?:|` + // argparse
	`error: argument [^ ]+: |` +
	`error: the following arguments are required|` +
	`error: unknown option|error: too many arguments|error: missing required argument|` + // commander
	`error: unexpected argument|error: invalid value .* for|` + // clap
	`^Unknown arguments?: |^Not enough non-option arguments|^Invalid values:` + // yargs
	`).*$`)

// UsageError returns the line in which the agent rejected its command
// line, or "".
func UsageError(out string) string {
	return strings.TrimSpace(usageRE().FindString(out))
}

// retryAfterRE matches a provider's request to wait, as agents pass it on:
// an HTTP Retry-After header, a JSON retry_after field, Gemini's "Please
// retry in 20.5s". Aider's own "Retrying in 0.2 seconds..." is its inner
// loop, not the provider's word, and does not match.
var retryAfterRE = lazy.Regexp(`(?i)(?:retry[-_ ]after["']?\s*[:=]?\s*|please retry in\s+)(\d+(?:\.\d+)?)\s*(ms|s|secs?|seconds?)?\b`)

// RetryAfter returns the last wait a provider asked for in out; 0 when
// none.
func RetryAfter(out string) time.Duration {
	m := retryAfterRE().FindAllStringSubmatch(out, -1)
	if m == nil {
		return 0
	}
	last := m[len(m)-1]
	f, err := strconv.ParseFloat(last[1], 64)
	if err != nil || f < 0 {
		return 0
	}
	unit := time.Second
	if strings.EqualFold(last[2], "ms") {
		unit = time.Millisecond
	}
	return time.Duration(f * float64(unit))
}
