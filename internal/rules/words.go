package rules

import (
	"fmt"
	"strings"
)

// StopKind is the kind of a stop word of a language's stopwords pack,
// which decides how each reader treats it.
type StopKind uint8

// The kinds of stop words, as the pack's second column names them.
const (
	// NotStop is a word the pack does not list.
	NotStop StopKind = iota
	// StopFunction is a function word ("of", "with", "which").
	StopFunction
	// StopDefault names the classification's default choice
	// ("unspecified", "NOS").
	StopDefault
	// StopResidual names the classification's residual choice ("other
	// specified", "not elsewhere classified").
	StopResidual
	// StopQualifier is the classification's own wording of a site or a
	// condition ("site not specified", "presenting with").
	StopQualifier
	// StopDefaultAbbr and StopResidualAbbr are the classification's
	// abbreviations of its default and residual choice ("NOS", "NEC"),
	// which a reader of queries skips like function words.
	StopDefaultAbbr
	StopResidualAbbr
)

var stopKindNames = map[string]StopKind{
	"function":              StopFunction,
	"default":               StopDefault,
	"residual":              StopResidual,
	"qualifier":             StopQualifier,
	"default-abbreviation":  StopDefaultAbbr,
	"residual-abbreviation": StopResidualAbbr,
}

// StopWords are the stop words of a language, each with its kind. It is
// not changed after StopWords returns.
type StopWords map[string]StopKind

// StopWords reads the stop words of lang ("en"), from the pack
// LANG/stopwords.
func (s *Set) StopWords(lang string) (StopWords, error) {
	name := lang + "/stopwords"
	p := s.Pack(name)
	if p == nil {
		return nil, fmt.Errorf("rule packs: no pack %s", name)
	}
	out := StopWords{}
	err := p.Each(func(r Row) error {
		if len(r.Fields) != 2 {
			return fmt.Errorf("want a word and its kind separated by a tab")
		}
		k, ok := stopKindNames[strings.TrimSpace(r.Fields[1])]
		if !ok {
			return fmt.Errorf("unknown kind %q (function, default, residual, qualifier, default-abbreviation or residual-abbreviation)", r.Fields[1])
		}
		w := strings.TrimSpace(r.Fields[0])
		if w == "" || w != strings.ToLower(w) {
			return fmt.Errorf("stop word %q: want one word in lower case", r.Fields[0])
		}
		out[w] = k
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Kind returns the kind of word (folded), NotStop for a word not listed.
func (w StopWords) Kind(word string) StopKind { return w[word] }

// Of returns the words of the given kinds, as a set.
func (w StopWords) Of(kinds ...StopKind) map[string]bool {
	out := map[string]bool{}
	for word, k := range w {
		for _, want := range kinds {
			if k == want {
				out[word] = true
			}
		}
	}
	return out
}

// WordSet returns the whitespace-separated words of the pack name (a word
// list such as en/deny) as a set.
func (s *Set) WordSet(name string) (map[string]bool, error) {
	p := s.Pack(name)
	if p == nil {
		return nil, fmt.Errorf("rule packs: no pack %s", name)
	}
	out := map[string]bool{}
	for _, w := range p.Words() {
		out[strings.ToLower(w)] = true
	}
	return out, nil
}
