package runner

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/paraider/paraider/internal/lazy"
	"github.com/paraider/paraider/internal/treelog"
	"github.com/paraider/paraider/internal/treewatch"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// dirty maps the main tree's changed files (git status) to their blob ids;
// nil outside a git repository, or when git could not tell (ctx ended).
func (r *runner) dirty(ctx context.Context) map[string]string {
	m, _ := r.dirtyOK(ctx)
	return m
}

// dirtyOK is dirty, and whether git told.
func (r *runner) dirtyOK(ctx context.Context) (map[string]string, bool) {
	if r.openMain() == nil {
		return nil, false
	}
	m, err := r.main.Dirty(ctx, r.spec.Agent.Scratch)
	if err != nil {
		return nil, false
	}
	return m, true
}

// openMain opens the repository around the plan once; nil outside one.
func (r *runner) openMain() *isolate.Repo {
	// Once per task: the repository around the plan does not move.
	r.mainOnce.Do(func() {
		r.main = r.repo // with worktree isolation, already open
		if r.main == nil {
			r.main, _ = isolate.Open(r.root)
		}
	})
	return r.main
}

// dirtyWatched is dirty, and a watch of the main tree from then on (nil
// where there is none: see mainChanges), which leaves out the directories
// git ignores whole, .git and paraider's own. The watch starts while git
// looks, from the directories git ignored at the last look, and takes on
// those it no longer ignores once git has said so: the agent starts only
// then.
func (r *runner) dirtyWatched(ctx context.Context) (*dirtyLook, *mainWatch) {
	if r.openMain() == nil {
		return nil, nil
	}
	if j := treelog.Open(r.lay.Path(state.TreeLogDir)); j != nil {
		if m, w, ok := r.dirtyLogged(ctx, j); ok {
			return m, w
		}
	}
	type look struct {
		dirty   map[string]string
		ignored []string
		err     error
	}
	looked := make(chan look, 1)
	hint := r.main.IgnoredHint()
	go func() {
		m, ignored, err := r.main.DirtyAndIgnored(ctx, r.spec.Agent.Scratch)
		looked <- look{m, ignored, err}
	}()
	git, gerr := r.main.GitState(ctx)
	tree, werr := treewatch.Start(r.root, watchSkip(hint))
	l := <-looked
	if werr != nil {
		return knownDirty(l.dirty), nil
	}
	if l.err != nil || gerr != nil || tree.Also(missing(hint, l.ignored), watchSkip(l.ignored)) != nil {
		tree.Stop()
		return knownDirty(l.dirty), nil
	}
	return knownDirty(l.dirty), &mainWatch{tree: tree, git: git}
}

// watchSkip leaves out of a watch .git, paraider's own directory and the
// directories in ignored.
func watchSkip(ignored []string) treewatch.Skip {
	skip := treewatch.SkipUnder(append(slices.Clone(ignored), state.Dir)...)
	return func(rel string) bool { return path.Base(rel) == ".git" || skip(rel) }
}

// missing lists the directories of guess that are not in truth.
func missing(guess, truth []string) []string {
	in := make(map[string]bool, len(truth))
	for _, d := range truth {
		in[d] = true
	}
	var out []string
	for _, d := range guess {
		if !in[d] {
			out = append(out, d)
		}
	}
	return out
}

// mainWatch is a watch of the main tree during an attempt (its own, or
// the run's journal from a token on), and git's own state as it started
// (Repo.GitState).
type mainWatch struct {
	tree *treewatch.Watch
	log  *treelog.Reader
	at   treelog.Token
	git  string
}

// seen is the paths written since the watch started, and whether it can
// vouch for them; it ends the attempt's own watch.
func (w *mainWatch) seen(ctx context.Context) ([]string, bool) {
	if w.log != nil {
		paths, _, ok, err := w.log.Since(ctx, w.at)
		return paths, ok && err == nil
	}
	return w.tree.Stop()
}

// stop ends the attempt's own watch.
func (w *mainWatch) stop() {
	if w.tree != nil {
		w.tree.Stop()
	}
}

// asked leaves out of paths those no caller asks about (unasked), but a
// directory: git is asked about the rest.
func (r *runner) asked(paths []string) []string { return r.askedOf(paths, r.unasked()) }

// askedOf is asked with unasked given (nil: every path is asked).
func (r *runner) askedOf(paths []string, unasked func(string) bool) []string {
	if unasked == nil {
		return paths
	}
	return slices.DeleteFunc(paths, func(p string) bool {
		return unasked(p) && !isDir(filepath.Join(r.root, filepath.FromSlash(p)))
	})
}

