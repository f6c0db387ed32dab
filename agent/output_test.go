package agent

import (
	"fmt"
	"testing"
)

func TestParseAiderUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		want Usage
	}{
		{"one line", "Tokens: 2.3k sent, 150 received. Cost: $0.0012 message, $0.0034 session.\n",
			Usage{Sent: 2300, Received: 150, Cost: 0.0034, Replies: 1}},
		{"several replies: last session cost, summed tokens",
			"Tokens: 950 sent, 12k received. Cost: $0.01 message, $0.01 session.\nApplied edit to a.ts\nTokens: 12k sent, 1.5k received. Cost: $0.02 message, $0.03 session.\n",
			Usage{Sent: 12950, Received: 13500, Cost: 0.03, Replies: 2}},
		{"cache parts move the cost to the next line",
			"Tokens: 2.3k sent, 1.2k cache write, 900 cache hit, 200 received.\nCost: $0.0020 message, $0.0030 session.\n",
			Usage{Sent: 2300, CacheWrite: 1200, CacheHit: 900, Received: 200, Cost: 0.003, Replies: 1}},
		{"one cache part", "Tokens: 3.1k sent, 900 cache hit, 20 received. Cost: $0.0001 message, $0.0001 session.\n",
			Usage{Sent: 3100, CacheHit: 900, Received: 20, Cost: 0.0001, Replies: 1}},
		{"no price for the model", "Tokens: 1.0k sent, 50 received.\n",
			Usage{Sent: 1000, Received: 50, Replies: 1}},
		{"windows line ends", "Tokens: 10 sent, 5 received. Cost: $0.50 message, $0.50 session.\r\n",
			Usage{Sent: 10, Received: 5, Cost: 0.5, Replies: 1}},
		{"nothing", "Aider v0.86\n", Usage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, fail := ParseAider(tc.out)
			if got != tc.want {
				t.Errorf("usage = %+v; want %+v", got, tc.want)
			}
			if fail != nil {
				t.Errorf("failure = %+v; want none", fail)
			}
		})
	}
}

func TestParseAiderFailures(t *testing.T) {
	for _, tc := range []struct {
		name      string
		out       string
		kind      string // "" for no failure
		retryable bool
	}{
		{"rate limit", "litellm.RateLimitError: RateLimitError: OpenrouterException - x\nThe API provider has rate limited you. Try again later or check your quotas.\n", "rate_limit", true},
		{"auth", "litellm.AuthenticationError: AuthenticationError: bad key\nThe API provider is not able to authenticate you. Check your API key.\n", "auth", false},
		{"friendly line alone", "The API provider's servers are down or overloaded.\n", "server", true},
		{"not found", "litellm.NotFoundError: model x not found\n", "not_found", false},
		{"context window", "Your estimated chat context of 210,345 tokens exceeds the 200,000 token limit for x!\n", "context", false},
		{"openrouter's vague error made precise", "litellm.APIConnectionError: OpenrouterException - 'choices'\nOpenRouter or the upstream API provider is down, overloaded or rate limiting your requests.\n", "rate_limit", true},
		{"a reply after the error: recovered", "litellm.RateLimitError: x\nRetrying in 0.2 seconds...\nTokens: 1k sent, 10 received. Cost: $0.01 message, $0.01 session.\n", "", false},
		{"an error after the reply: failed", "Tokens: 1k sent, 10 received. Cost: $0.01 message, $0.01 session.\nlitellm.InternalServerError: 502\n", "server", true},
		{"unknown litellm name is not a failure", "litellm.Something: hello\n", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, fail := ParseAider(tc.out)
			switch {
			case tc.kind == "" && fail != nil:
				t.Fatalf("failure %+v; want none", fail)
			case tc.kind != "" && fail == nil:
				t.Fatalf("no failure; want %s", tc.kind)
			case tc.kind != "" && (fail.Kind != tc.kind || fail.Retryable != tc.retryable):
				t.Fatalf("failure %+v; want kind %s retryable %v", fail, tc.kind, tc.retryable)
			}
		})
	}
}

func TestParseClaudeJSON(t *testing.T) {
	ok := `{"type":"result","subtype":"success","is_error":false,"num_turns":3,"result":"Done.","total_cost_usd":0.0129,"usage":{"input_tokens":2700,"cache_creation_input_tokens":100,"cache_read_input_tokens":50,"output_tokens":320}}`
	u, f := ParseClaudeJSON("some log line\n" + ok + "\n")
	if f != nil || u.Sent != 2850 || u.Received != 320 || u.CacheWrite != 100 || u.CacheHit != 50 || u.Cost != 0.0129 || u.Replies != 3 {
		t.Errorf("usage %+v, failure %v", u, f)
	}
	for _, tc := range []struct {
		status    int
		kind      string
		retryable bool
	}{{429, "rate_limit", true}, {500, "server", true}, {529, "server", true}, {401, "auth", false}, {404, "not_found", false}, {400, "bad_request", false}} {
		out := fmt.Sprintf(`{"type":"result","subtype":"success","is_error":true,"api_error_status":%d,"result":"API Error: %d","total_cost_usd":0,"usage":{}}`, tc.status, tc.status)
		_, f := ParseClaudeJSON(out)
		if f == nil || f.Kind != tc.kind || f.Retryable != tc.retryable || f.Line != fmt.Sprintf("API Error: %d", tc.status) {
			t.Errorf("status %d: failure %+v; want %s retryable %v", tc.status, f, tc.kind, tc.retryable)
		}
	}
	if _, f := ParseClaudeJSON("Error: not logged in\n"); f == nil || !f.Retryable {
		t.Errorf("no JSON result: failure %+v; want a retryable failure", f)
	}
}

