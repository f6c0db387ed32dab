package runner

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// The output kept of an attempt is bounded: the log gets its head as it
// comes and its tail at the end, with the cut said; judging gets the head
// and the tail. Small sizes stand in for the real ones.
func TestOutputBounded(t *testing.T) {
	defer func(h, oh, ot int64) { logHead, outputHead, outputTail = h, oh, ot }(logHead, outputHead, outputTail)
	logHead, outputHead, outputTail = 100, 20, 50

	for _, tc := range []struct {
		name  string
		write []string
		log   string // want; "" for the whole output
		judge string // want; "" for the whole output
	}{
		{name: "small", write: []string{"hello\n", "world\n"}},
		{name: "up to the log's head", write: []string{strings.Repeat("a", 60), strings.Repeat("b", 40)}},
		{name: "past the head, within head and tail", write: []string{strings.Repeat("a", 90), strings.Repeat("b", 30)},
			judge: strings.Repeat("a", 90) + strings.Repeat("b", 30)},
		{name: "long", write: []string{"first line\n", strings.Repeat("x", 500), "\nUsage: 12 tokens\n", "the end\n"}},
		{name: "one huge write", write: []string{strings.Repeat("y", 1000) + "\nlast\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			o := newOutput(&log)
			all := ""
			for _, w := range tc.write {
				o.Write([]byte(w))
				all += w
			}
			o.Flush()
			total := int64(len(all))
			if total <= logHead+outputTail {
				if log.String() != all {
					t.Errorf("log %q, want the whole output %q", log.String(), all)
				}
			} else {
				want := all[:logHead] + fmt.Sprintf("\n# paraider: %d bytes of the agent's output cut here (the log keeps its first 0 MB and its last 0 MB)\n", total-outputTail-logHead) + all[total-outputTail:]
				if log.String() != want {
					t.Errorf("log\n%q\nwant\n%q", log.String(), want)
				}
			}
			got := o.String()
			switch {
			case total <= outputHead+outputTail:
				if got != all {
					t.Errorf("judged %q, want the whole output", got)
				}
			default:
				if !strings.HasPrefix(got, all[:outputHead]) || !strings.HasSuffix(got, all[max(int64(strings.LastIndex(all[:total-1], "\n")+1), total-20):]) || !strings.Contains(got, "not kept") {
					t.Errorf("judged %q: want the head, a note and the last line of %q", got, all)
				}
				if int64(len(got)) > outputHead+outputTail+100 {
					t.Errorf("judged %d bytes, more than head and tail", len(got))
				}
			}
		})
	}
}
