// Package treewatch tells which paths under a directory were made,
// written, removed or renamed while it watched. Looking at a whole tree
// for what changed (git status) reads the metadata of every file in it,
// tens of milliseconds per ten thousand files, before and after every
// agent attempt; a watch costs a listing of the directories when it
// starts and nothing per file.
//
// Linux watches with inotify. Elsewhere (macOS, and the
// paraider_portable build that runs macOS's code here) Start says
// ErrUnsupported and the caller looks at the whole tree, as it does
// whenever a watch cannot vouch for what it saw (Stop's ok).
package treewatch

import (
	"errors"
	"path"
	"sort"
	"strings"
)

// ErrUnsupported: this system has no watch; look at the whole tree.
var ErrUnsupported = errors.ErrUnsupported

// MaxDirs is how many directories a watch takes on: a tree with more
// (a node_modules that git does not ignore) is looked at whole instead.
var MaxDirs = 20000

// MaxPaths is how many changed paths a watch reports: past that, a look
// at the whole tree costs less than one at each path.
var MaxPaths = 2000

// Skip says which directories (relative to the root, slash-separated)
// are not watched: what happens under them is not reported.
type Skip func(rel string) bool

// SkipUnder skips the directories in dirs and everything under them.
func SkipUnder(dirs ...string) Skip {
	set := make(map[string]bool, len(dirs))
	for _, d := range dirs {
		set[d] = true
	}
	return func(rel string) bool { return set[rel] || under(set, rel) }
}

// under reports whether a directory above p is in set: a look per level
// of p, however many the set holds (it is asked of every directory a
// watch walks, and a tree may have hundreds of ignored directories).
func under(set map[string]bool, p string) bool {
	// Relative, slash-separated, clean paths: cut at each slash (path.Dir
	// cleans and allocates).
	for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p, '/') {
		p = p[:i]
		if set[p] {
			return true
		}
	}
	return false
}

// sink takes what a watch sees, in the order it happened, under the
// watch's lock: a set of paths for Start's watch, a caller's Events for
// Stream's.
type sink interface {
	add(dir, name string) bool // false once it can no longer vouch
	mark(name string)
	flush()
	lose()
}

// seenSet gathers the changed paths for Stop.
type seenSet struct {
	paths map[string]bool
}

func (s *seenSet) add(dir, name string) bool {
	s.paths[path.Join(dir, name)] = true
	return len(s.paths) <= MaxPaths
}

func (s *seenSet) mark(string) {}
func (s *seenSet) flush()      {}
func (s *seenSet) lose()       { s.paths = nil }

// list is the changed paths, sorted, without those under another listed
// path (a directory stands for what is under it).
func (s *seenSet) list() []string { return Collapse(s.paths) }

// Collapse is the paths of set, sorted, without those under another of
// them (a directory stands for what is under it).
func Collapse(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	kept := out[:0]
	for _, p := range out {
		if !under(set, p) {
			kept = append(kept, p)
		}
	}
	return kept
}

// Events takes what a Stream watch sees, as it happens, from one
// goroutine at a time.
type Events interface {
	// Path: something was made, written, removed or renamed at p
	// (relative to the root, slash-separated; a directory made or moved
	// in stands for what is under it, and what it held is reported too).
	Path(p string)
	// Mark: a file named name was made in a directory given to Mark.
	Mark(name string)
	// Flush ends a batch of calls: what came before happened.
	Flush()
	// Lost: the watch can no longer vouch for what it sees (events
	// dropped, a directory renamed, too many directories); it reports
	// nothing more.
	Lost()
}

// events adapts Events to a sink.
type events struct{ Events }

func (e events) add(dir, name string) bool { e.Path(path.Join(dir, name)); return true }
func (e events) mark(name string)          { e.Mark(name) }
func (e events) flush()                    { e.Flush() }
func (e events) lose()                     { e.Lost() }
