//go:build darwin && !paraider_portable

package runner

import (
	"time"

	"golang.org/x/sys/unix"
)

// kqueueWaker wakes a waiting task when its queue entry is touched (see
// wakeNext), through kqueue: the entry's time changes (NOTE_ATTRIB), or
// it is written, renamed over or removed. Should kqueue fail, the task
// polls (pollWaker); should a wake-up be missed, the task looks again
// after placePoll all the same.
type kqueueWaker struct {
	kq, fd int
}

func newWaker(entry string) sleeper {
	fd, err := unix.Open(entry, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_EVTONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return newPollWaker(entry)
	}
	kq, err := unix.Kqueue()
	if err != nil {
		unix.Close(fd)
		return newPollWaker(entry)
	}
	unix.CloseOnExec(kq)
	var ev unix.Kevent_t
	unix.SetKevent(&ev, fd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_CLEAR)
	ev.Fflags = unix.NOTE_ATTRIB | unix.NOTE_WRITE | unix.NOTE_DELETE | unix.NOTE_RENAME
	if _, err := unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil); err != nil {
		unix.Close(kq)
		unix.Close(fd)
		return newPollWaker(entry)
	}
	return &kqueueWaker{kq: kq, fd: fd}
}

// wait returns after an event, or after d.
func (w *kqueueWaker) wait(d time.Duration) {
	sleeping()
	ts := unix.NsecToTimespec(int64(d))
	events := make([]unix.Kevent_t, 4)
	unix.Kevent(w.kq, nil, events, &ts)
}

func (w *kqueueWaker) close() {
	unix.Close(w.kq)
	unix.Close(w.fd)
}
