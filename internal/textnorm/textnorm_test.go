package textnorm

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Crohn’s Disease", "crohn's disease"},
		{"SJÖGREN", "sjogren"},
		{"Guillain–Barré", "guillain-barre"},
		{"naïve café", "naive cafe"},
		{"already plain", "already plain"},
		{"“quoted”", `"quoted"`},
		{"non\u00a0breaking", "non breaking"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Fold(tt.in); got != tt.want {
			t.Errorf("Fold(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWords(t *testing.T) {
	text := "Pt. has Crohn’s disease; T2DM w/ neuropathy (s/p CABG 2015)."
	var got []string
	for _, w := range Words(text) {
		if text[w.Start:w.End] != w.Text {
			t.Fatalf("word %q: offsets [%d,%d) give %q", w.Text, w.Start, w.End, text[w.Start:w.End])
		}
		got = append(got, w.Norm+"/"+w.Stem)
	}
	want := "pt/pt has/has crohn's/crohn disease/diseas t2dm/t2dm w/w neuropathy/neuropathi s/s p/p cabg/cabg 2015/2015"
	if strings.Join(got, " ") != want {
		t.Errorf("Words:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestStem(t *testing.T) {
	// Plurals and inflections meet on one stem; codes and numbers are left
	// alone.
	groups := [][]string{
		{"fracture", "fractures", "fractured"},
		{"infection", "infections"},
		{"disease", "diseases"},
		{"hemorrhage", "hemorrhages", "hemorrhaging"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			if Stem(w) != Stem(g[0]) {
				t.Errorf("Stem(%q) = %q, Stem(%q) = %q: want equal", w, Stem(w), g[0], Stem(g[0]))
			}
		}
	}
	for _, w := range []string{"t2", "c5", "e11", "x7"} {
		if Stem(w) != w {
			t.Errorf("Stem(%q) = %q, want unchanged", w, Stem(w))
		}
	}
}

func FuzzWords(f *testing.F) {
	for _, s := range []string{"Crohn’s disease", "SJÖGREN syndrome", "a'b 'c d'", "e\u0301", "\xff\xfe", "日本語のテキスト"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prev := 0
		for _, w := range Words(s) {
			if w.Start < prev || w.End <= w.Start || s[w.Start:w.End] != w.Text {
				t.Fatalf("bad word %+v in %q", w, s)
			}
			prev = w.End
			if utf8.ValidString(s) && !utf8.ValidString(w.Norm) {
				t.Fatalf("Norm of %q is not valid UTF-8", w.Text)
			}
		}
	})
}
