package note

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/textnorm"
)

// TokenKind says what a token is.
type TokenKind uint8

// The kinds of token.
const (
	// Word is a run of letters and digits, possibly with inner apostrophes
	// ("Crohn's") or inner periods of a dotted abbreviation ("b.i.d").
	Word TokenKind = iota
	// Number is a run of digits, possibly with a decimal point or thousands
	// separators ("38.5", "1,200").
	Number
	// Punct is a single character that is neither letter, digit nor space.
	Punct
	// Placeholder is a de-identification mark such as "[**Name**]" or
	// "**NAME[AAA]", kept whole so it never splits a sentence.
	Placeholder
)

var kindNames = [...]string{"word", "number", "punct", "placeholder"}

func (k TokenKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Token is one token of a note.
type Token struct {
	Span
	Kind TokenKind
	// Norm is the folded form: lower case, accents removed, typographic
	// hyphens and quotes unified to ASCII (see textnorm.Fold).
	Norm string
	// Stem is the English Snowball stem of Norm for words; for other
	// kinds it equals Norm.
	Stem string
	// Newlines counts the line breaks between the previous token (or the
	// start of the text) and this one.
	Newlines int
}

// tokenizer turns text into tokens, caching stems because clinical notes
// repeat their vocabulary and stemming dominates the cost of tokenizing.
type tokenizer struct {
	src    string
	stems  map[string]string
	norms  map[string]string
	shared *wordCache // may be nil
}

// wordCache keeps the folded forms and stems of words across the notes a
// Parser reads, bounded so that a stream of odd tokens cannot grow it
// without limit.
type wordCache struct {
	mu    sync.RWMutex
	norms map[string]string
	stems map[string]string
	limit int
}

func newWordCache(limit int) *wordCache {
	return &wordCache{norms: map[string]string{}, stems: map[string]string{}, limit: limit}
}

func (c *wordCache) get(m func(*wordCache) map[string]string, k string) (string, bool) {
	c.mu.RLock()
	v, ok := m(c)[k]
	c.mu.RUnlock()
	return v, ok
}

func (c *wordCache) put(m func(*wordCache) map[string]string, k, v string) {
	c.mu.Lock()
	if mm := m(c); len(mm) < c.limit {
		mm[strings.Clone(k)] = v
	}
	c.mu.Unlock()
}

func cacheNorms(c *wordCache) map[string]string { return c.norms }
func cacheStems(c *wordCache) map[string]string { return c.stems }

func newTokenizer(src string) *tokenizer {
	hint := min(len(src)/16, 1024)
	return &tokenizer{src: src, stems: make(map[string]string, hint), norms: make(map[string]string, hint)}
}

// Tokenize splits text[start:end] into tokens, with offsets into text.
func Tokenize(text string, start, end int) []Token {
	return newTokenizer(text).tokens(start, end, nil)
}

// Tokenizer tokenizes many short texts, such as the phrases of a table,
// keeping the folded forms and stems of their words from one text to the
// next: such tables repeat a small vocabulary, and stemming is most of the
// cost of tokenizing. A Tokenizer is not safe for concurrent use.
type Tokenizer struct {
	norms, stems map[string]string
}

// NewTokenizer returns a Tokenizer with nothing kept yet.
func NewTokenizer() *Tokenizer {
	return &Tokenizer{norms: map[string]string{}, stems: map[string]string{}}
}

// Tokenize splits text into tokens, as the package's Tokenize does.
func (t *Tokenizer) Tokenize(text string) []Token {
	tz := &tokenizer{src: text, stems: t.stems, norms: t.norms}
	return tz.tokens(0, len(text), nil)
}

func (tz *tokenizer) tokens(start, end int, out []Token) []Token {
	src := tz.src
	newlines := 0
	for i := start; i < end; {
		c := src[i]
		if c == '\n' {
			newlines++
			i++
			continue
		}
		if c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(src[i:end])
			if unicode.IsSpace(r) {
				if r == '\u2028' || r == '\u2029' || r == '\u0085' {
					newlines++
				}
				i += size
				continue
			}
		}
		j, kind := tz.scan(i, end, r, size)
		out = append(out, tz.token(i, j, kind, newlines))
		newlines = 0
		i = j
	}
	return out
}