func TestParseGeminiJSON(t *testing.T) {
	ok := "Warning: 256-color support not detected.\n{\n  \"session_id\": \"x\",\n  \"response\": \"Done.\",\n  \"stats\": {\n    \"models\": {\n      \"gemini-2.5-pro\": {\"api\": {\"totalRequests\": 2}, \"tokens\": {\"input\": 2700, \"prompt\": 2700, \"candidates\": 320, \"total\": 3020, \"cached\": 100, \"thoughts\": 30, \"tool\": 0}}\n    }\n  }\n}\n"
	u, f := ParseGeminiJSON(ok)
	if f != nil || u.Sent != 2700 || u.Received != 350 || u.CacheHit != 100 || u.Replies != 2 || u.Cost != 0 {
		t.Errorf("usage %+v, failure %v", u, f)
	}
	for _, tc := range []struct {
		code      int
		kind      string
		retryable bool
	}{{429, "rate_limit", true}, {500, "server", true}, {503, "server", true}, {403, "auth", false}, {41, "auth", false}, {1, "other", true}} {
		out := fmt.Sprintf("{\n  \"session_id\": \"x\",\n  \"error\": {\n    \"type\": \"Error\",\n    \"message\": \"boom\",\n    \"code\": %d\n  }\n}\n", tc.code)
		_, f := ParseGeminiJSON(out)
		if f == nil || f.Kind != tc.kind || f.Retryable != tc.retryable || f.Line != fmt.Sprintf("boom (code %d)", tc.code) {
			t.Errorf("code %d: failure %+v; want %s retryable %v", tc.code, f, tc.kind, tc.retryable)
		}
	}
	if _, f := ParseGeminiJSON("plain text\n"); f == nil {
		t.Error("no JSON result: want a failure")
	}
}

func TestParseOpencodeJSON(t *testing.T) {
	step := func(in, out, read int64, cost float64) string {
		return fmt.Sprintf(`{"type":"step_finish","part":{"type":"step-finish","tokens":{"total":0,"input":%d,"output":%d,"reasoning":5,"cache":{"write":0,"read":%d}},"cost":%g}}`, in, out, read, cost)
	}
	u, f := ParseOpencodeJSON(`{"type":"step_start","part":{}}` + "\n" + step(1200, 300, 0, 0.0081) + "\n" + step(1500, 20, 100, 0.0048) + "\n")
	if f != nil || u.Sent != 2800 || u.Received != 330 || u.CacheHit != 100 || u.Replies != 2 || u.Cost < 0.01289 || u.Cost > 0.01291 {
		t.Errorf("usage %+v, failure %v", u, f)
	}
	errLine := `{"type":"error","error":{"name":"APIError","data":{"message":"slow down","statusCode":429,"isRetryable":true}}}`
	if _, f := ParseOpencodeJSON(errLine + "\n"); f == nil || f.Kind != "rate_limit" || !f.Retryable || f.Line != "APIError: slow down" {
		t.Errorf("429: %+v", f)
	}
	if _, f := ParseOpencodeJSON(errLine + "\n" + step(1, 1, 0, 0) + "\n"); f != nil {
		t.Errorf("a finished step after the error: %+v; want none", f)
	}
	auth := `{"type":"error","error":{"name":"APIError","data":{"message":"bad key","statusCode":401,"isRetryable":false}}}`
	if _, f := ParseOpencodeJSON(auth); f == nil || f.Kind != "auth" || f.Retryable {
		t.Errorf("401: %+v", f)
	}
}

func TestParseCodexJSON(t *testing.T) {
	ok := `{"type":"thread.started","thread_id":"x"}
{"type":"turn.started"}
{"type":"error","message":"Reconnecting... 1/5 (stream disconnected)"}
{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done."}}
{"type":"turn.completed","usage":{"input_tokens":2700,"cached_input_tokens":100,"cache_write_input_tokens":0,"output_tokens":320,"reasoning_output_tokens":30}}
`
	u, f := ParseCodexJSON(ok)
	if f != nil || u.Sent != 2700 || u.Received != 350 || u.CacheHit != 100 || u.Replies != 1 || u.Cost != 0 {
		t.Errorf("usage %+v, failure %v", u, f)
	}
	for _, tc := range []struct {
		msg       string
		kind      string
		retryable bool
	}{
		{"exceeded retry limit, last status: 429 Too Many Requests", "rate_limit", true},
		{"exceeded retry limit, last status: 500 Internal Server Error", "server", true},
		{"unexpected status 401 Unauthorized", "auth", false},
		{"stream disconnected before completion", "other", true},
		{"last status: 401 Unauthorized", "auth", false},
	} {
		_, f := ParseCodexJSON(`{"type":"turn.failed","error":{"message":"` + tc.msg + `"}}`)
		if f == nil || f.Kind != tc.kind || f.Retryable != tc.retryable || f.Line != tc.msg {
			t.Errorf("%q: %+v; want %s retryable %v", tc.msg, f, tc.kind, tc.retryable)
		}
	}
}
