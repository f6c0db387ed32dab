package fakemodel

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
)

type geminiPart struct {
	Text             string          `json:"text,omitempty"`
	FunctionCall     json.RawMessage `json:"functionCall,omitempty"`
	FunctionResponse json.RawMessage `json:"functionResponse,omitempty"`
}

type geminiRequest struct {
	Contents []struct {
		Role  string       `json:"role"`
		Parts []geminiPart `json:"parts"`
	} `json:"contents"`
	SystemInstruction struct {
		Parts []geminiPart `json:"parts"`
	} `json:"systemInstruction"`
}

// Gemini CLI lists the workspace in its first message.
var workspaceRE = regexp.MustCompile(`Workspace Directories:\*{0,2}\s*\n\s*-\s*(\S+)`)

// gemini answers POST /v1beta/models/MODEL:streamGenerateContent (and
// :generateContent, :countTokens) as Gemini CLI calls them.
func (s *Server) gemini(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if strings.HasSuffix(r.URL.Path, ":countTokens") {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"totalTokens":1000}`)
		return
	}
	switch s.served(r, body) {
	case http.StatusTooManyRequests:
		googleError(w, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED", "scripted: quota exceeded")
		return
	case http.StatusInternalServerError:
		googleError(w, http.StatusInternalServerError, "INTERNAL", "scripted: internal error")
		return
	}
	var req geminiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		googleError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "bad json")
		return
	}
	var texts []string
	lastIsToolResult := false
	for i, c := range req.Contents {
		for _, p := range c.Parts {
			if p.Text != "" && c.Role == "user" {
				texts = append(texts, p.Text)
			}
			if len(p.FunctionResponse) > 0 && i == len(req.Contents)-1 {
				lastIsToolResult = true
			}
		}
	}
	prompt := strings.Join(texts, "\n")
	cwd := ""
	for _, p := range req.SystemInstruction.Parts {
		prompt += "\n" + p.Text
	}
	if m := workspaceRE.FindStringSubmatch(prompt); m != nil {
		cwd = m[1]
	}
	var parts []map[string]any
	if m := filesRE.FindStringSubmatch(strings.Join(texts, "\n")); m != nil && !lastIsToolResult && cwd != "" {
		for _, f := range strings.Split(m[1], ", ") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			parts = append(parts, map[string]any{"functionCall": map[string]any{
				"name": "write_file",
				"args": map[string]string{
					"file_path": filepath.Join(cwd, f),
					"content":   fmt.Sprintf("// %s\n// written through Gemini CLI by the scripted server\n", firstLine(lastTask(strings.Join(texts, "\n")))),
				},
			}})
		}
	}
	in, out := 1500, 20
	if len(parts) > 0 {
		in, out = 1200, 300
	} else {
		parts = []map[string]any{{"text": "Done."}}
	}
	resp := map[string]any{
		"candidates":    []any{map[string]any{"content": map[string]any{"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}},
		"usageMetadata": map[string]int{"promptTokenCount": in, "candidatesTokenCount": out, "totalTokenCount": in + out},
		"modelVersion":  "gemini-scripted",
	}
	b, _ := json.Marshal(resp)
	if strings.HasSuffix(r.URL.Path, ":streamGenerateContent") {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\n", b)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

func googleError(w http.ResponseWriter, code int, status, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"status":%q}}`, code, msg, status)
}
