// Package fakemodel is a scripted model API server for tests: real agent
// CLIs pointed at it run whole tasks offline. It speaks Anthropic's Messages
// API (Claude Code, opencode), Google's Gemini API (Gemini CLI) and OpenAI's
// Responses API (Codex, through a custom model provider), and listens on
// loopback only.
//
// For a prompt that names files ("Files you may create or edit: a, b."), it
// answers with one write-file tool call per file, then, when the tool
// results come back, with a short text that ends the turn. Responses stream
// as server-sent events and the connection closes at the end. A prompt
// holding "[server:429]" or "[server:500]" gets that error instead. A
// prompt holding "[server:answers=DIR]" has its files written with the
// content of DIR/1.txt the first time, DIR/2.txt the next, and so on (the
// last one again when there are no more). A prompt holding
// "[server:read-first]" reads each file (the agent's read tool) before it
// writes them, as Claude Code requires of a file that exists. A prompt
// holding "[server:wait=DURATION]" waits that long before the reply that ends the
// turn, so that a test sees the agent at work.
package fakemodel

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is a running fake.
type Server struct {
	URL      string
	Requests atomic.Int64 // Messages API requests served
	Log      io.Writer    // every request body, when set
	srv      *http.Server
	answered sync.Map // answers dir -> *atomic.Int64, times written from it
	ln       net.Listener
}

// Start listens on a free loopback port.
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{URL: "http://" + ln.Addr().String(), ln: ln}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.handle)}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

