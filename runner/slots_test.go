package runner

import (
	"context"
	"os"
	"os/exec"
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
	go func() {
		time.Sleep(50 * time.Millisecond)
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
// taken at once, not one after the other).
func TestSlotsWakeUps(t *testing.T) {
	defer func(d time.Duration) { slotPoll = d }(slotPoll)
	slotPoll = time.Hour
	var sleeping atomic.Int32
	asleep = func() { sleeping.Add(1) }
	defer func() { asleep = nil }()
	root := t.TempDir()
	prio := map[string]state.Priority{}
	waiting := []string{"w1", "w2", "w3", "w4", "w5"}
	for i, id := range waiting {
		prio[id] = state.Priority{Remaining: float64(10 - i), Order: i}
	}
	if err := state.WriteJSON(filepath.Join(root, filepath.FromSlash(state.PriorityPath)), prio); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	var mu sync.Mutex
	var order []string
	holding, most := 0, 0
	var wg sync.WaitGroup
	for _, id := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := openSlots(root, jobs).acquire(ctx, id, nil)
			if err != nil {
				t.Errorf("%s: %v", id, err)
				return
			}
			mu.Lock()
			order = append(order, id)
			holding++
			most = max(most, holding)
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			holding--
			mu.Unlock()
			release("")
		}()
	}
	// Every waiting task in the queue before the places are given back.
	for {
		entries, _ := filepath.Glob(filepath.Join(root, ".paraider", "slots", "queue", "w*.json"))
		if len(entries) == len(waiting) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("only %d of the tasks joined the queue", len(entries))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// All of them asleep, waiting for a wake-up.
	for sleeping.Load() < int32(len(waiting)) {
		if ctx.Err() != nil {
			t.Fatalf("only %d of the tasks went to sleep", sleeping.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, release := range releases {
		release("")
	}
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("a waiting task was never woken; took places: %v", order)
	}
	// Two places: the tasks take them two by two, in rank order (within a
	// pair, at the same moment).
	for i := 0; i < len(order); i += jobs {
		got, want := slices.Clone(order[i:min(i+jobs, len(order))]), waiting[i:min(i+jobs, len(waiting))]
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("places taken in the order %v; want rank order %v, two by two", order, waiting)
			break
		}
	}
	if most != jobs {
		t.Errorf("at most %d of the waiting tasks held a place at once; want %d (both places given back at once)", most, jobs)
	}
}

// TestChildren: the children files and the scan of every stat agree on
// this process's children.
func TestChildren(t *testing.T) {
	var cmds []*exec.Cmd
	for i := 0; i < 3; i++ {
		c := exec.Command("sleep", "30")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	defer func() {
		for _, c := range cmds {
			c.Process.Kill()
			c.Wait()
		}
	}()
	want := map[int]bool{}
	for _, c := range cmds {
		want[c.Process.Pid] = true
	}
	byStat := childrenByStat(os.Getpid())
	got, ok := children(os.Getpid())
	if !ok {
		t.Skip("no /proc/PID/task/TID/children here")
	}
	for _, list := range [][]int{got, byStat} {
		seen := 0
		for _, pid := range list {
			if want[pid] {
				seen++
			}
		}
		if seen != len(want) {
			t.Errorf("children %v; want all of %v", list, want)
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
	keep := func(s *slots, k int, task, run string) {
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
	k, f, _ := s.try(me)
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
	if k, f, _ := s.try(me); f == nil || k != 1 {
		t.Fatalf("the place kept for a running task: got place %d (%v); want 1", k, f != nil)
	} else {
		f.Close()
	}
	os.Remove(s.reservePath(1))

	// A place kept in another run is free; one kept in this run is not.
	keep(s, 1, "link", "run-1")
	if k, f, _ := s.try(me); f == nil || k != 1 {
		t.Fatalf("the place kept in an earlier run: got place %d (%v); want 1", k, f != nil)
	} else {
		f.Close()
	}
	keep(s, 1, "link", "run-2")
	if _, f, _ := s.try(me); f != nil {
		t.Fatal("a place kept in this run for a link of a chain was taken by another task")
	}
}
