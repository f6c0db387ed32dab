// Package par runs the small, independent steps paraider takes over every
// task of a plan (reading ten thousand records, writing ten thousand
// specs) a few at a time: most of such a step is waiting for the disk.
package par

import (
	"runtime"
	"sync"
)

// Each calls f(0) to f(n-1), a few at a time (twice the CPUs, at least
// two), and returns when every call has.
func Each(n int, f func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, max(2, 2*runtime.GOMAXPROCS(0))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
