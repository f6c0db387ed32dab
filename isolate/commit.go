package isolate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paraider/paraider/internal/human"
	"github.com/paraider/paraider/state"
)

// CommitLock serialises the commits of tasks that end at the same time.
const CommitLock = state.Dir + "/locks/commit.lock"

// Refusal is why a task's files were not committed: the repository is in
// a state where a commit would surprise the person (their files stay in
// the tree either way).
type Refusal struct{ Msg string }

func (e *Refusal) Error() string { return e.Msg }

// Commit makes one commit on the current branch that holds exactly files
// (relative to the plan's directory) as they are in the main tree, with
// message. It commits through a temporary index: nothing the person
// staged goes in, and their index keeps every entry but those files',
// which then match the new commit (else their next `git commit` would
// take the task's change back). It refuses a detached HEAD, a rebase,
// merge, cherry-pick, revert or bisect in progress, and a declared file
// the person has staged. It returns "" when the files are already as
// HEAD has them.
func (r *Repo) Commit(ctx context.Context, files []string, message string) (string, error) {
	lock, err := state.LockFile(ctx, r.path(CommitLock), true, syscall.LOCK_EX)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = r.Prefix + f
	}
	branch, head, err := r.mayCommit(ctx, paths)
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(r.State, "commit-index-")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	os.Remove(tmp.Name()) // git wants to make it itself
	index := []string{"GIT_INDEX_FILE=" + tmp.Name(), "GIT_LITERAL_PATHSPECS=1"}
	tree, err := r.treeWith(ctx, index, head, paths)
	if err != nil || tree == "" {
		return "", err
	}
	args := []string{"commit-tree", tree, "-F", "-"}
	if head != "" {
		args = []string{"commit-tree", tree, "-p", head, "-F", "-"}
	}
	commit, err := gitIn(ctx, r.Top, r.identity(ctx), message, append(append([]string(nil), r.exact...), args...)...)
	if err != nil {
		return "", err
	}
	commit = strings.TrimSpace(commit)
	old := head
	if old == "" {
		old = strings.Repeat("0", len(commit))
	}
	if _, err := r.git(ctx, r.Top, nil, "update-ref", "-m", "paraider: "+human.FirstLine(message), branch, commit, old); err != nil {
		return "", fmt.Errorf("the branch moved while the task's commit was made, so it was not recorded: %w", err)
	}
	// The person's index: those files' entries as the commit has them.
	entries, err := r.git(ctx, r.Top, index, append([]string{"ls-files", "-s", "-z", "--"}, paths...)...)
	if err != nil {
		return commit, err
	}
	info := indexInfo(entries, paths)
	if err := r.updateIndex(ctx, info); err != nil {
		return commit, fmt.Errorf("committed as %.12s, but the index was not updated for the task's files (git status shows them changed back): %w", commit, err)
	}
	return commit, nil
}

// treeWith is head's tree with paths as they are in the working tree,
// written through the index the environment names; "" when that is
// head's tree already (nothing to commit).
func (r *Repo) treeWith(ctx context.Context, index []string, head string, paths []string) (string, error) {
	base := head
	var err error
	if head != "" {
		_, err = r.git(ctx, r.Top, index, "read-tree", head)
	} else {
		base = emptyTree
		_, err = r.git(ctx, r.Top, index, "read-tree", "--empty")
	}
	if err != nil {
		return "", err
	}
	if _, err := r.git(ctx, r.Top, index, append([]string{"update-index", "--add", "--remove", "--"}, paths...)...); err != nil {
		return "", err
	}
	tree, err := r.git(ctx, r.Top, index, "write-tree")
	if err != nil {
		return "", err
	}
	tree = strings.TrimSpace(tree)
	if old, _ := r.git(ctx, r.Top, nil, "rev-parse", "-q", "--verify", base+"^{tree}"); strings.TrimSpace(old) == tree {
		return "", nil
	}
	return tree, nil
}

