package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	proctab "github.com/paraider/paraider/internal/proc"
	"github.com/paraider/paraider/state"
)

// # Places
//
// At most jobs agents run at once, as the plan says; paraider, not Ninja,
// hands out the places, in the order of the critical path. A Ninja pool
// cannot: when a task of the longest chain ends, Ninja gives its place to
// a task already waiting in the pool before the chain's next link is even
// ready, so the chain waits behind short tasks. Here every waiting task
// stands in a queue ranked by its remaining critical path (gen writes the
// ranks), a freed place goes to the highest-ranked waiting task, and a
// task that ends hands its place to the next link of its chain when that
// link outranks every waiting task (the link is not waiting yet: Ninja
// starts it only once this task's process has exited).
//
// A place is a flock on .paraider/slots/slot-N.lock (the files keep
// their first name); a waiting task holds a flock on its queue entry, so
// that a killed one drops out by itself. Looking at the free places and
// taking one is one step among the tasks (a flock on take.lock): two
// tasks that looked at once would both take a place one of them should
// have left to a higher-ranked task on its way.
//
// A waiting task sleeps until its own entry is touched (inotify on Linux,
// a look at its time every 5 ms on macOS): a task giving a place back
// wakes the highest-ranked waiting task only, and a task that takes a
// place while more are free (or finds one free once it has its own: a
// wake-up meant for it while it took a place is passed on) wakes the
// next. Waking
// every waiting task at each release cost each of them a look at the
// queue and at Ninja's processes: with 40 tasks waiting, a third of the
// run's CPU.

// placePoll is how often a waiting task looks again without being woken:
// a place given back wakes the next waiting task at once; the poll is for
// what no wake-up announces (a task killed with its place, a place kept
// for a link that never came, a task on its way that never joined).
var placePoll = 100 * time.Millisecond

// handoffFor is how long a place handed to the next link of a chain waits
// for it before anyone may take it: Ninja starts the link only once the
// task before it has exited, which on a loaded machine takes seconds. A
// link that needs no place (up to date) gives it up at once.
const handoffFor = 5 * time.Second

// handoffGrace is how long a place handed on is kept for a link that Ninja
// has not started: when every -j slot of Ninja's is taken by tasks waiting
// here, Ninja starts some other ready task instead, and the link may not
// start for as long as those run.
const handoffGrace = time.Second

type queueEntry struct {
	Task     string  `json:"task"`
	Priority float64 `json:"priority"`
	Order    int     `json:"order"`
}

type reservation struct {
	Task  string `json:"task"`
	Run   string `json:"run"`   // state.CurrentRun of the task that kept it
	Since int64  `json:"since"` // unix nanoseconds
	Until int64  `json:"until"`
}

// placeQueue is the run's set of places.
type placeQueue struct {
	root string
	dir  string
	jobs int
	run  string // state.CurrentRun
	// ranks gives each task's rank, as gen wrote it (state.SchedView.Rank).
	ranks func(task string) (state.Priority, bool)
	// seen is when each arriving task (see arriving) was first seen;
	// ran, the tasks seen with a place (never arriving again).
	seen map[string]time.Time
	ran  map[string]bool
	// names is the task of each paraider exec process of Ninja's looked
	// at (see siblings): a waiting task looks at them each time a place
	// falls free. Only those: Ninja's child is /bin/sh until it execs
	// paraider exec.
	names map[int]string

	// The queue's clock, its wake-ups and its look at Ninja's other
	// tasks: time.Now, a waker on the entry and siblings, but in tests,
	// which move time, wake tasks and start tasks by hand (as Ninja's
	// build_test.cc does with its fake command runner).
	now        func() time.Time
	sleeper    func(entry string) sleeper
	ninjaTasks func() []string
}

// sleeper is how a waiting task waits: until woken, or for d.
type sleeper interface {
	wait(d time.Duration)
	close()
}

