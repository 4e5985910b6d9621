package agent

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/quote"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// Aligning a model's quote to the note. A quote may occur several times
// ("hypertension" in the history of present illness, the family history
// and the diagnoses), and the first occurrence in text order is often the
// wrong one: a family member's condition, or a past one. Among the best
// matches the aligner prefers, in order: the section of the finding the
// quote supports (hint), an occurrence the context rules read as the
// patient's (not negated, a family member's or hypothetical), the quote's
// exact spelling, then the one nearest the hint (else
// the first). A near match that drops a negation or changes a number
// says something else than the note and is refused.

// shortQuote is the most words a quote may have to be flagged as
// ambiguous when it occurs in several places and nothing decides
// between them.
const shortQuote = 3

// number finds the numbers of a text, which a near match must keep.
var number = regexp.MustCompile(`\d+(?:[.,]\d+)?`)

// errChanged is a near match that says something else than the quote.
type errChanged struct{ why string }

func (e *errChanged) Error() string { return e.why }

// align finds quote q in the note; hint, if not nil, is the evidence of
// the finding q supports. The span returned is the note's text.
func (s *session) align(q string, hint *coding.Evidence) (coding.Evidence, error) {
	ms, err := s.aligner.Find(q, quote.Options{})
	if err != nil {
		return coding.Evidence{}, err
	}
	best := ms[0].Score
	ms = slices.DeleteFunc(slices.Clone(ms), func(m quote.Match) bool { return m.Score < best })
	hintSec := -1
	if hint != nil {
		hintSec = s.note.SectionAt(hint.Start)
	}
	type ranked struct {
		m                       quote.Match
		sameSec, exact, affirmd bool
		dist                    int
	}
	trimmed := strings.TrimSpace(q)
	rs := make([]ranked, len(ms))
	for i, m := range ms {
		r := ranked{m: m, exact: strings.Contains(m.Text, trimmed)}
		r.affirmd = patients(s.assertion(m.Span))
		if hint != nil {
			r.sameSec = s.note.SectionAt(m.Start) == hintSec
			r.dist = absInt(m.Start - hint.Start)
		} else {
			r.dist = m.Start
		}
		rs[i] = r
	}
	better := func(a, b ranked) int {
		for _, c := range [][2]bool{{a.sameSec, b.sameSec}, {a.affirmd, b.affirmd}, {a.exact, b.exact}} {
			if c[0] != c[1] {
				if c[0] {
					return -1
				}
				return 1
			}
		}
		return a.dist - b.dist
	}
	slices.SortStableFunc(rs, better)
	top := rs[0]
	if len(rs) > 1 && hint == nil && len(strings.Fields(q)) <= shortQuote {
		second := rs[1]
		if top.sameSec == second.sameSec && top.exact == second.exact && top.affirmd == second.affirmd &&
			s.note.SectionAt(top.m.Start) != s.note.SectionAt(second.m.Start) {
			s.problem("%s: the short quote %q occurs in %d sections (%s, %s); the first is used: quote more of the sentence", s.stageName(), q, len(rs),
				s.sectionName(top.m.Start), s.sectionName(second.m.Start))
		}
	}
	m := top.m
	if m.Score < 1 {
		if why := s.changed(q, m.Span); why != "" {
			return coding.Evidence{}, &errChanged{fmt.Sprintf("the nearest passage %q %s", clip(m.Text, 80), why)}
		}
	}
	return coding.Evidence{Start: m.Start, End: m.End, Text: m.Text, Section: s.sectionName(m.Start)}, nil
}

// changed says how a near match of quote q differs in meaning from the
// note's passage sp, or "" when it does not: the passage is negated
// where the quote, read alone, is not; or their numbers differ.
func (s *session) changed(q string, sp note.Span) string {
	if !slices.Equal(number.FindAllString(q, -1), number.FindAllString(sp.Text, -1)) {
		return "has other numbers than the quote"
	}
	// A word both have that the note negates and the quote, read on its
	// own, does not: "showed no infiltrate" quoted as "showed an
	// infiltrate". The context rules decide, so no list of negation
	// words is needed here.
	qn, err := s.a.parser.Parse(q)
	if err != nil {
		return ""
	}
	qa := s.a.context.Analyze(qn)
	qws := textnorm.Words(q)
	for _, w := range textnorm.Words(sp.Text) {
		if len(w.Norm) < 3 {
			continue
		}
		i := slices.IndexFunc(qws, func(x textnorm.Word) bool { return x.Norm == w.Norm })
		if i < 0 {
			continue
		}
		ns := note.Span{Start: sp.Start + w.Start, End: sp.Start + w.End, Text: w.Text}
		if s.assertion(ns) != coding.Negated {
			continue
		}
		qw := qws[i]
		if qa.Classify(note.Span{Start: qw.Start, End: qw.End, Text: qw.Text}).Coding() != coding.Negated {
			return "is negated, and the quote drops the negation"
		}
	}
	return ""
}

// patients reports whether an assertion is of a condition of the patient
// that the note does not deny or only consider.
func patients(a coding.Assertion) bool {
	switch a {
	case coding.Negated, coding.Family, coding.OtherPerson, coding.Hypothetical:
		return false
	}
	return true
}

func (s *session) stageName() string {
	if s.stage == nil {
		return "agent"
	}
	return s.stage.name
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
