// Command testsum renders `go test -json` for a person and a CI log: a line
// per package, per test script and per workflow run under act as each
// finishes, the output of what
// failed, and one closing line: N passed, N failed, N skipped. It exits 1
// when anything failed (or a package did not build).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type counts struct{ passed, failed, skipped int }

// listed are the tests that get a line of their own whatever their end:
// the CLI scripts and the workflow runs under act, each a user's whole
// command.
func listed(test string) bool {
	return strings.HasPrefix(test, "TestScripts/") || strings.HasPrefix(test, "TestGitHubActions")
}

func main() {
	c, err := render(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	if c.failed > 0 {
		os.Exit(1)
	}
}

// render reads test2json events from in and writes the summary to out.
func render(in io.Reader, out io.Writer) (counts, error) {
	var c counts
	output := map[string]*strings.Builder{} // package/test -> its output
	testFailed := map[string]bool{}         // packages with a failed test
	key := func(e event) string { return e.Package + "/" + e.Test }
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			fmt.Fprintln(out, sc.Text()) // a build error, as go printed it
			continue
		}
		switch e.Action {
		case "output":
			b := output[key(e)]
			if b == nil {
				b = &strings.Builder{}
				output[key(e)] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				fmt.Fprintf(out, "%-4s %s (%.1fs)\n", map[string]string{"pass": "ok", "fail": "FAIL", "skip": "--"}[e.Action], e.Package, e.Elapsed)
				if e.Action == "fail" && !testFailed[e.Package] {
					// The package failed without a failing test: it did not
					// build, or died.
					if b := output[key(e)]; b != nil {
						fmt.Fprint(out, b.String())
					}
					c.failed++
				}
				continue
			}
			switch e.Action {
			case "pass":
				c.passed++
			case "skip":
				c.skipped++
			case "fail":
				c.failed++
				testFailed[e.Package] = true
				if b := output[key(e)]; b != nil {
					fmt.Fprintf(out, "--- FAIL %s %s\n%s", e.Package, e.Test, b.String())
				}
			}
			if strings.Contains(e.Test, "/") && e.Action != "pass" || listed(e.Test) {
				fmt.Fprintf(out, "  %-4s %s (%.1fs)\n", strings.ToUpper(e.Action), e.Test, e.Elapsed)
			}
			delete(output, key(e))
		}
	}
	fmt.Fprintf(out, "%d passed, %d failed, %d skipped\n", c.passed, c.failed, c.skipped)
	return c, sc.Err()
}
