package agent

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/paraider/paraider/internal/lazy"
)

// Usage is what one agent run reports of tokens and money.
type Usage struct {
	Sent       int64   `json:"tokens_sent"`
	Received   int64   `json:"tokens_received"`
	CacheWrite int64   `json:"cache_write,omitempty"`
	CacheHit   int64   `json:"cache_hit,omitempty"`
	Cost       float64 `json:"cost"`    // dollars
	Replies    int     `json:"replies"` // model replies seen
	// CostUnknown says the agent printed a cost that cannot be one
	// (negative, not a number, infinite): Cost is then 0 and not known.
	CostUnknown bool `json:"cost_unknown,omitempty"`
}

// checked makes u's figures ones paraider can add up: a cost must be a
// finite number of dollars, not negative (an agent's output is input:
// a cost of -1000 would unspend a budget), and token counts not
// negative. A cost that is not one is unknown, never trusted.
func (u Usage) checked() Usage {
	if math.IsNaN(u.Cost) || math.IsInf(u.Cost, 0) || u.Cost < 0 {
		u.Cost, u.CostUnknown = 0, true
	}
	u.Sent, u.Received = max(u.Sent, 0), max(u.Received, 0)
	u.CacheWrite, u.CacheHit = max(u.CacheWrite, 0), max(u.CacheHit, 0)
	return u
}

// Failure is a failed model call the agent reported but did not raise.
type Failure struct {
	Kind      string // rate_limit, auth, server, timeout, context, not_found, bad_request, connection, other
	Line      string // the line that reported it
	Retryable bool   // whether another attempt may succeed
}

// Aider's usage line (aider/coders/base_coder.py,
// calculate_and_show_tokens_and_cost):
//
//	Tokens: 2.3k sent, 1.2k cache write, 900 cache hit, 150 received. Cost: $0.0012 message, $0.0034 session.
//
// The cache parts are optional; with both, the Cost part moves to the next
// line; without a price for the model, it is missing.
var (
	tokensRE = lazy.Regexp(`^Tokens: ([0-9.]+k?) sent(?:, ([0-9.]+k?) cache write)?(?:, ([0-9.]+k?) cache hit)?, ([0-9.]+k?) received\.`)
	costRE   = lazy.Regexp(`Cost: \$([0-9.]+) message, \$([0-9.]+) session\.`)
)

// parseTokens reads Aider's token counts: "950", "2.3k", "12k".
func parseTokens(s string) int64 {
	mult := 1.0
	if strings.HasSuffix(s, "k") {
		mult, s = 1000, strings.TrimSuffix(s, "k")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0
	}
	return int64(f*mult + 0.5)
}

// aiderErrors maps litellm's exception names, which Aider prints as
// "litellm.NAME: ...", to a kind and whether Aider itself counts them as
// worth retrying (aider/exceptions.py).
var aiderErrors = map[string]Failure{
	"APIConnectionError":          {Kind: "connection", Retryable: true},
	"APIError":                    {Kind: "server", Retryable: true},
	"APIResponseValidationError":  {Kind: "server", Retryable: true},
	"AuthenticationError":         {Kind: "auth"},
	"AzureOpenAIError":            {Kind: "server", Retryable: true},
	"BadRequestError":             {Kind: "bad_request"},
	"BudgetExceededError":         {Kind: "other", Retryable: true},
	"ContentPolicyViolationError": {Kind: "other", Retryable: true},
	"ContextWindowExceededError":  {Kind: "context"},
	"InternalServerError":         {Kind: "server", Retryable: true},
	"InvalidRequestError":         {Kind: "bad_request", Retryable: true},
	"JSONSchemaValidationError":   {Kind: "other", Retryable: true},
	"NotFoundError":               {Kind: "not_found"},
	"OpenAIError":                 {Kind: "server", Retryable: true},
	"RateLimitError":              {Kind: "rate_limit", Retryable: true},
	"RouterRateLimitError":        {Kind: "rate_limit", Retryable: true},
	"ServiceUnavailableError":     {Kind: "server", Retryable: true},
	"UnprocessableEntityError":    {Kind: "other", Retryable: true},
	"UnsupportedParamsError":      {Kind: "bad_request", Retryable: true},
	"Timeout":                     {Kind: "timeout", Retryable: true},
}

// The friendly lines Aider prints after the exception (aider/exceptions.py).
var aiderFriendly = map[string]Failure{
	"The API provider is not able to authenticate you. Check your API key.":                       {Kind: "auth"},
	"The API provider has rate limited you. Try again later or check your quotas.":                {Kind: "rate_limit", Retryable: true},
	"The API provider's servers are down or overloaded.":                                          {Kind: "server", Retryable: true},
	"The API provider timed out without returning a response. They may be down or overloaded.":    {Kind: "timeout", Retryable: true},
	"The API provider has refused the request due to a safety policy about the content.":          {Kind: "other", Retryable: true},
	"OpenRouter or the upstream API provider is down, overloaded or rate limiting your requests.": {Kind: "rate_limit", Retryable: true},
}

