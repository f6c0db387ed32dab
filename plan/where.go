package plan

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/paraider/paraider/internal/gitrepo"
	"github.com/paraider/paraider/state"
)

// Files that belong to Ninja and to paraider itself: an agent that rewrote
// one would break the next run.
var reserved = []string{"build.ninja", ".ninja_log", ".ninja_deps"}

// where checks the plan against the directory it sits in: where state may
// go, and where the tasks' paths lead on disk.
func (d *decoder) where(p *Plan) {
	if msg, hint := rootProblem(p.Root); msg != "" {
		d.errorf(0, 0, hint, "%s", msg)
	}
}

// rootProblem is what is wrong with the plan's directory as a place for
// paraider's state, with how to fix it: "" when nothing.
func rootProblem(root string) (msg, hint string) {
	if gitrepo.InsideGitDir(root) {
		return fmt.Sprintf("the plan's directory %s is inside a git directory, where tasks would write into git's own files", root),
			"put the plan in a repository's working tree (a clone with files), not in a bare repository or .git/"
	}
	if fi, err := os.Lstat(filepath.Join(root, ".paraider")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return ".paraider is a symlink: paraider keeps its state, worktrees and locks inside the repository, and will not follow it out",
			"remove the link (rm .paraider); paraider makes the directory itself"
	}
	return "", ""
}

// isolation decides where agents work when the plan does not say (in a
// worktree inside a git repository, else in place), and checks that a
// worktree asked for can be had: the one decision of the plan that asks
// git.
func (d *decoder) isolation(p *Plan, at settingNodes, nodes map[*Task]*taskNodes) {
	inGit := gitrepo.IsRepo(p.Root)
	p.inGit = inGit
	def := state.IsolationNone
	if inGit {
		def = state.IsolationWorktree
	}
	noGit := func(n *yaml.Node) {
		d.nodeErr(n, "use `isolation: none`, or run `git init` in "+p.Root, "isolation: worktree needs a git repository, and %s is not in one", p.Root)
	}
	if p.Isolation == "" {
		p.Isolation = def
		if !inGit {
			p.Notes = append(p.Notes, Note{Msg: "not in a git repository: the agents work in place (isolation: none), without worktrees; `git init` (and a commit) gives each its own"})
		}
	} else if p.Isolation == state.IsolationWorktree && !inGit {
		noGit(at.isolation)
	}
	for _, t := range append(slices.Clone(p.Tasks), p.Repairs()...) {
		switch {
		case t.Isolation == "":
			t.Isolation = p.Isolation
		case t.Isolation == state.IsolationWorktree && !inGit && nodes[t].isolation != nil && p.Isolation == state.IsolationNone:
			noGit(nodes[t].isolation)
		}
	}
}

// taskPaths checks a task's paths against the disk and against files that
// are not a task's to write.
func (d *decoder) taskPaths(p *Plan, t *Task, tn *taskNodes) {
	if d.disk == nil {
		d.disk = newDisk(p.Root)
	}
	check := func(list []string, nodes []*yaml.Node, what string) {
		for i, f := range list {
			if msg, hint := d.disk.problem(f); msg != "" {
				d.nodeErr(nodes[i], hint, "path %q in %s %s", f, what, msg)
			}
		}
	}
	check(t.Files, tn.files, "files")
	check(t.Read, tn.read, "read")
	for i, f := range t.Files {
		switch {
		case slices.Contains(reserved, f) || slices.Contains(p.Sources, f):
			d.nodeErr(tn.files[i], "a task may not write the plan, its message files or Ninja's files: the next run would read what the agent wrote",
				"%s is paraider's or Ninja's own file, not a task's", f)
		case f == state.TasksTarget || f == state.ReportTarget:
			d.nodeErr(tn.files[i], "keep the file in a subdirectory, or run paraider from another directory",
				"%s is the name of a target in the Ninja file paraider writes beside the plan (`ninja %s`), not a task's file", f, f)
		}
	}
}

// disk is what the checks of a plan's paths learnt of its directory.
type disk struct {
	top   string          // the plan's directory, symlinks resolved; "" when it cannot be
	plain map[string]bool // directories under top that exist and are no symlink
}

// newDisk is a plan's directory for its checks, once per plan: its
// directory resolved, and the directories seen to be plain (tasks share
// them: ten thousand tasks' paths took 10,000 resolutions of the plan's
// directory).
func newDisk(root string) *disk {
	k := &disk{plain: map[string]bool{}}
	if top, err := filepath.EvalSymlinks(root); err == nil {
		k.top, _ = filepath.Abs(top)
	}
	return k
}

