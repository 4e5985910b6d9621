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

	"github.com/medcode-dev/medcode/internal/coding"
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
	// RuledOut reports that the condition was uncertain and a negative
	// result after it ruled it out: a negation of the condition itself
	// ("possible pneumonia was ruled out") or, for a condition under
	// work-up, a negative result in the same or the next sentence
	// ("Pneumonia was considered. The chest x-ray showed no infiltrate.").
	// Negation is Negated, and the cues hold both the uncertainty and the
	// result.
	RuledOut bool
	// Section is the type of section the condition is in.
	Section note.SectionType
	// Cues are the triggers that set non-default values, in text order.
	Cues []Cue
}

func (a Assertion) String() string {
	return fmt.Sprintf("%s/%s/%s", a.Negation, a.Temporality, a.Experiencer)
}

// Coding returns the assertion a code of the condition carries, the one
// value every reasoner reports. One classification has several parts; the
// first that applies decides, in this order: whom it affects (family,
// other person), whether it is present (resolved, negated, possible),
// when (historical, hypothetical); else it is present (affirmed).
func (a Assertion) Coding() coding.Assertion {
	switch {
	case a.Experiencer == Family:
		return coding.Family
	case a.Experiencer == Other:
		return coding.OtherPerson
	case a.Negation == Negated && a.Resolved:
		return coding.Resolved
	case a.Negation == Negated:
		return coding.Negated
	case a.Negation == Possible:
		return coding.Possible
	case a.Temporality == Historical:
		return coding.Historical
	case a.Temporality == Hypothetical:
		return coding.Hypothetical
	}
	return coding.Affirmed
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
		a, _ := c.decide("", nil, nil, 0, 0, sectionType(n, target.Start))
		return a
	}
	toks := n.SentenceTokens(si)
	cues := c.findCues(toks, 0, nil)
	return c.classifyIn(n, si, toks, cues, target, func(i int) []cue {
		return c.findCues(n.SentenceTokens(i), 0, nil)
	})
}

func sectionType(n *note.Note, off int) note.SectionType {
	if i := n.SectionAt(off); i >= 0 {
		return n.Sections[i].Type
	}
	return note.None
}

// classifyIn classifies target in sentence si, whose tokens and cues are
// given; cuesOf returns the cues of another sentence, for a negative result
// that follows a suspected condition.
func (c *Classifier) classifyIn(n *note.Note, si int, toks []note.Token, cues []cue, target note.Span, cuesOf func(int) []cue) Assertion {
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
	src := n.Text.String()
	a, suspected := c.decide(src, toks, cues, tFirst, tEnd, n.Sections[n.Sentences[si].Section].Type)
	if a.Negation != Possible || a.Temporality == Hypothetical {
		return a
	}
	// An uncertain condition is ruled out by a negative result about it
	// after it; a suspected one also by a negative result of its work-up,
	// in its sentence or in the next one of the same section.
	rtoks := toks
	rcu, ok := c.ruledOut(toks, cues, tFirst, tEnd, suspected)
	if !ok && suspected && si+1 < len(n.Sentences) && n.Sentences[si+1].Section == n.Sentences[si].Section {
		rtoks = n.SentenceTokens(si + 1)
		rcu, ok = c.ruledOut(rtoks, cuesOf(si+1), -1, -1, true)
	}
	if ok {
		start, end := rtoks[rcu.first].Start, rtoks[rcu.end-1].End
		a.Negation, a.RuledOut = Negated, true
		a.Cues = append(a.Cues, Cue{
			Span:      note.Span{Start: start, End: end, Text: src[start:end]},
			Kind:      KindRuledOut,
			Direction: Both,
		})
		slices.SortFunc(a.Cues, func(x, y Cue) int { return x.Start - y.Start })
	}
	return a
}

