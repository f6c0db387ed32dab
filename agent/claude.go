package agent

import (
	"fmt"
)

// claudeResult is the object `claude -p --output-format json` prints, and
// the last event of `--output-format stream-json`.
type claudeResult struct {
	Type           string      `json:"type"`
	Subtype        string      `json:"subtype"`
	IsError        bool        `json:"is_error"`
	APIErrorStatus int         `json:"api_error_status"`
	Result         string      `json:"result"`
	NumTurns       int         `json:"num_turns"`
	TotalCostUSD   float64     `json:"total_cost_usd"`
	Usage          claudeUsage `json:"usage"`
}

// claudeUsage is the tokens of a result, or of one message.
type claudeUsage struct {
	InputTokens              int64 `json:"input_tokens"`
	OutputTokens             int64 `json:"output_tokens"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens"`
}

// ParseClaudeJSON reads Claude Code's JSON result: usage and cost, and
// is_error with the API's status when the model call failed.
func ParseClaudeJSON(out string) (Usage, *Failure) {
	var res *claudeResult
	for _, r := range jsonLines[claudeResult](out) {
		if r.Type == "result" {
			res = &r
		}
	}
	if res == nil {
		return Usage{}, &Failure{Kind: "other", Line: "no JSON result from Claude Code", Retryable: true}
	}
	u := Usage{
		Sent:     res.Usage.InputTokens + res.Usage.CacheCreationInputTokens + res.Usage.CacheReadInputTokens,
		Received: res.Usage.OutputTokens, CacheWrite: res.Usage.CacheCreationInputTokens,
		CacheHit: res.Usage.CacheReadInputTokens, Cost: res.TotalCostUSD, Replies: res.NumTurns,
	}
	if !res.IsError {
		return u, nil
	}
	line := res.Result
	if line == "" {
		line = fmt.Sprintf("Claude Code failed (%s)", res.Subtype)
	}
	return u, statusFailure(res.APIErrorStatus, line)
}
