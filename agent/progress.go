package agent

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
)

// Progress is what a running agent has shown so far: the last thing it
// did, as one line, and the tokens and money it has reported up to now.
// The figures of a finished attempt are Parse's, from the agent's own
// final account; these are for watching.
type Progress struct {
	Line  string
	Usage Usage
}

// ProgressOf reads the log of an attempt still running with the named
// parser; root is the repository's root, to show paths in. The log starts
// with paraider's header (lines starting with "#"), which is not the
// agent's.
func ProgressOf(parser, log, root string) Progress {
	body, dir := skipHeader(log, root)
	p, ok := Parsers[parser]
	if ok && p.Progress != nil {
		return p.Progress(body, dir)
	}
	var pr Progress
	if ok {
		pr.Usage, _ = p.Parse(body)
	}
	pr.Line = lastLine(body, func(l string) string { return l })
	return pr
}

// skipHeader drops the leading lines paraider wrote before the agent
// started, and reads from them where the agent works: the root, or its
// worktree.
func skipHeader(log, root string) (body, dir string) {
	dir = root
	for strings.HasPrefix(log, "#") {
		line, rest, _ := strings.Cut(log, "\n")
		if wt, ok := strings.CutPrefix(line, "# worktree: "); ok {
			wt, _, _ = strings.Cut(wt, " (")
			dir = filepath.Join(root, wt)
		}
		log = rest
	}
	return log, dir
}

// lastLine is the last line of out that says something, as describe puts
// it ("" when a line says nothing to a person: a JSON event of no interest).
// paraider's own notes after the agent ended are not the agent's.
func lastLine(out string, describe func(string) string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "# paraider:") {
			continue
		}
		if d := strings.TrimSpace(describe(l)); d != "" {
			d, _, _ = strings.Cut(d, "\n")
			return d
		}
	}
	return ""
}

// jsonEvent decodes one line of JSON-lines output; ok is false for any
// other line.
func jsonEvent[T any](line string) (v T, ok bool) {
	if !strings.HasPrefix(line, "{") {
		return v, false
	}
	return v, json.Unmarshal([]byte(line), &v) == nil
}

// describeJSON shows the lines that are not JSON as they are, and JSON
// events as event says.
func describeJSON[T any](event func(T) string) func(string) string {
	return func(line string) string {
		if !strings.HasPrefix(line, "{") {
			return line
		}
		if v, ok := jsonEvent[T](line); ok {
			return event(v)
		}
		return ""
	}
}

// relTo shows path relative to dir when it is under it.
func relTo(dir, path string) string {
	if dir == "" || !filepath.IsAbs(path) {
		return path
	}
	if rel, err := filepath.Rel(dir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}

// toolLine is a tool call as a line: its name and what it works on.
func toolLine(cwd, name string, input map[string]any) string {
	for _, k := range []string{"file_path", "filePath", "path", "notebook_path", "pattern", "command", "url", "query"} {
		if v, ok := input[k].(string); ok && v != "" {
			if strings.Contains(strings.ToLower(k), "path") {
				v = relTo(cwd, v)
			}
			return name + " " + v
		}
	}
	return name
}

// claudeEvent is one line of `claude -p --output-format stream-json
// --verbose`: the session's start, each assistant message (one event per
// content block, with the message's usage), tool results, and the result.
type claudeEvent struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype"`
	Cwd     string `json:"cwd"`
	Result  string `json:"result"`
	IsError bool   `json:"is_error"`
	Message struct {
		ID      string `json:"id"`
		Content []struct {
			Type    string         `json:"type"`
			Text    string         `json:"text"`
			Name    string         `json:"name"`
			Input   map[string]any `json:"input"`
			IsError bool           `json:"is_error"`
			Content any            `json:"content"` // a tool result's
		} `json:"content"`
		Usage claudeUsage `json:"usage"`
	} `json:"message"`
}

// claudeProgress reads Claude Code's stream so far: the tool it called
// last (with the file, relative to its working directory) or what it
// said, and the tokens of the messages so far (each message once; its
// output is counted as far as the stream has shown it). Claude Code gives
// its cost only in the result.
func claudeProgress(out, cwd string) Progress {
	var pr Progress
	seen := map[string]bool{}
	for _, e := range jsonLines[claudeEvent](out) {
		switch {
		case e.Type == "system" && e.Subtype == "init":
			cwd = e.Cwd
		case e.Type == "assistant" && !seen[e.Message.ID]:
			seen[e.Message.ID] = e.Message.ID != ""
			u := e.Message.Usage
			pr.Usage.Sent += u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
			pr.Usage.Received += u.OutputTokens
			pr.Usage.CacheWrite += u.CacheCreationInputTokens
			pr.Usage.CacheHit += u.CacheReadInputTokens
			pr.Usage.Replies++
		}
	}
	if u, f := ParseClaudeJSON(out); f == nil || u != (Usage{}) {
		pr.Usage = u // the result is in: its figures are the final ones
	}
	pr.Line = lastLine(out, describeJSON(func(e claudeEvent) string { return describeClaude(e, cwd) }))
	return pr
}

