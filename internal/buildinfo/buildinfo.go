// Package buildinfo says which paraider this is, from what Go stamped
// into the binary: a release's module version, or the commit a checkout
// was built from.
package buildinfo

import (
	"runtime/debug"
)

// Version is the module's version (a release installed with go install),
// else the commit the binary was built from, with its date and whether
// the tree had changes; then the Go it was built with.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
}

// Module is the version go install can fetch again; "devel" for
// a build from a checkout.
func Module() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		v = "devel"
		if rev := settings["vcs.revision"]; rev != "" {
			v += " " + rev[:min(12, len(rev))]
			if t := settings["vcs.time"]; t != "" {
				v += " " + t
			}
			if settings["vcs.modified"] == "true" {
				v += " (modified)"
			}
		}
	}
	return v + ", " + bi.GoVersion
}
