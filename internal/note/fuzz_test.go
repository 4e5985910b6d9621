package note

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzNewText(f *testing.F) {
	for _, s := range []string{"", "abc", "\uFEFFx", "a\x00b", "\xff", "Zoë 肺炎 😷 e\u0301", "\r\n\r\n", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tx, err := NewText(s)
		valid := utf8.ValidString(s) && !strings.Contains(s, "\x00")
		if (err == nil) != valid {
			t.Fatalf("NewText(%q) error = %v, valid = %v", s, err, valid)
		}
		if err != nil {
			return
		}
		for b := tx.Start(); b <= len(s); b++ {
			r, err := tx.RuneOffset(b)
			if err != nil {
				continue // inside a character
			}
			if back, err := tx.ByteOffsetOfRune(r); err != nil || back != b {
				t.Fatalf("rune round trip of byte %d: %d, %v", b, back, err)
			}
			u, _ := tx.UTF16Offset(b)
			if back, err := tx.ByteOffsetOfUTF16(u); err != nil || back != b {
				t.Fatalf("UTF-16 round trip of byte %d: %d, %v", b, back, err)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CHIEF COMPLAINT:\nChest pain.\n",
		"Seen by Dr. Smith. Takes 81 mg p.o. q.d.\n1. HTN\n2. DM",
		"[**Name**] **NAME[AAA] [** **] **",
		"\uFEFFHPI: 60M.\r\nFamily History: mother - breast cancer",
		"T 38.5. BP 120/80.) \"Done.\" Next",
		"1.\n2)\n-\n* \n• x",
	} {
		f.Add(s)
	}
	p := NewParser()
	f.Fuzz(func(t *testing.T, s string) {
		n, err := p.Parse(s)
		if err != nil {
			return
		}
		checkSpans(t, s, n)
	})
}