var (
	litellmRE = lazy.Regexp(`^litellm\.([A-Za-z]+)\b`)
	// base_coder.py, when the chat no longer fits the model.
	contextRE = lazy.Regexp(`exceeds the [0-9,.k]+ token limit|context window (?:is )?exceeded`)
)

// A Parser reads one agent's output: the usage it reports, and a failed
// model call it printed but did not raise.
type Parser struct {
	Parse func(out string) (Usage, *Failure)
	About string // what it reads, for errors and help
	// Progress reads the output of a run still going, in dir; nil: the
	// last line, and Parse's usage so far.
	Progress func(out, dir string) Progress
}

// Parsers are the output parsers a profile can name (its `output:`): the
// one place their names are spelled. A new agent's format is a parser
// here and a profile in templates/.
var Parsers = map[string]Parser{
	"aider":         {ParseAider, "Aider's usage lines and litellm errors", nil},
	"claude-json":   {ParseClaudeJSON, "Claude Code's --output-format stream-json (or json)", claudeProgress},
	"codex-json":    {ParseCodexJSON, "Codex's exec --json events", codexProgress},
	"gemini-json":   {ParseGeminiJSON, "Gemini CLI's --output-format json", geminiProgress},
	"opencode-json": {ParseOpencodeJSON, "opencode's run --format json events", opencodeProgress},
	"none":          {func(string) (Usage, *Failure) { return Usage{}, nil }, "nothing: no usage, failures by exit status only", nil},
}

// ParserNames are the names of Parsers, sorted.
func ParserNames() []string {
	names := make([]string, 0, len(Parsers))
	for n := range Parsers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParserHelp lists the parsers with what each reads.
func ParserHelp() string {
	var b strings.Builder
	for i, n := range ParserNames() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q (%s)", n, Parsers[n].About)
	}
	return b.String()
}

// Parse reads an agent's output with the named parser; an unknown name
// reads nothing.
func Parse(parser, out string) (Usage, *Failure) {
	if p, ok := Parsers[parser]; ok {
		u, f := p.Parse(out)
		return u.checked(), f
	}
	return Usage{}, nil
}

// ParseAider reads an Aider run's output. It returns the usage summed over
// the run, and the last failed model call that no successful reply followed.
func ParseAider(out string) (Usage, *Failure) {
	var u Usage
	var fail *Failure
	var lastSession float64
	sessionSeen := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(strings.TrimRight(line, "\r"))
		if m := tokensRE().FindStringSubmatch(line); m != nil {
			u.Sent += parseTokens(m[1])
			u.CacheWrite += parseTokens(m[2])
			u.CacheHit += parseTokens(m[3])
			u.Received += parseTokens(m[4])
			u.Replies++
			fail = nil // a reply came after any earlier error
		}
		if m := costRE().FindStringSubmatch(line); m != nil {
			msg, _ := strconv.ParseFloat(m[1], 64)
			sess, _ := strconv.ParseFloat(m[2], 64)
			u.Cost += msg
			lastSession, sessionSeen = sess, true
			continue
		}
		if m := litellmRE().FindStringSubmatch(line); m != nil {
			if f, ok := aiderErrors[m[1]]; ok {
				f.Line = line
				fail = &f
			}
			continue
		}
		if f, ok := aiderFriendly[line]; ok {
			if fail == nil {
				f.Line = line
				fail = &f
			} else {
				// Aider's own reading of the error is the more precise
				// one (OpenRouter's connection errors that are rate limits).
				fail.Kind, fail.Retryable = f.Kind, f.Retryable
			}
			continue
		}
		if contextRE().MatchString(line) {
			fail = &Failure{Kind: "context", Line: line}
		}
	}
	if sessionSeen {
		// The session figure is Aider's own running total: trust it over
		// the sum of rounded message costs.
		u.Cost = lastSession
	}
	return u, fail
}

// statusFailure is a failed call an agent reported with the API's HTTP
// status: what kind it is, and whether another attempt may succeed.
func statusFailure(status int, line string) *Failure {
	f := &Failure{Kind: "other", Retryable: true, Line: line}
	switch {
	case status == 429:
		f.Kind = "rate_limit"
	case status == 401 || status == 403:
		f.Kind, f.Retryable = "auth", false
	case status == 404:
		f.Kind, f.Retryable = "not_found", false
	case status == 400 || status == 413:
		f.Kind, f.Retryable = "bad_request", false
	case status >= 500 && status < 600:
		f.Kind = "server"
	}
	return f
}

// jsonLines decodes each line of out that holds a JSON object, in order;
// other lines (logs, warnings) are skipped.
func jsonLines[T any](out string) []T {
	var all []T
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var v T
		if json.Unmarshal([]byte(line), &v) == nil {
			all = append(all, v)
		}
	}
	return all
}