// scan returns the end of the token starting at i and its kind.
func (tz *tokenizer) scan(i, end int, r rune, size int) (int, TokenKind) {
	src := tz.src
	if j := placeholderEnd(src, i, end); j > i {
		return j, Placeholder
	}
	if !textnorm.IsWordRune(r) {
		return i + size, Punct
	}
	j := i
	digitsOnly := true
	segLetters := 0 // letters in the current dot-separated segment
	dotted := false
	for j < end {
		r, size := utf8.DecodeRuneInString(src[j:end])
		switch {
		case textnorm.IsWordRune(r):
			if !('0' <= r && r <= '9') {
				digitsOnly = false
			}
			segLetters++
			j += size
			continue
		case (r == '\'' || r == '\u2019') && j+size < end:
			next, _ := utf8.DecodeRuneInString(src[j+size : end])
			if unicode.IsLetter(next) && !digitsOnly {
				j += size
				continue
			}
		case (r == '.' || r == ',') && digitsOnly && j+1 < end && isDigit(src[j+1]):
			// decimal point or thousands separator: "38.5", "1,200"
			j++
			continue
		case r == '.' && !digitsOnly && segLetters <= 3 && j+1 < end && (isLetter(src[j+1]) || isDigit(src[j+1])) && shortSegmentAhead(src, j+1, end):
			// dotted abbreviation: "b.i.d", "p.o", "e.g", "q.d"
			dotted = true
			segLetters = 0
			j++
			continue
		}
		break
	}
	_ = dotted
	if digitsOnly {
		return j, Number
	}
	return j, Word
}

// shortSegmentAhead reports whether the letters starting at i form a segment
// of at most three letters ended by a period, the shape of the parts of
// "b.i.d." or "e.g.", so "Dr.Smith" or "the.end" are not glued together.
func shortSegmentAhead(src string, i, end int) bool {
	n := 0
	for i < end && (isLetter(src[i]) || isDigit(src[i])) {
		i++
		n++
		if n > 3 {
			return false
		}
	}
	return i < end && src[i] == '.' || n <= 2 && (i == end || !isLetter(src[i]))
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isUpper(c byte) bool  { return 'A' <= c && c <= 'Z' }

// placeholderEnd returns the end of a de-identification placeholder starting
// at i, or i if there is none. It knows the two common shapes: MIMIC's
// "[**Last Name (NamePattern1) 123**]" and the "**NAME[AAA]" / "**AGE[in 70s]"
// style of the NegEx corpus.
func placeholderEnd(src string, i, end int) int {
	const maxLen = 120
	lim := min(end, i+maxLen)
	if src[i] == '[' && i+2 < lim && src[i+1] == '*' && src[i+2] == '*' {
		for j := i + 3; j+2 < lim+1 && j+2 <= end; j++ {
			if src[j] == '\n' {
				return i
			}
			if src[j] == '*' && src[j+1] == '*' && j+2 < end && src[j+2] == ']' {
				return j + 3
			}
		}
		return i
	}
	if src[i] == '*' && i+2 < lim && src[i+1] == '*' && isUpper(src[i+2]) {
		j := i + 2
		for j < lim && (isUpper(src[j]) || src[j] == '-' || src[j] == '_' || isDigit(src[j])) {
			j++
		}
		if j < lim && src[j] == '[' {
			for k := j + 1; k < lim; k++ {
				if src[k] == ']' {
					return k + 1
				}
				if src[k] == '\n' || src[k] == '[' {
					break
				}
			}
		}
		return j
	}
	return i
}

func (tz *tokenizer) token(start, end int, kind TokenKind, newlines int) Token {
	text := tz.src[start:end]
	t := Token{Span: Span{Start: start, End: end, Text: text}, Kind: kind, Newlines: newlines}
	switch kind {
	case Number:
		t.Norm, t.Stem = text, text
	case Word:
		t.Norm = tz.fold(text)
		t.Stem = tz.stem(t.Norm)
	default:
		t.Norm = tz.fold(text)
		t.Stem = t.Norm
	}
	return t
}

// fold is textnorm.Fold with a cache, so that the many repeated upper-case
// words of a note ("PATIENT", "HISTORY") are folded and allocated once.
func (tz *tokenizer) fold(s string) string {
	if n, ok := tz.norms[s]; ok {
		return n
	}
	n, ok := "", false
	if tz.shared != nil {
		n, ok = tz.shared.get(cacheNorms, s)
	}
	if !ok {
		n = textnorm.Fold(s)
		if tz.shared != nil {
			tz.shared.put(cacheNorms, s, n)
		}
	}
	tz.norms[s] = n
	return n
}

// stem is textnorm.Stem with a cache: stemming is the costliest step of
// tokenizing and notes repeat their vocabulary.
func (tz *tokenizer) stem(norm string) string {
	if s, ok := tz.stems[norm]; ok {
		return s
	}
	s, ok := "", false
	if tz.shared != nil {
		s, ok = tz.shared.get(cacheStems, norm)
	}
	if !ok {
		s = textnorm.Stem(norm)
		if tz.shared != nil {
			tz.shared.put(cacheStems, norm, s)
		}
	}
	tz.stems[norm] = s
	return s
}
