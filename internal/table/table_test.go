package table

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// cells are what a task table may hold, and what it should not: each
// table of the test draws from them.
var cells = []string{
	"", "t00001", "up to date", "FAILED", "1/3", "12m30s", "$0.0123", "2.7k tokens, $0.0129",
	"out/a.txt out/b.txt", "a  b", "-",
	"\x1b[32mdone\x1b[0m", "\x1b[31mFAILED\x1b[0m", // status's colours
	"café", "e\u0301t\u00e9", "漢字のファイル", "🙂 ok", "ｆｕｌｌ", // wide and combining runes
	" leading", "trailing ", "two\nlines", "a\ttab", "bell\a", "nb\u00a0sp", // drawn by tablewriter
}

func TestSameAsTablewriter(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	headers := [][]string{
		{"task", "state", "attempt", "time", "so far", "last line"},
		{"task", "status", "attempts", "time", "tokens sent", "tokens recv", "cost", "files changed"},
		{"x"},
		{"a very long header", "b"},
	}
	fast := 0
	for n := 0; n < 3000; n++ {
		header := headers[r.Intn(len(headers))]
		rows := make([][]string, r.Intn(5))
		for i := range rows {
			rows[i] = make([]string, len(header))
			for j := range rows[i] {
				rows[i][j] = cells[r.Intn(len(cells))]
			}
		}
		if plain(header, rows) {
			fast++
		}
		var got, want bytes.Buffer
		if err := Write(&got, header, rows); err != nil {
			t.Fatal(err)
		}
		if err := viaTablewriter(&want, header, rows); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("table %d (%q, rows %q) differs from tablewriter's:\n%s\nwant:\n%s", n, header, rows, got.String(), want.String())
		}
	}
	if fast < 300 {
		t.Fatalf("only %d of 3000 tables drawn here: the test compares nothing", fast)
	}
}

func TestPlain(t *testing.T) {
	header := []string{"a", "b"}
	for _, c := range []struct {
		cell string
		want bool
	}{
		{"t1", true}, {"", true}, {"\x1b[32mdone\x1b[0m", true}, {"漢字", true},
		{" x", false}, {"x ", false}, {"a\nb", false}, {"a\tb", false}, {"\x7f", false},
	} {
		if got := plain(header, [][]string{{c.cell, "x"}}); got != c.want {
			t.Errorf("plain(%q) = %v, want %v", c.cell, got, c.want)
		}
	}
	if plain(header, [][]string{{"only one"}}) {
		t.Error("a row short of a cell is plain")
	}
}

func BenchmarkWrite(b *testing.B) {
	header := []string{"task", "state", "attempt", "time", "so far", "last line"}
	rows := make([][]string, 10000)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("t%05d", i), "up to date", "1/1", "1s", "", ""}
	}
	for _, c := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"here", func(w *bytes.Buffer) error { return Write(w, header, rows) }},
		{"tablewriter", func(w *bytes.Buffer) error { return viaTablewriter(w, header, rows) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var w bytes.Buffer
				if err := c.write(&w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
