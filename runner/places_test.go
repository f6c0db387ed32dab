package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/paraider/paraider/state"
)

// A touched queue entry wakes its waiting task at once, not at its next
// poll; another task's look at the entry wakes no one.
func TestWakerWakes(t *testing.T) {
	entry := filepath.Join(t.TempDir(), "a.json")
	os.WriteFile(entry, []byte("{}"), 0o644)
	w := newWaker(entry)
	defer w.close()
	slept := make(chan struct{}, 1)
	asleep = func() { slept <- struct{}{} }
	defer func() { asleep = nil }()
	go func() {
		<-slept
		now := time.Now()
		os.Chtimes(entry, now, now)
	}()
	start := time.Now()
	w.wait(10 * time.Second)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("woke after %s: the event did not wake it", took)
	}
	// Opening the entry read-only, locking and closing it (alive) wakes
	// no one.
	f, _ := os.Open(entry)
	syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	f.Close()
	start = time.Now()
	w.wait(200 * time.Millisecond)
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Fatalf("a look at the entry woke it after %s", took)
	}
}

// TestSlotsWakeUps: with no polling at all, waiting tasks get their places
// from wake-ups alone, in rank order, and a task that takes a place while
// another is free wakes the next (two places given back at once are both
// taken at once, not one after the other). Each task holds its place
// until the test has seen the pair; nothing here waits on a clock.
func TestSlotsWakeUps(t *testing.T) {
	defer func(d time.Duration) { placePoll = d }(placePoll)
	placePoll = time.Hour
	slept := make(chan struct{}, 100)
	asleep = func() { slept <- struct{}{} }
	defer func() { asleep = nil }()
	root := t.TempDir()
	prio := map[string]state.Priority{}
	waiting := []string{"w1", "w2", "w3", "w4", "w5"}
	for i, id := range waiting {
		prio[id] = state.Priority{Remaining: float64(10 - i), Order: i}
	}
	writeRanks(t, root, prio)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const jobs = 2
	var releases []func(string)
	for _, id := range []string{"h1", "h2"} {
		release, err := openSlots(root, jobs).acquire(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	var holding, most atomic.Int32
	got := make(chan string, len(waiting))
	proceed := map[string]chan struct{}{}
	var wg sync.WaitGroup
	for _, id := range waiting {
		proceed[id] = make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := openSlots(root, jobs).acquire(ctx, id, nil)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				got <- ""
				return
			}
			n := holding.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			got <- id
			select {
			case <-proceed[id]:
			case <-ctx.Done():
			}
			holding.Add(-1)
			release("")
		}()
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	// Every waiting task asleep in the queue before the places are given
	// back (a task sleeps only once its entry is in the queue).
	for range waiting {
		select {
		case <-slept:
		case <-ctx.Done():
			t.Fatal("not every task went to sleep in the queue")
		}
	}
	for _, release := range releases {
		release("")
	}
	// Two places: the tasks take them two by two, in rank order; a pair
	// holds both places until both are seen, then gives them back at once.
	for i := 0; i < len(waiting); i += jobs {
		want := waiting[i:min(i+jobs, len(waiting))]
		var pair []string
		for range want {
			select {
			case id := <-got:
				pair = append(pair, id)
			case <-ctx.Done():
				t.Fatalf("waiting for %v: a waiting task was never woken; took places: %v", want, pair)
			}
		}
		slices.Sort(pair)
		if !slices.Equal(pair, want) {
			t.Fatalf("places taken by %v; want %v next (rank order, two by two)", pair, want)
		}
		for _, id := range pair {
			close(proceed[id])
		}
	}
	if m := most.Load(); m != jobs {
		t.Errorf("at most %d of the waiting tasks held a place at once; want %d", m, jobs)
	}
}

// fakeQueue is a queue whose clock and whose tasks started by Ninja the
// test sets by hand.
func fakeQueue(t *testing.T, jobs int, prio map[string]state.Priority) (s *placeQueue, clock *time.Time, started *[]string) {
	t.Helper()
	root := t.TempDir()
	writeRanks(t, root, prio)
	s = openSlots(root, jobs)
	s.run = "run-1"
	os.MkdirAll(filepath.Join(s.dir, "queue"), 0o755)
	now := time.Unix(1_000_000, 0)
	clock, started = &now, new([]string)
	s.now = func() time.Time { return *clock }
	s.ninjaTasks = func() []string { return *started }
	return s, clock, started
}

// TestArrivingOutranks: a task Ninja has started that outranks this one
// counts as waiting for arriveFor, though it has not joined the queue; then
// no longer, and from the moment it runs, never again.
func TestArrivingOutranks(t *testing.T) {
	s, clock, started := fakeQueue(t, 1, map[string]state.Priority{"long": {Remaining: 10}, "short": {Remaining: 1, Order: 1}})
	me := s.entry("short")
	*started = []string{"long"}
	if _, f, _ := s.take(me); f != nil {
		t.Fatal("took the one place while a task that outranks it was on its way to the queue")
	}
	*clock = clock.Add(arriveFor - time.Millisecond)
	if _, f, _ := s.take(me); f != nil {
		t.Fatal("took the place before the outranking task's arriveFor was up")
	}
	*clock = clock.Add(time.Millisecond)
	k, f, _ := s.take(me)
	if f == nil {
		t.Fatalf("arriveFor (%s) is up and the place is still not taken", arriveFor)
	}
	f.Close()
	os.Remove(s.lockPath(k))

	// A new queue: the outranking task runs already, so it is not on its
	// way: the place is taken at once.
	s, _, started = fakeQueue(t, 2, map[string]state.Priority{"long": {Remaining: 10}, "short": {Remaining: 1, Order: 1}})
	*started = []string{"long"}
	os.MkdirAll(filepath.Join(s.root, filepath.FromSlash(state.RunningDir)), 0o755)
	os.WriteFile(filepath.Join(s.root, filepath.FromSlash(state.RunningPath("long"))), []byte("{}"), 0o644)
	if _, f, _ := s.take(s.entry("short")); f == nil {
		t.Fatal("a task that runs already was counted as on its way to the queue")
	} else {
		f.Close()
	}
}

// TestKeptPlaceLapses: a place kept for the next link of a chain waits for
// it handoffGrace when Ninja has not started it, and handoffFor when it
// has; the link itself takes it at once.
func TestKeptPlaceLapses(t *testing.T) {
	prio := map[string]state.Priority{"link": {Remaining: 1}, "other": {Remaining: 5, Order: 1}}
	for _, c := range []struct {
		started bool
		lapse   time.Duration
	}{{false, handoffGrace}, {true, handoffFor}} {
		s, clock, started := fakeQueue(t, 1, prio)
		if c.started {
			*started = []string{"link"}
		}
		f := s.lock(0)
		s.release(0, f, "link")
		other := s.entry("other")
		*clock = clock.Add(c.lapse - time.Millisecond)
		if _, f, _ := s.take(other); f != nil {
			t.Fatalf("started %v: the place kept for the link was taken by another task %s after it was kept", c.started, c.lapse-time.Millisecond)
		}
		if _, f, _ := s.take(s.entry("link")); f == nil {
			t.Fatalf("started %v: the link did not get the place kept for it", c.started)
		} else {
			f.Close()
		}
		s.release(0, s.lock(0), "link")
		*clock = clock.Add(c.lapse)
		if _, f, _ := s.take(other); f == nil {
			t.Fatalf("started %v: the place kept for the link is still kept %s after", c.started, c.lapse)
		} else {
			f.Close()
		}
	}
}

// TestKeptPlacesLapse: a place kept for the next link of a chain is free
// again when another place is kept for the same task (two tasks that end
// at once both hand theirs on), when the task has its place already, and
// when it was kept in an earlier run. Each of these held places back from
// waiting tasks: routes waited 600 ms for user-tests to end in a crud plan
// with three of four places free.
func TestKeptPlacesLapse(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	keep := func(s *placeQueue, k int, task, run string) {
		t.Helper()
		if err := state.WriteJSON(s.reservePath(k), reservation{Task: task, Run: run, Since: now.UnixNano(), Until: now.Add(handoffFor).UnixNano()}); err != nil {
			t.Fatal(err)
		}
	}
	s := openSlots(root, 2)
	s.run = "run-2"
	os.MkdirAll(filepath.Join(s.dir, "queue"), 0o755)
	me := queueEntry{Task: "other"}

	// Both places kept for the same task: one of them is free.
	keep(s, 0, "heir", "run-2")
	keep(s, 1, "heir", "run-2")
	k, f, _ := s.take(me)
	if f == nil {
		t.Fatal("two places kept for one task: neither is free")
	}
	f.Close()
	os.Remove(s.reservePath(k))

	// A place kept for a task that runs already is free.
	keep(s, 0, "heir", "run-2")
	keep(s, 1, "busy", "run-2")
	os.MkdirAll(filepath.Join(root, filepath.FromSlash(state.RunningDir)), 0o755)
	os.WriteFile(filepath.Join(root, filepath.FromSlash(state.RunningPath("busy"))), []byte("{}"), 0o644)
	if k, f, _ := s.take(me); f == nil || k != 1 {
		t.Fatalf("the place kept for a running task: got place %d (%v); want 1", k, f != nil)
	} else {
		f.Close()
	}
	os.Remove(s.reservePath(1))

	// A place kept in another run is free; one kept in this run is not.
	keep(s, 1, "link", "run-1")
	if k, f, _ := s.take(me); f == nil || k != 1 {
		t.Fatalf("the place kept in an earlier run: got place %d (%v); want 1", k, f != nil)
	} else {
		f.Close()
	}
	keep(s, 1, "link", "run-2")
	if _, f, _ := s.take(me); f != nil {
		t.Fatal("a place kept in this run for a link of a chain was taken by another task")
	}
}

// writeRanks writes the ranks as gen does (state.Sched).
func writeRanks(t *testing.T, root string, prio map[string]state.Priority) {
	t.Helper()
	s := &state.Sched{Jobs: 1, Prio: prio}
	for id := range prio {
		s.Tasks = append(s.Tasks, id)
	}
	if err := state.WriteFile(filepath.Join(root, filepath.FromSlash(state.SchedPath)), s.Encode(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A paraider exec is known by its task whether Ninja's shell has become
// paraider yet or not.
func TestExecTask(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
		ok   bool
	}{
		{[]string{".paraider/bin/paraider", "exec", "c1"}, "c1", true},
		{[]string{"/bin/sh", "-c", "exec .paraider/bin/paraider exec c1"}, "c1", true},
		{[]string{"/bin/sh", "-c", "exec .paraider/bin/paraider check lint"}, "", false},
		{[]string{"/bin/sh", "-c", "exec $paraider report --record"}, "", false},
		{[]string{"ninja", "-j", "4"}, "", false},
		{nil, "", false},
	} {
		if got, ok := execTask(tc.args); got != tc.want || ok != tc.ok {
			t.Errorf("execTask(%q) = %q, %v; want %q, %v", tc.args, got, ok, tc.want, tc.ok)
		}
	}
}

// TestTakersOneAtATime: two tasks that look at the places at once cannot
// both take one when only one of them may. Two short tasks, jobs 2, and a
// chain's head that outranks both on its way to the queue. s2 sees both
// places free and is stopped in the middle of its look (at Ninja's
// processes, where a busy machine stopped it for milliseconds); s1 looks
// meanwhile. Were the look and the take not one step among the tasks, s1
// would take a place and run, and s2 would go on to count only the head
// against the two places it saw free and take the other: the head waits a
// whole round (seen in CI, with the portable build's slower look).
func TestTakersOneAtATime(t *testing.T) {
	prio := map[string]state.Priority{"head": {Remaining: 10}, "s1": {Remaining: 1, Order: 1}, "s2": {Remaining: 1, Order: 2}}
	s2, _, _ := fakeQueue(t, 2, prio)
	s1 := openSlots(s2.root, 2)
	s1.run, s1.now = s2.run, s2.now
	looking, resume := make(chan struct{}), make(chan struct{})
	s2.ninjaTasks = func() []string {
		close(looking)
		<-resume
		return []string{"head", "s1"}
	}
	s1.ninjaTasks = func() []string { return []string{"head", "s2"} }
	type took struct {
		task string
		f    *os.File
	}
	got := make(chan took, 2)
	go func() {
		_, f, _ := s2.take(s2.entry("s2"))
		got <- took{"s2", f}
	}()
	<-looking
	go func() {
		_, f, _ := s1.take(s1.entry("s1"))
		got <- took{"s1", f}
	}()
	// s1 takes its place while s2 is stopped (what must not be) or waits
	// for s2 to be done: either way s2 goes on now or soon.
	var results []took
	select {
	case r := <-got:
		results = append(results, r)
		if r.f != nil {
			// It runs (took, in acquire).
			os.MkdirAll(filepath.Join(s1.root, filepath.FromSlash(state.RunningDir)), 0o755)
			os.WriteFile(filepath.Join(s1.root, filepath.FromSlash(state.RunningPath("s1"))), []byte("{}"), 0o644)
		}
	case <-time.After(500 * time.Millisecond):
	}
	close(resume)
	for len(results) < 2 {
		results = append(results, <-got)
	}
	var places []string
	for _, r := range results {
		if r.f != nil {
			places = append(places, r.task)
			r.f.Close()
		}
	}
	if len(places) != 1 {
		t.Fatalf("short tasks that took a place: %v; want one, the other place left for the chain's head", places)
	}
}

// TestTakeLockBounded: a task whose holder of the take lock is stopped
// (Ctrl-Z, a debugger) takes its place without it after takeWait rather
// than waiting for ever.
func TestTakeLockBounded(t *testing.T) {
	defer func(d time.Duration) { takeWait = d }(takeWait)
	takeWait = 50 * time.Millisecond
	s, _, _ := fakeQueue(t, 1, map[string]state.Priority{"a": {Remaining: 1}})
	held, err := os.OpenFile(filepath.Join(s.dir, "take.lock"), os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	done := make(chan *os.File, 1)
	go func() {
		_, f, _ := s.take(s.entry("a"))
		done <- f
	}()
	select {
	case f := <-done:
		if f == nil {
			t.Fatal("no place taken, though one was free and nobody outranks the task")
		}
		f.Close()
	case <-time.After(30 * time.Second):
		t.Fatal("take waited for a stopped holder of the take lock")
	}
}