// problem is what is wrong on disk with a task's path rel (one of its
// files or reads), said after the path, with how to fix it: "" when
// nothing, or when the plan's directory does not resolve.
func (k *disk) problem(rel string) (msg, hint string) {
	if k.top == "" {
		return "", ""
	}
	reason, fi := k.escapes(rel)
	if reason != "" {
		return reason, "name the file where it really is, inside the repository, or remove the link"
	}
	var err error
	if fi == nil {
		// Not there, or a link: what it leads to.
		fi, err = os.Stat(filepath.Join(k.top, filepath.FromSlash(rel)))
	}
	switch {
	case err == nil && fi.IsDir():
		return "is a directory", "name the files in it, one per entry"
	case err == nil && !fi.Mode().IsRegular():
		// Reading a FIFO waits for a writer; an agent's edit of a device
		// is no edit.
		return "is " + state.FileKind(fi.Mode()) + ", not a file", "a task's files and reads are regular files: remove it, or name another file"
	}
	return "", ""
}

// escapes says how rel, under top, leads out of it through a symlink on
// disk; "" when it stays inside. Only the part that exists is resolved.
// When rel exists and is not a link, fi is its Lstat (a second look at
// each of ten thousand tasks' files was a tenth of a plan's load).
func (k *disk) escapes(rel string) (reason string, fi os.FileInfo) {
	top, cur := k.top, k.top
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		if k.plain[cur] {
			continue
		}
		st, err := os.Lstat(cur)
		if err != nil {
			return "", nil // the rest does not exist yet: nothing to follow
		}
		if st.Mode()&os.ModeSymlink == 0 {
			if i == len(parts)-1 {
				return "", st
			}
			if st.IsDir() {
				k.plain[cur] = true
			}
			continue
		}
		real, err := filepath.EvalSymlinks(cur)
		if err != nil {
			// A dangling link: writing the path would create its target.
			target, _ := os.Readlink(cur)
			return "goes through " + strings.TrimPrefix(cur, top+"/") + ", a symlink to " + target + " that does not resolve", nil
		}
		if real != top && !strings.HasPrefix(real, top+string(filepath.Separator)) {
			return "goes through " + strings.TrimPrefix(cur, top+"/") + ", a symlink to " + real + ", outside the repository", nil
		}
	}
	return "", nil
}

// Disk is what Load found on disk beyond the bytes of the plan and its
// message files: the plan's directory fit for paraider's state, in a git
// repository or not (which decides the default isolation), and the
// tasks' paths, checked as Load checks them. Where it still Holds, a parse
// of the same bytes by the same program gives the same plan: a cache of
// what was worked out from the plan may stand for a new parse. A new check
// of the load against the disk belongs here too, or status and gen would
// go on from a kept plan that no longer loads (TestSpecsNowCached).
type Disk struct {
	InGit bool     `json:"in_git"`
	Paths []string `json:"paths"` // every task's files and reads, once
	Exist []string `json:"exist"` // reads no task writes, which must exist
}

// Disk is what the plan's load found on disk.
func (p *Plan) Disk() Disk {
	k := Disk{InGit: p.inGit}
	tasks := append(slices.Clone(p.Tasks), p.Repairs()...)
	written, seen, must := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, t := range p.Tasks { // as graph: a repair's files are no task's
		for _, f := range t.Files {
			written[f] = true
		}
	}
	for _, t := range tasks {
		for _, f := range append(slices.Clone(t.Files), t.Read...) {
			if !seen[f] {
				seen[f] = true
				k.Paths = append(k.Paths, f)
			}
		}
	}
	for _, t := range p.Tasks {
		for _, r := range t.Read {
			if !written[r] && !must[r] {
				must[r] = true
				k.Exist = append(k.Exist, r)
			}
		}
	}
	return k
}

// Holds reports whether the disk under root, the plan's directory, is as
// Load found it: each of its checks would pass again, with the same answer
// from git.
func (k Disk) Holds(root string) bool {
	if msg, _ := rootProblem(root); msg != "" || gitrepo.IsRepo(root) != k.InGit {
		return false
	}
	d := newDisk(root)
	for _, f := range k.Paths {
		if msg, _ := d.problem(f); msg != "" {
			return false
		}
	}
	for _, r := range k.Exist {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(r))); err != nil {
			return false
		}
	}
	return true
}
