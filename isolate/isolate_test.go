package isolate

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@x", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@x")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return string(out)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A plan in a subdirectory of the repository: the worktree holds the whole
// repository with uncommitted and untracked files, the agent's directory is
// the plan's, and files come back to the right place.
func TestWorktreeInSubdirectory(t *testing.T) {
	top := t.TempDir()
	run(t, top, "git", "init", "-q")
	write(t, filepath.Join(top, "app", "committed.txt"), "v1")
	write(t, filepath.Join(top, "other", "x.txt"), "x")
	run(t, top, "git", "add", "-A")
	run(t, top, "git", "commit", "-qm", "init")
	write(t, filepath.Join(top, "app", "committed.txt"), "v2 uncommitted")
	write(t, filepath.Join(top, "app", "new.txt"), "untracked")
	index := run(t, top, "git", "ls-files", "--stage")

	repo, err := Open(filepath.Join(top, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if repo.Prefix != "app/" {
		t.Fatalf("prefix %q", repo.Prefix)
	}
	ctx := context.Background()
	wt, err := repo.Create(ctx, "t.1", Setup{Files: []string{"committed.txt", "out.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{"committed.txt": "v2 uncommitted", "new.txt": "untracked"} {
		got, err := os.ReadFile(filepath.Join(wt.Root, rel))
		if err != nil || string(got) != want {
			t.Errorf("worktree %s = %q, %v; want %q", rel, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(wt.Dir, "other", "x.txt")); err != nil {
		t.Errorf("the worktree lacks the rest of the repository: %v", err)
	}
	if got := run(t, top, "git", "ls-files", "--stage"); got != index {
		t.Errorf("the user's index changed:\n%s\nwas\n%s", got, index)
	}

	write(t, filepath.Join(wt.Root, "out.txt"), "made by the agent")
	write(t, filepath.Join(wt.Root, "stray.txt"), "not declared")
	write(t, filepath.Join(wt.Dir, "other", "x.txt"), "outside the plan's directory")
	changes, err := wt.Changes(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range changes {
		names = append(names, c.Path)
	}
	if got := strings.Join(names, " "); got != "../other/x.txt out.txt stray.txt" {
		t.Errorf("changes %q", got)
	}
	applied, err := wt.Apply(ctx, []Change{{Path: "out.txt"}})
	if err != nil || len(applied) != 1 {
		t.Fatalf("apply: %v %v", applied, err)
	}
	if got, _ := os.ReadFile(filepath.Join(top, "app", "out.txt")); string(got) != "made by the agent" {
		t.Errorf("main out.txt = %q", got)
	}
	if _, err := os.Stat(filepath.Join(top, "app", "stray.txt")); err == nil {
		t.Error("an undeclared file came back")
	}
	wt.Release()
	// The end of a run keeps a warm slot ...
	if err := repo.Prune(false, 1); err != nil {
		t.Fatal(err)
	}
	if got := run(t, top, "git", "worktree", "list"); strings.Count(got, "\n") != 2 || !strings.Contains(got, "slot-0") {
		t.Errorf("want the main tree and one warm slot:\n%s", got)
	}
	// ... which the next attempt reuses: no second slot.
	wt2, err := repo.Create(ctx, "t.2", Setup{Files: []string{"out.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(wt2.Dir) != "slot-0" {
		t.Errorf("second attempt in %s; want the warm slot-0", wt2.Dir)
	}
	wt2.Release()
	// paraider clean keeps none.
	if err := repo.Prune(true, 0); err != nil {
		t.Fatal(err)
	}
	if got := run(t, top, "git", "worktree", "list"); strings.Count(got, "\n") != 1 {
		t.Errorf("worktrees left:\n%s", got)
	}
}

// A temporary file left by a killed write-back is removed by the next one.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".a.ts.tmp12345"), "half")
	write(t, filepath.Join(dir, ".b.ts.tmp1"), "other file's")
	removeStaleTemps(filepath.Join(dir, "a.ts"))
	if _, err := os.Stat(filepath.Join(dir, ".a.ts.tmp12345")); err == nil {
		t.Error("stale temp of a.ts is still there")
	}
	if _, err := os.Stat(filepath.Join(dir, ".b.ts.tmp1")); err != nil {
		t.Error("another file's temp was removed")
	}
}

func TestBlobIDMatchesGit(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "f"), "hello\n")
	want := strings.TrimSpace(run(t, dir, "git", "hash-object", "f"))
	if got := BlobID([]byte("hello\n")); got != want {
		t.Errorf("BlobID = %s; git says %s", got, want)
	}
}

// TestDirtyFromSnapshot: the main tree's changed files as Create works
// them out from the snapshot are what git status would have given, in
// every state a file can be in: changed, new, deleted, staged, staged and
// then undone in the tree, deleted from the index only, a large untracked
// file the snapshot leaves out, a symlink, ignored, scratch, outside the
// plan's directory, in .paraider. With a slot reused (its clean running
// beside the snapshot) as with a new one.
func TestDirtyFromSnapshot(t *testing.T) {
	top := t.TempDir()
	run(t, top, "git", "init", "-q")
	app := filepath.Join(top, "app")
	for _, f := range []string{"changed.txt", "deleted.txt", "staged.txt", "undone.txt", "unindexed.txt", "same.txt"} {
		write(t, filepath.Join(app, f), "v1 "+f)
	}
	write(t, filepath.Join(app, ".gitignore"), "ignored.txt\n")
	write(t, filepath.Join(top, "outside.txt"), "v1")
	run(t, top, "git", "add", "-A")
	run(t, top, "git", "commit", "-qm", "init")

	write(t, filepath.Join(app, "changed.txt"), "v2")
	os.Remove(filepath.Join(app, "deleted.txt"))
	write(t, filepath.Join(app, "staged.txt"), "v2 staged")
	run(t, app, "git", "add", "staged.txt")
	write(t, filepath.Join(app, "undone.txt"), "v2 staged, then undone")
	run(t, app, "git", "add", "undone.txt")
	write(t, filepath.Join(app, "undone.txt"), "v1 undone.txt")
	run(t, app, "git", "rm", "-q", "--cached", "unindexed.txt")
	write(t, filepath.Join(app, "new.txt"), "new")
	write(t, filepath.Join(app, "sub", "deep.txt"), "new, deeper")
	os.Symlink("changed.txt", filepath.Join(app, "link"))
	write(t, filepath.Join(app, "ignored.txt"), "ignored")
	write(t, filepath.Join(app, "tmp", "scratch.txt"), "scratch")
	write(t, filepath.Join(top, "outside.txt"), "v2")
	big := make([]byte, 64<<10)
	write(t, filepath.Join(app, "big.bin"), string(big))

	repo, err := Open(app)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(repo.State, 0o755)
	write(t, filepath.Join(repo.State, "state.json"), "{}")
	scratch := []string{"tmp/**"}
	want, err := repo.Dirty(context.Background(), scratch)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"changed.txt", "deleted.txt", "staged.txt", "undone.txt", "unindexed.txt", "new.txt", "sub/deep.txt", "link", "big.bin"} {
		if _, ok := want[p]; !ok {
			t.Fatalf("git status does not list %s: %v (the test's premise)", p, want)
		}
	}
	for round := 1; round <= 2; round++ {
		// Round 2 reuses the slot round 1 left: its clean runs while the
		// snapshot is made.
		wt, err := repo.Create(context.Background(), fmt.Sprintf("t.%d", round), Setup{Files: []string{"changed.txt"}, MaxUntracked: 32 << 10, Dirty: true, Scratch: scratch})
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(wt.Dirty, want) {
			t.Errorf("round %d: from the snapshot\n%v\nfrom git status\n%v", round, wt.Dirty, want)
		}
		if len(wt.LeftOut) != 1 || !strings.HasPrefix(wt.LeftOut[0], "big.bin") {
			t.Errorf("round %d: left out %v; want big.bin", round, wt.LeftOut)
		}
		if round == 1 {
			// Something for the next round's clean to remove.
			write(t, filepath.Join(wt.Root, "left-by-the-agent.txt"), "x")
		} else if _, err := os.Stat(filepath.Join(wt.Root, "left-by-the-agent.txt")); err == nil {
			t.Errorf("round 2: the last attempt's file is still in the reused slot")
		}
		wt.Release()
	}
}

// The end of a run prunes the pool, but a warm slot an attempt holds now
// (another run's, a plain ninja's) is not touched: its agent goes on. A
// slot no attempt holds loses what an earlier attempt left running.
func TestPruneSparesHeldSlots(t *testing.T) {
	top := committedRepo(t, "a.txt")
	repo, err := Open(top)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Create(context.Background(), "t.1", Setup{Files: []string{"a.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(wt.Dir) != "slot-0" {
		t.Fatalf("worktree %s, want slot-0", wt.Dir)
	}
	agentIn := func() (*os.Process, chan error) {
		agent := exec.Command("sleep", "60")
		agent.Dir = wt.Root
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { agent.Process.Kill() })
		exited := make(chan error, 1)
		go func() { exited <- agent.Wait() }()
		return agent.Process, exited
	}

	agent, exited := agentIn()
	if err := repo.Prune(false, 4); err != nil {
		t.Fatal(err)
	}
	// A SIGKILL that Prune sent is queued before this SIGTERM and decides
	// how the agent ends, however late it is delivered.
	agent.Signal(syscall.SIGTERM)
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Fatalf("the agent of a slot an attempt holds ended with %v, want our SIGTERM (Prune killed it)", err)
	}

	agent, exited = agentIn()
	wt.Release()
	if err := repo.Prune(false, 4); err != nil {
		t.Fatal(err)
	}
	agent.Signal(syscall.SIGTERM)
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("a process left in a free slot ended with %v; want it killed by Prune", err)
	}
}

// committedRepo is a new repository holding one committed file, name.
func committedRepo(t *testing.T, name string) string {
	t.Helper()
	root := t.TempDir()
	run(t, root, "git", "init", "-q")
	write(t, filepath.Join(root, name), name)
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-qm", "init")
	return root
}

// GitState moves with what changes git status's answer for files nobody
// wrote (HEAD, wherever its ref is kept; an entry in or out of the index),
// in a linked worktree too, and not with a look or a stage that leaves it.
func TestGitState(t *testing.T) {
	main := t.TempDir()
	run(t, main, "git", "init", "-q", "-b", "main")
	write(t, filepath.Join(main, "a.txt"), "a\n")
	write(t, filepath.Join(main, "b.txt"), "b\n")
	run(t, main, "git", "add", "-A")
	run(t, main, "git", "commit", "-qm", "one")
	linked := filepath.Join(t.TempDir(), "linked")
	run(t, main, "git", "worktree", "add", "-q", "-b", "side", linked)
	for _, dir := range []string{main, linked} {
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		state := func() string {
			t.Helper()
			s, err := r.GitState(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		was := state()
		for _, same := range [][]string{
			{"git", "status", "--porcelain"},
			{"sh", "-c", "echo more >> a.txt && git add a.txt && touch b.txt && git status --porcelain"},
			{"git", "reset", "-q", "a.txt"},
		} {
			run(t, dir, same...)
			if now := state(); now != was {
				t.Errorf("%s: %v moved it: %s -> %s", dir, same, was, now)
			}
		}
		for _, moved := range [][]string{
			{"git", "commit", "-qam", "two"},
			{"git", "rm", "-q", "--cached", "b.txt"},
			{"git", "reset", "-q", "--hard"},
			{"sh", "-c", "git pack-refs --all && echo c >> a.txt && git commit -qam three"},
			{"git", "reset", "-q", "--hard", "HEAD~1"},
			{"git", "checkout", "-q", "--detach"},
			{"git", "commit", "-q", "--allow-empty", "-m", "detached"},
			{"git", "checkout", "-q", "-b", "other-" + filepath.Base(dir)},
		} {
			run(t, dir, moved...)
			now := state()
			if now == was {
				t.Errorf("%s: %v did not move it (%s)", dir, moved, now)
			}
			was = now
		}
	}
}

// stateIgnored says whether the person's .gitignore names .paraider/ (the
// snapshot then leaves the exclusion out of its pathspec, which git would
// refuse after walking the whole tree), for a plan at the top and in a
// subdirectory; a snapshot is made either way.
func TestStateIgnored(t *testing.T) {
	for _, c := range []struct {
		gitignore, plan string
		want            bool
	}{
		{"build/\n", ".", false},
		{".paraider/\n", ".", true},
		{"sub/.paraider\n", "sub", true},
		{"*.log\n", "sub", false},
	} {
		top := t.TempDir()
		write(t, filepath.Join(top, ".gitignore"), c.gitignore)
		write(t, filepath.Join(top, c.plan, "a.txt"), "a\n")
		run(t, top, "git", "init", "-q")
		run(t, top, "git", "add", "-A")
		run(t, top, "git", "commit", "-qm", "one")
		r, err := Open(filepath.Join(top, c.plan))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.stateIgnored(context.Background()); got != c.want {
			t.Errorf("%q, plan in %s: stateIgnored %v, want %v", c.gitignore, c.plan, got, c.want)
		}
		write(t, filepath.Join(r.State, "junk.txt"), "x")
		commit, _, err := r.snapshot(context.Background(), "t", Setup{})
		if err != nil {
			t.Fatalf("%q: %v", c.gitignore, err)
		}
		if files := run(t, top, "git", "ls-tree", "-r", "--name-only", commit); strings.Contains(files, ".paraider") {
			t.Errorf("%q: the snapshot holds paraider's own files:\n%s", c.gitignore, files)
		}
	}
}

// A snapshot from the paths git status lists (Setup.Changed, as the run's
// journal keeps them) is the same tree as one from git add -A of the whole
// tree: changed, deleted, staged, staged and undone, taken out of the
// index, new, deeper, a link; the large untracked file left out of both;
// and where a listed path has gone meanwhile, the whole tree is added.
func TestSnapshotFromChanged(t *testing.T) {
	top := t.TempDir()
	run(t, top, "git", "init", "-q")
	for _, f := range []string{"changed.txt", "deleted.txt", "staged.txt", "undone.txt", "unindexed.txt", "same.txt", "sub/kept.txt"} {
		write(t, filepath.Join(top, f), "v1 "+f)
	}
	write(t, filepath.Join(top, ".gitignore"), "ignored.txt\n")
	run(t, top, "git", "add", "-A")
	run(t, top, "git", "commit", "-qm", "init")
	write(t, filepath.Join(top, "changed.txt"), "v2")
	os.Remove(filepath.Join(top, "deleted.txt"))
	write(t, filepath.Join(top, "staged.txt"), "v2 staged")
	run(t, top, "git", "add", "staged.txt")
	write(t, filepath.Join(top, "undone.txt"), "v2 staged, then undone")
	run(t, top, "git", "add", "undone.txt")
	write(t, filepath.Join(top, "undone.txt"), "v1 undone.txt")
	run(t, top, "git", "rm", "-q", "--cached", "unindexed.txt")
	write(t, filepath.Join(top, "new.txt"), "new")
	write(t, filepath.Join(top, "sub", "deep.txt"), "new, deeper")
	os.Symlink("changed.txt", filepath.Join(top, "link"))
	write(t, filepath.Join(top, "ignored.txt"), "ignored")
	write(t, filepath.Join(top, "big.bin"), string(make([]byte, 64<<10)))

	repo, err := Open(top)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dirty, err := repo.Dirty(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for p := range dirty {
		changed = append(changed, p)
	}
	tree := func(changed []string) (string, []string) {
		t.Helper()
		wt, err := repo.Create(ctx, "t.1", Setup{MaxUntracked: 32 << 10, Changed: changed})
		if err != nil {
			t.Fatal(err)
		}
		defer wt.Release()
		return run(t, top, "git", "rev-parse", wt.Base+"^{tree}"), wt.LeftOut
	}
	want, wantOut := tree(nil)
	for _, c := range [][]string{changed, append(slices.Clone(changed), "gone-meanwhile.txt")} {
		got, out := tree(c)
		if got != want || !slices.Equal(out, wantOut) {
			t.Errorf("from %q: tree %s, left out %q; from git add -A: %s, %q", c, got, out, want, wantOut)
		}
	}
	if len(wantOut) != 1 || !strings.HasPrefix(wantOut[0], "big.bin") {
		t.Errorf("left out %q, want big.bin", wantOut)
	}
	// The premise: the trees differ where Changed misses a change.
	if got, _ := tree([]string{"new.txt"}); got == want {
		t.Error("a snapshot from one of the paths is the whole tree's: the test shows nothing")
	}
}

// A worktree's changes list every file the agent made, one by one, in
// directories it made too (git is asked with them collapsed, then about
// each alone), without what .gitignore ignores there; modified and
// deleted files; attempt after attempt in the same slot, as its untracked
// cache goes on.
func TestChangesListEveryFile(t *testing.T) {
	root := committedRepo(t, "kept.txt")
	write(t, filepath.Join(root, ".gitignore"), "*.log\n")
	write(t, filepath.Join(root, "old", "a.txt"), "a")
	run(t, root, "git", "add", "-A")
	run(t, root, "git", "commit", "-qm", "more")
	repo, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for round := 1; round <= 3; round++ {
		wt, err := repo.Create(ctx, fmt.Sprintf("t.%d", round), Setup{})
		if err != nil {
			t.Fatal(err)
		}
		n := fmt.Sprint(round)
		write(t, filepath.Join(wt.Root, "new"+n, "deep", "x.txt"), n)
		write(t, filepath.Join(wt.Root, "new"+n, "y.txt"), n)
		write(t, filepath.Join(wt.Root, "new"+n, "skip.log"), n)
		write(t, filepath.Join(wt.Root, "old", "b"+n+".txt"), n)
		write(t, filepath.Join(wt.Root, "kept.txt"), n)
		os.Remove(filepath.Join(wt.Root, "old", "a.txt"))
		changes, err := wt.Changes(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range changes {
			got = append(got, fmt.Sprintf("%s %v", c.Path, c.Deleted))
		}
		slices.Sort(got)
		want := []string{"kept.txt false", "new" + n + "/deep/x.txt false", "new" + n + "/y.txt false", "old/a.txt true", "old/b" + n + ".txt false"}
		if !slices.Equal(got, want) {
			t.Errorf("round %d: changes %q, want %q", round, got, want)
		}
		wt.Release()
	}
}

// ChangedSince lists what comparing the look before with a whole look now
// lists, where the paths given are all that was written (a file, a
// directory's files, a removal, a file made again with the bytes it had),
// and asks git nothing when no path is given.
func TestChangedSince(t *testing.T) {
	root := committedRepo(t, "kept.txt")
	for _, f := range []string{"kept.txt", "d/a.txt", "d/b.txt", "e/c.txt", "same.txt", "gone.txt"} {
		write(t, filepath.Join(root, f), "before "+f)
	}
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before, err := r.Dirty(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.ChangedSince(ctx, nil, before, nil); err != nil || got != nil {
		t.Fatalf("no paths: got %q, %v; want nothing", got, err)
	}
	write(t, filepath.Join(root, "d/a.txt"), "after")
	write(t, filepath.Join(root, "d/new.txt"), "new")
	write(t, filepath.Join(root, "same.txt"), "before same.txt")
	write(t, filepath.Join(root, "kept.txt"), "kept.txt") // back to HEAD's bytes
	if err := os.Remove(filepath.Join(root, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	after, err := r.Dirty(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for p, blob := range after {
		if old, ok := before[p]; !ok || old != blob {
			want = append(want, p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			want = append(want, p)
		}
	}
	slices.Sort(want)
	got, err := r.ChangedSince(ctx, nil, before, []string{"d", "same.txt", "kept.txt", "gone.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || len(want) != 4 {
		t.Fatalf("ChangedSince = %q, the whole looks differ at %q (want four: d/a.txt, d/new.txt, gone.txt, kept.txt)", got, want)
	}
}
