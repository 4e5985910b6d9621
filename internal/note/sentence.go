package note

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sentence is a sentence of a note, or a line of a list, a header-less line
// or any other stretch of text that stands alone.
type Sentence struct {
	Span
	// Section is the index in Note.Sections of the section holding the
	// sentence. Sentences never cross section boundaries.
	Section int
	// FirstToken and EndToken delimit the sentence's tokens in
	// Note.Tokens: Tokens[FirstToken:EndToken].
	FirstToken, EndToken int
}

// shortLine is the length in bytes under which a line ending without
// punctuation is taken as complete (a list item, a vital sign, a heading)
// rather than as wrapped running text.
const shortLine = 50

// abbrevBeforePeriod lists folded words that are usually followed by a
// period that does not end the sentence.
var abbrevBeforePeriod = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "st": true, "vs": true,
	"prof": true, "sr": true, "jr": true, "approx": true,
	"fig": true, "ref": true, "inc": true, "pt": true, "dept": true,
	"univ": true, "mt": true, "ft": true, "ave": true,
}

// sentences splits the tokens of one section body into sentences.
func (n *Note) sentences(section, first, end int) {
	start := first
	for k := first + 1; k < end; k++ {
		if n.boundaryBefore(k, first) {
			n.addSentence(section, start, k)
			start = k
		}
	}
	if start < end {
		n.addSentence(section, start, end)
	}
}

func (n *Note) addSentence(section, first, end int) {
	s := n.Text.Span(n.Tokens[first].Start, n.Tokens[end-1].End)
	n.Sentences = append(n.Sentences, Sentence{Span: s, Section: section, FirstToken: first, EndToken: end})
}

// boundaryBefore reports whether a sentence ends before token k.
func (n *Note) boundaryBefore(k, first int) bool {
	toks := n.Tokens
	cur, prev := &toks[k], &toks[k-1]
	if cur.Newlines >= 2 {
		return true
	}
	if cur.Newlines == 1 {
		if n.startsListItem(k) || n.lineLen(prev.End) < shortLine {
			return true
		}
	}
	if prev.Kind != Punct || isCloser(cur.Text) && cur.Newlines == 0 {
		return false
	}
	// Closing quotes and brackets after the period belong to the sentence
	// that ends: look through them.
	p := k - 1
	for p > 0 && isCloser(toks[p].Text) && toks[p].Newlines == 0 {
		p--
	}
	switch toks[p].Text {
	case "!", "?":
		return true
	case ".":
	default:
		return false
	}
	if p == first || cur.Newlines == 0 && !n.sentenceStart(k) {
		return false
	}
	before := &toks[p-1]
	if before.End != toks[p].Start {
		return true // " . " stands alone
	}
	switch before.Kind {
	case Number:
		// "1." opening a list item is not a sentence end
		return !n.isListNumber(p-1, first)
	case Word:
		if strings.IndexByte(before.Text, '.') >= 0 {
			return false // "b.i.d." "e.g."
		}
		if abbrevBeforePeriod[before.Norm] {
			return false
		}
		if utf8.RuneCountInString(before.Text) == 1 && isUpper(before.Text[0]) && cur.Newlines == 0 {
			return false // an initial: "J. Smith"
		}
	}
	return true
}

// sentenceStart reports whether token k can open a sentence after a period
// on the same line: anything but a lower-case word.
func (n *Note) sentenceStart(k int) bool {
	t := &n.Tokens[k]
	if t.Kind != Word {
		return true
	}
	r, _ := utf8.DecodeRuneInString(t.Text)
	return !unicode.IsLower(r)
}

func isCloser(s string) bool {
	return s == ")" || s == "]" || s == "\"" || s == "'" || s == "”" || s == "’"
}

// lineLen returns the length of the line that ends at byte offset end,
// leading blanks excluded.
func (n *Note) lineLen(end int) int {
	src := n.Text.src
	start := strings.LastIndexByte(src[:end], '\n') + 1
	start = skipSpace(src, start, end)
	return end - start
}

// startsListItem reports whether token k, at the start of a line, opens a
// numbered or bulleted list item.
func (n *Note) startsListItem(k int) bool {
	t := &n.Tokens[k]
	return listMarkerEnd(n.Text.src, t.Start, min(len(n.Text.src), t.Start+8)) > t.Start
}

// isListNumber reports whether the number token k starts its line (or the
// section body that starts at token first), so that a period after it marks
// a list item.
func (n *Note) isListNumber(k, first int) bool {
	return k == first || n.Tokens[k].Newlines > 0
}
