package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// screen FILE: the text a terminal shows once it has been sent the bytes
// of FILE (a typescript of script(1)), every line kept (no scrolling
// off): the lines a view redrew in place are drawn over, the block it
// erased is gone. Colours are dropped. Each line of the screen is printed
// with a "|" at its end, so that a test can tell where it ends.
func cmdScreen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: screen FILE")
	}
	lines := render(ts.ReadFile(args[0]))
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(strings.TrimRight(l, " ") + "|\n")
	}
	fmt.Fprint(ts.Stdout(), b.String())
}

// render is a small terminal: carriage return, line feed, backspace,
// cursor up and down (CSI A, B), erase below (CSI J, 2J) and erase in line
// (CSI K); graphic renditions (CSI m) and other sequences are dropped.
func render(data string) []string {
	lines := [][]rune{nil}
	row, col := 0, 0
	put := func(r rune) {
		l := lines[row]
		for len(l) < col {
			l = append(l, ' ')
		}
		if col < len(l) {
			l[col] = r
		} else {
			l = append(l, r)
		}
		lines[row] = l
		col++
	}
	rs := []rune(data)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '\r':
			col = 0
		case '\n': // a terminal's line discipline adds the return (onlcr)
			row, col = row+1, 0
			if row == len(lines) {
				lines = append(lines, nil)
			}
		case '\b':
			col = max(col-1, 0)
		case 0x1b:
			if i+1 >= len(rs) || rs[i+1] != '[' {
				i++ // a two-byte escape
				continue
			}
			j := i + 2
			for j < len(rs) && (rs[j] < 0x40 || rs[j] > 0x7e) {
				j++
			}
			if j >= len(rs) {
				i = j
				continue
			}
			param := string(rs[i+2 : j])
			n, err := strconv.Atoi(strings.TrimPrefix(param, "?"))
			if err != nil || n == 0 {
				n = 1
			}
			switch rs[j] {
			case 'A':
				row = max(row-n, 0)
			case 'B':
				for row += n; row >= len(lines); {
					lines = append(lines, nil)
				}
			case 'J':
				if param == "2" {
					lines, row, col = [][]rune{nil}, 0, 0
					break
				}
				if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
				lines = lines[:row+1]
			case 'K':
				if col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
			}
			i = j
		default:
			if c >= ' ' || c == '\t' {
				put(c)
			}
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	if len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

func TestRender(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\r\nb\r\n", "a|b"},
		{"ok a\n  block 1\n  sum\n\x1b[2A\r\x1b[Jok b\n  sum 2\n", "ok a|ok b|  sum 2"},
		{"\x1b[32mok\x1b[0m x\n", "ok x"},
		{"abc\rX\x1b[K\n", "X"},
		{"old\n\x1b[H\x1b[2Jnew\n", "new"},
	} {
		if got := strings.Join(render(tc.in), "|"); got != tc.want {
			t.Errorf("render(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