type request struct {
	Tools []struct {
		Name        string `json:"name"`
		InputSchema struct {
			Properties map[string]any `json:"properties"`
		} `json:"input_schema"`
	} `json:"tools"`
	Model    string          `json:"model"`
	Stream   bool            `json:"stream"`
	System   json.RawMessage `json:"system"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
}

type block struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var (
	// opencode quotes a message that holds a newline.
	filesRE = regexp.MustCompile(`Files you may create or edit: ([^\n"]*?)\.(?:\n|"|$)`)
	// Claude Code says "Primary working directory:", opencode "Working directory:".
	cwdRE = regexp.MustCompile(`(?:Primary working directory|Working directory): (\S+)`)
)

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1beta/models/") {
		s.gemini(w, r)
		return
	}
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/responses") {
		s.openai(w, r)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/v1/messages") {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, `{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	if strings.HasSuffix(r.URL.Path, "/count_tokens") {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"input_tokens":1000}`)
		return
	}
	switch s.served(r, body) {
	case http.StatusTooManyRequests:
		apiError(w, http.StatusTooManyRequests, "rate_limit_error", "scripted: slow down")
		return
	case http.StatusInternalServerError:
		apiError(w, http.StatusInternalServerError, "api_error", "scripted: internal error")
		return
	}

	s.anthropic(w, r, &req)
}

// anthropic answers a Messages API request: a write tool call for each
// file the prompt names, or "Done." once the tools have answered.
func (s *Server) anthropic(w http.ResponseWriter, r *http.Request, req *request) {
	prompt, lastIsToolResult := conversation(req)
	cwd := ""
	if m := cwdRE.FindStringSubmatch(systemText(req.System) + "\n" + prompt); m != nil {
		cwd = m[1]
	}
	// With read-first, the first round of tool calls reads the files
	// and the second writes them.
	readFirst := strings.Contains(prompt, "[server:read-first]")
	rounds := toolRounds(req)
	writeNow := !lastIsToolResult || (readFirst && rounds == 1)
	var files []string
	if m := filesRE.FindStringSubmatch(prompt); m != nil && writeNow {
		for _, f := range strings.Split(m[1], ", ") {
			if f = strings.TrimSpace(f); f != "" {
				files = append(files, f)
			}
		}
	}
	model := req.Model
	if model == "" {
		model = "claude-sonnet-4-5"
	}
	if rt, rp := toolNamed(req, "read"); readFirst && rounds == 0 && len(files) > 0 && cwd != "" && rt != "" && rp != "" {
		var calls []toolCall
		for i, f := range files {
			input, _ := json.Marshal(map[string]string{rp: filepath.Join(cwd, f)})
			calls = append(calls, toolCall{id: fmt.Sprintf("toolu_%d_%d", s.Requests.Load(), i), name: rt, input: string(input)})
		}
		respond(w, req.Stream, s.messageID(), model, nil, calls, 1200, 100)
		return
	}
	tool, pathArg := writeTool(req)
	if len(files) > 0 && cwd != "" && tool != "" && pathArg != "" {
		var calls []toolCall
		scripted, hasScript := s.scripted(prompt)
		for i, f := range files {
			content := fmt.Sprintf("// %s\n// written through %s by the scripted server\n", firstLine(lastTask(prompt)), agentName(r))
			if hasScript {
				content = scripted
			}
			input, _ := json.Marshal(map[string]string{
				pathArg:   filepath.Join(cwd, f),
				"content": content,
			})
			calls = append(calls, toolCall{id: fmt.Sprintf("toolu_%d_%d", s.Requests.Load(), i), name: tool, input: string(input)})
		}
		respond(w, req.Stream, s.messageID(), model, nil, calls, 1200, 300)
		return
	}
	if m := waitRE.FindStringSubmatch(prompt); m != nil && lastIsToolResult {
		if d, err := time.ParseDuration(m[1]); err == nil {
			select {
			case <-time.After(d):
			case <-r.Context().Done():
				return
			}
		}
	}
	respond(w, req.Stream, s.messageID(), model, []string{"Done."}, nil, 1500, 20)
}

var waitRE = regexp.MustCompile(`\[server:wait=([^\]]+)\]`)

// messageID is a message id of its own for each reply, as the API gives.
func (s *Server) messageID() string { return fmt.Sprintf("msg_scripted_%d", s.Requests.Load()) }

var answersRE = regexp.MustCompile(`\[server:answers=([^\]]+)\]`)

// scripted is the next scripted answer for a prompt that asks for them.
func (s *Server) scripted(prompt string) (string, bool) {
	m := answersRE.FindStringSubmatch(prompt)
	if m == nil {
		return "", false
	}
	c, _ := s.answered.LoadOrStore(m[1], new(atomic.Int64))
	n := c.(*atomic.Int64).Add(1)
	for ; n > 0; n-- {
		if data, err := os.ReadFile(filepath.Join(m[1], fmt.Sprintf("%d.txt", n))); err == nil {
			return string(data), true
		}
	}
	return "no scripted answer in " + m[1], true
}

// conversation is the user's texts so far, and whether the last message
// carries tool results.
func conversation(req *request) (prompt string, lastIsToolResult bool) {
	var texts []string
	for i, m := range req.Messages {
		var blocks []map[string]any
		if json.Unmarshal(m.Content, &blocks) != nil {
			var str string
			json.Unmarshal(m.Content, &str)
			blocks = []map[string]any{{"type": "text", "text": str}}
		}
		for _, b := range blocks {
			if t, _ := b["text"].(string); t != "" && m.Role == "user" {
				texts = append(texts, t)
			}
			if b["type"] == "tool_result" && i == len(req.Messages)-1 {
				lastIsToolResult = true
			}
		}
	}
	return strings.Join(texts, "\n"), lastIsToolResult
}

// toolRounds counts the user messages that carry tool results: the
// rounds of tool calls answered so far.
func toolRounds(req *request) int {
	n := 0
	for _, m := range req.Messages {
		var blocks []map[string]any
		if m.Role != "user" || json.Unmarshal(m.Content, &blocks) != nil {
			continue
		}
		for _, b := range blocks {
			if b["type"] == "tool_result" {
				n++
				break
			}
		}
	}
	return n
}

// writeTool is the agent's tool for writing a file: Claude Code's Write
// (file_path) or opencode's write (filePath).
func writeTool(req *request) (tool, pathArg string) {
	return toolNamed(req, "write", "write_file")
}

// toolNamed is the agent's tool of one of these names (in any case), and
// its argument that holds a path.
func toolNamed(req *request, names ...string) (tool, pathArg string) {
	for _, t := range req.Tools {
		if n := strings.ToLower(t.Name); slices.Contains(names, n) {
			tool = t.Name
			for p := range t.InputSchema.Properties {
				if strings.Contains(strings.ToLower(p), "path") {
					pathArg = p
				}
			}
		}
	}
	return tool, pathArg
}

type toolCall struct{ id, name, input string }

// served counts and logs a request, and returns the HTTP error its prompt
// asks for with "[server:429]" or "[server:500]", or 0.
func (s *Server) served(r *http.Request, body []byte) int {
	s.Requests.Add(1)
	if s.Log != nil {
		fmt.Fprintf(s.Log, "=== %s\n%s\n", r.URL, body)
	}
	for _, code := range []int{http.StatusTooManyRequests, http.StatusInternalServerError} {
		if strings.Contains(string(body), fmt.Sprintf("[server:%d]", code)) {
			return code
		}
	}
	return 0
}

// agentName tells the clients apart by their user agent, for the content
// written.
func agentName(r *http.Request) string {
	ua := strings.ToLower(r.Header.Get("User-Agent"))
	switch {
	case strings.Contains(ua, "claude"):
		return "Claude Code"
	case strings.Contains(ua, "opencode"):
		return "opencode"
	}
	return "an agent"
}

// systemText is the system prompt as text: a string or a list of blocks.
func systemText(raw json.RawMessage) string {
	var str string
	if json.Unmarshal(raw, &str) == nil {
		return str
	}
	var blocks []block
	json.Unmarshal(raw, &blocks)
	var b strings.Builder
	for _, bl := range blocks {
		b.WriteString(bl.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// lastTask is the task's message: the prompt text before the file list.
func lastTask(prompt string) string {
	if i := strings.Index(prompt, "Files you may create or edit:"); i >= 0 {
		prompt = prompt[:i]
	}
	lines := strings.Split(strings.TrimSpace(prompt), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "<") {
			return l
		}
	}
	return "task"
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func apiError(w http.ResponseWriter, code int, kind, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("retry-after", "0")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"type":"error","error":{"type":%q,"message":%q}}`, kind, msg)
}

