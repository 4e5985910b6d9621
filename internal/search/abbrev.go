package search

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/note/abbrev"
	"github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// packQueryWords holds the words of queries the classification writes
// otherwise ("bleeding" for hemorrhage), read like abbreviations.
const packQueryWords = "en/querywords"

// expansion is what a query word stands for.
type expansion struct {
	// exact, when set, is how the query must write the word: an
	// abbreviation matched only as written ("ALL"), whose lower-case form
	// is an ordinary word.
	exact string
	// words are the folded words of its first (most common) sense.
	words []string
}

// expansions reads the one abbreviation table of English (en/abbreviations,
// the table the coder reads) and en/querywords into a map from the folded
// word to what it stands for, the entries matched only as written first.
// Search reads the first sense of every abbreviation, ambiguous or not: a
// query is short, and its writer means the most common sense.
func expansions(set *rules.Set) (map[string][]expansion, error) {
	t, err := abbrev.Load(set)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	m := map[string][]expansion{}
	add := func(word, exp, exact string) {
		var words []string
		textnorm.EachWord(exp, func(w textnorm.Word) { words = append(words, w.Norm) })
		if len(words) == 0 {
			return
		}
		k := textnorm.Fold(strings.TrimSpace(word))
		m[k] = append(m[k], expansion{exact: exact, words: words})
	}
	for _, e := range t.Entries() {
		exact := ""
		if e.CaseSensitive {
			exact = e.Abbr
		}
		add(e.Abbr, e.Expansions[0], exact)
	}
	p := set.Pack(packQueryWords)
	if p == nil {
		return nil, fmt.Errorf("search: no rule pack %s", packQueryWords)
	}
	err = p.Each(func(r rules.Row) error {
		if len(r.Fields) != 2 {
			return fmt.Errorf("want a word and the classification's words separated by a tab")
		}
		add(r.Fields[0], r.Fields[1], "")
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	for k, es := range m {
		slices.SortStableFunc(es, func(a, b expansion) int {
			return boolRank(a.exact == "") - boolRank(b.exact == "")
		})
		m[k] = es
	}
	return m, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// expand returns the words the query word stands for: norm folded, written
// as the query writes it.
func (s *Searcher) expand(norm, written string) ([]string, bool) {
	for _, e := range s.abbrevs[norm] {
		if e.exact == "" || e.exact == written {
			return e.words, true
		}
	}
	return nil, false
}
