package par

import (
	"sync/atomic"
	"testing"
)

// Each calls f once for each index, and none when there are none.
func TestEach(t *testing.T) {
	for _, n := range []int{0, 1, 3, 1000} {
		seen := make([]atomic.Int32, n)
		Each(n, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if got := seen[i].Load(); got != 1 {
				t.Errorf("n=%d: f(%d) called %d times", n, i, got)
			}
		}
	}
}
