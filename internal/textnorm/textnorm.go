// Package textnorm provides the normalization every text comparison in
// medcode shares: case and accent folding, unification of hyphen and quote
// variants, word segmentation with byte offsets, and English stemming.
//
// Index terms, tabular titles and clinical notes are all compared through
// this package, so that "Crohn’s disease", "crohn's  disease" and
// "CROHNS DISEASE" meet on the same normalized words.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// Word is one word of a text, with its position in the original input.
type Word struct {
	// Start and End are byte offsets into the original text: Text is
	// text[Start:End].
	Start, End int
	// Text is the word as it appears in the input.
	Text string
	// Norm is the folded form (lower case, no accents).
	Norm string
	// Stem is the English Snowball stem of Norm.
	Stem string
}

// Fold returns s in lower case, with accents and other combining marks
// removed and typographic hyphens, dashes and quotes replaced by their ASCII
// forms. Fold never changes the number of words in s.
func Fold(s string) string {
	if isPlainLower(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// isPlainLower reports whether s is ASCII with no upper-case letters, the
// common case that Fold can return unchanged without allocating.
func isPlainLower(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func foldRune(r rune) rune {
	switch r {
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\uFE63', '\uFF0D':
		return '-'
	case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u00B4', '\u0060':
		return '\''
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033':
		return '"'
	case '\u00A0', '\u2007', '\u202F':
		return ' '
	case 'ß':
		return 's'
	case 'ø', 'Ø':
		return 'o'
	case 'æ', 'Æ':
		return 'a'
	}
	return unicode.ToLower(r)
}

// IsWordRune reports whether r belongs inside a word: letters and digits.
func IsWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// Words splits text into words: maximal runs of letters and digits. An
// apostrophe between letters stays inside the word ("Crohn's" is one word,
// stemmed as "crohn"). Offsets point into text as given.
func Words(text string) []Word {
	var words []Word
	EachWord(text, func(w Word) { words = append(words, w) })
	return words
}

// EachWord calls fn for every word of text in order, without collecting
// them, for callers that filter as they go.
func EachWord(text string, fn func(Word)) { EachWordStem(text, Stem, fn) }

// EachWordStem is EachWord with the stems computed by stem, which must
// return what Stem does: a caller that reads many texts over a small
// vocabulary passes a memoized Stem.
func EachWordStem(text string, stem func(string) string, fn func(Word)) {
	start := -1
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case IsWordRune(r):
			if start < 0 {
				start = i
			}
		case start >= 0 && isInnerApostrophe(text, i, r, size):
			// keep going: the apostrophe is inside the word
		default:
			if start >= 0 {
				fn(makeWord(text, start, i, stem))
				start = -1
			}
		}
		i += size
	}
	if start >= 0 {
		fn(makeWord(text, start, len(text), stem))
	}
}

func isInnerApostrophe(text string, i int, r rune, size int) bool {
	if r != '\'' && r != '\u2019' {
		return false
	}
	next, _ := utf8.DecodeRuneInString(text[i+size:])
	return unicode.IsLetter(next)
}

func makeWord(text string, start, end int, stem func(string) string) Word {
	t := text[start:end]
	n := Fold(t)
	return Word{Start: start, End: end, Text: t, Norm: n, Stem: stem(n)}
}

// Stem returns the English Snowball stem of a folded word. Possessive
// endings are removed first, and words with digits are returned as they are,
// because codes and measurements ("t2", "c5") must not be stemmed.
func Stem(word string) string {
	word = strings.TrimSuffix(word, "'s")
	word = strings.TrimSuffix(word, "'")
	for i := 0; i < len(word); i++ {
		if '0' <= word[i] && word[i] <= '9' {
			return word
		}
	}
	if len(word) <= 2 {
		return word
	}
	return english.Stem(word, false)
}

// Stems returns the stems of the words of text, in order.
func Stems(text string) []string {
	var out []string
	EachWord(text, func(w Word) { out = append(out, w.Stem) })
	return out
}
