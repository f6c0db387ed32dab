package isolate

// What git said of the repository around a plan, kept for the next Open:
// every attempt opens the repository, and asking git costs two processes
// (rev-parse, config) of a few milliseconds each, an eighth of what
// paraider spends on a trivial task.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/paraider/paraider/internal/gitrepo"
	"github.com/paraider/paraider/internal/lazy"
	"github.com/paraider/paraider/internal/sumcache"
	"github.com/paraider/paraider/state"
)

// answersPath (under the plan's .paraider) keeps Open's answers.
const answersPath = "git-answers"

// answers is what Open learned from git, and what git read to say it: the
// configuration files (those that exist, with their metadata, and those
// git would read were they there), the .git found from the plan's
// directory, and the git program. Any of them different, or the
// directory or git's environment another, and git is asked again.
type answers struct {
	Key   string            `json:"key"`
	Lines []string          `json:"rev_parse"`
	Exact []string          `json:"exact"`
	Files map[string]string `json:"files"` // path -> sigOf
}

// settleFor is how long a file git read must have been left alone for its
// metadata to stand for its bytes: a write in the same tick of the clock
// as the look can leave them all as they were (git's racy-clean problem).
var settleFor = time.Second

// answersKey is what the answers depend on besides files: the directory
// and the environment git reads (its own variables, where its global
// configuration is, and PATH, which says which git runs).
func answersKey(abs string) string {
	key := []string{abs}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GIT_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "XDG_CONFIG_HOME=") || strings.HasPrefix(kv, "PATH=") {
			key = append(key, kv)
		}
	}
	slices.Sort(key[1:])
	return strings.Join(key, "\x00")
}

// sigOf is a file's metadata as a string, "-" where it is absent. For a
// directory (.git), where it is and what it is: its times move with every
// lock git takes in it.
func sigOf(p string) string {
	fi, err := os.Lstat(p)
	if err != nil {
		return "-"
	}
	sig, _ := sumcache.SigOf(fi)
	if fi.IsDir() {
		return fmt.Sprintf("dir %d", sig.Ino)
	}
	return fmt.Sprintf("%+v", sig)
}

// openKept returns the answers kept for abs, where they still hold.
func openKept(abs string) (answers, bool) {
	var a answers
	b, err := state.ReadOwn(filepath.Join(abs, state.Dir, answersPath), 1<<20)
	if err != nil || json.Unmarshal(b, &a) != nil || a.Key != answersKey(abs) || len(a.Lines) < 5 || len(a.Files) == 0 {
		return answers{}, false
	}
	// The repository's top holds the plan's directory: a kept file
	// within an agent's reach names no other place.
	if dir := filepath.Join(a.Lines[0], a.Lines[1]); dir != abs {
		// git names the directory with its links resolved (macOS's
		// /var and /tmp are links to /private).
		if real, err := filepath.EvalSymlinks(abs); err != nil || dir != real {
			return answers{}, false
		}
	}
	for p, sig := range a.Files {
		if sigOf(p) != sig {
			return answers{}, false
		}
	}
	if dotGit, _ := gitrepo.Find(abs); a.Files[dotGit] == "" {
		return answers{}, false // another .git nearer the plan, or GIT_DIR
	}
	return a, true
}