// mayCommit refuses a commit that would surprise the person (see
// Commit), or returns the branch and its head ("" for an unborn branch).
func (r *Repo) mayCommit(ctx context.Context, paths []string) (branch, head string, err error) {
	if op := r.inProgress(ctx); op != "" {
		return "", "", &Refusal{"a " + op + " is in progress; finish or abort it to have each task committed"}
	}
	branch, err = r.git(ctx, r.Top, nil, "symbolic-ref", "-q", "HEAD")
	if err != nil {
		return "", "", &Refusal{"HEAD is detached (no branch to commit to); check out a branch to have each task committed"}
	}
	head, _ = r.git(ctx, r.Top, nil, "rev-parse", "-q", "--verify", "HEAD^{commit}")
	head = strings.TrimSpace(head)
	base := head
	if base == "" {
		base = emptyTree
	}
	staged, err := r.git(ctx, r.Top, []string{"GIT_LITERAL_PATHSPECS=1", "GIT_OPTIONAL_LOCKS=0"}, append([]string{"diff", "--cached", "--name-only", "-z", base, "--"}, paths...)...)
	if err != nil {
		return "", "", err
	}
	if s := strings.Split(strings.TrimRight(staged, "\x00"), "\x00"); s[0] != "" {
		return "", "", &Refusal{fmt.Sprintf("you have staged %s, one of the task's files; unstage it (git restore --staged) to have the task committed", strings.Join(s, ", "))}
	}
	return strings.TrimSpace(branch), head, nil
}

// updateIndex gives the person's index the entries in info (`update-index
// --index-info`), waiting a little for a lock another git holds (the
// person's; a status that refreshes the index).
func (r *Repo) updateIndex(ctx context.Context, info string) error {
	args := append(append([]string(nil), r.exact...), "update-index", "-z", "--index-info")
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := gitIn(ctx, r.Top, []string{"GIT_LITERAL_PATHSPECS=1"}, info, args...)
		if err == nil || !strings.Contains(err.Error(), "index.lock") || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// emptyTree is git's empty tree, the base of an unborn branch.
const emptyTree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

// indexInfo is `update-index --index-info` input from `ls-files -s -z`
// output: those entries, and a removal for each path not among them.
func indexInfo(lsFiles string, paths []string) string {
	var b strings.Builder
	have := map[string]bool{}
	for _, e := range strings.Split(lsFiles, "\x00") {
		if e == "" {
			continue
		}
		// "MODE SHA STAGE\tPATH"
		meta, path, _ := strings.Cut(e, "\t")
		have[path] = true
		f := strings.Fields(meta)
		fmt.Fprintf(&b, "%s %s\t%s\x00", f[0], f[1], path)
	}
	for _, p := range paths {
		if !have[p] {
			fmt.Fprintf(&b, "0 %s\t%s\x00", strings.Repeat("0", 40), p)
		}
	}
	return b.String()
}

// inProgress names an operation under way in the repository, or "".
func (r *Repo) inProgress(ctx context.Context) string {
	ops := []struct{ path, name string }{
		{"rebase-merge", "rebase"}, {"rebase-apply", "rebase or am"}, {"MERGE_HEAD", "merge"},
		{"CHERRY_PICK_HEAD", "cherry-pick"}, {"REVERT_HEAD", "revert"}, {"BISECT_LOG", "bisect"},
	}
	args := []string{"rev-parse"}
	for _, op := range ops {
		args = append(args, "--git-path", op.path)
	}
	out, err := r.git(ctx, r.Top, nil, args...)
	if err != nil {
		return ""
	}
	for i, p := range strings.Split(strings.TrimSpace(out), "\n") {
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.Top, p)
		}
		if _, err := os.Lstat(p); err == nil && i < len(ops) {
			return ops[i].name
		}
	}
	return ""
}

// identity is the person's, when git knows it; else paraider's.
func (r *Repo) identity(ctx context.Context) []string {
	if _, err := gitIn(ctx, r.Top, nil, "", "var", "GIT_AUTHOR_IDENT"); err == nil {
		if _, err := gitIn(ctx, r.Top, nil, "", "var", "GIT_COMMITTER_IDENT"); err == nil {
			return nil
		}
	}
	return []string{"GIT_AUTHOR_NAME=paraider", "GIT_AUTHOR_EMAIL=paraider@localhost",
		"GIT_COMMITTER_NAME=paraider", "GIT_COMMITTER_EMAIL=paraider@localhost"}
}
