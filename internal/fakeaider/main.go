// Command fakeaider is a stand-in for Aider, for tests and the offline demo.
// Aider itself cannot be installed where paraider is tested, and no model
// API can be reached, so this program plays Aider's part: it takes Aider's
// real options and rejects unknown ones exactly as Aider's argparse does
// (exit 2, "unrecognized arguments"), writes the files it is given, prints
// Aider's usage lines, and misbehaves on request.
//
// Behaviour is chosen with environment variables, which a plan can set per
// task under `env:`:
//
//	FAKE_AIDER_SLEEP=2s         work this long before writing
//	FAKE_AIDER_MEET=DIR:N       before working, wait until N agents are in DIR (each adds
//	                            a file there), at most a minute: agents that must run
//	                            side by side wait for each other, not for a time
//	FAKE_AIDER_HANG=1           ignore SIGTERM and never finish
//	FAKE_AIDER_CHILD=FILE       start a grandchild that sleeps; write its pid to FILE
//	FAKE_AIDER_DAEMON=FILE      the same, in a session of its own (it leaves the group)
//	FAKE_AIDER_FAIL=KIND        fail as Aider does (exit 0, error text, no edit):
//	                            ratelimit, auth, server, timeout, context
//	FAKE_AIDER_FAIL_TIMES=N     fail only the first N runs (needs FAKE_AIDER_COUNTER)
//	FAKE_AIDER_COUNTER=FILE     where runs are counted
//	FAKE_AIDER_EXIT=N           exit with status N after the work
//	FAKE_AIDER_NOEDIT=1         write nothing
//	FAKE_AIDER_FIXED=1          write the same bytes for the same first line of the
//	                            message (default: a new line each run)
//	FAKE_AIDER_LOG=FILE         append "start"/"end" events (JSON lines) for timing checks
//	FAKE_AIDER_NO_USAGE=1       print no usage lines
//	FAKE_AIDER_PRINT=TEXT       print TEXT (e.g. to test secret redaction)
//	FAKE_AIDER_BASE=DIR         resolve the relative FILEs of these settings against DIR
//	                            (the agent may run in a worktree, not where the test looks)
//	FAKE_AIDER_PIDFILE=FILE     write this process's pid to FILE
//	FAKE_AIDER_PPIDFILE=FILE    write paraider exec's pid to FILE (the parent, or the
//	                            parent's parent when a supervisor sits between)
//	FAKE_AIDER_EXTRA=PATH       also write PATH, a file it was not given
//	FAKE_AIDER_DELETE=PATH      delete PATH
//	FAKE_AIDER_SYMLINK=L:T      make L a symlink to T
//	FAKE_AIDER_PARTIAL=1        write half of each file, then hang (to be killed mid-write)
//	FAKE_AIDER_APPEND=1         keep each file's bytes and add the lines after them (an edit)
//	FAKE_AIDER_SH=COMMAND       run COMMAND with /bin/sh in its directory, as an agent's
//	                            shell tool would (Aider's /run, Claude Code's Bash)
//	FAKE_AIDER_MESSAGE=FILE     append the message it was given to FILE, after a line
//	                            "--- message"
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paraider/paraider/internal/proc"
)

// Aider's options (aider/args.py, v0.86), by how they take values.
var (
	valueOpts = []string{
		"--model", "--message", "--msg", "--message-file", "--file", "--read",
		"--chat-history-file", "--input-history-file", "--llm-history-file",
		"--map-tokens", "--edit-format", "--chat-mode", "--env-file", "--api-key", "--set-env",
		"--timeout", "--lint-cmd", "--test-cmd", "--openai-api-key", "--anthropic-api-key",
		"--weak-model", "--editor-model", "--config", "--encoding", "--map-refresh",
		"--model-settings-file", "--model-metadata-file", "--reasoning-effort", "--thinking-tokens",
		"--aiderignore", "--commit-prompt", "--openai-api-base", "--load", "--editor",
	}
	// Options with a --no- form (argparse.BooleanOptionalAction).
	boolOpts = []string{
		"--auto-commits", "--dirty-commits", "--gitignore", "--analytics", "--check-update",
		"--show-model-warnings", "--pretty", "--fancy-input", "--stream", "--restore-chat-history",
		"--auto-lint", "--auto-test", "--git", "--dry-run", "--verify-ssl", "--cache-prompts",
		"--suggest-shell-commands", "--detect-urls", "--attribute-author", "--attribute-committer",
		"--show-release-notes", "--multiline", "--notifications", "--skip-sanity-check-repo",
	}
	flagOpts = []string{
		"--yes-always", "--analytics-disable", "--subtree-only", "--verbose", "--dark-mode",
		"--light-mode", "--vim", "--lint", "--test", "--commit", "--just-check-update",
		"--show-repo-map", "--show-prompts", "--exit", "--version", "--help",
	}
	shortOpts = map[string]string{"-m": "--message", "-f": "--message-file", "-v": "--verbose", "-h": "--help"}
)

