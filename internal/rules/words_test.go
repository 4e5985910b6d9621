package rules

import (
	"strings"
	"testing"
)

// TestStopWords reads stop words with their kinds, and rejects a row of an
// unknown kind or a word not in lower case, naming its line.
func TestStopWords(t *testing.T) {
	const header = "# pack: en/stopwords\n# version: 1\n# source: test\n"
	tests := []struct {
		name string
		rows string
		want map[string]StopKind
		err  string
	}{
		{"kinds", "of\tfunction\nnos\tdefault\nother\tresidual\nsite\tqualifier\n",
			map[string]StopKind{"of": StopFunction, "nos": StopDefault, "other": StopResidual, "site": StopQualifier}, ""},
		{"unknown kind", "of\tfunction\nwith\tconnective\n", nil, "line 5: unknown kind"},
		{"no kind", "of\n", nil, "line 4: want a word and its kind"},
		{"upper case", "NOS\tdefault\n", nil, "line 4: stop word"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("en/stopwords", "test.tsv", header+tt.rows)
			if err != nil {
				t.Fatal(err)
			}
			s := &Set{packs: map[string]*Pack{p.Name: p}}
			got, err := s.StopWords("en")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for w, k := range tt.want {
				if got.Kind(w) != k {
					t.Errorf("Kind(%q) = %d, want %d", w, got.Kind(w), k)
				}
			}
		})
	}
}

// TestEmbeddedStopWords checks the shipped list: the words each reader
// skips, and the words that must never be skipped because they change
// the code.
func TestEmbeddedStopWords(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	sw, err := s.StopWords("en")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		word string
		want StopKind
	}{
		{"of", StopFunction}, {"due", StopFunction}, {"unspecified", StopDefault}, {"nos", StopDefaultAbbr},
		{"other", StopResidual}, {"nec", StopResidualAbbr}, {"site", StopQualifier},
		{"without", NotStop}, {"except", NotStop}, {"type", NotStop},
	} {
		if got := sw.Kind(tt.word); got != tt.want {
			t.Errorf("Kind(%q) = %d, want %d", tt.word, got, tt.want)
		}
	}
	if fn := sw.Of(StopFunction); fn["unspecified"] || !fn["with"] {
		t.Errorf("Of(StopFunction) = %v", fn)
	}
}
