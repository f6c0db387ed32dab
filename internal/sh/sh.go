// Package sh quotes words for /bin/sh: the one quoter behind the commands
// paraider writes (Ninja runs every command with /bin/sh -c) and the
// command lines its logs show.
package sh

import "strings"

// safe are the bytes a word may hold and still need no quotes.
const safe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/+=,:@%"

// Quote quotes s so that /bin/sh reads it back as one word, unchanged.
func Quote(s string) string {
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Join quotes each word and joins them with spaces.
func Join(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = Quote(a)
	}
	return strings.Join(q, " ")
}