type args struct {
	model, message, messageFile string
	files, read                 []string
	chatHistory                 string
	seen                        map[string]bool
}

func usageError(msg string) {
	fmt.Fprintln(os.Stderr, "usage: aider [-h] [--model MODEL] [--message COMMAND] [--file FILE] [--read FILE] ... [FILE ...]")
	fmt.Fprintf(os.Stderr, "aider: error: %s\n", msg)
	os.Exit(2)
}

// resolve maps an option as typed to its full name, allowing unique
// prefixes as argparse does (--yes is --yes-always).
func resolve(opt string) (string, bool) {
	var all []string
	all = append(all, valueOpts...)
	all = append(all, flagOpts...)
	for _, b := range boolOpts {
		all = append(all, b, "--no-"+b[2:])
	}
	var matches []string
	for _, o := range all {
		if o == opt {
			return o, true
		}
		if strings.HasPrefix(o, opt) {
			matches = append(matches, o)
		}
	}
	if len(matches) == 1 {
		return matches[0], true
	}
	if len(matches) > 1 {
		sort.Strings(matches)
		usageError(fmt.Sprintf("ambiguous option: %s could match %s", opt, strings.Join(matches, ", ")))
	}
	return "", false
}

func parse(argv []string) args {
	a := args{seen: map[string]bool{}}
	var unknown []string
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			a.files = append(a.files, arg)
			continue
		}
		name, value, hasValue := strings.Cut(arg, "=")
		if long, ok := shortOpts[name]; ok {
			name = long
		} else if full, ok := resolve(name); ok {
			name = full
		} else {
			unknown = append(unknown, arg)
			continue
		}
		a.seen[name] = true
		if slices.Contains(valueOpts, name) {
			if !hasValue {
				// argparse reads a following word that starts with '-' and
				// holds no space as an option, not as this one's value.
				if i+1 >= len(argv) || (strings.HasPrefix(argv[i+1], "-") && argv[i+1] != "-" && !strings.Contains(argv[i+1], " ")) {
					usageError(fmt.Sprintf("argument %s: expected one argument", name))
				}
				i++
				value = argv[i]
			}
			switch name {
			case "--model":
				a.model = value
			case "--message", "--msg":
				a.message = value
			case "--message-file":
				a.messageFile = value
			case "--file":
				a.files = append(a.files, value)
			case "--read":
				a.read = append(a.read, value)
			case "--chat-history-file":
				a.chatHistory = value
			}
		} else if hasValue {
			usageError(fmt.Sprintf("argument %s: ignored explicit argument '%s'", name, value))
		}
	}
	if len(unknown) > 0 {
		usageError("unrecognized arguments: " + strings.Join(unknown, " "))
	}
	return a
}

func event(kind string, a args) {
	path := testFile("FAKE_AIDER_LOG")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	b, _ := json.Marshal(map[string]any{"event": kind, "files": a.files, "pid": os.Getpid(), "t": time.Now().UnixNano()})
	f.Write(append(b, '\n'))
}

