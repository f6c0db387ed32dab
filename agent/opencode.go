package agent

import (
	"fmt"
)

// opencodeEvent is one line of `opencode run --format json` (opencode
// 1.18): step_finish carries a step's tokens and cost, error a failed call.
type opencodeEvent struct {
	Type string `json:"type"`
	Part struct {
		Tokens struct {
			Input     int64 `json:"input"`
			Output    int64 `json:"output"`
			Reasoning int64 `json:"reasoning"`
			Cache     struct {
				Write int64 `json:"write"`
				Read  int64 `json:"read"`
			} `json:"cache"`
		} `json:"tokens"`
		Cost float64 `json:"cost"`
	} `json:"part"`
	Error struct {
		Name string `json:"name"`
		Data struct {
			Message     string `json:"message"`
			StatusCode  int    `json:"statusCode"`
			IsRetryable *bool  `json:"isRetryable"`
		} `json:"data"`
	} `json:"error"`
}

// ParseOpencodeJSON sums opencode's steps and finds a failed call that no
// finished step followed.
func ParseOpencodeJSON(out string) (Usage, *Failure) {
	var u Usage
	var fail *Failure
	for _, e := range jsonLines[opencodeEvent](out) {
		switch e.Type {
		case "step_finish":
			t := e.Part.Tokens
			u.Sent += t.Input + t.Cache.Read + t.Cache.Write
			u.Received += t.Output + t.Reasoning
			u.CacheHit += t.Cache.Read
			u.CacheWrite += t.Cache.Write
			u.Cost += e.Part.Cost
			u.Replies++
			fail = nil
		case "error":
			d := e.Error.Data
			f := statusFailure(d.StatusCode, fmt.Sprintf("%s: %s", e.Error.Name, d.Message))
			if d.IsRetryable != nil && !*d.IsRetryable && f.Kind == "other" {
				f.Retryable = false
			}
			fail = f
		}
	}
	return u, fail
}
