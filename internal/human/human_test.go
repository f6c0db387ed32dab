package human

import "testing"

// What an agent prints reaches a terminal or a report as printable text:
// no escape sequence (an OSC 52 clipboard write, clear screen, colours),
// no carriage return that overwrites a printed line.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttext\n":                            "plain\ttext\n",
		"\x1b]52;c;ZXZpbA==\x07copied":             "copied",
		"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\": "link",
		"\x1b[2J\x1b[Hcleared":                     "cleared",
		"\x1b[31mred\x1b[0m":                       "red",
		"10%\r50%\r100%\ndone\r\n":                 "100%\ndone\n",
		"ok\x00\x07\x08\x7f\u009b!":                "ok!",
		"real line\rFAKE line":                     "FAKE line",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q; want %q", in, got, want)
		}
	}
}
