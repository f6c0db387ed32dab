//go:build !linux

package main

import (
	"os/exec"
	"runtime"
	"strings"
)

// kernel is the kernel's release, as uname -r says it.
func kernel() string {
	out, err := exec.Command("uname", "-r").Output()
	if err != nil {
		return runtime.GOOS
	}
	return runtime.GOOS + " " + strings.TrimSpace(string(out))
}
