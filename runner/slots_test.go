package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
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
		release, err := openSlots(root, jobs).acquire(ctx, id)
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
			release, err := openSlots(root, jobs).acquire(ctx, id)
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
	time.Sleep(100 * time.Millisecond) // all of them asleep
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
