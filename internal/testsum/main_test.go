package main

import (
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	in := `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"ok\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":0.1}
{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: wrong\n"}
{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.2}
{"Action":"skip","Package":"p","Test":"TestScripts/claude_e2e","Elapsed":0}
{"Action":"pass","Package":"p","Test":"TestGitHubActionsAuth","Elapsed":13.8}
{"Action":"fail","Package":"p","Elapsed":1.5}
# q [q.test]
{"Action":"pass","Package":"q","Elapsed":0.3}
`
	var out strings.Builder
	c, err := render(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if c != (counts{passed: 2, failed: 1, skipped: 1}) {
		t.Errorf("counts %+v", c)
	}
	for _, want := range []string{"--- FAIL p TestB\n    b_test.go:3: wrong\n", "  SKIP TestScripts/claude_e2e", "  PASS TestGitHubActionsAuth (13.8s)", "FAIL p (1.5s)", "# q [q.test]", "ok   q (0.3s)", "2 passed, 1 failed, 1 skipped\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "TestA") {
		t.Errorf("a passing test's output or line shows:\n%s", out.String())
	}
	// A package that fails with no failing test (it did not build) counts.
	c, _ = render(strings.NewReader(`{"Action":"output","Package":"r","Output":"panic: boom\n"}
{"Action":"fail","Package":"r","Elapsed":0.1}
`), &out)
	if c.failed != 1 || !strings.Contains(out.String(), "panic: boom") {
		t.Errorf("a package failing without a test: %+v\n%s", c, out.String())
	}
}
