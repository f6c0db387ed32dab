package runner

// The run's journal of the main tree (internal/treelog): kept by the
// process that runs Ninja, read by each attempt with isolation none in
// place of a look at the whole tree.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/paraider/paraider/internal/gitrepo"
	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/internal/treelog"
	"github.com/paraider/paraider/internal/treewatch"
	"github.com/paraider/paraider/isolate"
	"github.com/paraider/paraider/state"
)

// maxGenerations bounds how often a host starts its watch again in one
// run (each start walks the tree and asks git what it ignores): past it,
// attempts look at the whole tree.
const maxGenerations = 20

// lookAgainAfter is how many paths written since the last look an attempt
// reads before it keeps the look at its own moment, although nothing
// written changed it (only the tasks' own files): the journal past
// treewatch.MaxPaths paths cannot tell, and reading it costs.
const lookAgainAfter = 200

// skippedName lists, NUL-separated, the directories the host's watch
// leaves out as git ignores them.
const skippedName = "skipped"

// HostTreeLog keeps the journal of the main tree's writes in root's
// .paraider/treelog until stop is called: for the process that runs
// Ninja (paraider run, and plain ninja's inner Ninja). Nothing outside a
// git repository, where no watch can be kept (macOS, the portable
// build), or where another run keeps it.
func HostTreeLog(root string) (stop func()) {
	abs, err := filepath.Abs(root)
	if !treewatch.Supported || err != nil || !gitrepo.MaybeRepo(abs) {
		return func() {}
	}
	// The lock first, before Ninja starts a task: a task that finds it
	// held waits for the journal (a look at the tree, which it would
	// otherwise take itself) rather than take its own look.
	release, err := treelog.Lock(state.Layout{Root: abs}.Path(state.TreeLogDir))
	if err != nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer release()
		repo, err := isolate.Open(abs)
		if err != nil {
			return
		}
		dir := state.Layout{Root: repo.Root}.Path(state.TreeLogDir)
		// Not before an attempt asks (a run with nothing to do asks
		// nothing).
		if !treelog.AwaitReader(ctx, dir) {
			return
		}
		for i := 0; i < maxGenerations && ctx.Err() == nil; i++ {
			if err := hostGeneration(ctx, repo, dir); err != nil {
				// It could not start (a tree of more directories than
				// a watch takes, the system's limit on watches): the
				// attempts look for themselves, and the lock goes at
				// once, so that none waits for a journal.
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// hostGeneration keeps one generation of the journal: until ctx ends or
// the journal's Trouble says to start again (nil); an error when it could
// not start one.
func hostGeneration(ctx context.Context, repo *isolate.Repo, dir string) error {
	jw, err := treelog.Create(dir)
	if err != nil {
		return err
	}
	defer jw.Close()
	// The looks at the last generation's moments: of no use now.
	if old, err := filepath.Glob(filepath.Join(dir, "look-*")); err == nil {
		for _, p := range old {
			os.Remove(p)
		}
	}
	// The watch starts from the directories git ignored at the last look
	// and takes on those it no longer ignores once git has said so, as
	// an attempt's own watch does (dirtyWatched).
	hint := repo.IgnoredHint()
	w, err := treewatch.Stream(repo.Root, watchSkip(hint), jw)
	if err != nil {
		return err
	}
	defer w.Stop()
	if err := w.Mark(filepath.Join(dir, "cookies")); err != nil {
		return err
	}
	// The specs too, for the attempts' guard (which otherwise looks at
	// each spec before and after the attempt): paraider's own directory
	// is left out of the watch but for them.
	specs := state.Dir + "/specs"
	if err := w.Attach(filepath.Join(repo.Root, filepath.FromSlash(specs)), specs); err != nil {
		return err
	}
	_, ignored, err := repo.DirtyAndIgnored(ctx, nil)
	if err != nil {
		return err
	}
	if err := w.Also(missing(hint, ignored), watchSkip(ignored)); err != nil {
		return err
	}
	if err := state.WriteUnsynced(filepath.Join(dir, skippedName), []byte(strings.Join(ignored, "\x00"))); err != nil {
		return err
	}
	if err := jw.Ready(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-jw.Trouble():
	}
	return nil
}

// look is the main tree's changed files (Repo.Dirty's map) at a moment of
// the journal, as the last attempt that read it left them, with git's own
// state then (Repo.GitState). Kept in .paraider/treelog/look-KEY, KEY
// naming what the map leaves out (the scratch patterns, run.json).
type look struct {
	at    treelog.Token
	git   string
	dirty *dirtyLook
}

// dirtyLook is a Dirty map (the main tree's changed files, with their
// blob ids), parsed from a kept look when first asked for: most attempts
// never ask, since nothing but the tasks' files was written. nil stands
// for "git could not tell".
type dirtyLook struct {
	m   map[string]string
	raw string // NUL-separated paths and ids, read and not parsed yet
	// f holds the entries not read yet, from off to its end: the file
	// as it was opened (a look written since replaces it by a rename).
	f   *os.File
	off int64
}

// knownDirty is m as a dirtyLook; nil for nil.
func knownDirty(m map[string]string) *dirtyLook {
	if m == nil {
		return nil
	}
	return &dirtyLook{m: m}
}

// load reads the entries not read yet; false where they are not a
// look's (the file is within an agent's reach).
func (d *dirtyLook) load() bool {
	if d.f == nil {
		return d.m != nil || d.raw != ""
	}
	defer func() { d.f.Close(); d.f = nil }()
	fi, err := d.f.Stat()
	if err != nil || fi.Size() <= d.off || fi.Size()-d.off > 256<<20 {
		return false
	}
	b := make([]byte, fi.Size()-d.off)
	if n, err := d.f.ReadAt(b, d.off); n != len(b) && err != nil {
		return false
	}
	// Pairs of NUL-ended fields: a path and its blob id.
	if b[len(b)-1] != 0 || bytes.Count(b, []byte{0})%2 != 0 {
		return false
	}
	d.raw = string(b[:len(b)-1])
	return true
}

// Map is the map, read and parsed now where it was not; false where the
// kept look's entries are not a look's.
func (d *dirtyLook) Map() (map[string]string, bool) {
	if d.m == nil {
		if !d.load() {
			return nil, false
		}
		f := strings.Split(d.raw, "\x00")
		d.m = make(map[string]string, len(f)/2)
		for i := 0; i+1 < len(f); i += 2 {
			d.m[f[i]] = f[i+1]
		}
		d.raw = ""
	}
	return d.m, true
}

// lookPath is where the look for this attempt's scratch patterns and
// the run's run.json is kept: a map made for other patterns, or another
// run's declared files, holds other things.
func (r *runner) lookPath() string {
	h := sha256.New()
	for _, s := range r.spec.Agent.Scratch {
		h.Write([]byte(s + "\x00"))
	}
	// The files the map leaves alone (unasked) come from these.
	for _, rel := range []string{state.DeclaredPath, state.RunPath} {
		if fi, err := os.Stat(r.lay.Path(rel)); err == nil {
			sig, _ := sumcache.SigOf(fi)
			fmt.Fprintf(h, "%+v", sig)
		}
	}
	return r.lay.Path(state.TreeLogDir + "/look-" + hex.EncodeToString(h.Sum(nil))[:16])
}

func readLook(p string) (look, bool) {
	f, err := state.OpenOwn(p, os.O_RDONLY)
	if err != nil {
		return look{}, false
	}
	// The header's four fields; the entries, most of the file (twenty
	// thousand at ten thousand tasks), are read when asked for.
	head := make([]byte, 4096)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	var fields [4]string
	off := 0
	for i := range fields {
		j := bytes.IndexByte(head[off:], 0)
		if j < 0 {
			f.Close()
			return look{}, false
		}
		fields[i], off = string(head[off:off+j]), off+j+1
	}
	at, err := strconv.ParseInt(fields[2], 10, 64)
	if fields[0] != "paraider-look 1" || err != nil {
		f.Close()
		return look{}, false
	}
	d := &dirtyLook{f: f, off: int64(off)}
	if fi, err := f.Stat(); err == nil && fi.Size() == int64(off) {
		d.m, d.f = map[string]string{}, nil // no entries
		f.Close()
	}
	return look{at: treelog.Token{Gen: fields[1], Off: at}, git: fields[3], dirty: d}, true
}

func writeLook(p string, l look) {
	var b strings.Builder
	b.WriteString("paraider-look 1\x00" + l.at.Gen + "\x00" + strconv.FormatInt(l.at.Off, 10) + "\x00" + l.git)
	if l.dirty.m == nil {
		if !l.dirty.load() {
			return
		}
		b.WriteString("\x00" + l.dirty.raw)
	} else {
		for k, v := range l.dirty.m {
			b.WriteString("\x00" + k + "\x00" + v)
		}
	}
	b.WriteString("\x00")
	state.WriteUnsynced(p, []byte(b.String()))
}

// dirtyLogged is dirtyWatched from the run's journal: the last attempt's
// look at the main tree brought up to now (lookNow), and a token to read
// what the attempt writes from. ok is false when the journal did not
// answer.
func (r *runner) dirtyLogged(ctx context.Context, j *treelog.Reader) (*dirtyLook, *mainWatch, bool) {
	scratch := r.spec.Agent.Scratch
	m, w, err := r.lookNow(ctx, j, r.lookPath(), scratch, r.asked, func() (map[string]string, bool, error) {
		m, ignored, err := r.main.DirtyAndIgnored(ctx, scratch)
		if err == nil && len(missing(hostSkipped(j), ignored)) > 0 {
			// The host leaves out a directory git no longer ignores
			// (.git/info/exclude changed): it starts again, and this
			// attempt's writes are looked for in the whole tree.
			j.Restart()
			return m, false, nil
		}
		return m, true, err
	})
	return m, w, err == nil
}

// lookNow brings the look kept at lp up to this moment of the journal:
// the paths written since that ask keeps are looked at again (none: the
// look as it was); where the journal cannot tell, or git's own state
// moved, whole looks at the whole tree, and says whether the journal can
// be read from now on. It returns the main tree's changed files (scratch
// patterns left out) and a watch from now (nil where whole said no).
func (r *runner) lookNow(ctx context.Context, j *treelog.Reader, lp string, scratch []string, ask func([]string) []string,
	whole func() (m map[string]string, vouch bool, err error)) (*dirtyLook, *mainWatch, error) {
	git, err := r.main.GitState(ctx)
	if err != nil {
		return nil, nil, err
	}
	last, _ := readLook(lp)
	paths, now, ok, err := j.Since(ctx, last.at)
	if err != nil {
		return nil, nil, err
	}
	w := &mainWatch{log: j, at: now, git: git}
	var m map[string]string
	if ok && last.git == git {
		n := len(paths)
		if paths = ask(paths); len(paths) == 0 {
			if n > lookAgainAfter {
				// The same look, from now on: the next attempts read
				// less of the journal.
				writeLook(lp, look{at: now, git: git, dirty: last.dirty})
			}
			return last.dirty, w, nil
		}
		if before, read := last.dirty.Map(); read {
			m, err = r.main.DirtySince(ctx, scratch, before, paths)
		} else {
			ok = false // not a look: a whole one, below
		}
	}
	if !ok || last.git != git {
		var vouch bool
		if m, vouch, err = whole(); err == nil && !vouch {
			return knownDirty(m), nil, nil
		}
	}
	if err != nil {
		return nil, nil, err
	}
	d := knownDirty(m)
	writeLook(lp, look{at: now, git: git, dirty: d})
	return d, w, nil
}

// hostSkipped is the directories the journal's host leaves out.
func hostSkipped(j *treelog.Reader) []string {
	b, err := state.ReadOwn(filepath.Join(j.Dir(), skippedName), 1<<20)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// snapshotLook is, for a worktree attempt, the paths of the main tree
// that git status lists (nothing left out), from the run's journal: the
// last worktree attempt's look with the paths written since looked at
// again, for the snapshot to add those alone (isolate.Setup.Changed); and
// a watch of the main tree from this moment, for the look after the
// attempt. nil, nil without a journal; nil paths when git could not tell.
func (r *runner) snapshotLook(ctx context.Context) ([]string, *mainWatch) {
	if r.openMain() == nil {
		return nil, nil
	}
	j := treelog.Open(r.lay.Path(state.TreeLogDir))
	if j == nil {
		return nil, nil
	}
	// paraider's own files are never in a snapshot (the specs are in the
	// journal for the guard).
	notOwn := func(paths []string) []string {
		return slices.DeleteFunc(paths, func(p string) bool { return p == state.Dir || strings.HasPrefix(p, state.Dir+"/") })
	}
	m, w, err := r.lookNow(ctx, j, r.lay.Path(state.TreeLogDir+"/look-full"), nil, notOwn, func() (map[string]string, bool, error) {
		m, err := r.main.Dirty(ctx, nil)
		return m, true, err
	})
	if err != nil {
		return nil, nil
	}
	mm, read := m.Map()
	if !read {
		return nil, w // the whole tree goes to the snapshot
	}
	changed := make([]string, 0, len(mm))
	for p := range mm {
		changed = append(changed, p)
	}
	sort.Strings(changed)
	return changed, w
}
