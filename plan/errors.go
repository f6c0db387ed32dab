package plan

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found in a plan, with the position it was found at.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem has no single place
	Col  int // 1-based
	Msg  string
	Hint string // how to fix it, when that is known

	src string // the line at Line, for the snippet
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	} else {
		fmt.Fprintf(&b, "%s: %s", e.File, e.Msg)
	}
	if e.Line > 0 && e.src != "" {
		src := strings.ReplaceAll(e.src, "\t", " ")
		num := fmt.Sprintf("%5d", e.Line)
		fmt.Fprintf(&b, "\n%s | %s", num, src)
		col := e.Col
		if col < 1 {
			col = 1
		}
		if col > len(src)+1 {
			col = len(src) + 1
		}
		fmt.Fprintf(&b, "\n%s | %s^", strings.Repeat(" ", len(num)), strings.Repeat(" ", col-1))
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "\n  hint: %s", e.Hint)
	}
	return b.String()
}

// Errors is every problem found in a plan, in file order.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	s := strings.Join(parts, "\n")
	if len(es) > 1 {
		s += fmt.Sprintf("\n%d problems in %s", len(es), es[0].File)
	}
	return s
}

func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Line != es[j].Line {
			return es[i].Line < es[j].Line
		}
		return es[i].Col < es[j].Col
	})
	return es
}

// suggest returns the known word closest to got, or "" when none is close.
func suggest(got string, known []string) string {
	best, bestD := "", len(got)/2+2
	for _, k := range known {
		if d := editDistance(got, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
