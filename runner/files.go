package runner

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"
)

// fileState is what a file held at one moment.
type fileState struct {
	exists bool
	sum    [32]byte
	mode   os.FileMode
}

func (r *runner) snapshot() map[string]fileState { return r.snapshotIn(r.root) }

// snapshotIn records the task's files as they are under dir.
func (r *runner) snapshotIn(dir string) map[string]fileState {
	m := map[string]fileState{}
	for _, f := range r.spec.Files {
		m[f] = stat(filepath.Join(dir, filepath.FromSlash(f)))
	}
	return m
}

func stat(path string) fileState {
	st, _, _ := statData(path)
	return st
}

// statData is stat, and the content it read (a link's target); ok is
// false when the path is something else, or could not be read.
func statData(path string) (st fileState, data []byte, ok bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		return fileState{}, nil, true
	}
	st = fileState{exists: true, mode: fi.Mode()}
	if fi.Mode().IsRegular() {
		if data, err = os.ReadFile(path); err == nil {
			st.sum, ok = sha256.Sum256(data), true
		}
	} else if fi.Mode()&os.ModeSymlink != 0 {
		t, err := os.Readlink(path)
		data = []byte(t)
		st.sum, ok = sha256.Sum256(data), err == nil
	}
	return st, data, ok
}

// modTimes records the modification times of files under dir.
func modTimes(dir string, files []string) map[string]time.Time {
	m := map[string]time.Time{}
	for _, f := range files {
		if fi, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err == nil && fi.Mode().IsRegular() {
			m[f] = fi.ModTime()
		}
	}
	return m
}

// restoreTimes puts back the recorded times of the files that did not
// change in content.
func restoreTimes(dir string, times map[string]time.Time, changedFiles []string) {
	for f, t := range times {
		if !slices.Contains(changedFiles, f) {
			os.Chtimes(filepath.Join(dir, filepath.FromSlash(f)), time.Time{}, t)
		}
	}
}

func changed(before, after map[string]fileState) []string {
	out := []string{}
	for f, a := range after {
		if before[f] != a {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// missingIn lists the files that neither existed before nor exist now.
func missingIn(dir string, files []string, before map[string]fileState) []string {
	var out []string
	for _, f := range files {
		if before[f].exists {
			continue
		}
		if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f))); err != nil {
			out = append(out, f)
		}
	}
	return out
}

func union(a, b []string) []string {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	sort.Strings(a)
	return a
}
