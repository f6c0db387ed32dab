package human

// Hinted is an error that knows how to fix what it reports, as age's
// errorWithHint does: paraider prints the hint on a line of its own
// after the error, whatever kind of error carries it.
type Hinted interface {
	error
	Hint() string
}

// WithHint is err with how to fix it.
func WithHint(err error, hint string) error { return &withHint{err, hint} }

type withHint struct {
	err  error
	hint string
}

func (h *withHint) Error() string { return h.err.Error() }
func (h *withHint) Unwrap() error { return h.err }
func (h *withHint) Hint() string  { return h.hint }
