package guidelines

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestDiff(t *testing.T) {
	older, err := Import("testdata/diff-2025.txt", "2025")
	if err != nil {
		t.Fatal(err)
	}
	newer, err := Import("testdata/diff-2026.txt", "2026")
	if err != nil {
		t.Fatal(err)
	}
	// Written by hand from the two fixtures: I.A.1 is only rewrapped, so
	// it is not listed.
	want := []Change{
		{Kind: Changed, ID: "I.A.2", Title: "Placeholder characters", OldTitle: "Placeholder character"},
		{Kind: Changed, ID: "I.B.1.a.1", Title: "Raised pressure with kidney disease",
			Deleted:  []string{"Add a code for the stage."},
			Inserted: []string{"Add a code for the stage, e.g. stage 4.", "Code end stage kidney disease only once."}},
		{Kind: Added, ID: "I.B.1.c", Title: "Raised pressure in the lungs"},
		{Kind: Removed, ID: "I.B.1.a.2", Title: "Raised pressure in the eye"},
	}
	got := Diff(older, newer)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Diff =\n%+v\nwant\n%+v", got, want)
	}
	if d := Diff(newer, newer); len(d) != 0 {
		t.Errorf("Diff of an edition with itself = %+v, want nothing", d)
	}
	// Backwards, the added section is removed and the removed one added.
	back := Diff(newer, older)
	kinds := map[string]ChangeKind{}
	for _, c := range back {
		kinds[c.ID] = c.Kind
	}
	if kinds["I.B.1.c"] != Removed || kinds["I.B.1.a.2"] != Added {
		t.Errorf("Diff backwards = %+v", back)
	}
}

func TestSentences(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"One sentence", []string{"One sentence"}},
		{"First. Second?  Third!", []string{"First.", "Second?", "Third!"}},
		{"Use e.g. the index. See Section I.C.9.a.2. Then code.", []string{"Use e.g. the index.", "See Section I.C.9.a.2.", "Then code."}},
		{"Code I10. (See also I12.)", []string{"Code I10.", "(See also I12.)"}},
		{"Para one\n\n Para two. 2 more", []string{"Para one", "Para two.", "2 more"}},
		{"Ends with a dot. ", []string{"Ends with a dot."}},
	}
	for _, tt := range tests {
		if got := Sentences(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Sentences(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func FuzzSentences(f *testing.F) {
	f.Add("First. Second?  Third!\nFourth e.g. fifth. I.C.9.")
	f.Add(". . .")
	f.Fuzz(func(t *testing.T, s string) {
		got := Sentences(s)
		// Splitting keeps every word, in order.
		if strings.Join(strings.Fields(strings.Join(got, " ")), " ") != strings.Join(strings.Fields(s), " ") {
			t.Fatalf("Sentences(%q) = %q lost or moved words", s, got)
		}
	})
}
