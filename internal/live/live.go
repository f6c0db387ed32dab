// Package live draws a run on a terminal, for `paraider run` and
// `paraider status --watch`: the lines Ninja and the tasks print scroll
// up, and below them a block redrawn in place a few times a second, a line
// per running task and a summary (done, running, waiting, failed, the cost
// so far, the time left by the recorded durations). It reads the run from
// .paraider/ (report.BuildStatus) and writes only to the terminal.
package live

import (
	"bytes"
	"context"
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

// NinjaStatus is the NINJA_STATUS that marks Ninja's own "[n/m]
// description" lines, which the view replaces.
const NinjaStatus = "\x01paraider\x01 "

// View is the view of a run on a terminal, for `paraider run` and
// `paraider status --watch`: permanent lines scroll up (a task's "ok" or
// "FAILED" line and its reason), and below them a block redrawn in place a
// few times a second: a line per running task and a summary line. Under
// `paraider run` the permanent lines are what Ninja and the tasks print;
// watching from another terminal, the view says itself when a task ends.
type View struct {
	out      *os.File
	p        *plan.Plan
	w        plan.Weight
	start    time.Time
	every    time.Duration
	announce bool              // say when a task ends (no Ninja to say it)
	color    bool              // colour what announce says
	told     map[string]string // task -> the state announced
	last     *report.Status    // the latest snapshot
	mu       sync.Mutex
	partial  []byte   // a line Ninja has not finished
	drawn    int      // lines of the block on screen
	block    []string // the block, as the latest snapshot made it
	looks    int      // snapshots taken
	stop     chan struct{}
	done     chan struct{}
	closing  sync.Once
}

// New starts the view of `paraider run`; Close ends it, leaving the
// terminal clean.
func New(out *os.File, p *plan.Plan) *View {
	l := &View{out: out, p: p, w: gen.Weights(p.Root, p), start: time.Now(), every: 250 * time.Millisecond,
		told: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// Watch starts the view of `paraider status --watch`: it announces
// the tasks that have ended, those before it started first.
func Watch(out *os.File, p *plan.Plan, every time.Duration, color bool) *View {
	l := &View{out: out, p: p, w: gen.Weights(p.Root, p), start: time.Now(), every: every, announce: true, color: color,
		told: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.loop()
	return l
}

// Status is the latest snapshot the view drew, or nil.
func (l *View) Status() *report.Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// lookShare bounds the time the view spends on its snapshots: at most
// one part in lookShare of the time between two (a snapshot of ten
// thousand tasks takes a third of a second; taken four times a second,
// and at each line Ninja printed, it took the cores the agents run on).
const lookShare = 8

func (l *View) loop() {
	defer close(l.done)
	for {
		took := l.refresh()
		next := time.NewTimer(max(l.every, lookShare*took))
		select {
		case <-l.stop:
			next.Stop()
			return
		case <-next.C:
		}
	}
}

// Write takes Ninja's output: whole lines scroll up above the block,
// Ninja's status lines are dropped.
func (l *View) Write(b []byte) (int, error) {
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
		if !strings.HasPrefix(line, NinjaStatus) {
			lines = append(lines, line)
		}
	}
	l.mu.Unlock()
	if len(lines) > 0 {
		l.redraw(lines)
	}
	return len(b), nil
}

// Close stops redrawing and leaves the terminal clean: the block gives
// way to the summary as a permanent line, the cursor at the start of the
// line below.
func (l *View) Close() { l.closing.Do(l.close) }

func (l *View) close() {
	close(l.stop)
	<-l.done
	st, err := report.BuildStatus(l.p.Root, time.Now())
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	l.clear(&b)
	if len(l.partial) > 0 {
		b.Write(l.partial)
		b.WriteString("\n")
	}
	if err == nil {
		l.announced(&b, st)
		b.WriteString(l.summary(st, false) + "\n")
	}
	l.out.WriteString(b.String())
}

// clear moves up over the block and erases it.
func (l *View) clear(b *strings.Builder) {
	if l.drawn > 0 {
		fmt.Fprintf(b, "\x1b[%dA", l.drawn)
	}
	b.WriteString("\r\x1b[J")
	l.drawn = 0
}

// redraw prints lines above the block and draws the block again as the
// latest snapshot made it, in one write: no flicker. A line Ninja prints
// takes no snapshot: a run of ten thousand tasks prints ten thousand.
func (l *View) redraw(lines []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	l.clear(&b)
	for _, line := range lines {
		b.WriteString(line + "\n")
	}
	l.draw(&b)
	l.out.WriteString(b.String())
}

// refresh takes a snapshot of the run and draws the block from it; it
// returns how long the snapshot took.
func (l *View) refresh() time.Duration {
	start := time.Now()
	st, err := report.BuildStatus(l.p.Root, start)
	var block []string
	if err == nil {
		block = l.blockOf(st)
	}
	took := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.looks++
	var b strings.Builder
	l.clear(&b)
	if err == nil {
		l.last, l.block = st, block
		l.announced(&b, st)
	}
	l.draw(&b)
	l.out.WriteString(b.String())
	return took
}

// draw writes the block (l.mu held).
func (l *View) draw(b *strings.Builder) {
	for _, line := range l.block {
		b.WriteString(line + "\n")
	}
	l.drawn = len(l.block)
}

// announced writes a permanent line for each task that has ended since
// the view last looked, when the view is to say it.
func (l *View) announced(b *strings.Builder, st *report.Status) {
	if !l.announce {
		return
	}
	for _, r := range st.Rows {
		if l.told[r.ID] == r.State {
			continue
		}
		var word, rest, code string
		switch r.State {
		case report.Done:
			word, code = "ok", "32"
			rest = fmt.Sprintf("%s: %s, %s", r.ID, human.Count(r.Attempt, "attempt"), human.Duration(r.Elapsed.Round(100*time.Millisecond)))
		case report.Failed:
			word, code, rest = "FAILED", "31", r.ID+": "+r.LastLine
		case report.UpToDate:
			word, code, rest = "up to date", "36", r.ID
		default:
			delete(l.told, r.ID) // running or waiting again: say its end again
			continue
		}
		l.told[r.ID] = r.State
		line := clip(word+" "+rest, l.width())
		if l.color {
			line = "\x1b[" + code + "m" + word + "\x1b[0m" + line[len(word):]
		}
		b.WriteString(line + "\n")
	}
}

// width is the terminal's, less one column: a line that wraps would throw
// the redraw off.
func (l *View) width() int {
	if w, _, err := term.GetSize(int(l.out.Fd())); err == nil && w > 20 {
		return w - 1
	}
	return 100
}

// blockOf is a line per running task and the summary, each cut to the
// terminal's width.
func (l *View) blockOf(st *report.Status) []string {
	width := l.width()
	var out []string
	for _, r := range st.Rows {
		t := l.p.Task(r.ID)
		switch r.State {
		case report.Running:
			line := fmt.Sprintf("  %-16s %-8s attempt %d/%d  %s/%s", r.ID, t.Agent, r.Attempt, r.Of,
				human.Duration(r.Elapsed.Round(time.Second)), human.Duration(time.Duration(t.Timeout)))
			if spent := r.Spent(); spent != "" {
				line += "  " + spent
			}
			line += "  " + r.LastLine
			out = append(out, clip(line, width))
		}
	}
	return append(out, clip(l.summary(st, true), width))
}

// costSoFar is the run's spending so far: the ledger's, and what the
// running attempts whose agents have not ended (those are in the ledger
// already, while they are judged) have reported.
func costSoFar(lay state.Layout, st *report.Status) float64 {
	cost, paid := runner.Paid(lay, st.Run)
	for _, r := range st.Rows {
		if r.State == report.Running && !paid[fmt.Sprintf("%s.%d", r.ID, r.Attempt)] {
			cost += r.SoFar.Cost
		}
	}
	return cost
}

// summary is the line of counts, the cost so far (the finished attempts'
// from the ledger, and what the running ones have reported), the time
// since the view started and, while running, an estimate of the time left.
func (l *View) summary(st *report.Status, running bool) string {
	cost := costSoFar(state.Layout{Root: l.p.Root}, st)
	left := map[string]float64{} // what each unfinished task has still to do
	for _, r := range st.Rows {
		switch r.State {
		case report.Running:
			left[r.ID] = max(l.w.Of(r.ID)-r.Elapsed.Seconds(), 0)
		case report.Pending:
			left[r.ID] = l.w.Of(r.ID)
		}
	}
	summary := fmt.Sprintf("  %d done, %d running, %d waiting, %d failed", st.Counts[report.Done]+st.Counts[report.UpToDate],
		st.Counts[report.Running], st.Counts[report.Pending], st.Counts[report.Failed])
	if n := st.Counts[report.Interrupted]; n > 0 {
		summary += fmt.Sprintf(", %d interrupted", n)
	}
	summary += fmt.Sprintf(" · %s · %s", human.Money(cost), human.Duration(time.Since(l.start).Round(time.Second)))
	if eta := l.eta(left); eta > 0 && running {
		summary += fmt.Sprintf(" · about %s left", human.Duration(eta.Round(time.Second)))
	}
	return summary
}

// eta is the time left by the weights gen orders by: the longest chain
// of what is left, or the work left over the places, whichever is more.
func (l *View) eta(left map[string]float64) time.Duration {
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

func clip(s string, width int) string {
	return human.Clip(strings.ReplaceAll(human.Printable(s), "\t", " "), width)
}

var _ io.Writer = (*View)(nil)

// Follow draws the view of `paraider status --watch` on out until the run
// it saw running has ended, or ctx ends: it says itself when a task ends,
// as Ninja does under `paraider run`.
func Follow(ctx context.Context, out *os.File, p *plan.Plan, every time.Duration, color bool) error {
	// The view `paraider run` shows, here saying itself when a task ends.
	view := Watch(out, p, every, color)
	defer view.Close()
	// A run seen running has ended when no agent has run for idleEnd:
	// between two links of a chain none runs for a moment.
	const idleEnd = 3 * time.Second
	var sawRun bool
	var idleSince time.Time
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		st := view.Status()
		switch {
		case st == nil:
		case st.Busy > 0:
			sawRun, idleSince = true, time.Time{}
		case sawRun && idleSince.IsZero():
			idleSince = time.Now()
		case sawRun && time.Since(idleSince) >= idleEnd:
			view.Close()
			fmt.Fprintln(out, "the run has ended: paraider report shows it")
			return nil
		}
	}
}