// elsewhere lists main-tree files that no task may write and that changed
// during the attempt: other tasks' write-backs touch only their own files.
// With isolation none it is what the attempt changed outside its files,
// as far as paraider can tell: another task's files are theirs to write.
func (r *runner) elsewhere(ctx context.Context, before *dirtyLook, w *mainWatch) []string {
	if before == nil {
		return nil
	}
	unasked := r.unasked()
	if unasked == nil {
		return nil // no generated plan to tell a task's files by
	}
	var out []string
	for _, p := range r.mainChanges(ctx, before, w, unasked) {
		if !unasked(p) {
			out = append(out, p)
		}
	}
	return out
}

// unasked says which changed paths elsewhere leaves out: any task's files,
// and Ninja's, the plan's and paraider's own (notAChange); nil without a
// generated plan. From gen's list (state.DeclaredPath), or run.json where
// an older gen wrote none.
func (r *runner) unasked() func(string) bool {
	if r.unaskedFn != nil {
		return r.unaskedFn
	}
	declared := map[string]bool{}
	if b, err := state.ReadOwn(r.lay.Path(state.DeclaredPath), 64<<20); err == nil {
		// gen writes the list sorted: an attempt asks about a few
		// paths, and a map of ten thousand cost more than its look.
		list := strings.Split(string(b), "\x00")
		if slices.IsSorted(list) {
			r.unaskedFn = func(p string) bool {
				_, found := slices.BinarySearch(list, p)
				return found || isOwn(p)
			}
			return r.unaskedFn
		}
		for _, p := range list {
			declared[p] = true
		}
		r.unaskedFn = func(p string) bool { return declared[p] || isOwn(p) }
		return r.unaskedFn
	}
	run := r.runInfo()
	if run.Files == nil {
		return nil
	}
	for _, files := range run.Files {
		for _, f := range files {
			declared[f] = true
		}
	}
	r.unaskedFn = func(p string) bool { return declared[p] || notAChange(run, p) }
	return r.unaskedFn
}

// isDir reports whether p is a directory (not a link to one).
func isDir(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// tempRE matches paraider's own temporary files (state.WriteFile's
// .NAME.tmpNNN, a symlink's .NAME.tmp-linkNNN), which a snapshot of the
// tree may catch while another task writes back.
var tempRE = lazy.Regexp(`(^|/)\.[^/]+\.tmp(-link)?[0-9]*$`)

// notAChange reports whether a changed main-tree path is Ninja's, the
// plan's or paraider's own: never a stray of an agent's.
func notAChange(run *state.Run, p string) bool {
	return p == run.Ninja || p == run.Plan || slices.Contains(run.Sources, p) || isOwn(p)
}

// isOwn reports whether a main-tree path is Ninja's log or paraider's own
// (its directory, its temporary files), whatever the plan.
func isOwn(p string) bool {
	switch {
	case p == ".ninja_log", p == ".ninja_deps":
		return true
	case p == state.Dir || strings.HasPrefix(p, state.Dir+"/"):
		return true
	}
	return tempRE().MatchString(p)
}

// mainChanges lists the main tree's files whose state (git status and
// content) differs from before; those unasked says the caller leaves out
// may be left out (a directory where one of them was is not). With a
// watch that can vouch for what it saw, and git's own state where it was,
// git is asked about the paths the watch saw alone (none, most attempts:
// they write only files of the tasks); otherwise the whole tree is looked
// at again.
func (r *runner) mainChanges(ctx context.Context, before *dirtyLook, w *mainWatch, unasked func(string) bool) []string {
	if w != nil {
		if paths, seen := w.seen(ctx); seen {
			paths = r.askedOf(paths, unasked)
			if now, err := r.main.GitState(ctx); err == nil && now == w.git {
				if len(paths) == 0 {
					return nil // before need not even be read
				}
				was, read := before.Map()
				if !read {
					return nil // as below: no change is known
				}
				out, err := r.main.ChangedSince(ctx, r.spec.Agent.Scratch, was, paths)
				if err != nil {
					return nil // as below: git could not tell
				}
				return out
			}
		}
	}
	after, ok := r.dirtyOK(ctx)
	was, read := before.Map()
	if !ok || !read {
		// git could not tell (the attempt was interrupted, or timed
		// out), or the look before is not one: no change is known, and
		// none is claimed. Taking "not told" for "nothing changed"
		// named every file changed before the run as changed during it.
		return nil
	}
	var out []string
	for p, blob := range after {
		if old, ok := was[p]; !ok || old != blob {
			out = append(out, p)
		}
	}
	for p := range was {
		if _, ok := after[p]; !ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// undeclaredInPlace lists files outside every task's that changed in the
// main tree during an attempt in place. With other tasks running in the
// same tree it cannot tell whose change it was.
func (r *runner) undeclaredInPlace(ctx context.Context, before *dirtyLook, w *mainWatch) []string {
	return r.elsewhere(ctx, before, w)
}
