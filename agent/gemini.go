package agent

import (
	"encoding/json"
	"fmt"
	"strings"
)

// geminiResult is the object `gemini --output-format json` prints
// (JsonFormatter in Gemini CLI 0.61): the response and session stats, or
// an error with the API's status as its code. It is indented over many
// lines; an error goes to stderr.
type geminiResult struct {
	Response *string `json:"response"`
	Stats    struct {
		Models map[string]struct {
			Tokens struct {
				Prompt     int64 `json:"prompt"`
				Candidates int64 `json:"candidates"`
				Cached     int64 `json:"cached"`
				Thoughts   int64 `json:"thoughts"`
			} `json:"tokens"`
			API struct {
				TotalRequests int `json:"totalRequests"`
			} `json:"api"`
		} `json:"models"`
	} `json:"stats"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Code    int    `json:"code"`
	} `json:"error"`
}

// ParseGeminiJSON reads Gemini CLI's JSON result: tokens from its stats
// (Gemini CLI reports no cost), and its error, whose code is the API's
// HTTP status when a model call failed.
func ParseGeminiJSON(out string) (Usage, *Failure) {
	var res *geminiResult
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.TrimRight(l, "\r") != "{" {
			continue
		}
		var r geminiResult
		dec := json.NewDecoder(strings.NewReader(strings.Join(lines[i:], "\n")))
		if dec.Decode(&r) == nil && (r.Response != nil || r.Error != nil || r.Stats.Models != nil) {
			res = &r
		}
	}
	if res == nil {
		return Usage{}, &Failure{Kind: "other", Line: "no JSON result from Gemini CLI", Retryable: true}
	}
	var u Usage
	for _, m := range res.Stats.Models {
		u.Sent += m.Tokens.Prompt
		u.Received += m.Tokens.Candidates + m.Tokens.Thoughts
		u.CacheHit += m.Tokens.Cached
		u.Replies += m.API.TotalRequests
	}
	if res.Error == nil {
		return u, nil
	}
	f := statusFailure(res.Error.Code, fmt.Sprintf("%s (code %d)", res.Error.Message, res.Error.Code))
	if res.Error.Code == 41 {
		// Gemini CLI's own code for an auth method it cannot use.
		f.Kind, f.Retryable = "auth", false
	}
	return u, f
}