// failures prints what Aider prints for a failed model call
// (aider/exceptions.py and base_coder.py), then returns without an edit.
var failures = map[string][]string{
	"ratelimit": {"litellm.RateLimitError: RateLimitError: OpenrouterException - rate limit exceeded", "The API provider has rate limited you. Try again later or check your quotas.", "Retrying in 0.2 seconds..."},
	"auth":      {"litellm.AuthenticationError: AuthenticationError: OpenrouterException - No auth credentials found", "The API provider is not able to authenticate you. Check your API key."},
	"server":    {"litellm.InternalServerError: InternalServerError: OpenrouterException - 502 Bad Gateway", "The API provider's servers are down or overloaded.", "Retrying in 0.2 seconds..."},
	"timeout":   {"litellm.Timeout: Connection timed out after 600.0 seconds.", "The API provider timed out without returning a response. They may be down or overloaded."},
	"context":   {"Your estimated chat context of 210,345 tokens exceeds the 200,000 token limit for openrouter/x!"},
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "__grandchild" {
		grandchild()
		return
	}
	a := parse(os.Args[1:])
	if a.seen["--version"] {
		fmt.Println("aider 0.86.3.dev (paraider stand-in)")
		return
	}
	if a.messageFile != "" {
		data, err := os.ReadFile(a.messageFile)
		if err != nil {
			fmt.Printf("Error reading message file: %v\n", err)
			os.Exit(1)
		}
		a.message = string(data)
	}
	if a.message == "" {
		fmt.Fprintln(os.Stderr, "stand-in aider: no --message or --message-file; the real Aider would wait for input")
		os.Exit(1)
	}
	if f := testFile("FAKE_AIDER_MESSAGE"); f != "" {
		mf, err := os.OpenFile(f, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(mf, "--- message\n%s\n", a.message)
			mf.Close()
		}
	}
	event("start", a)
	defer event("end", a)
	if !start(a) {
		return // a model call failed: exit 0, as Aider does
	}
	work(a)
	if os.Getenv("FAKE_AIDER_NO_USAGE") == "" {
		fmt.Println("Tokens: 2.3k sent, 1.2k cache write, 900 cache hit, 200 received.")
		fmt.Println("Cost: $0.0020 message, $0.0030 session.")
	}
	if code, err := strconv.Atoi(os.Getenv("FAKE_AIDER_EXIT")); err == nil {
		os.Exit(code)
	}
}

// start says hello as Aider does, starts the children and waits the
// settings ask for, and plays a failed model call; false after one.
func start(a args) bool {
	fmt.Printf("Aider v0.86.3.dev (paraider stand-in)\nModel: %s with whole edit format\n", a.model)
	for _, f := range a.files {
		fmt.Printf("Added %s to the chat.\n", f)
	}
	for _, r := range a.read {
		if _, err := os.Stat(r); err != nil {
			fmt.Printf("Error: Read-only file %s does not exist. Skipping.\n", r)
		} else {
			fmt.Printf("Added %s to the chat (read-only).\n", r)
		}
	}
	// The pid files say "started, and said hello": tests watching the log
	// see these lines by then.
	if f := testFile("FAKE_AIDER_PIDFILE"); f != "" {
		writePid(f, os.Getpid())
	}
	if f := testFile("FAKE_AIDER_PPIDFILE"); f != "" {
		writePid(f, execPid())
	}
	if a.chatHistory != "" {
		os.MkdirAll(filepath.Dir(a.chatHistory), 0o755)
		os.WriteFile(a.chatHistory, []byte("# aider chat\n#### "+firstLine(a.message)+"\n"), 0o644)
	}
	if p := os.Getenv("FAKE_AIDER_PRINT"); p != "" {
		fmt.Println(p)
	}
	for _, v := range []string{"FAKE_AIDER_CHILD", "FAKE_AIDER_DAEMON"} {
		pidFile := testFile(v)
		if pidFile == "" {
			continue
		}
		self, _ := os.Executable()
		cmd := exec.Command(self, "__grandchild", pidFile)
		if v == "FAKE_AIDER_DAEMON" {
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		}
		if err := cmd.Start(); err != nil {
			fmt.Println("stand-in: cannot start child:", err)
			os.Exit(1)
		}
	}
	if os.Getenv("FAKE_AIDER_HANG") != "" {
		signal.Ignore(syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("stand-in: hanging, ignoring SIGTERM")
		time.Sleep(time.Hour)
	}
	if m := os.Getenv("FAKE_AIDER_MEET"); m != "" {
		meet(m)
	}
	if d, err := time.ParseDuration(os.Getenv("FAKE_AIDER_SLEEP")); err == nil {
		time.Sleep(d)
	}

	if kind := os.Getenv("FAKE_AIDER_FAIL"); kind != "" && shouldFail() {
		lines, ok := failures[kind]
		if !ok {
			fmt.Fprintf(os.Stderr, "stand-in: unknown FAKE_AIDER_FAIL %q\n", kind)
			os.Exit(1)
		}
		for _, l := range lines {
			fmt.Println(l)
		}
		return false
	}
	if os.Getenv("FAKE_AIDER_NO_USAGE") == "" {
		fmt.Println("Tokens: 1.2k sent, 150 received. Cost: $0.0010 message, $0.0010 session.")
	}
	return true
}

// work does the edits the settings ask for: the task's files, and
// whatever else a misbehaving agent would do.
func work(a args) {
	if os.Getenv("FAKE_AIDER_PARTIAL") != "" {
		for _, f := range a.files {
			os.MkdirAll(filepath.Dir(f), 0o755)
			os.WriteFile(f, []byte("// half of a fi"), 0o644)
		}
		fmt.Println("stand-in: wrote half, now hanging")
		time.Sleep(time.Hour)
	}
	if c := os.Getenv("FAKE_AIDER_SH"); c != "" {
		cmd := exec.Command("/bin/sh", "-c", c)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Printf("shell command failed: %v\n", err)
		}
	}
	if p := os.Getenv("FAKE_AIDER_EXTRA"); p != "" {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("// an edit nobody asked for: "+firstLine(a.message)+"\n"), 0o644)
		fmt.Printf("Applied edit to %s\n", p)
	}
	if p := os.Getenv("FAKE_AIDER_DELETE"); p != "" {
		if err := os.Remove(p); err != nil {
			fmt.Printf("Unable to delete %s: %v\n", p, err)
		}
	}
	if lt := os.Getenv("FAKE_AIDER_SYMLINK"); lt != "" {
		l, t, _ := strings.Cut(lt, ":")
		os.Remove(l)
		if err := os.Symlink(t, l); err != nil {
			fmt.Printf("Unable to link %s: %v\n", l, err)
		}
	}
	if os.Getenv("FAKE_AIDER_NOEDIT") == "" && os.Getenv("FAKE_AIDER_SYMLINK") == "" {
		for _, f := range a.files {
			if err := write(f, a); err != nil {
				fmt.Printf("Unable to write %s: %v\n", f, err)
				continue
			}
			fmt.Printf("Applied edit to %s\n", f)
		}
	}
}

