package state

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// InputHash digests a task's work (Spec.WorkHash) and the content of its
// inputs: its read files and its upstream tasks' files, as they are under
// root now. Every new influence on a task's result must be part of this
// hash: exec, Ninja's view (through the depfile exec writes) and status
// all decide "up to date" from it.
func InputHash(root string, s *Spec) (string, error) {
	return InputHashOf(root, s, specFiles(root), FileDigest)
}

// InputHashOf is InputHash with the files of each task s needs, and the
// digest of a file, given: a status of ten thousand tasks has their specs
// in memory, and digests a file that several tasks read once.
func InputHashOf(root string, s *Spec, depFiles func(dep string) ([]string, error), digest func(path string) ([32]byte, bool)) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "work %s\n", s.WorkHash())
	files, err := inputsOf(s, depFiles)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		sum, ok := digest(filepath.Join(root, filepath.FromSlash(f)))
		fmt.Fprintf(h, "%s %v %x\n", f, ok, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inputsOf lists a task's input files, sorted: its read files and the
// files of the tasks it depends on.
func inputsOf(s *Spec, depFiles func(dep string) ([]string, error)) ([]string, error) {
	files := append([]string(nil), s.Read...)
	for _, dep := range s.Deps {
		df, err := depFiles(dep)
		if err != nil {
			return nil, fmt.Errorf("reading the spec of %s, which %s needs: %w", dep, s.ID, err)
		}
		files = append(files, df...)
	}
	sort.Strings(files)
	return files, nil
}

// specFiles reads a task's files from its spec under root.
func specFiles(root string) func(dep string) ([]string, error) {
	return func(dep string) ([]string, error) {
		var ds Spec
		if err := ReadJSON(filepath.Join(root, filepath.FromSlash(SpecPath(dep))), &ds); err != nil {
			return nil, err
		}
		return ds.Files, nil
	}
}

// OutputHash digests a task's files as they are under dir.
func OutputHash(dir string, files []string) string {
	return OutputHashOf(dir, files, FileDigest)
}

// OutputHashOf is OutputHash with the digest of a file given: a status
// digests each file once, as an output and as another task's input.
func OutputHashOf(dir string, files []string, digest func(path string) ([32]byte, bool)) string {
	h := sha256.New()
	for _, f := range files {
		sum, ok := digest(filepath.Join(dir, filepath.FromSlash(f)))
		fmt.Fprintf(h, "%s %v %x\n", f, ok, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// FileDigest is the digest of a file's content, or of a symlink's target;
// ok is false when it does not exist.
func FileDigest(p string) (sum [32]byte, ok bool) {
	fi, err := os.Lstat(p)
	if err != nil {
		return sum, false
	}
	if fi.Mode().IsRegular() {
		if data, err := os.ReadFile(p); err == nil {
			sum = sha256.Sum256(data)
		}
	} else if fi.Mode()&os.ModeSymlink != 0 {
		t, _ := os.Readlink(p)
		sum = sha256.Sum256([]byte(t))
	}
	return sum, true
}
