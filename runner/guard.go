package runner

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/treelog"
	"github.com/paraider/paraider/state"
)

// A guard watches what no agent may change, wherever it runs: git's hooks
// (code that runs on the person's next commit), git's configuration (it
// can name programs git runs: core.fsmonitor, core.pager, aliases), and
// paraider's own generated files (the specs that say what each task is,
// the binary Ninja runs). Worktree isolation does not stop an agent from
// writing there by path, so each attempt compares them before and after.
type guard struct {
	root string // the plan's directory
	// specs are the plan's task ids when they are few enough to look at
	// each spec's stat before and after an attempt; nil: the specs
	// directory is watched with inotify instead.
	specs  []string
	specFd int // inotify on the specs directory during an attempt (Linux)
	// specSnap is each spec's size and time as the attempt started,
	// where there is no inotify (watch_other.go).
	specSnap map[string]specStat
	gitDir   string // the repository's common git directory; "" outside git
	hookDir  []string
	// log, when the run keeps a journal of the main tree, names the
	// specs written during the attempt (from logAt on): no spec is looked
	// at one by one, nor watched by an inotify instance of the attempt's.
	log   *treelog.Reader
	logAt treelog.Token
}

// specStat is a spec's size and time, for the watch without inotify.
type specStat struct {
	size int64
	mod  time.Time
}

type guardedFile struct {
	mode os.FileMode
	size int64
	mod  time.Time
	sum  [32]byte // content (or link target) for git's files; 0 for paraider's
	data []byte   // git's files only: the bytes to put back or keep
}

// statSpecs is the most specs looked at one by one: a stat each costs
// less than an inotify instance up to about this many (closing one waits
// for the kernel's SRCU grace period: 0-15 ms here, on every attempt).
const statSpecs = 2000

// newGuard finds what to watch under root, with the plan's task ids (to
// look at their specs). It finds the git directory itself, as git does,
// rather than pay for a git process per task.
func newGuard(ctx context.Context, root string, tasks []string) *guard {
	g := &guard{root: root}
	if len(tasks) <= statSpecs {
		g.specs = tasks
	}
	if dir := commonGitDir(root); dir != "" {
		g.gitDir = dir
		g.hookDir = []string{filepath.Join(dir, "hooks")}
		// A hooksPath of the person's, relative to the top of the work
		// tree; git is asked only when the config names one.
		cfg, _ := os.ReadFile(filepath.Join(dir, "config"))
		if !strings.Contains(strings.ToLower(string(cfg)), "hookspath") {
			return g
		}
		if hp, err := gitOut(ctx, root, "config", "--get", "core.hooksPath"); err == nil && hp != "" {
			if !filepath.IsAbs(hp) {
				if top, err := gitOut(ctx, root, "rev-parse", "--show-toplevel"); err == nil {
					hp = filepath.Join(top, hp)
				}
			}
			g.hookDir = append(g.hookDir, hp)
		}
	}
	return g
}

// commonGitDir is the git directory shared by the work trees of the
// repository around dir: the nearest .git directory, or the one a .git
// file (a linked worktree, a submodule) points to, and its commondir.
// "" when there is none below GIT_CEILING_DIRECTORIES.
func commonGitDir(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	ceilings := filepath.SplitList(os.Getenv("GIT_CEILING_DIRECTORIES"))
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		if fi, err := os.Stat(p); err == nil {
			if fi.IsDir() {
				return p
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return ""
			}
			gd, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
			if !ok {
				return ""
			}
			if !filepath.IsAbs(gd) {
				gd = filepath.Join(d, gd)
			}
			if c, err := os.ReadFile(filepath.Join(gd, "commondir")); err == nil {
				cd := strings.TrimSpace(string(c))
				if !filepath.IsAbs(cd) {
					cd = filepath.Join(gd, cd)
				}
				return filepath.Clean(cd)
			}
			return gd
		}
		parent := filepath.Dir(d)
		if parent == d || slices.Contains(ceilings, parent) {
			return ""
		}
	}
}

