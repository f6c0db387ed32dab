//go:build !linux || paraider_portable

package runner

import (
	"os"
	"time"
)

// pollWaker wakes a waiting task when its queue entry is touched (see
// wakeNext): by its time, looked at every wakerPoll. It is the waker
// where the system has no other (and under paraider_portable), and
// macOS's should kqueue fail.
type pollWaker struct {
	entry string
	mod   time.Time
}

// wakerPoll is how often a waiting task looks at its entry's time.
const wakerPoll = 5 * time.Millisecond

func newPollWaker(entry string) *pollWaker {
	w := &pollWaker{entry: entry}
	if fi, err := os.Stat(entry); err == nil {
		w.mod = fi.ModTime()
	}
	return w
}

// wait returns once the entry was touched, or after d.
func (w *pollWaker) wait(d time.Duration) {
	sleeping()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(min(wakerPoll, time.Until(deadline)))
		if fi, err := os.Stat(w.entry); err == nil && !fi.ModTime().Equal(w.mod) {
			w.mod = fi.ModTime()
			return
		}
	}
}

func (w *pollWaker) close() {}
