package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/paraider/paraider/internal/lazy"
)

// TestCounts is what a test runner's closing lines say.
type TestCounts struct {
	Passed, Failed, Skipped int
	// Unit is what is counted: tests, or packages for go test without -v.
	Unit string
}

func (c TestCounts) String() string {
	s := fmt.Sprintf("%s: %d/%d passed", strings.ToUpper(c.Unit[:1])+c.Unit[1:], c.Passed, c.Passed+c.Failed)
	if c.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	return s
}

var (
	// jest: "Tests:       1 failed, 23 passed, 24 total"
	jestRE = lazy.Regexp(`(?m)^Tests:\s+(.*\d+ total)\s*$`)
	// vitest: " Tests  23 passed | 1 failed (24)"
	vitestRE = lazy.Regexp(`(?m)^\s*Tests\s+(\d+ \w+(?: \| \d+ \w+)*) \(\d+\)\s*$`)
	// mocha: "  24 passing (2s)", "  1 failing", "  2 pending"
	mochaRE = lazy.Regexp(`(?m)^\s+(\d+) (passing|failing|pending)\b`)
	// pytest: "===== 23 passed, 1 failed, 2 skipped in 0.12s ====="
	pytestRE = lazy.Regexp(`(?m)^=+ (.*\d+ (?:passed|failed|error|errors|skipped).*) in [\d.]+s(?: \([^)]*\))? =+\s*$`)
	// cargo test: "test result: ok. 24 passed; 0 failed; 1 ignored; ..."
	cargoRE = lazy.Regexp(`(?m)^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored`)
	// go test -v: "--- PASS: TestX", "--- FAIL: TestX", "--- SKIP: TestX"
	goTestRE = lazy.Regexp(`(?m)^\s*--- (PASS|FAIL|SKIP): `)
	// go test: "ok  \tpkg\t0.01s", "FAIL\tpkg\t0.01s"
	goPkgRE = lazy.Regexp(`(?m)^(ok|FAIL)\s+\S+\s+(?:[\d.]+s|\(cached\))`)
	// the plain line any runner may print: "N passed, N failed"
	plainRE = lazy.Regexp(`(?m)^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$`)
	countRE = lazy.Regexp(`(\d+) (passed|failed|skipped|todo|error|errors|pending|total)`)
)

// ParseTestCounts reads the summary a test runner printed at the end of a
// check's output: jest, vitest, mocha, pytest, go test, cargo test, or the
// plain "N passed, N failed". ok is false when there is none.
func ParseTestCounts(out string) (TestCounts, bool) {
	for _, r := range testSummaries {
		if c, ok := r.read(out); ok {
			return c, true
		}
	}
	return TestCounts{}, false
}

// testSummaries read the summary lines of the test runners, in the order
// they are tried: the more particular first, go test's per-package lines
// last.
var testSummaries = []struct {
	runner string
	read   func(out string) (TestCounts, bool)
}{
	{"jest", lastWords(jestRE, nil)},
	{"vitest", lastWords(vitestRE, func(s string) string { return strings.ReplaceAll(s, "|", ",") })},
	{"pytest", lastWords(pytestRE, nil)},
	{"cargo test", readCargo},
	{"mocha", readMocha},
	{"a plain summary", readPlain},
	{"go test -v", readGoTests},
	{"go test", readGoPackages},
}

// lastWords reads the counts in words ("3 passed, 1 failed") of re's last
// match, tidied by fix.
func lastWords(re func() *regexp.Regexp, fix func(string) string) func(string) (TestCounts, bool) {
	return func(out string) (TestCounts, bool) {
		m := re().FindAllStringSubmatch(out, -1)
		if m == nil {
			return TestCounts{}, false
		}
		s := m[len(m)-1][1]
		if fix != nil {
			s = fix(s)
		}
		c := TestCounts{Unit: "tests"}
		for _, m := range countRE().FindAllStringSubmatch(s, -1) {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "passed":
				c.Passed += n
			case "failed", "error", "errors":
				c.Failed += n
			case "skipped", "todo", "pending":
				c.Skipped += n
			}
		}
		return c, true
	}
}

func readCargo(out string) (TestCounts, bool) {
	ms := cargoRE().FindAllStringSubmatch(out, -1)
	c := TestCounts{Unit: "tests"}
	for _, m := range ms {
		p, _ := strconv.Atoi(m[1])
		f, _ := strconv.Atoi(m[2])
		s, _ := strconv.Atoi(m[3])
		c.Passed, c.Failed, c.Skipped = c.Passed+p, c.Failed+f, c.Skipped+s
	}
	return c, ms != nil
}

func readMocha(out string) (TestCounts, bool) {
	ms := mochaRE().FindAllStringSubmatch(out, -1)
	c := TestCounts{Unit: "tests"}
	for _, m := range ms {
		n, _ := strconv.Atoi(m[1])
		switch m[2] {
		case "passing":
			c.Passed = n
		case "failing":
			c.Failed = n
		case "pending":
			c.Skipped = n
		}
	}
	return c, ms != nil
}

func readPlain(out string) (TestCounts, bool) {
	m := plainRE().FindAllStringSubmatch(out, -1)
	if m == nil {
		return TestCounts{}, false
	}
	last := m[len(m)-1]
	c := TestCounts{Unit: "tests"}
	c.Passed, _ = strconv.Atoi(last[1])
	c.Failed, _ = strconv.Atoi(last[2])
	c.Skipped, _ = strconv.Atoi(last[3])
	return c, true
}

func readGoTests(out string) (TestCounts, bool) {
	ms := goTestRE().FindAllStringSubmatch(out, -1)
	c := TestCounts{Unit: "tests"}
	for _, m := range ms {
		switch m[1] {
		case "PASS":
			c.Passed++
		case "FAIL":
			c.Failed++
		case "SKIP":
			c.Skipped++
		}
	}
	return c, ms != nil
}

func readGoPackages(out string) (TestCounts, bool) {
	ms := goPkgRE().FindAllStringSubmatch(out, -1)
	c := TestCounts{Unit: "packages"}
	for _, m := range ms {
		if m[1] == "ok" {
			c.Passed++
		} else {
			c.Failed++
		}
	}
	return c, ms != nil
}