// ruledOut finds the first negative result in a sentence that rules out
// the target: a ruled-out cue if the target is suspected, or a negation
// after the target that reaches it ("possible pneumonia was ruled out").
// When the target is not in the sentence (tEnd < 0) only the first clause
// counts, and no negation reaches the target. A result that an uncertain
// or hypothetical trigger reaches ("if the x-ray shows no infiltrate") is
// no result, unless that trigger also reaches the target: then it is the
// suspicion being ruled out.
func (c *Classifier) ruledOut(toks []note.Token, cues []cue, tFirst, tEnd int, suspected bool) (cue, bool) {
	for k, cu := range cues {
		if cu.first < tEnd {
			continue
		}
		result := suspected && hasKind(cu.p, KindRuledOut)
		if !result && !c.negates(toks, cues, k, tFirst, tEnd) {
			if tEnd < 0 && endsClause(cu.p) {
				break // the next sentence's first clause only
			}
			continue
		}
		if c.hedged(toks, cues, k, tFirst, tEnd) {
			continue
		}
		return cu, true
	}
	return cue{}, false
}

// negates reports whether cue k negates the target [tFirst, tEnd) of its
// sentence.
func (c *Classifier) negates(toks []note.Token, cues []cue, k, tFirst, tEnd int) bool {
	if tEnd < 0 {
		return false
	}
	for _, r := range cues[k].p.rules {
		if r.kind == KindNegated {
			if _, ok := c.reaches(toks, cues, k, r, tFirst, tEnd); ok {
				return true
			}
		}
	}
	return false
}

// hedged reports whether an uncertain or hypothetical trigger reaches cue
// k without reaching the target [tFirst, tEnd) (tEnd < 0: the target is
// not in the sentence).
func (c *Classifier) hedged(toks []note.Token, cues []cue, k, tFirst, tEnd int) bool {
	for j := range cues {
		if j == k {
			continue
		}
		for _, r := range cues[j].p.rules {
			if r.kind != KindPossible && r.kind != KindSuspected && r.kind != KindHypothetical {
				continue
			}
			if _, ok := c.reaches(toks, cues, j, r, cues[k].first, cues[k].end); !ok {
				continue
			}
			if tEnd >= 0 {
				if _, ok := c.reaches(toks, cues, j, r, tFirst, tEnd); ok {
					continue
				}
			}
			return true
		}
	}
	return false
}

// endsClause reports whether p ends the scope of every trigger (";",
// "but", "however").
func endsClause(p *phrase) bool {
	for _, r := range p.rules {
		if r.kind == KindTerminate && !slices.Contains(r.stops[:], false) {
			return true
		}
	}
	return false
}

func hasKind(p *phrase, k Kind) bool {
	for _, r := range p.rules {
		if r.kind == k {
			return true
		}
	}
	return false
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

// ClauseBreaks returns the note's token indexes where a phrase that ends
// every trigger's scope begins in sentence si ("but", "however", ";"): the
// boundaries of the clauses a condition's words do not cross.
func (a *Analysis) ClauseBreaks(si int) []int {
	var out []int
	first := a.n.Sentences[si].FirstToken
	for _, cu := range a.cues[si] {
		if endsClause(cu.p) {
			out = append(out, first+cu.first)
		}
	}
	return out
}

// Classify classifies the condition at target.
func (a *Analysis) Classify(target note.Span) Assertion {
	si := a.n.SentenceAt(target.Start)
	if si < 0 {
		as, _ := a.c.decide("", nil, nil, 0, 0, sectionType(a.n, target.Start))
		return as
	}
	return a.c.classifyIn(a.n, si, a.n.SentenceTokens(si), a.cues[si], target, func(i int) []cue { return a.cues[i] })
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

// decide combines the cues that reach the target with the section. It
// also reports whether a suspected trigger reaches the target, nearest or
// not: such a condition is under work-up and can be ruled out.
func (c *Classifier) decide(src string, toks []note.Token, cues []cue, tFirst, tEnd int, sec note.SectionType) (Assertion, bool) {
	a := Assertion{Section: sec}
	// nearest reaching cue of each dimension
	type pick struct {
		k    int
		kind Kind
		dir  Direction
		dist int
	}
	var neg, tmp, exp *pick
	suspected := false
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
			case KindNegated, KindPossible, KindResolved, KindSuspected:
				consider(&neg, k, r, d)
				suspected = suspected || r.kind == KindSuspected
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
		case KindPossible, KindSuspected:
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
	return a, suspected
}