// respond answers with texts or tool calls, streamed or whole.
func respond(w http.ResponseWriter, stream bool, id, model string, texts []string, calls []toolCall, in, out int) {
	stop := "end_turn"
	if len(calls) > 0 {
		stop = "tool_use"
	}
	if !stream {
		var content []map[string]any
		for _, t := range texts {
			content = append(content, map[string]any{"type": "text", "text": t})
		}
		for _, c := range calls {
			var input any
			json.Unmarshal([]byte(c.input), &input)
			content = append(content, map[string]any{"type": "tool_use", "id": c.id, "name": c.name, "input": input})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
			"stop_reason": stop, "stop_sequence": nil, "usage": map[string]int{"input_tokens": in, "output_tokens": out},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	flusher, _ := w.(http.Flusher)
	ev := func(name string, data any) {
		b, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
		if flusher != nil {
			flusher.Flush()
		}
	}
	ev("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]int{"input_tokens": in, "output_tokens": 1}}})
	i := 0
	for _, t := range texts {
		ev("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": map[string]any{"type": "text", "text": ""}})
		ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]any{"type": "text_delta", "text": t}})
		ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
		i++
	}
	for _, c := range calls {
		ev("content_block_start", map[string]any{"type": "content_block_start", "index": i, "content_block": map[string]any{"type": "tool_use", "id": c.id, "name": c.name, "input": map[string]any{}}})
		ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": i, "delta": map[string]any{"type": "input_json_delta", "partial_json": c.input}})
		ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": i})
		i++
	}
	ev("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]int{"output_tokens": out}})
	ev("message_stop", map[string]any{"type": "message_stop"})
}
