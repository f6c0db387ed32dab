package agent

import (
	"strconv"

	"github.com/paraider/paraider/internal/lazy"
)

// codexEvent is one line of `codex exec --json` (Codex 0.171): a finished
// turn carries its usage; a failed one its error. Plain "error" events
// are retries in progress, not the end.
type codexEvent struct {
	Type  string `json:"type"`
	Usage struct {
		InputTokens       int64 `json:"input_tokens"`
		CachedInputTokens int64 `json:"cached_input_tokens"`
		CacheWriteTokens  int64 `json:"cache_write_input_tokens"`
		OutputTokens      int64 `json:"output_tokens"`
		ReasoningTokens   int64 `json:"reasoning_output_tokens"`
	} `json:"usage"`
	Error struct {
		Message string `json:"message"`
	} `json:"error"`
}

var codexStatusRE = lazy.Regexp(`status:? (\d{3})`)

// ParseCodexJSON sums Codex's turns (Codex reports no cost) and reads a
// failed turn, with the HTTP status its message names.
func ParseCodexJSON(out string) (Usage, *Failure) {
	var u Usage
	var fail *Failure
	for _, e := range jsonLines[codexEvent](out) {
		switch e.Type {
		case "turn.completed":
			u.Sent += e.Usage.InputTokens
			u.Received += e.Usage.OutputTokens + e.Usage.ReasoningTokens
			u.CacheHit += e.Usage.CachedInputTokens
			u.CacheWrite += e.Usage.CacheWriteTokens
			u.Replies++
			fail = nil
		case "turn.failed":
			status := 0
			if m := codexStatusRE().FindStringSubmatch(e.Error.Message); m != nil {
				status, _ = strconv.Atoi(m[1])
			}
			fail = statusFailure(status, e.Error.Message)
		}
	}
	return u, fail
}
