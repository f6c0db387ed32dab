package fakemodel

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Codex puts the working directory in its first message.
var codexCwdRE = regexp.MustCompile(`<cwd>([^<]+)</cwd>`)

// openai answers POST /v1/responses (OpenAI's Responses API) as Codex
// calls it through a custom model provider: for a prompt that names files
// it asks to run one shell command that writes them (Codex's exec_command
// tool), then ends the turn when the command's output comes back.
func (s *Server) openai(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch s.served(r, body) {
	case http.StatusTooManyRequests:
		openaiError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "scripted: slow down")
		return
	case http.StatusInternalServerError:
		openaiError(w, http.StatusInternalServerError, "server_error", "scripted: internal error")
		return
	}
	var req struct {
		Model string `json:"model"`
		Input []struct {
			Type    string `json:"type"`
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		} `json:"input"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		openaiError(w, http.StatusBadRequest, "invalid_request_error", "bad json")
		return
	}
	var texts []string
	lastIsToolResult := false
	for i, it := range req.Input {
		for _, c := range it.Content {
			if c.Text != "" && it.Role == "user" {
				texts = append(texts, c.Text)
			}
		}
		if it.Type == "function_call_output" && i == len(req.Input)-1 {
			lastIsToolResult = true
		}
	}
	prompt := strings.Join(texts, "\n")
	cwd := ""
	if m := codexCwdRE.FindStringSubmatch(prompt); m != nil {
		cwd = m[1]
	}
	var item map[string]any
	in, out := 1500, 20
	if m := filesRE.FindStringSubmatch(prompt); m != nil && !lastIsToolResult && cwd != "" {
		var script []string
		for _, f := range strings.Split(m[1], ", ") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			content := fmt.Sprintf("// %s\n// written through Codex by the scripted server\n", firstLine(lastTask(prompt)))
			script = append(script, fmt.Sprintf("mkdir -p \"$(dirname %s)\" && printf '%%s' %s > %s", shq(f), shq(content), shq(f)))
		}
		args, _ := json.Marshal(map[string]string{"cmd": strings.Join(script, " && "), "workdir": cwd})
		item = map[string]any{"type": "function_call", "id": "fc_scripted", "call_id": fmt.Sprintf("call_%d", s.Requests.Load()),
			"name": "exec_command", "arguments": string(args), "status": "completed"}
		in, out = 1200, 300
	} else {
		item = map[string]any{"type": "message", "id": "msg_scripted", "role": "assistant", "status": "completed",
			"content": []any{map[string]any{"type": "output_text", "text": "Done.", "annotations": []any{}}}}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	ev := func(data map[string]any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", data["type"], b)
	}
	resp := map[string]any{"id": "resp_scripted", "object": "response", "model": req.Model, "status": "in_progress", "output": []any{}}
	ev(map[string]any{"type": "response.created", "response": resp})
	ev(map[string]any{"type": "response.output_item.added", "output_index": 0, "item": item})
	ev(map[string]any{"type": "response.output_item.done", "output_index": 0, "item": item})
	done := map[string]any{"id": "resp_scripted", "object": "response", "model": req.Model, "status": "completed", "output": []any{item},
		"usage": map[string]any{"input_tokens": in, "output_tokens": out, "total_tokens": in + out,
			"input_tokens_details": map[string]int{"cached_tokens": 0}, "output_tokens_details": map[string]int{"reasoning_tokens": 0}}}
	ev(map[string]any{"type": "response.completed", "response": done})
}

func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func openaiError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"message":%q,"type":%q,"code":%q}}`, msg, kind, kind)
}
