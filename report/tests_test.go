package report

import "testing"

func TestParseTestCounts(t *testing.T) {
	for name, tc := range map[string]struct {
		out  string
		want string
	}{
		"jest":    {"PASS src/a.test.ts\nTest Suites: 3 passed, 3 total\nTests:       1 failed, 23 passed, 24 total\nSnapshots:   0 total\nTime:        2.1 s\n", "Tests: 23/24 passed"},
		"vitest":  {" ✓ src/a.test.ts (3)\n\n Test Files  2 passed (2)\n      Tests  23 passed | 1 skipped (24)\n   Start at  10:00:00\n", "Tests: 23/23 passed, 1 skipped"},
		"mocha":   {"  routes\n    ✓ works\n\n  24 passing (2s)\n  1 failing\n", "Tests: 24/25 passed"},
		"pytest":  {"tests/test_a.py ....F\n=========== 23 passed, 1 failed, 2 skipped in 0.12s ===========\n", "Tests: 23/24 passed, 2 skipped"},
		"cargo":   {"running 4 tests\ntest result: ok. 4 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\ntest result: ok. 20 passed; 0 failed; 0 ignored; 0 measured\n", "Tests: 24/24 passed, 1 skipped"},
		"go -v":   {"=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n--- FAIL: TestB (0.00s)\nFAIL\tpkg\t0.01s\n", "Tests: 1/2 passed"},
		"go":      {"ok  \tgithub.com/x/a\t0.01s\nok  \tgithub.com/x/b\t(cached)\nFAIL\tgithub.com/x/c\t0.20s\n", "Packages: 2/3 passed"},
		"plain":   {"running...\n24 passed, 0 failed\n", "Tests: 24/24 passed"},
		"nothing": {"lint ok\n", ""},
	} {
		c, ok := ParseTestCounts(tc.out)
		got := ""
		if ok {
			got = c.String()
		}
		if got != tc.want {
			t.Errorf("%s: %q; want %q", name, got, tc.want)
		}
	}
}
