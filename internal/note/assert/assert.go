// Package assert classifies the context of a condition mentioned in a
// clinical note, in the manner of the ConText algorithm: is it negated or
// uncertain, is it current, past or hypothetical, and does it belong to the
// patient or to someone else.
//
// Triggers are phrases of general clinical language kept as data
// (triggers.txt, embedded). Each has a kind and a direction: it modifies the
// words after it (forward), before it (backward) or both, up to the end of
// the sentence, a terminator ("but", "however", ";") or a window of words.
// Pseudo-triggers such as "no change" or "gram negative" block the triggers
// inside them. The section of the note counts too: a condition under Family
// History belongs to a family member and one under Past Medical History is
// historical, unless a trigger says otherwise.
package assert

import (
	"fmt"
	"slices"

	"github.com/medcode-dev/medcode/internal/note"
)

// Negation is whether a condition is said to be present.
type Negation uint8

// Negation values.
const (
	Affirmed Negation = iota
	Negated
	Possible
)

func (v Negation) String() string {
	return [...]string{"affirmed", "negated", "possible"}[v]
}

// Temporality is when a condition is said to occur.
type Temporality uint8

// Temporality values.
const (
	Recent Temporality = iota
	Historical
	Hypothetical
)

func (v Temporality) String() string {
	return [...]string{"recent", "historical", "hypothetical"}[v]
}

// Experiencer is whom a condition is said to affect.
type Experiencer uint8

// Experiencer values.
const (
	Patient Experiencer = iota
	// Family is a family member of the patient: Other, recognized as family.
	Family
	// Other is someone else, not known to be family.
	Other
)

func (v Experiencer) String() string {
	return [...]string{"patient", "family", "other"}[v]
}

// Cue is a trigger that decided part of an assertion, for explanation.
type Cue struct {
	note.Span
	Kind      Kind
	Direction Direction
}

// Assertion is the classified context of a condition.
type Assertion struct {
	Negation    Negation
	Temporality Temporality
	Experiencer Experiencer
	// Resolved reports that the negation says the condition went away
	// ("the fever resolved"): Negation is Negated, and the condition was
	// present before.
	Resolved bool
	// Section is the type of section the condition is in.
	Section note.SectionType
	// Cues are the triggers that set non-default values, in text order.
	Cues []Cue
}

func (a Assertion) String() string {
	return fmt.Sprintf("%s/%s/%s", a.Negation, a.Temporality, a.Experiencer)
}

// DefaultWindow is the number of words a trigger reaches by default.
const DefaultWindow = 12

// Classifier classifies conditions. It is safe for concurrent use.
type Classifier struct {
	rules  *Rules
	window int
}

// New returns a classifier with the built-in trigger list.
func New() *Classifier {
	r, err := ParseRules(builtinTriggers)
	if err != nil {
		panic("assert: built-in trigger list: " + err.Error())
	}
	return &Classifier{rules: r, window: DefaultWindow}
}

// NewWithRules returns a classifier with the given trigger list, whose
// triggers reach at most window words (DefaultWindow if window <= 0).
func NewWithRules(r *Rules, window int) *Classifier {
	if window <= 0 {
		window = DefaultWindow
	}
	return &Classifier{rules: r, window: window}
}

// cue is a matched trigger phrase at tokens [first, end) of a sentence.
type cue struct {
	p          *phrase
	first, end int
}

// findCues matches trigger phrases in the tokens of one sentence from token
// from on, longest first, left to right; a matched phrase hides the phrases
// inside it.
func (c *Classifier) findCues(toks []note.Token, from int, out []cue) []cue {
	for i := from; i < len(toks); {
		if skippable(&toks[i]) {
			i++
			continue
		}
		var best *phrase
		bestEnd := 0
		node := &c.rules.root
		for j := i; j < len(toks); j++ {
			if skippable(&toks[j]) {
				continue
			}
			node = node.next[toks[j].Norm]
			if node == nil {
				break
			}
			if node.phrase != nil {
				best, bestEnd = node.phrase, j+1
			}
		}
		if best == nil {
			i++
			continue
		}
		out = append(out, cue{best, i, bestEnd})
		i = bestEnd
	}
	return out
}

// Classify classifies the condition at target in n.
func (c *Classifier) Classify(n *note.Note, target note.Span) Assertion {
	si := n.SentenceAt(target.Start)
	if si < 0 {
		return c.decide("", nil, nil, 0, 0, sectionType(n, target.Start))
	}
	toks := n.SentenceTokens(si)
	cues := c.findCues(toks, 0, nil)
	return c.classifyIn(n, si, toks, cues, target)
}

func sectionType(n *note.Note, off int) note.SectionType {
	if i := n.SectionAt(off); i >= 0 {
		return n.Sections[i].Type
	}
	return note.None
}

func (c *Classifier) classifyIn(n *note.Note, si int, toks []note.Token, cues []cue, target note.Span) Assertion {
	// the target's tokens within the sentence: [tFirst, tEnd)
	tFirst, tEnd := len(toks), len(toks)
	for i := range toks {
		if toks[i].End > target.Start {
			tFirst = i
			break
		}
	}
	tEnd = tFirst
	for tEnd < len(toks) && toks[tEnd].Start < target.End {
		tEnd++
	}
	cues = c.trimAtTarget(toks, cues, tFirst)
	return c.decide(n.Text.String(), toks, cues, tFirst, tEnd, n.Sections[n.Sentences[si].Section].Type)
}

