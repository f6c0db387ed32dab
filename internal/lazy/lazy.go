// Package lazy holds values worked out the first time they are used, not
// as the program starts: every paraider process (two for each task a run
// runs) initialises every package linked in, and compiling the regular
// expressions of all of them was a tenth of a `paraider exec`'s start
// that used none of most.
package lazy

import (
	"regexp"
	"sync"
)

// Regexp is expr compiled on its first use, as regexp.MustCompile
// compiles it: an expression that does not compile panics then, where it
// would have stopped the program at its start.
func Regexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
