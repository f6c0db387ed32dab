package state

// A task's working time is a fact about the task that orders the next run
// (longest chain first), not a result to forget: `paraider reset` removes
// a task's result so that it runs again, and keeps how long its last
// success worked here first.

// Durations are seconds of working time of each task's last success.
type Durations map[string]float64

// Durations reads the working times kept across resets; none when there
// are none (or they cannot be read: they only order a run).
func (l Layout) Durations() Durations {
	d := Durations{}
	ReadJSON(l.Path(DurationsPath), &d)
	return d
}

// KeepDurations keeps the working time of each of tasks whose result is a
// success, before the results are removed.
func (l Layout) KeepDurations(tasks []string) error {
	d := l.Durations()
	changed := false
	for _, id := range tasks {
		var r Result
		if ReadJSON(l.Path(ResultPath(id)), &r) != nil || r.Status != StatusOK || r.Working() <= 0 {
			continue
		}
		d[id] = r.Working().Seconds()
		changed = true
	}
	if !changed {
		return nil
	}
	return WriteJSON(l.Path(DurationsPath), d)
}
