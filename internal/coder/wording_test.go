package coder

import (
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/note"
	packs "github.com/medcode-dev/medcode/internal/rules"
)

// testWording returns the wording of the embedded packs.
func testWording(t testing.TB) *wording {
	t.Helper()
	set, err := packs.Default()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := loadWording(set)
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

// TestWordingFromPacks checks that the coder reads its stop words,
// lettered kinds and denying words from the packs: every kind of
// en/stopwords is skipped in a title, a letter after a word of en/letters
// is kept as a kind, and a word of en/deny drops the mention it is in.
func TestWordingFromPacks(t *testing.T) {
	wd := testWording(t)
	tests := []struct {
		title string
		want  []string
	}{
		// function, default, residual and qualifier words alike
		{"Fracture of unspecified site", []string{"fractur"}},
		{"Other specified diseases of liver", []string{"diseas", "liver"}},
		{"Fever presenting with conditions classified elsewhere", []string{"fever"}},
		// "type" is no stop word
		{"Type 2 diabetes mellitus", []string{"type", "2", "diabet", "mellitus"}},
		// the letter after "hepatitis" names its kind; "a" is otherwise a stop word
		{"Acute hepatitis A", []string{"acut", "hepatitis", "kind:hepatitis a"}},
		{"Carrier of a disease", []string{"carrier", "diseas"}},
		// "without" ends what the note must say
		{"Asthma without status asthmaticus", []string{"asthma"}},
	}
	for _, tt := range tests {
		if got := wd.phraseWords(tt.title); !slices.Equal(got, tt.want) {
			t.Errorf("phraseWords(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
	for _, w := range []string{"without", "no", "denies"} {
		if !wd.deny[w] {
			t.Errorf("%q is not a denying word", w)
		}
	}
	n, err := note.NewParser().Parse("Mass without malignancy.")
	if err != nil {
		t.Fatal(err)
	}
	ms := []mention{{first: 0, last: 2, tokens: []int32{0, 2}}}
	if got := dropDenied(n, slices.Clone(ms), wd.deny); len(got) != 0 {
		t.Errorf("dropDenied kept a mention with a word after %q", "without")
	}
	if got := dropDenied(n, slices.Clone(ms), map[string]bool{}); len(got) != 1 {
		t.Errorf("dropDenied without denying words dropped the mention")
	}
}
