package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ChangePath is the record of what a task's last success did to its
// files, for `paraider diff` and `paraider revert`.
func ChangePath(id string) string { return Dir + "/changes/" + id + ".json" }

// blobDir holds the contents the change records name, by their SHA-256.
const blobDir = Dir + "/blobs"

// Change is what a task's last success that changed anything did to its
// declared files: each file's content before and after, and the commit
// made of it in commit mode.
type Change struct {
	Task  string       `json:"task"`
	Run   string       `json:"run,omitempty"`
	At    time.Time    `json:"at"`
	Files []FileChange `json:"files"`
	// Commit is the commit that holds exactly these files as written
	// back, when the task ran in commit mode and it could be made.
	Commit string `json:"commit,omitempty"`
	// NotCommitted says why no commit was made in commit mode.
	NotCommitted string `json:"not_committed,omitempty"`
}

// FileChange is one declared file before and after; nil is absent.
type FileChange struct {
	Path   string `json:"path"`
	Before *Image `json:"before,omitempty"`
	After  *Image `json:"after,omitempty"`
}

// Image is a file's content (a symlink's target for a link) as a blob id
// under .paraider/blobs, and its mode.
type Image struct {
	Blob string      `json:"blob"`
	Mode fs.FileMode `json:"mode"`
}

// Link reports whether the image is a symlink.
func (i *Image) Link() bool { return i != nil && i.Mode&fs.ModeSymlink != 0 }

// PutBlob stores data under its SHA-256 and returns the id. Atomic but
// not synced (a blob cut short by a crash is found damaged by Blob, not
// taken for the file).
func (l Layout) PutBlob(data []byte) (string, error) {
	id := blobID(data)
	p := l.blobPath(id)
	if _, err := os.Stat(p); err == nil {
		return id, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return id, writeFile(p, data, 0o644, false)
}

func blobID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Blob reads a stored blob, checking it is what its id says.
func (l Layout) Blob(id string) ([]byte, error) {
	data, err := ReadOwn(l.blobPath(id), 1<<30)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("the content %.12s is missing from %s (removed by hand?)", id, blobDir)
	}
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != id {
		return nil, fmt.Errorf("the content %.12s in %s is damaged", id, blobDir)
	}
	return data, nil
}

func (l Layout) blobPath(id string) string {
	if len(id) < 3 {
		id = "invalid-" + id
	}
	return l.Path(blobDir + "/" + id[:2] + "/" + id[2:])
}

// ReadImage reads the file at path (absolute) as an image and its content,
// storing nothing; nil when it does not exist.
func ReadImage(path string) (*Image, []byte, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	var data []byte
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		t, err := os.Readlink(path)
		if err != nil {
			return nil, nil, err
		}
		data = []byte(t)
	case fi.Mode().IsRegular():
		if data, err = os.ReadFile(path); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("%s is not a file", path)
	}
	return &Image{Blob: blobID(data), Mode: fi.Mode() & (fs.ModeSymlink | fs.ModePerm)}, data, nil
}

// SameImage reports whether the file at path is what img says (absent for
// nil), without storing anything.
func SameImage(path string, img *Image) (bool, error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return img == nil, nil
	} else if err != nil {
		return false, err
	}
	if img == nil || (fi.Mode()&fs.ModeSymlink != 0) != img.Link() {
		return false, nil
	}
	var data []byte
	if img.Link() {
		t, err := os.Readlink(path)
		if err != nil {
			return false, err
		}
		data = []byte(t)
	} else if data, err = os.ReadFile(path); err != nil {
		return false, err
	}
	return blobID(data) == img.Blob, nil
}

// SymlinkParent is the first directory of rel (a path relative to root,
// with forward slashes) that is a symlink, relative to root; "" when none
// is. paraider never writes into the person's tree through one: it could
// lead anywhere.
func SymlinkParent(root, rel string) string {
	dir := root
	parts := strings.Split(rel, "/")
	for i, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		fi, err := os.Lstat(dir)
		if err != nil {
			return ""
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return strings.Join(parts[:i+1], "/")
		}
	}
	return ""
}

// WriteImage puts img at path atomically (removes the file for nil).
func (l Layout) WriteImage(path string, img *Image) error {
	if img == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	data, err := l.Blob(img.Blob)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if img.Link() {
		return WriteSymlink(path, string(data))
	}
	return WriteFile(path, data, img.Mode.Perm())
}

// WriteSymlink makes path a symlink to target atomically: a temporary
// link beside it (.NAME.tmp-linkPID), then a rename, which replaces a file
// or link at path rather than writing through it.
func WriteSymlink(path, target string) error {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.tmp-link%d", filepath.Base(path), os.Getpid()))
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// PruneBlobs removes the stored contents no change record names, older
// than a day (a task running now may have stored its files' contents for
// a record it has yet to write). It returns how many it removed.
func (l Layout) PruneBlobs() (int, error) {
	keep := map[string]bool{}
	records, _ := filepath.Glob(l.Path(Dir + "/changes/*.json"))
	for _, rec := range records {
		var ch Change
		if err := ReadJSON(rec, &ch); err != nil {
			return 0, fmt.Errorf("%s: %w; nothing was removed", rec, err)
		}
		for _, f := range ch.Files {
			for _, img := range []*Image{f.Before, f.After} {
				if img != nil {
					keep[img.Blob] = true
				}
			}
		}
	}
	n := 0
	cutoff := time.Now().Add(-24 * time.Hour)
	err := filepath.WalkDir(l.Path(blobDir), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil || d.IsDir() {
			return err
		}
		id := filepath.Base(filepath.Dir(p)) + d.Name()
		if info, err := d.Info(); err != nil || keep[id] || info.ModTime().After(cutoff) {
			return nil
		}
		if err := os.Remove(p); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
