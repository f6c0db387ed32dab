//go:build paraider_portable

package main

// buildTags are the tags this test binary was built with: the binaries
// it builds for the scripts (testMain) are built with them too, so that
// `go test -tags paraider_portable` runs the scripts against the
// portable build, not the Linux one.
const buildTags = "paraider_portable"
