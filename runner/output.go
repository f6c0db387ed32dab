package runner

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// An agent may print without end (a loop, a dump of a binary file): what
// an attempt keeps of its output is bounded, in memory and on disk.
var (
	// logHead is how much of an attempt's output goes to its log as it
	// comes; past it, the log gets only the last outputTail bytes, at the
	// attempt's end, after a line that says how much was cut.
	logHead int64 = 42 << 20
	// outputHead and outputTail are what is kept in memory for judging:
	// the start (Aider's banner, early errors) and the end (usage totals,
	// a JSON result, the last error).
	outputHead int64 = 1 << 20
	outputTail int64 = 8 << 20
)

// output is an attempt's output on its way to its log: written through
// to the log up to logHead bytes, with its first outputHead and its last
// outputTail bytes kept in memory. Flush ends it: the rest of the log is
// written, with what was cut said in a line of its own.
type output struct {
	mu    sync.Mutex
	log   io.Writer
	total int64 // bytes written
	head  []byte
	ring  []byte // the last outputTail bytes
	start int    // where the oldest byte of ring is, once ring is full
	done  bool
}

func newOutput(log io.Writer) *output {
	return &output{log: log}
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := len(p)
	if o.done {
		return n, nil
	}
	if room := logHead - o.total; room > 0 {
		w := p[:min(int64(len(p)), room)]
		if _, err := o.log.Write(w); err != nil {
			return 0, err
		}
	}
	if room := outputHead - int64(len(o.head)); room > 0 {
		o.head = append(o.head, p[:min(int64(len(p)), room)]...)
	}
	o.total += int64(n)
	o.keepTail(p)
	return n, nil
}

// keepTail adds p to the ring of the last outputTail bytes.
func (o *output) keepTail(p []byte) {
	if int64(len(p)) >= outputTail {
		o.ring = append(o.ring[:0], p[int64(len(p))-outputTail:]...)
		o.start = 0
		return
	}
	if int64(len(o.ring)+len(p)) <= outputTail {
		o.ring = append(o.ring, p...)
		return
	}
	if int64(len(o.ring)) < outputTail {
		fill := int(outputTail) - len(o.ring)
		o.ring = append(o.ring, p[:fill]...)
		p = p[fill:]
	}
	for len(p) > 0 {
		c := copy(o.ring[o.start:], p)
		p = p[c:]
		o.start = (o.start + c) % len(o.ring)
	}
}

// tail is the ring's bytes in order.
func (o *output) tail() []byte {
	if o.start == 0 {
		return o.ring
	}
	t := make([]byte, 0, len(o.ring))
	return append(append(t, o.ring[o.start:]...), o.ring[:o.start]...)
}

// Flush writes what the log lacks: nothing while the output stayed under
// logHead; else the line saying what was cut and the last outputTail
// bytes. Later writes are dropped.
func (o *output) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.done || o.total <= logHead {
		o.done = true
		return nil
	}
	o.done = true
	t := o.tail()
	tailFrom := o.total - int64(len(t)) // where the tail starts in the output
	if tailFrom < logHead {
		_, err := o.log.Write(t[logHead-tailFrom:])
		return err
	}
	if _, err := fmt.Fprintf(o.log, "\n# paraider: %d bytes of the agent's output cut here (the log keeps its first %d MB and its last %d MB)\n",
		tailFrom-logHead, logHead>>20, outputTail>>20); err != nil {
		return err
	}
	_, err := o.log.Write(t)
	return err
}

// String is the output for judging: whole when it fits in memory, else
// its head and its tail from the start of a line, with a line between.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	t := o.tail()
	if o.total <= int64(len(t)) {
		return string(t)
	}
	if o.total <= int64(len(o.head)+len(t)) {
		return string(o.head[:o.total-int64(len(t))]) + string(t)
	}
	if i := bytes.IndexByte(t, '\n'); i >= 0 {
		t = t[i+1:]
	}
	return string(o.head) + fmt.Sprintf("\n# paraider: %d bytes of the agent's output not kept\n", o.total-int64(len(o.head)+len(t))) + string(t)
}
