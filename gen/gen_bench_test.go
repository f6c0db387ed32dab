package gen

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paraider/paraider/plan"
)

// scalePlan writes a plan of n tasks: the first hundred independent, each
// later one needing two of the three hundred before it.
func scalePlan(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nmodel: local/x\nisolation: none\ntasks:\n")
	r := rand.New(rand.NewSource(1))
	for i := 0; i < n; i++ {
		needs := ""
		if i >= 100 {
			lo := max(0, i-300)
			a, c := lo+r.Intn(i-lo), lo+r.Intn(i-lo)
			if a == c {
				needs = fmt.Sprintf(", needs: [t%05d]", a)
			} else {
				needs = fmt.Sprintf(", needs: [t%05d, t%05d]", a, c)
			}
		}
		fmt.Fprintf(&b, "  - {id: t%05d, files: [out/t%05d.txt], message: task %d%s}\n", i, i, i, needs)
	}
	path := filepath.Join(dir, "paraider.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func benchmarkGenerate(b *testing.B, n int, fresh bool) {
	dir := b.TempDir()
	path := scalePlan(b, dir, n)
	planText, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	// A stand-in for the paraider binary: gen links or copies it.
	exe := filepath.Join(dir, "paraider-bin")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	gen := func() {
		p, err := plan.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Generate(p, Options{Exe: exe}); err != nil {
			b.Fatal(err)
		}
	}
	gen() // the specs exist; with fresh they are removed before each run
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if fresh {
			// A new directory each time, as a first gen sees: deleting
			// ten thousand specs between runs would time the file
			// system's clean-up, not gen.
			b.StopTimer()
			sub := filepath.Join(dir, fmt.Sprintf("fresh-%d", i))
			if err := os.MkdirAll(sub, 0o755); err != nil {
				b.Fatal(err)
			}
			path = filepath.Join(sub, "paraider.yaml")
			if err := os.WriteFile(path, planText, 0o644); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		gen()
	}
}

// paraider gen of 1,000 and 10,000 tasks: the first time (every spec new)
// and again with nothing changed (what the generator edge does).
func BenchmarkGen1kFresh(b *testing.B)  { benchmarkGenerate(b, 1000, true) }
func BenchmarkGen1kAgain(b *testing.B)  { benchmarkGenerate(b, 1000, false) }
func BenchmarkGen10kFresh(b *testing.B) { benchmarkGenerate(b, 10000, true) }
func BenchmarkGen10kAgain(b *testing.B) { benchmarkGenerate(b, 10000, false) }