// askGit asks git what Open needs, and keeps the answers where they can
// be told to hold later.
func askGit(abs string) (answers, error) {
	a := answers{Key: answersKey(abs), Files: map[string]string{}}
	// What git reads: the configuration files, wherever git finds them,
	// and the .git that makes abs a repository. Their metadata is taken
	// before git reads them and again after (the files git names are
	// added then); none is trusted that changed less than settleFor
	// before the look: a write while git read it would not show.
	var files []string
	// With GIT_DIR or GIT_WORK_TREE set, git is asked each time.
	dotGit, _ := gitrepo.Find(abs)
	if dotGit != "" {
		files = append(files, dotGit)
	}
	files = append(files, globalConfigs()...)
	if prog, err := exec.LookPath("git"); err == nil {
		files = append(files, prog)
	}
	look := time.Now()
	sigs := map[string]string{}
	for _, p := range files {
		sigs[p] = sigOf(p)
	}
	type listing struct {
		out string
		err error
	}
	listed := make(chan listing, 1)
	go func() {
		out, err := git(context.Background(), abs, nil, "config", "--list", "--show-origin", "-z")
		listed <- listing{out, err}
	}()
	out, err := git(context.Background(), abs, nil, "rev-parse", "--show-toplevel", "--show-prefix", "--path-format=absolute", "--git-path", "index", "--absolute-git-dir", "--git-common-dir")
	l := <-listed
	if err != nil {
		return answers{}, err
	}
	a.Lines = strings.Split(strings.TrimRight(out, "\n"), "\n")
	origins, filters, keepable := parseConfigList(abs, l.out)
	a.Exact = exactFor(filters)
	if l.err != nil || dotGit == "" || len(a.Lines) < 5 {
		return a, nil
	}
	gitDir, commonDir := a.Lines[3], a.Lines[4]
	for _, p := range append(origins, filepath.Join(commonDir, "config"), filepath.Join(gitDir, "config.worktree")) {
		if _, ok := sigs[p]; !ok {
			sigs[p] = sigOf(p)
		}
	}
	for p, sig := range sigs {
		if sig == "-" {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || sigOf(p) != sig {
			keepable = false // written while git read it
			break
		}
		if ctime, ok := changed(fi); !ok || !fi.IsDir() && ctime.After(look.Add(-settleFor)) {
			keepable = false
			break
		}
	}
	if keepable {
		a.Files = sigs
		if b, err := json.Marshal(a); err == nil {
			if _, err := os.Stat(filepath.Join(abs, state.Dir)); err == nil {
				state.WriteUnsynced(filepath.Join(abs, state.Dir, answersPath), b)
			}
		}
	}
	return a, nil
}

// changed is a file's change time (or its modification time, the later),
// and whether the system tells it.
func changed(fi os.FileInfo) (time.Time, bool) {
	sig, ok := sumcache.SigOf(fi)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, max(sig.Ctime, sig.Mtime)), true
}

// globalConfigs are the configuration files git reads outside the
// repository, or would were they there: the person's and the system's.
func globalConfigs() []string {
	var out []string
	if p := os.Getenv("GIT_CONFIG_GLOBAL"); p != "" {
		out = append(out, p)
	} else if home := os.Getenv("HOME"); home != "" {
		xdg := os.Getenv("XDG_CONFIG_HOME")
		if xdg == "" {
			xdg = filepath.Join(home, ".config")
		}
		out = append(out, filepath.Join(home, ".gitconfig"), filepath.Join(xdg, "git", "config"))
	}
	if p := os.Getenv("GIT_CONFIG_SYSTEM"); p != "" {
		out = append(out, p)
	} else {
		// Where git's build puts it: Debian's and most Linux
		// packages', Homebrew's, Xcode's. One elsewhere that exists is
		// in git's own list of what it read.
		out = append(out, "/etc/gitconfig", "/usr/local/etc/gitconfig", "/opt/homebrew/etc/gitconfig",
			"/Library/Developer/CommandLineTools/usr/share/git-core/gitconfig",
			"/Applications/Xcode.app/Contents/Developer/usr/share/git-core/gitconfig")
	}
	return out
}

var filterKeyRE = lazy.Regexp(`^filter\..*\.(clean|smudge|process)$`)

// parseConfigList reads `git config --list --show-origin -z`: the files
// the settings came from (absolute), the filters configured, and whether
// the listing names everything the answers depend on. An include (whose
// file may not exist yet) or a setting from elsewhere than a file (the
// command line's are in the environment, which the key holds) is not.
func parseConfigList(dir, out string) (origins, filters []string, keepable bool) {
	keepable = true
	f := strings.Split(out, "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		origin, kv := f[i], f[i+1]
		key, _, _ := strings.Cut(kv, "\n")
		switch {
		case strings.HasPrefix(origin, "file:"):
			p := strings.TrimPrefix(origin, "file:")
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			if !slices.Contains(origins, p) {
				origins = append(origins, p)
			}
		case strings.HasPrefix(origin, "command line:"):
		default:
			keepable = false
		}
		if strings.HasPrefix(key, "include.") || strings.HasPrefix(key, "includeif.") {
			keepable = false
		}
		if filterKeyRE().MatchString(key) {
			filters = append(filters, key)
		}
	}
	return origins, filters, keepable
}
