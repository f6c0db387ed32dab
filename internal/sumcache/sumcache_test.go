package sumcache

import (
	"strings"
	"testing"
)

// TestDecodeHostile: what is not a record is left out, whatever it
// holds.
func TestDecodeHostile(t *testing.T) {
	good := strings.Repeat("a", 40) + " 3 10 20 30 420 dir/with space\nand newline.txt"
	in := strings.Join([]string{good, "", "short 1 2 3 4 5 x", strings.Repeat("b", 40) + " x 2 3 4 5 y",
		strings.Repeat("b", 40) + " 1 2 3 -4 5 z", strings.Repeat("d", 40) + " 1 2 3 4 5 ", "\xff\xfe"}, "\x00")
	got := decode([]byte(in), 40)
	want := Entry{Sum: strings.Repeat("a", 40), Sig: Sig{Size: 3, Mtime: 10, Ctime: 20, Ino: 30, Mode: 420}}
	if len(got) != 1 || got["dir/with space\nand newline.txt"] != want {
		t.Fatalf("decode = %v; want only the good record", got)
	}
	if again := decode(encode(got), 40); len(again) != 1 || again["dir/with space\nand newline.txt"] != want {
		t.Fatalf("a round trip gives %v", again)
	}
}