// arriveFor is how long a task Ninja has started may take to join the
// queue before the tasks it outranks stop waiting for it.
const arriveFor = 2 * time.Second

func openSlots(root string, jobs int) *placeQueue {
	return newPlaceQueue(root, jobs, state.Layout{Root: root}.Sched().Rank)
}

// newPlaceQueue is the run's places, with the ranks gen wrote (state.Sched).
func newPlaceQueue(root string, jobs int, rank func(string) (state.Priority, bool)) *placeQueue {
	s := &placeQueue{root: root, dir: filepath.Join(root, filepath.FromSlash(state.PlacesDir)), jobs: max(jobs, 1), run: state.CurrentRun(), ranks: rank,
		seen: map[string]time.Time{}, ran: map[string]bool{}, names: map[int]string{},
		now: time.Now, sleeper: func(entry string) sleeper { return newWaker(entry) }}
	s.ninjaTasks = s.siblings
	return s
}

// acquire waits for a place for task, in rank order, until ctx ends;
// took, when not nil, is called with the place held and before the task
// leaves the queue (it marks the task running): a task that has a place
// is never seen as neither waiting nor running, which the others would
// take for one still on its way to the queue, and wait for. The returned
// release gives the place back, handing it to heir when heir is not "".
func (s *placeQueue) acquire(ctx context.Context, task string, took func()) (release func(heir string), err error) {
	if err := os.MkdirAll(filepath.Join(s.dir, "queue"), 0o755); err != nil {
		return nil, err
	}
	me := s.entry(task)
	entry := s.entryPath(task)
	qf, err := s.join(task, me)
	if err != nil {
		return nil, err
	}
	leave := func() {
		os.Remove(entry)
		qf.Close()
	}
	// The waker is made only when the task has to wait, and closed
	// aside: closing an inotify instance waits for the kernel's SRCU
	// grace period (0-15 ms here), which a task that found its place at
	// once, or the agent it starts, should not wait for.
	var wake sleeper
	defer func() {
		if wake != nil {
			go wake.close()
		}
	}()
	for {
		if slot, f, more := s.take(me); f != nil {
			if took != nil {
				took()
			}
			leave()
			// A place may have fallen free while this task took its own,
			// its wake-up lost on this task: pass it on.
			if more || s.anyFree() {
				s.wakeNext()
			}
			return func(heir string) { s.release(slot, f, heir) }, nil
		}
		if ctx.Err() != nil {
			leave()
			return nil, context.Cause(ctx)
		}
		if wake == nil {
			// Watching from now on: look again before waiting, so that a
			// place freed meanwhile is not missed.
			wake = s.sleeper(entry)
			continue
		}
		wake.wait(placePoll)
	}
}

// join puts the task's entry in the queue, already locked (written aside,
// locked, renamed into place), so that no one takes it for a dead task's;
// the lock holds while the returned file is open. The task's own lock
// keeps a second process of the same task out.
func (s *placeQueue) join(task string, me queueEntry) (*os.File, error) {
	qf, err := os.CreateTemp(filepath.Join(s.dir, "queue"), "."+task+".tmp*")
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(qf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		os.Remove(qf.Name())
		qf.Close()
		return nil, err
	}
	json.NewEncoder(qf).Encode(me)
	if err := os.Rename(qf.Name(), s.entryPath(task)); err != nil {
		os.Remove(qf.Name())
		qf.Close()
		return nil, err
	}
	return qf, nil
}

// take takes a free place if this task may have one now: a place handed to
// it, or a free place while fewer tasks that outrank it wait than there
// are free places; more says other places were free too. Ranks are
// worked out only when a place is free: the look at the queue and at the
// processes Ninja started costs more than a look at the places.
//
// A place kept for a task is free again when the task has its place
// already, when another place is kept for it too (two tasks that end at
// once may both find their heir ready), or when it was kept in another
// run (a run that starts within a second of the last would otherwise
// lose that place for a second).
func (s *placeQueue) take(me queueEntry) (slot int, f *os.File, more bool) {
	if !s.anyFree() {
		return -1, nil, false
	}
	// Looking at the free places, working out this task's rank and
	// taking a place is one step among the run's tasks: two that looked
	// at once would both see the same places free and take them both,
	// where the second should have left its place to a task that both
	// count as on its way (seen under load, where the look at Ninja's
	// processes takes milliseconds: two short tasks took both places as
	// the run started, and the chain's head waited a whole round).
	defer s.holdTaking()()
	return s.takeNow(me)
}

