package search

import (
	"testing"
	"unicode/utf8"
)

// FuzzSearch checks that any query text is handled: no panic, at most
// Limit hits, sorted by score, each with a path.
func FuzzSearch(f *testing.F) {
	for _, q := range []string{
		"fall from ladder", "type 2 diabetes with diabetic cataract", "chf", "dm2", "pnuemonia",
		"Crohn’s disease", "gastro-esophageal", "(acute) [H28]", "of the with", "",
		"a b c d e f g h i j k l m n o p q r s t u v w x y z aa bb cc dd ee ff gg hh ii",
		"é\u0301\u2019s x--y ''' ,,, 12345678901234567890",
	} {
		f.Add(q, 5)
	}
	s := New(testRelease(true))
	f.Fuzz(func(t *testing.T, q string, limit int) {
		limit = limit%50 + 1
		if limit < 1 {
			limit = 1
		}
		hits := s.Search(q, Options{Limit: limit, FollowSee: limit%2 == 0})
		if len(hits) > limit {
			t.Fatalf("Search(%q, %d): %d hits", q, limit, len(hits))
		}
		for i, h := range hits {
			if len(h.Path) == 0 {
				t.Fatalf("hit without path: %+v", h)
			}
			if i > 0 && h.Score > hits[i-1].Score && len(h.Via) == 0 {
				t.Fatalf("hits out of order at %d: %v", i, hits)
			}
			if !utf8.ValidString(h.String()) && utf8.ValidString(q) {
				t.Fatalf("invalid UTF-8 in %q", h.String())
			}
		}
	})
}
