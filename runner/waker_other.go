//go:build (!linux && !darwin) || paraider_portable

package runner

func newWaker(entry string) sleeper { return newPollWaker(entry) }