// trimAtTarget re-matches a trigger phrase that runs into the target, so
// that the target's own words are not taken as part of a trigger: in "no
// acute distress" with target "acute distress" the trigger is "no", not "no
// acute"; in "no change in vision" it is "no", not the pseudo-trigger "no
// change".
func (c *Classifier) trimAtTarget(toks []note.Token, cues []cue, tFirst int) []cue {
	for k, cu := range cues {
		if cu.first < tFirst && tFirst < cu.end {
			out := slices.Clone(cues[:k])
			out = c.findCues(toks[:tFirst], cu.first, out)
			return append(out, cues[k+1:]...)
		}
	}
	return cues
}

// Analysis holds the triggers found in every sentence of a note, so that
// many conditions of one note are classified without matching again.
type Analysis struct {
	c    *Classifier
	n    *note.Note
	cues [][]cue // per sentence
}

// Analyze finds the triggers of every sentence of n.
func (c *Classifier) Analyze(n *note.Note) *Analysis {
	a := &Analysis{c: c, n: n, cues: make([][]cue, len(n.Sentences))}
	var buf []cue
	for i := range n.Sentences {
		start := len(buf)
		buf = c.findCues(n.SentenceTokens(i), 0, buf)
		a.cues[i] = buf[start:len(buf):len(buf)]
	}
	return a
}

// Classify classifies the condition at target.
func (a *Analysis) Classify(target note.Span) Assertion {
	si := a.n.SentenceAt(target.Start)
	if si < 0 {
		return a.c.decide("", nil, nil, 0, 0, sectionType(a.n, target.Start))
	}
	return a.c.classifyIn(a.n, si, a.n.SentenceTokens(si), a.cues[si], target)
}

// scope reports whether cue k reaches the target tokens [tFirst, tEnd) for
// kind, and at what distance in tokens.
func (c *Classifier) reaches(toks []note.Token, cues []cue, k int, r rule, tFirst, tEnd int) (int, bool) {
	cu := cues[k]
	if cu.first < tEnd && tFirst < cu.end {
		return 0, false // the trigger is part of the target
	}
	if cu.end <= tFirst && r.dir != Backward {
		if words(toks, cu.end, tFirst) > c.window {
			return 0, false
		}
		for j := k + 1; j < len(cues) && cues[j].first < tFirst; j++ {
			if stops(cues[j].p, r.kind) {
				return 0, false
			}
		}
		return tFirst - cu.end, true
	}
	if tEnd <= cu.first && r.dir != Forward {
		if words(toks, tEnd, cu.first) > c.window {
			return 0, false
		}
		for j := k - 1; j >= 0 && cues[j].end > tEnd; j-- {
			if stops(cues[j].p, r.kind) {
				return 0, false
			}
		}
		return cu.first - tEnd, true
	}
	return 0, false
}

func stops(p *phrase, k Kind) bool {
	for _, r := range p.rules {
		if r.kind == KindTerminate && r.stops[k] {
			return true
		}
	}
	return false
}

// words counts the word and number tokens in toks[from:to].
func words(toks []note.Token, from, to int) int {
	n := 0
	for i := from; i < to; i++ {
		if toks[i].Kind != note.Punct {
			n++
		}
	}
	return n
}

// decide combines the cues that reach the target with the section.
func (c *Classifier) decide(src string, toks []note.Token, cues []cue, tFirst, tEnd int, sec note.SectionType) Assertion {
	a := Assertion{Section: sec}
	// nearest reaching cue of each dimension
	type pick struct {
		k    int
		kind Kind
		dir  Direction
		dist int
	}
	var neg, tmp, exp *pick
	consider := func(p **pick, k int, r rule, d int) {
		if *p == nil || d < (*p).dist {
			*p = &pick{k, r.kind, r.dir, d}
		}
	}
	for k := range cues {
		for _, r := range cues[k].p.rules {
			if r.kind >= KindPseudo {
				continue
			}
			d, ok := c.reaches(toks, cues, k, r, tFirst, tEnd)
			if !ok {
				continue
			}
			switch r.kind {
			case KindNegated, KindPossible, KindResolved:
				consider(&neg, k, r, d)
			case KindHistorical, KindHypothetical:
				consider(&tmp, k, r, d)
			case KindFamily, KindOther:
				consider(&exp, k, r, d)
			}
		}
	}
	cueOf := func(p *pick) Cue {
		cu := cues[p.k]
		start, end := toks[cu.first].Start, toks[cu.end-1].End
		return Cue{
			Span:      note.Span{Start: start, End: end, Text: src[start:end]},
			Kind:      p.kind,
			Direction: p.dir,
		}
	}
	if neg != nil {
		a.Negation = Negated
		switch neg.kind {
		case KindPossible:
			a.Negation = Possible
		case KindResolved:
			a.Resolved = true
		}
		a.Cues = append(a.Cues, cueOf(neg))
	}
	switch {
	case tmp != nil:
		a.Temporality = Historical
		if tmp.kind == KindHypothetical {
			a.Temporality = Hypothetical
		}
		a.Cues = append(a.Cues, cueOf(tmp))
	case sec == note.PastMedicalHistory || sec == note.PastSurgicalHistory:
		a.Temporality = Historical
	}
	switch {
	case exp != nil:
		a.Experiencer = Family
		if exp.kind == KindOther {
			a.Experiencer = Other
		}
		a.Cues = append(a.Cues, cueOf(exp))
	case sec == note.FamilyHistory:
		a.Experiencer = Family
	}
	slices.SortFunc(a.Cues, func(x, y Cue) int { return x.Start - y.Start })
	return a
}