// holdTaking waits for the run's other tasks to be done taking a place
// (see take) and returns what lets them go on. Each holds it for a look
// at the places, the queue and Ninja's processes: milliseconds, never a
// wait. Where the lock cannot be had, or not within takeWait (its holder
// stopped: a Ctrl-Z, a debugger), places are taken without it.
func (s *placeQueue) holdTaking() (done func()) {
	f, err := state.OpenOwn(filepath.Join(s.dir, "take.lock"), os.O_RDONLY|os.O_CREATE)
	if err != nil {
		return func() {}
	}
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Since(start) > takeWait {
			f.Close()
			return func() {}
		}
	}
}

// takeWait bounds a task's wait for another's look at the places.
var takeWait = 2 * time.Second

// takeNow is take, with the other tasks held off.
func (s *placeQueue) takeNow(me queueEntry) (slot int, f *os.File, more bool) {
	now := s.now().UnixNano()
	var free []int
	kept := map[string]bool{} // tasks a place is kept for: they need no other
	for k := 0; k < s.jobs; k++ {
		var res reservation
		reserved := state.ReadJSON(s.reservePath(k), &res) == nil && res.Until > now && res.Run == s.run
		if reserved && res.Task != me.Task {
			if kept[res.Task] || s.running(res.Task) {
				reserved = false // the task has or will have another place
			} else if now-res.Since < int64(handoffGrace) || s.started(res.Task) {
				kept[res.Task] = true
				continue // kept for the next link of a chain
			}
			reserved = false // Ninja has not started the link: the place is free
		}
		f := s.lock(k)
		if f == nil {
			continue
		}
		if reserved {
			// Handed to this task.
			os.Remove(s.reservePath(k))
			return k, f, false
		}
		// Only a look: others may look too while this task works out its
		// rank.
		f.Close()
		free = append(free, k)
	}
	if len(free) == 0 || s.rank(me, kept, len(free)) >= len(free) {
		return -1, nil, false
	}
	for i, k := range free {
		if f := s.lock(k); f != nil {
			return k, f, i < len(free)-1
		}
	}
	return -1, nil, false
}

// anyFree reports whether a place is free now (kept ones count).
func (s *placeQueue) anyFree() bool {
	for k := 0; k < s.jobs; k++ {
		if f := s.lock(k); f != nil {
			f.Close()
			return true
		}
	}
	return false
}

// lock takes place k if it is free; nil when it is not. The lock file is
// opened read-only: closing it wakes no one (inotify sees only writes).
func (s *placeQueue) lock(k int) *os.File {
	f, err := state.OpenOwn(s.lockPath(k), os.O_RDONLY|os.O_CREATE)
	if state.NotOwn(err) {
		// Junk in paraider's own place (a link, a FIFO): made anew.
		os.Remove(s.lockPath(k))
		f, err = state.OpenOwn(s.lockPath(k), os.O_RDONLY|os.O_CREATE)
	}
	if err != nil {
		return nil
	}
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		f.Close()
		return nil
	}
	return f
}

