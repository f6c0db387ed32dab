package sumcache

import (
	"os"
	"syscall"
)

// ctimeOf is the file's change time, which no program can set back.
func ctimeOf(fi os.FileInfo) (ctime int64, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return st.Ctimespec.Nano(), st.Ino, true
}
