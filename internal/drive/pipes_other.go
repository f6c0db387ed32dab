//go:build !unix

package drive

// Where paraider does not run (see internal/proc), no pipe is watched.
func watchedPipes() []int { return nil }
func broken(fd int) bool  { return false }