// rank counts the tasks that outrank me and wait for a place, or are on
// their way to the queue, but for those a place is kept for; it stops
// counting at limit (the free places). Every waiting task works out its
// rank each time a place falls free, so this is kept to a listing of the
// queue and of Ninja's children: an entry is opened only to see whether
// its task still lives, and only while the count is below limit.
func (s *placeQueue) rank(me queueEntry, kept map[string]bool, limit int) int {
	rank := 0
	entries := s.queued()
	queued := make(map[string]bool, len(entries))
	for _, w := range entries {
		queued[w.Task] = true
	}
	for _, w := range entries {
		if rank >= limit || !outranks(w, me) {
			break // sorted: the rest rank lower
		}
		if w.Task != me.Task && !kept[w.Task] && s.alive(w.Task) {
			rank++
		}
	}
	// Ninja starts the ready tasks at once, and they join the queue in
	// whatever order their processes get going: one that Ninja started
	// and that outranks this task counts as waiting already.
	now := s.now()
	for _, id := range s.ninjaTasks() {
		if rank >= limit {
			break
		}
		if queued[id] || kept[id] || !outranks(s.entry(id), me) {
			continue
		}
		if s.arriving(id, now) {
			rank++
		}
	}
	return rank
}

// entry is task's place in the queue, from the ranks gen wrote.
func (s *placeQueue) entry(task string) queueEntry {
	p, _ := s.ranks(task)
	return queueEntry{Task: task, Priority: p.Remaining, Order: p.Order}
}

// wakeNext wakes the highest-ranked waiting task to look at the places
// again: it touches the task's queue entry, which the task watches. The
// others need not look: the woken one outranks them, and passes the
// wake-up on should it find more than one place free.
func (s *placeQueue) wakeNext() {
	if w, ok := s.top(); ok {
		s.wake(w.Task)
	}
}

// wake touches task's queue entry, which the waiting task watches (by the
// file's time: the real clock's, whatever the queue's says).
func (s *placeQueue) wake(task string) {
	now := time.Now()
	os.Chtimes(s.entryPath(task), now, now)
}

func (s *placeQueue) entryPath(task string) string {
	return filepath.Join(s.dir, "queue", task+".json")
}

// arriving reports whether task, whose paraider exec the same Ninja has
// started beside this one, is on its way to the queue: it neither waits
// there nor runs, and was first seen less than arriveFor ago.
func (s *placeQueue) arriving(task string, now time.Time) bool {
	if s.ran[task] {
		return false
	}
	first, ok := s.seen[task]
	if !ok {
		first = now
		s.seen[task] = now
	}
	if now.Sub(first) >= arriveFor {
		return false
	}
	if s.running(task) {
		s.ran[task] = true
		return false
	}
	return true
}

// started reports whether Ninja has started task: it waits in the queue,
// or its paraider exec is on its way there.
func (s *placeQueue) started(task string) bool {
	if _, err := os.Stat(s.entryPath(task)); err == nil {
		return true
	}
	return slices.Contains(s.ninjaTasks(), task)
}

// siblings lists the tasks of the paraider exec processes that the same
// Ninja has started, beside this one.
func (s *placeQueue) siblings() []string {
	ninja, self := os.Getppid(), os.Getpid()
	pids, _ := proctab.Children(ninja)
	var out []string
	for _, pid := range pids {
		if pid == self {
			continue
		}
		name, ok := s.names[pid]
		if !ok {
			args, _ := proctab.Args(pid)
			if name, ok = execTask(args); !ok {
				continue
			}
			// A pid reused within one wait keeps its first name (pids
			// come round only after pid_max others): at worst a task
			// waits arriveFor longer for one it takes to be on its way.
			s.names[pid] = name
		}
		out = append(out, name)
	}
	return out
}

// execTask is the task of a paraider exec that Ninja started, from the
// process's arguments: paraider's own (PATH exec ID), or the shell's
// before it has become paraider (sh -c "exec PATH exec ID": on a busy
// machine that can last long enough for a lower-ranked task to take the
// place first).
func execTask(args []string) (string, bool) {
	if len(args) >= 3 && args[1] == "exec" {
		return args[len(args)-1], true
	}
	if len(args) == 3 && args[1] == "-c" {
		if f := strings.Fields(args[2]); len(f) == 4 && f[0] == "exec" && f[2] == "exec" {
			return f[3], true
		}
	}
	return "", false
}

