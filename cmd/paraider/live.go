package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/paraider/paraider/gen"
	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/plan"
	"github.com/paraider/paraider/report"
	"github.com/paraider/paraider/runner"
	"github.com/paraider/paraider/state"
)

// liveStatus marks Ninja's own "[n/m] description" lines (NINJA_STATUS),
// which the live view replaces.
const liveStatus = "\x01paraider\x01 "

// live is `paraider run`'s view on a terminal: what Ninja and the tasks
// print scrolls up as permanent lines (a task's "ok" or "FAILED" line and
// its reason), and below them a block redrawn in place a few times a
// second: a line per running task and a summary line.
type live struct {
	out     *os.File
	p       *plan.Plan
	w       plan.Weight
	start   time.Time
	mu      sync.Mutex
	partial []byte // a line Ninja has not finished
	drawn   int    // lines of the block on screen
	stop    chan struct{}
	done    chan struct{}
}

// newLive starts the view; Close ends it, leaving the terminal clean.
func newLive(out *os.File, p *plan.Plan) *live {
	l := &live{out: out, p: p, w: gen.Weights(p.Root, p), start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

func (l *live) loop() {
	defer close(l.done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		l.redraw(nil)
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
	}
}

// Write takes Ninja's output: whole lines scroll up above the block,
// Ninja's status lines are dropped.
func (l *live) Write(b []byte) (int, error) {
	l.mu.Lock()
	l.partial = append(l.partial, b...)
	var lines []string
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := string(l.partial[:i])
		l.partial = l.partial[i+1:]
		if !strings.HasPrefix(line, liveStatus) {
			lines = append(lines, line)
		}
	}
	l.mu.Unlock()
	if len(lines) > 0 {
		l.redraw(lines)
	}
	return len(b), nil
}

// Close stops redrawing and clears the block.
func (l *live) Close() {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	l.clear(&b)
	if len(l.partial) > 0 {
		b.Write(l.partial)
		b.WriteString("\n")
	}
	l.out.WriteString(b.String())
}

// clear moves up over the block and erases it.
func (l *live) clear(b *strings.Builder) {
	if l.drawn > 0 {
		fmt.Fprintf(b, "\x1b[%dA", l.drawn)
	}
	b.WriteString("\r\x1b[J")
	l.drawn = 0
}

// redraw prints lines above the block and draws the block again, in one
// write: no flicker.
func (l *live) redraw(lines []string) {
	st, err := report.BuildStatus(l.p.Root, time.Now())
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	l.clear(&b)
	for _, line := range lines {
		b.WriteString(line + "\n")
	}
	if err == nil {
		block := l.block(st)
		for _, line := range block {
			b.WriteString(line + "\n")
		}
		l.drawn = len(block)
	}
	l.out.WriteString(b.String())
}

// block is a line per running task and the summary, each cut to the
// terminal's width (a wrapped line would throw the redraw off).
func (l *live) block(st *report.Status) []string {
	width := 100
	if w, _, err := term.GetSize(int(l.out.Fd())); err == nil && w > 20 {
		width = w - 1
	}
	var out []string
	left := map[string]float64{} // what each unfinished task has still to do
	for _, r := range st.Rows {
		t := l.p.Task(r.ID)
		switch r.State {
		case report.Running:
			line := fmt.Sprintf("  %-16s %-8s attempt %d/%d  %s/%s  %s", r.ID, t.Agent, r.Attempt, r.Of,
				human.Duration(r.Elapsed.Round(time.Second)), human.Duration(t.Timeout), r.LastLine)
			out = append(out, clip(line, width))
			left[r.ID] = max(l.w.Of(r.ID)-r.Elapsed.Seconds(), 0)
		case report.Pending:
			left[r.ID] = l.w.Of(r.ID)
		}
	}
	cost := runner.Spent(state.Layout{Root: l.p.Root})
	summary := fmt.Sprintf("  %d done, %d running, %d waiting, %d failed · %s · %s", st.Counts[report.Done]+st.Counts[report.UpToDate],
		st.Counts[report.Running], st.Counts[report.Pending], st.Counts[report.Failed], human.Money(cost), human.Duration(time.Since(l.start).Round(time.Second)))
	if eta := l.eta(left); eta > 0 {
		summary += fmt.Sprintf(" · about %s left", human.Duration(eta.Round(time.Second)))
	}
	return append(out, clip(summary, width))
}

// eta is the time left by the weights gen orders by: the longest chain
// of what is left, or the work left over the places, whichever is more.
func (l *live) eta(left map[string]float64) time.Duration {
	if len(left) == 0 {
		return 0
	}
	var ids []string
	deps := map[string][]string{}
	total := 0.0
	for _, t := range l.p.Tasks {
		if w, ok := left[t.ID]; ok {
			ids = append(ids, t.ID)
			deps[t.ID] = t.Deps
			total += w
		}
	}
	_, chain := plan.LongestChain(ids, deps, func(id string) float64 { return left[id] })
	secs := max(chain, total/float64(max(l.p.Jobs, 1)))
	return time.Duration(secs * float64(time.Second))
}

func clip(s string, width int) string { return human.Clip(strings.ReplaceAll(s, "\t", " "), width) }

var _ io.Writer = (*live)(nil)