func gitOut(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// take records the watched files as they are now, and starts watching
// the specs.
func (g *guard) take() map[string]guardedFile {
	g.log = nil
	if j := treelog.Open(state.Layout{Root: g.root}.Path(state.TreeLogDir)); j != nil {
		if _, at, _, err := j.Since(context.Background(), treelog.Token{}); err == nil {
			g.log, g.logAt = j, at
		}
	}
	m := g.files()
	// The specs of a large plan (ten thousand) are watched, not listed:
	// inotify names the ones written while the attempt runs.
	if g.specs == nil && g.log == nil {
		g.watchSpecs()
	}
	return m
}

// loggedSpecs lists the spec files the run's journal saw written since
// take; where the journal cannot tell, every spec, each then held to
// what gen last wrote there (byGen).
func (g *guard) loggedSpecs() []string {
	dir := filepath.Join(g.root, state.Dir, "specs")
	paths, _, ok, err := g.log.Since(context.Background(), g.logAt)
	var out []string
	if err != nil || !ok {
		for name := range listSpecs(dir) {
			out = append(out, filepath.Join(dir, name))
		}
		sort.Strings(out)
		return out
	}
	for _, p := range paths {
		if name, ok := strings.CutPrefix(p, state.Dir+"/specs/"); ok && isSpecName(name) {
			out = append(out, filepath.Join(dir, name))
		}
	}
	return out
}

// listSpecs is each spec's size and time, by name.
func listSpecs(dir string) map[string]specStat {
	m := map[string]specStat{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !isSpecName(e.Name()) {
			continue
		}
		if fi, err := e.Info(); err == nil {
			m[e.Name()] = specStat{fi.Size(), fi.ModTime()}
		}
	}
	return m
}

// isSpecName reports whether a file of the specs directory is a spec
// (not a temporary file of gen's).
func isSpecName(name string) bool {
	return strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".") && !strings.Contains(name, "/")
}

// files records git's hooks and config and paraider's own files but the
// specs.
func (g *guard) files() map[string]guardedFile {
	m := map[string]guardedFile{}
	own := func(p string, content bool) {
		fi, err := os.Lstat(p)
		if err != nil {
			return
		}
		f := guardedFile{mode: fi.Mode(), size: fi.Size(), mod: fi.ModTime()}
		if content {
			if fi.Mode()&os.ModeSymlink != 0 {
				t, _ := os.Readlink(p)
				f.data = []byte(t)
			} else if fi.Mode().IsRegular() && fi.Size() < 1<<20 {
				f.data, _ = os.ReadFile(p)
			}
			f.sum = sha256.Sum256(f.data)
		}
		m[p] = f
	}
	if g.gitDir != "" {
		own(filepath.Join(g.gitDir, "config"), true)
		for _, dir := range g.hookDir {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				own(filepath.Join(dir, e.Name()), true)
			}
		}
	}
	// paraider's own files: by their stat, since a plan may have ten
	// thousand specs.
	st := filepath.Join(g.root, state.Dir)
	for _, rel := range []string{"bin/paraider", "run.json", "declared", ".gitignore", "plan.kept"} {
		own(filepath.Join(st, rel), false)
	}
	if g.log == nil {
		for _, id := range g.specs {
			own(filepath.Join(g.root, filepath.FromSlash(state.SpecPath(id))), false)
		}
	}
	return m
}

// tamper is what an attempt changed among the guarded files, and what was
// done about it.
type tamper struct {
	lines []string
}

func (t *tamper) add(format string, args ...any) {
	t.lines = append(t.lines, fmt.Sprintf(format, args...))
}

// settle compares before with now, puts back what can be put back, and
// keeps what it removes or finds changed under keep (a directory of the
// attempt's own), so that nothing is lost.
func (g *guard) settle(before map[string]guardedFile, keep string) *tamper {
	written := g.writtenSpecs()
	if g.log != nil {
		written = g.loggedSpecs()
	}
	after := g.files()
	t := &tamper{}
	var paths []string
	for p := range before {
		paths = append(paths, p)
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			paths = append(paths, p)
		}
	}
	for _, p := range written {
		if _, ok := before[p]; !ok {
			// Written in place or anew: judged as a change below.
			before[p] = guardedFile{size: -1}
			if _, err := os.Lstat(p); err == nil {
				after[p] = guardedFile{size: -2}
				paths = append(paths, p)
			}
		}
	}
	sort.Strings(paths)
	var byGen state.Written // what gen wrote, read at the first change
	for _, p := range paths {
		b, hadB := before[p]
		a, hasA := after[p]
		if hadB && hasA && b.mode == a.mode && b.size == a.size && b.mod.Equal(a.mod) && b.sum == a.sum {
			continue
		}
		if byGen == nil {
			byGen = g.genWrote()
		}
		if hasA && g.byGen(p, byGen) {
			continue
		}
		g.settleOne(t, p, b, hadB, a, hasA, keep)
	}
	if len(t.lines) == 0 {
		return nil
	}
	return t
}

