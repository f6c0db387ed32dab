package proc

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// parseProcargs reads macOS's kern.procargs2 (see args in proc_darwin.go).
// It lives here, built on every system, so that its tests run on Linux.
// It returns the executable's path (as the process was started with it)
// and the arguments.
func parseProcargs(data []byte) (exe string, args []string, err error) {
	if len(data) < 4 {
		return "", nil, fmt.Errorf("kern.procargs2: %d bytes, want 4 or more", len(data))
	}
	argc := int(binary.LittleEndian.Uint32(data))
	rest := data[4:]
	i := bytes.IndexByte(rest, 0) // past the executable's path
	if i < 0 {
		return "", nil, fmt.Errorf("kern.procargs2: no executable path")
	}
	exe = string(rest[:i])
	rest = bytes.TrimLeft(rest[i:], "\x00")
	out := make([]string, 0, argc)
	for len(out) < argc && len(rest) > 0 {
		j := bytes.IndexByte(rest, 0)
		if j < 0 {
			j = len(rest)
		}
		out = append(out, string(rest[:j]))
		rest = rest[min(j+1, len(rest)):]
	}
	return exe, out, nil
}
