package agent

import (
	"reflect"
	"strings"
	"testing"
)

func TestExpand(t *testing.T) {
	v := Vars{Model: "openrouter/x", Message: "say 'hi' $HOME {files}", MessageFile: "m.md", Task: "t1",
		State: ".paraider/agent/t1/1", Files: []string{"a b.ts", "c.ts"}, Read: []string{"r.md"}}
	for _, tc := range []struct {
		tmpl string
		want []string
	}{
		{"aider --model {model} {files:--file} {read:--read} --message {message}",
			[]string{"aider", "--model", "openrouter/x", "--file", "a b.ts", "--file", "c.ts", "--read", "r.md", "--message", "say 'hi' $HOME {files}"}},
		{"tool {files} --out={state}/log -f {message_file}",
			[]string{"tool", "a b.ts", "c.ts", "--out=.paraider/agent/t1/1/log", "-f", "m.md"}},
		{`tool "--task={task} now"`, []string{"tool", "--task=t1 now"}},
		{"tool {read:-r} {files:}", []string{"tool", "-r", "r.md", "a b.ts", "c.ts"}},
		{"tool {files:--file=} --m={message}", []string{"tool", "--file=a b.ts", "--file=c.ts", "--m=say 'hi' $HOME {files}"}},
		{`tool '{"json": 1}'`, []string{"tool", `{"json": 1}`}},
	} {
		got, err := Expand(tc.tmpl, v)
		if err != nil {
			t.Errorf("Expand(%q): %v", tc.tmpl, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Expand(%q) =\n %q\nwant\n %q", tc.tmpl, got, tc.want)
		}
	}
}

func TestCheckTemplate(t *testing.T) {
	for _, tc := range []struct{ tmpl, err string }{
		{"", "empty"},
		{"tool {nope}", "unknown placeholder {nope}"},
		{"tool --file={files}", "{files} must stand alone"},
		{"tool {model:-m}", "{model} takes no flag"},
		{"{model} run", "program name cannot be a placeholder"},
		{`tool "unclosed`, "EOF"},
	} {
		err := CheckTemplate(tc.tmpl)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("CheckTemplate(%q) = %v; want an error with %q", tc.tmpl, err, tc.err)
		}
	}
}

func TestAiderProfile(t *testing.T) {
	p, err := Builtin("aider")
	if err != nil {
		t.Fatal(err)
	}
	argv, err := Expand(p.Command, Vars{Model: "openrouter/m", Message: "do it", State: "s", Files: []string{"f.ts"}, Read: []string{"r.md"}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(argv, " ")
	// The flags a scripted, parallel run needs (../shared/AIDER.md).
	for _, flag := range []string{"--model openrouter/m", "--yes-always", "--no-auto-commits", "--no-dirty-commits",
		"--no-gitignore", "--no-analytics", "--no-check-update", "--no-show-model-warnings", "--no-pretty",
		"--no-fancy-input", "--no-stream", "--chat-history-file=s/", "--input-history-file=s/",
		"--llm-history-file=s/", "--file=f.ts", "--read=r.md", "--message=do it"} {
		if !strings.Contains(got, flag) {
			t.Errorf("aider command lacks %q:\n%s", flag, got)
		}
	}
	if key := p.KeyFor("openrouter/arcee-ai/trinity-large-preview:free"); key != "OPENROUTER_API_KEY" {
		t.Errorf("KeyFor(openrouter/...) = %q", key)
	}
	if key := p.KeyFor("ollama/llama3"); key != "" {
		t.Errorf("KeyFor(ollama/...) = %q; want none", key)
	}
	if p.Install == "" || p.Output != "aider" {
		t.Errorf("profile %+v lacks install text or the aider output parser", p)
	}
}

// Every built-in profile loads, expands, names its key and how to install
// its agent, and reads output paraider knows.
func TestBuiltinProfiles(t *testing.T) {
	names := Builtins()
	if strings.Join(names, " ") != "aider claude codex gemini opencode" {
		t.Fatalf("built-in profiles %v", names)
	}
	for _, name := range names {
		p, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		argv, err := Expand(p.Command, Vars{Model: "m", Message: "-v do it", State: "s", Files: []string{"a.ts"}, Read: []string{"r.md"}})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if argv[0] != map[string]string{"aider": "aider", "claude": "claude", "codex": "codex", "gemini": "gemini", "opencode": "opencode"}[name] {
			t.Errorf("%s runs %s", name, argv[0])
		}
		// The message never stands where it could be read as an option.
		for i, a := range argv {
			if a == "-v do it" && argv[i-1] != "--" {
				t.Errorf("%s: the message follows %q, not --: %q", name, argv[i-1], argv)
			}
		}
		if p.Install == "" || Parsers[p.Output].Parse == nil || len(p.Keys) == 0 {
			t.Errorf("%s: install %q, output %q, keys %v", name, p.Install, p.Output, p.Keys)
		}
		if name != "aider" && !p.PromptFiles {
			t.Errorf("%s cannot name files on its command line but prompt_files is off", name)
		}
	}
}

// Builtin reads each profile once, and hands out copies: a caller that
// changes its copy changes no other.
func TestBuiltinCopies(t *testing.T) {
	a, err := Builtin("aider")
	if err != nil {
		t.Fatal(err)
	}
	a.Env = map[string]string{"X": "1"}
	for k := range a.Keys {
		a.Keys[k] = "CHANGED"
	}
	a.Scratch = append(a.Scratch[:0], "changed")
	b, err := Builtin("aider")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range b.Keys {
		if v == "CHANGED" {
			t.Errorf("key %s of a second Builtin changed with the first's", k)
		}
	}
	if len(b.Keys) == 0 || len(b.Scratch) == 0 || b.Scratch[0] == "changed" || b.Env["X"] == "1" {
		t.Errorf("a second Builtin shares the first's changes: %+v", b)
	}
	if _, err := Builtin("nosuch"); err == nil {
		t.Error("Builtin of an unknown agent: no error")
	}
}
