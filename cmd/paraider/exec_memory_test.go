package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/paraider/paraider/state"
)

// An agent that prints without end costs one paraider exec a bounded
// amount of memory and of disk: 200 MB of output, half of it in one line,
// leave the process under 100 MB resident (the peak, as the kernel counts
// it) and a log of at most 50 MB that says what was cut; the usage line at
// the end is still read.
func TestExecMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: the full suite (scripts/test.sh) runs it")
	}
	if testing.Short() {
		t.Skip("prints 200 MB")
	}
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("paraider.yaml", `version: 1
model: m
agents:
  spew:
    command: sh spew.sh {files}
    output: aider
tasks:
  - {id: t1, files: [t1.txt], message: spew, agent: spew}
`)
	write("spew.sh", `head -c 100000000 /dev/zero | tr '\0' x
echo
yes 'a line of what the agent printed, again and again' | head -c 100000000
echo written > "$1"
echo 'Tokens: 1.2k sent, 150 received. Cost: $0.0010 message, $0.0010 session.'
`)
	paraiderBin := filepath.Join(binDir, "paraider")
	gen := exec.Command(paraiderBin, "gen")
	gen.Dir = dir
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	ex := exec.Command(paraiderBin, "exec", "t1")
	ex.Dir = dir
	out, err := ex.CombinedOutput()
	if err != nil {
		t.Fatalf("exec: %v\n%s", err, out)
	}
	peak := ex.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux
	if runtime.GOOS == "darwin" {
		peak >>= 10 // bytes there
	}
	t.Logf("peak resident: %d MiB", peak>>10)
	if peak > 100<<10 {
		t.Errorf("paraider exec peaked at %d MiB resident for 200 MB of output; want under 100", peak>>10)
	}
	log := filepath.Join(dir, ".paraider", "logs", "t1.1.log")
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 50<<20+4096 {
		t.Errorf("log of %d MB; want at most 50", fi.Size()>>20)
	}
	tail, err := state.ReadOwnTail(log, 16<<20)
	if err != nil {
		t.Fatal(err)
	}
	head, err := state.ReadOwnTail(log, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(head), "bytes of the agent's output cut here") {
		t.Errorf("the log does not say what was cut")
	}
	if !strings.Contains(string(tail), "Cost: $0.0010 message") {
		t.Errorf("the log lost the end of the output")
	}
	var res state.Result
	if err := state.ReadJSON(filepath.Join(dir, ".paraider", "results", "t1.json"), &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != state.StatusOK || res.Cost != 0.001 {
		t.Errorf("result %s, cost %v; want ok and the usage line's $0.0010", res.Status, res.Cost)
	}
}
