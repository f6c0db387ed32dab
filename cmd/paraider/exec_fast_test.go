package main

import (
	"bytes"
	"testing"
)

// `paraider exec TASK`, what Ninja runs, skips kong: it must answer as
// the parsed command line does.
func TestExecFastPath(t *testing.T) {
	t.Chdir(t.TempDir())
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := paraider(args, &out, &errb)
		return code, out.String() + errb.String()
	}
	fastCode, fast := run("exec", "nosuch")
	parsedCode, parsed := run("-f", "paraider.yaml", "exec", "nosuch")
	if fastCode != parsedCode || fast != parsed {
		t.Errorf("exec nosuch: %d %q; parsed: %d %q", fastCode, fast, parsedCode, parsed)
	}
	if fastCode != exitUsage {
		t.Errorf("exit code %d; want %d (%q): an unknown task is a command-line mistake", fastCode, exitUsage, fast)
	}
	// Anything else goes through kong: a bad id is a usage error there.
	if code, out := run("exec", "-x"); code != exitUsage {
		t.Errorf("exec -x: %d %q; want a usage error", code, out)
	}
}