// describeClaude is one event of Claude Code's stream for people: the
// tool it called on what, what it said, a tool's error, how it ended.
func describeClaude(e claudeEvent, cwd string) string {
	switch e.Type {
	case "system":
		if e.Subtype == "init" {
			return "started"
		}
	case "assistant":
		c := e.Message.Content
		if len(c) == 0 {
			return ""
		}
		switch b := c[len(c)-1]; b.Type {
		case "tool_use":
			return toolLine(cwd, b.Name, b.Input)
		case "text":
			return b.Text
		case "thinking":
			return "thinking"
		}
	case "user":
		// A tool's result: only its errors say something here.
		for _, b := range e.Message.Content {
			if b.Type == "tool_result" && b.IsError {
				return "  error: " + toolText(b.Content)
			}
		}
	case "result":
		if e.IsError {
			return "failed: " + e.Result
		}
		return "finished: " + e.Result
	}
	return ""
}

// toolText is a tool result's content as text: a string, or text blocks.
func toolText(c any) string {
	switch v := c.(type) {
	case string:
		return v
	case []any:
		var parts []string
		for _, b := range v {
			if m, ok := b.(map[string]any); ok {
				if t, ok := m["text"].(string); ok {
					parts = append(parts, t)
				}
			}
		}
		return strings.Join(parts, " ")
	}
	return ""
}

// Tail is the last n lines of an attempt's log for people, read through
// the agent's parser where its output is a stream of JSON events (Claude
// Code's, as "Write src/a.ts", what it said, a tool's error, how it
// ended); "" for other parsers, whose lines are for people as they are.
func Tail(parser, log, root string, n int) string {
	body, cwd := skipHeader(log, root)
	if parser != "claude-json" {
		return ""
	}
	for _, e := range jsonLines[claudeEvent](body) {
		if e.Type == "system" && e.Subtype == "init" {
			cwd = e.Cwd
		}
	}
	describe := describeJSON(func(e claudeEvent) string { return describeClaude(e, cwd) })
	var out []string
	lines := strings.Split(body, "\n")
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		l := strings.TrimSpace(lines[i])
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, "# paraider:") {
			out = append(out, l)
			continue
		}
		if d := strings.TrimSpace(describe(l)); d != "" {
			d, _, _ = strings.Cut(d, "\n")
			out = append(out, d)
		}
	}
	slices.Reverse(out)
	return strings.Join(out, "\n")
}

// codexProgress: Codex's items as they start and finish (the command it
// runs, the files it changes, what it says), and its turns' usage.
func codexProgress(out, _ string) Progress {
	type item struct {
		Item struct {
			Type    string `json:"type"`
			Command string `json:"command"`
			Text    string `json:"text"`
			Message string `json:"message"`
			Changes []struct {
				Path string `json:"path"`
				Kind string `json:"kind"`
			} `json:"changes"`
		} `json:"item"`
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	u, _ := ParseCodexJSON(out)
	return Progress{Usage: u, Line: lastLine(out, describeJSON(func(e item) string {
		switch e.Type {
		case "error":
			return e.Message
		case "turn.failed":
			return "turn failed"
		case "item.started", "item.completed":
		default:
			return ""
		}
		switch it := e.Item; it.Type {
		case "command_execution":
			return "$ " + it.Command
		case "file_change":
			var parts []string
			for _, c := range it.Changes {
				parts = append(parts, c.Kind+" "+c.Path)
			}
			return strings.Join(parts, ", ")
		case "agent_message", "reasoning":
			return it.Text
		case "error":
			return it.Message
		}
		return ""
	}))}
}

// opencodeProgress: opencode's tool calls and texts, and its steps' tokens
// and cost.
func opencodeProgress(out, dir string) Progress {
	type event struct {
		Type string `json:"type"`
		Part struct {
			Tool  string `json:"tool"`
			Text  string `json:"text"`
			State struct {
				Input map[string]any `json:"input"`
			} `json:"state"`
		} `json:"part"`
		Error struct {
			Name string `json:"name"`
		} `json:"error"`
	}
	u, _ := ParseOpencodeJSON(out)
	return Progress{Usage: u, Line: lastLine(out, describeJSON(func(e event) string {
		switch e.Type {
		case "tool_use":
			return toolLine(dir, e.Part.Tool, e.Part.State.Input)
		case "text":
			return e.Part.Text
		case "error":
			return "error: " + e.Error.Name
		}
		return ""
	}))}
}

// geminiProgress: Gemini CLI's JSON comes whole at the end, indented over
// many lines; until then, what it prints on stderr.
func geminiProgress(out, _ string) Progress {
	u, _ := ParseGeminiJSON(out)
	return Progress{Usage: u, Line: lastLine(out, func(l string) string {
		if strings.HasPrefix(l, "{") || strings.HasPrefix(l, "}") || strings.HasPrefix(l, `"`) || strings.HasPrefix(l, "]") {
			return ""
		}
		return l
	})}
}
