// Package table renders the report's and the status's task tables: an
// ASCII grid, the header centred and the cells left-aligned, byte for
// byte as tablewriter draws it with the options below.
//
// tablewriter takes about 17 µs a row (each cell goes through its
// formatting, a width cache behind a lock and a renderer line by line):
// 0.17 s of a status or a report of ten thousand tasks, a third of it.
// Rows of plain cells, all that a task table holds but for a rare last
// line, are drawn here directly, at about a microsecond a row, with the
// widths tablewriter's own measure gives; a table with any other cell (a
// line break, a tab, another control character, space at either end:
// where tablewriter trims, wraps or expands) goes to tablewriter whole.
// TestSameAsTablewriter holds the two to the same bytes.
package table

import (
	"bufio"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// Write draws header and rows; every row has as many cells as header.
func Write(w io.Writer, header []string, rows [][]string) error {
	if !plain(header, rows) {
		return viaTablewriter(w, header, rows)
	}
	widths := make([]int, len(header))
	measure := func(cells []string) {
		for i, c := range cells {
			widths[i] = max(widths[i], width(c))
		}
	}
	measure(header)
	for _, r := range rows {
		measure(r)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	rule := ruleLine(widths)
	bw.WriteString(rule)
	line(bw, header, widths, true)
	bw.WriteString(rule)
	for _, r := range rows {
		line(bw, r, widths, false)
	}
	if len(rows) > 0 {
		bw.WriteString(rule)
	}
	return bw.Flush()
}

// ruleLine is "+------+----+\n" for the columns' widths.
func ruleLine(widths []int) string {
	var b strings.Builder
	b.WriteByte('+')
	for _, wd := range widths {
		b.WriteString(strings.Repeat("-", wd+2))
		b.WriteByte('+')
	}
	b.WriteByte('\n')
	return b.String()
}

// line writes one row: "| a   | b |\n"; a header's cells centred, the
// odd space on the right.
func line(bw *bufio.Writer, cells []string, widths []int, centre bool) {
	bw.WriteByte('|')
	for i, c := range cells {
		pad := widths[i] - width(c)
		left := 0
		if centre {
			left = pad / 2
		}
		spaces(bw, 1+left)
		bw.WriteString(c)
		spaces(bw, 1+pad-left)
		bw.WriteByte('|')
	}
	bw.WriteByte('\n')
}

func spaces(bw *bufio.Writer, n int) {
	for ; n > 0; n-- {
		bw.WriteByte(' ')
	}
}

// width is a cell's width on a terminal: its length when it is printable
// ASCII, else tablewriter's measure (wide runes, colour codes).
func width(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return twwidth.Width(s)
		}
	}
	return len(s)
}

// plain reports whether every cell is one that tablewriter would draw as
// it is: no control character but the escape of a colour code, no space
// at either end, and a header of letters and spaces (it would otherwise
// format it).
func plain(header []string, rows [][]string) bool {
	for _, h := range header {
		if h == "" || !plainCell(h) {
			return false
		}
	}
	for _, r := range rows {
		if len(r) != len(header) {
			return false
		}
		for _, c := range r {
			if !plainCell(c) {
				return false
			}
		}
	}
	return true
}

func plainCell(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != 0x1b) || c == 0x7f {
			return false
		}
	}
	return !strings.Contains(s, "\u00a0") && !strings.Contains(s, "\u2028") && !strings.Contains(s, "\u2029")
}

// viaTablewriter draws the table with tablewriter.
func viaTablewriter(w io.Writer, header []string, rows [][]string) error {
	table := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{Symbols: tw.NewSymbols(tw.StyleASCII)})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	table.Header(header)
	for _, r := range rows {
		if err := table.Append(r); err != nil {
			return err
		}
	}
	return table.Render()
}
