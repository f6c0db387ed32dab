package human

// Hinted is an error that knows how to fix what it reports, as age's
// errorWithHint does: paraider prints the hint on a line of its own
// after the error, whatever kind of error carries it.
type Hinted interface {
	error
	Hint() string
}
