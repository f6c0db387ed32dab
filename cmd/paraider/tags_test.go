//go:build !paraider_portable

package main

// buildTags: see tags_portable_test.go.
const buildTags = ""
