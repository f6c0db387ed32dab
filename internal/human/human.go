// Package human formats numbers for people: durations, token counts and
// money, the same way in every line paraider prints.
package human

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/paraider/paraider/internal/lazy"
)

// Duration rounds d to a precision that suits its size: 8ms, 2.3s, 4m10s.
func Duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	default:
		return d.Round(time.Second).String()
	}
}

// Tokens formats a token count the way Aider does: 950, 2.3k, 12k.
func Tokens(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprint(n)
	case n < 10000:
		return fmt.Sprintf("%.1fk", float64(n)/1000)
	default:
		return fmt.Sprintf("%.0fk", float64(n)/1000)
	}
}

// Money formats dollars with the precision of Aider's cost lines.
func Money(d float64) string { return fmt.Sprintf("$%.4f", d) }

// Cost is money spent of which some is unknown (an agent printed a cost
// that cannot be one): "$0.0030 + unknown", or "cost unknown".
func Cost(d float64, unknown bool) string {
	switch {
	case !unknown:
		return Money(d)
	case d == 0:
		return "cost unknown"
	}
	return Money(d) + " + unknown"
}

// Clip shortens s to at most n runes, marking the cut with "…".
func Clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// FirstLine is s up to its first line break.
func FirstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(Printable(s), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// escapeRE matches terminal escape sequences: CSI (colours, cursor moves,
// clear screen), OSC (titles, hyperlinks, clipboard writes: OSC 52) ended
// by BEL or ST, and two-byte escapes.
var escapeRE = lazy.Regexp(`\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?`)

// Printable is s as paraider may print it or write it into a report when
// it comes from an agent: printable text, newlines and tabs only. Escape
// sequences go whole; a carriage return keeps what a terminal would show
// of its line (the text after the last one); other control characters go.
func Printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return s
	}
	s = escapeRE().ReplaceAllString(s, "")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		lines[i] = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && r != '\t' {
				return -1
			}
			return r
		}, l)
	}
	return strings.Join(lines, "\n")
}

// Count says "1 attempt" or "3 attempts".
func Count(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
