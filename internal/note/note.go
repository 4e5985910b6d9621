// Package note reads clinical notes and gives every later stage of medcode
// exact positions and context: validated text with byte, character and
// UTF-16 offsets, sections with normalized types, sentences and tokens with
// folded and stemmed forms.
//
// Every Span the package produces satisfies text[s.Start:s.End] == s.Text
// against the input exactly as given. Assertion classification (negation,
// temporality, experiencer) lives in the sub-package assert, quote alignment
// in quote and clinical abbreviations in abbrev.
package note

import "sort"

// Note is a parsed clinical note.
type Note struct {
	Text *Text
	// Sections cover the text in order, with no gaps except the headers
	// themselves.
	Sections []Section
	// Sentences are in text order; each lies within one section body.
	Sentences []Sentence
	// Tokens are every token of the section bodies in text order; header
	// names are not tokenized.
	Tokens []Token
}

// Parser parses notes. Its zero value is not usable; call NewParser. A
// Parser is safe for concurrent use.
type Parser struct {
	sections sectionTable
	words    *wordCache
}

// wordCacheLimit bounds the words a Parser remembers the folded form and
// stem of: enough for the vocabulary of clinical notes.
const wordCacheLimit = 200_000

// NewParser returns a parser with the built-in section header table. The
// parser remembers the folded forms and stems of the words it has seen, so
// that reading many notes does not stem the same words again.
func NewParser() *Parser {
	return &Parser{sections: parseSectionTable(sectionsTSV), words: newWordCache(wordCacheLimit)}
}

// Parse validates src and splits it into sections, sentences and tokens.
func (p *Parser) Parse(src string) (*Note, error) {
	t, err := NewText(src)
	if err != nil {
		return nil, err
	}
	return p.ParseText(t), nil
}

// ParseText splits already validated text into sections, sentences and
// tokens.
func (p *Parser) ParseText(t *Text) *Note {
	n := &Note{Text: t}
	n.Sections = p.sections.sections(t)
	tz := newTokenizer(t.src)
	tz.shared = p.words
	n.Tokens = make([]Token, 0, len(t.src)/5)
	n.Sentences = make([]Sentence, 0, len(t.src)/60)
	for i, s := range n.Sections {
		first := len(n.Tokens)
		n.Tokens = tz.tokens(s.Body.Start, s.Body.End, n.Tokens)
		if first < len(n.Tokens) {
			// the first token of a section starts a new line of thought
			n.sentences(i, first, len(n.Tokens))
		}
	}
	return n
}

// SentenceAt returns the index of the sentence that contains byte offset
// off, or -1 if off is not inside a sentence.
func (n *Note) SentenceAt(off int) int {
	i := sort.Search(len(n.Sentences), func(i int) bool { return n.Sentences[i].End > off })
	if i < len(n.Sentences) && n.Sentences[i].Start <= off {
		return i
	}
	return -1
}

// SectionAt returns the index of the section that contains byte offset off
// (its header or body), or -1 if there is none.
func (n *Note) SectionAt(off int) int {
	i := sort.Search(len(n.Sections), func(i int) bool { return n.Sections[i].Body.End > off })
	if i < len(n.Sections) && n.Sections[i].Header.Start <= off {
		return i
	}
	if i == len(n.Sections) && i > 0 && off == n.Sections[i-1].Body.End {
		return i - 1
	}
	return -1
}

// SentenceTokens returns the tokens of sentence i.
func (n *Note) SentenceTokens(i int) []Token {
	s := n.Sentences[i]
	return n.Tokens[s.FirstToken:s.EndToken]
}

// TokensIn returns the tokens that lie within s.
func (n *Note) TokensIn(s Span) []Token {
	lo := sort.Search(len(n.Tokens), func(i int) bool { return n.Tokens[i].Start >= s.Start })
	hi := sort.Search(len(n.Tokens), func(i int) bool { return n.Tokens[i].End > s.End })
	if hi < lo {
		hi = lo
	}
	return n.Tokens[lo:hi]
}