func write(path string, a args) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	content := fmt.Sprintf("// %s\n// written by the stand-in aider, model %s\n", firstLine(a.message), a.model)
	if os.Getenv("FAKE_AIDER_FIXED") == "" {
		content += fmt.Sprintf("// run %d\n", time.Now().UnixNano())
	}
	if os.Getenv("FAKE_AIDER_APPEND") != "" {
		old, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		content = string(old) + content
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// execPid is paraider exec's pid: the parent, or its parent when the
// parent is paraider's supervisor.
func execPid() int {
	ppid := os.Getppid()
	if args, _ := proc.Args(ppid); len(args) > 1 && args[1] == "__supervise" {
		if p, err := proc.Get(ppid); err == nil {
			return p.PPID
		}
	}
	return ppid
}

// testFile reads a setting that names a file for the test to look at.
func testFile(name string) string {
	p := os.Getenv(name)
	if base := os.Getenv("FAKE_AIDER_BASE"); p != "" && base != "" && !filepath.IsAbs(p) {
		return filepath.Join(base, p)
	}
	return p
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// shouldFail counts this run and says whether it is among the first
// FAKE_AIDER_FAIL_TIMES; without that setting every run fails.
func shouldFail() bool {
	times, err := strconv.Atoi(os.Getenv("FAKE_AIDER_FAIL_TIMES"))
	if err != nil {
		return true
	}
	counter := testFile("FAKE_AIDER_COUNTER")
	if counter == "" {
		fmt.Fprintln(os.Stderr, "stand-in: FAKE_AIDER_FAIL_TIMES needs FAKE_AIDER_COUNTER")
		os.Exit(1)
	}
	data, _ := os.ReadFile(counter)
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	n++
	os.WriteFile(counter, []byte(strconv.Itoa(n)), 0o644)
	return n <= times
}

// meet adds this agent to DIR and waits until N agents are there, or a
// minute has passed (then the test that asked sees fewer at once, and
// fails as it should).
func meet(spec string) {
	dir, ns, ok := strings.Cut(spec, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil {
		fmt.Fprintf(os.Stderr, "stand-in: FAKE_AIDER_MEET=%q: want DIR:N\n", spec)
		os.Exit(1)
	}
	if base := os.Getenv("FAKE_AIDER_BASE"); base != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join(base, dir)
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, strconv.Itoa(os.Getpid())), nil, 0o644)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if entries, _ := os.ReadDir(dir); len(entries) >= n {
			return
		}
	}
}

// writePid writes a pid file whole or not at all (a temporary file
// renamed into place): a test that waits for the file then reads it must
// never read it empty.
func writePid(path string, pid int) {
	tmp := path + ".tmp"
	if os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644) == nil {
		os.Rename(tmp, path)
	}
}

// grandchild sleeps, ignoring nothing, until it is killed: the process a
// timeout must not leave behind.
func grandchild() {
	writePid(os.Args[2], os.Getpid())
	time.Sleep(10 * time.Minute)
}