// genWrote is what gen last wrote to paraider's own files. It waits for a
// gen writing now (a gen during a run is paraider's own work, and the
// guard must not see half of it), for a bounded time.
func (g *guard) genWrote() state.Written {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := state.Layout{Root: g.root}.ReadWritten(ctx)
	if w == nil {
		w = state.Written{}
	}
	return w
}

// byGen says whether p, one of paraider's own files, holds what gen last
// wrote there: a gen ran while the attempt did, not an agent.
func (g *guard) byGen(p string, written state.Written) bool {
	rel, err := filepath.Rel(g.root, p)
	if err != nil {
		return false
	}
	want, ok := written[filepath.ToSlash(rel)]
	if !ok {
		return false
	}
	got, err := state.OwnSum(p)
	return err == nil && got == want
}

func (g *guard) settleOne(t *tamper, p string, b guardedFile, hadB bool, a guardedFile, hasA bool, keep string) {
	name := g.show(p)
	kept := func(data []byte, suffix string) string {
		dst := filepath.Join(keep, strings.TrimPrefix(name, "/")+suffix)
		if err := state.WriteFile(dst, data, 0o644); err != nil {
			return ""
		}
		return relPath(g.root, dst)
	}
	own := strings.HasPrefix(p, filepath.Join(g.root, state.Dir)+string(filepath.Separator))
	switch {
	case own && !hasA:
		// Gone: nothing forged, and the next gen writes it again. A
		// person removing .paraider/ during a run looks the same.
	case own:
		// paraider's own: removed, with run.json, so that Ninja runs gen
		// next time and gen writes them anew.
		os.Remove(p)
		os.Remove(filepath.Join(g.root, filepath.FromSlash(state.RunPath)))
		t.add("%s (paraider's own file: removed; the next `paraider gen` or `ninja` writes it again)", name)
	case p == filepath.Join(g.gitDir, "config"):
		// The person may have changed it too: never undone, said loudly.
		k := kept(b.data, ".before")
		t.add("%s (CHANGED: not undone, since you may have changed it too; check it with `git config --list --show-origin`; the version before the attempt is in %s)", name, k)
	case !hadB:
		k := kept(readAll(p), "")
		os.Remove(p)
		t.add("%s (a new hook: removed, kept in %s)", name, k)
	default:
		if hasA {
			kept(readAll(p), ".agent")
		}
		if err := putBack(p, b); err != nil {
			t.add("%s (changed, and could not be put back: %v)", name, err)
			return
		}
		t.add("%s (changed: put back as it was)", name)
	}
}

func readAll(p string) []byte {
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		t, _ := os.Readlink(p)
		return []byte(t)
	}
	data, _ := os.ReadFile(p)
	return data
}

func putBack(p string, f guardedFile) error {
	os.Remove(p)
	if f.mode&os.ModeSymlink != 0 {
		return os.Symlink(string(f.data), p)
	}
	return state.WriteFile(p, f.data, f.mode.Perm())
}

// show names a path for people: relative to the plan's directory when
// inside it, else as it is.
func (g *guard) show(p string) string {
	if g.gitDir != "" {
		if top := filepath.Dir(g.gitDir); filepath.Base(g.gitDir) == ".git" {
			if r, err := filepath.Rel(top, p); err == nil && !strings.HasPrefix(r, "..") {
				return filepath.ToSlash(r)
			}
		}
	}
	if r, err := filepath.Rel(g.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}

func (t *tamper) String() string { return strings.Join(t.lines, "; ") }