// running reports whether task has a place: it said so in running/.
func (s *placeQueue) running(task string) bool {
	_, err := os.Stat(filepath.Join(s.root, filepath.FromSlash(state.RunningPath(task))))
	return err == nil
}

func outranks(a, b queueEntry) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return a.Order < b.Order
}

// queued lists the tasks in the queue, highest rank first, from the
// entries' names and the ranks gen wrote (an entry of a task gen did not
// rank, from a plan generated since, is read). Entries of tasks that died
// are among them: see alive.
func (s *placeQueue) queued() []queueEntry {
	dir := filepath.Join(s.dir, "queue")
	entries, _ := os.ReadDir(dir)
	out := make([]queueEntry, 0, len(entries))
	for _, e := range entries {
		task, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || strings.HasPrefix(task, ".") {
			continue
		}
		if !e.Type().IsRegular() {
			// Not an entry a task made (a link, a FIFO, a directory):
			// junk in paraider's queue, removed unread.
			os.RemoveAll(filepath.Join(dir, e.Name()))
			continue
		}
		q := s.entry(task)
		if _, ranked := s.ranks(task); !ranked && state.ReadJSON(filepath.Join(dir, e.Name()), &q) != nil {
			continue
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return outranks(out[i], out[j]) })
	return out
}

// alive reports whether task still waits in the queue: its process holds
// the entry's lock. The entry of a task that died is removed.
func (s *placeQueue) alive(task string) bool {
	p := s.entryPath(task)
	f, err := state.OpenOwn(p, os.O_RDONLY)
	if state.NotOwn(err) {
		os.RemoveAll(p) // junk: no task waits there
		return false
	}
	if err != nil {
		return false // it left the queue meanwhile
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB) == nil {
		// Nobody holds it: its task is gone.
		os.Remove(p)
		return false
	}
	return true
}

// top is the highest-ranked task waiting for a place; false when none
// waits.
func (s *placeQueue) top() (queueEntry, bool) {
	for _, w := range s.queued() {
		if s.alive(w.Task) {
			return w, true
		}
	}
	return queueEntry{}, false
}

// release gives a place back; with an heir that no waiting task
// outranks by its remaining path, the place is kept for it a moment. On a
// tie the chain goes on: the place is the heir's within milliseconds,
// and a chain held back at a tie ends later (six short tasks of half a
// unit beside a chain of three: 3.5 units instead of 3 when the short
// ones win the ties). The next waiting task is woken.
func (s *placeQueue) release(k int, f *os.File, heir string) {
	if heir != "" {
		if w, waiting := s.top(); !waiting || w.Priority <= s.entry(heir).Priority {
			now := s.now()
			state.WriteJSON(s.reservePath(k), reservation{Task: heir, Run: s.run, Since: now.UnixNano(), Until: now.Add(handoffFor).UnixNano()})
		}
	}
	f.Close()
	// Who to wake is looked at with the place free: a task that was at
	// the top a moment ago may be taking another place just now, and
	// would miss the wake-up (see acquire).
	s.wakeNext()
}

// asleep, when set (tests), is called as a waiting task goes to sleep.
var asleep func()

func sleeping() {
	if asleep != nil {
		asleep()
	}
}

// forget drops places kept for task: it needs none (it was up to date).
func (s *placeQueue) forget(task string) {
	for k := 0; k < s.jobs; k++ {
		var res reservation
		if state.ReadJSON(s.reservePath(k), &res) == nil && res.Task == task && os.Remove(s.reservePath(k)) == nil {
			s.wakeNext()
		}
	}
}

func (s *placeQueue) lockPath(k int) string {
	return filepath.Join(s.dir, fmt.Sprintf("slot-%d.lock", k))
}
func (s *placeQueue) reservePath(k int) string {
	return filepath.Join(s.dir, fmt.Sprintf("slot-%d.reserved", k))
}
