package coder

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

// The Locate and Assign stages: from a mention to the entry of the
// classification it names, then down the Tabular List to the most specific
// valid code the documentation supports.

// candidate is a code proposed for one mention, before Verify.
type candidate struct {
	code      coding.Code
	assertion assert.Assertion
	// pos is the byte offset of the mention, for reporting order.
	pos int
	// words is the number of words the mention matched, to decide
	// between conflicting codes.
	words int
	// sentence is the text of the mention's sentence, for the rules that
	// read what else it says.
	sentence string
	// sent is the index of the mention's sentence, for the rules that
	// sequence codes documented together.
	sent int
	// drug is the column of the Table of Drugs and Chemicals the code
	// comes from, if it does.
	drug codesys.Column
	// after, for the manifestation code an Index path pairs with its
	// etiology ("E85.4 [I43]"), is the etiology's code, reported first.
	after string
	// lead, for a code reached through the Alphabetic Index, is the
	// path's main term; alone says the path is the main term alone, and
	// linked that it links the main term to a cause or another
	// condition ("Pneumonia > in > Streptococcus > pneumoniae").
	lead          string
	alone, linked bool
}

// baseConfidence is the confidence of a code reached through an entry of
// each origin, before adjustments: the coder's own terms and the
// Alphabetic Index name conditions as notes do; titles and inclusion terms
// are the classification's wording; a variant with a coordinated word left
// out is a guess.
var baseConfidence = map[origin]float64{
	fromTerms: 0.85, fromIndex: 0.85, fromTitle: 0.8, fromInclusion: 0.75,
	fromNeoplasm: 0.7, fromDrug: 0.7, fromVariant: 0.6,
}

// start returns the evidence of m and the first steps of its trail: the
// mention and the phrases read in it.
func (m *mention) start() (coding.Evidence, []coding.Step) {
	ev := coding.Evidence{Start: m.span.Start, End: m.span.End, Text: m.span.Text, Section: string(m.assertion.Section)}
	trail := []coding.Step{{Kind: coding.StepMention,
		Detail: fmt.Sprintf("Mention %q (%s section; %s)", m.span.Text, m.assertion.Section, m.assertion)}}
	for _, v := range m.via {
		trail = append(trail, coding.Step{Kind: coding.StepMention, Detail: "Read " + v})
	}
	return ev, trail
}

// locate turns mentions into candidate codes, and into queries where the
// documentation does not say enough for a code.
func (c *Coder) locate(n *note.Note, ms []mention) ([]candidate, []coding.Query) {
	var out []candidate
	var queries []coding.Query
	for i := range ms {
		m := &ms[i]
		e := m.entry
		ev, trail := m.start()
		sent := c.sentenceWords(n, m.sentence)
		start := e.code
		if e.origin == fromDrug {
			// The column the sentence chose; a dash there (no adverse
			// effect of heroin) leaves nothing to code.
			start = c.lex.drugCode(e, m.column)
			if start == "" {
				continue
			}
			trail = append(trail, c.cueStep(m))
		}
		if e.origin != fromIndex && e.origin != fromDrug {
			// The Index leads: where a path of it names the same code
			// with words the sentence has, the trail quotes it first.
			if ie := c.lex.indexEntryFor(e.code, sent); ie != nil {
				trail = append(trail, locateStep(ie))
			}
		}
		if e.origin == fromDrug {
			trail = append(trail, coding.Step{Kind: coding.StepIndex, Ref: start,
				Detail: fmt.Sprintf("Table of Drugs and Chemicals %s: %s, column %q → %s", e.release, e.text, c.drugHeading(m.column), start)})
		} else {
			trail = append(trail, locateStep(e))
		}
		code, steps, conf, q := c.assign(start, sent)
		if q != nil {
			q.Evidence = []coding.Evidence{ev}
			queries = append(queries, *q)
			continue
		}
		conf *= baseConfidence[e.origin]
		if len(e.words) == 1 && e.origin != fromTerms {
			conf -= 0.1
		}
		emit := func(code string, steps []coding.Step) {
			trail := append(slices.Clone(trail), steps...)
			v := c.tab.Validate(code)
			trail = append(trail, coding.Step{Kind: coding.StepTabular, Ref: v.Code,
				Detail: fmt.Sprintf("Tabular List %s: %s %s is valid", c.ref.CM.ID(), v.Code, v.Title)})
			cd := candidate{
				code: coding.Code{Code: v.Code, System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: v.Title,
					Evidence: []coding.Evidence{ev}, Assertion: assertionName(m.assertion), Trail: trail, Confidence: conf},
				assertion: m.assertion, pos: m.span.Start, words: len(m.tokens),
				sentence: n.Sentences[m.sentence].Text, sent: m.sentence, drug: m.column,
			}
			if e.origin == fromIndex {
				lead, _, sub := strings.Cut(e.text, " > ")
				cd.lead, cd.linked = strings.TrimSpace(lead), sub && c.linksConditions(e.text)
				cd.alone = !sub
			}
			out = append(out, cd)
			if e.manif != "" {
				if mc, ok := c.manifestation(cd, e.manif, sent); ok {
					out = append(out, mc)
				}
			}
		}
		if both, ok := c.bothSides(start, code, sent); ok {
			// Both sides documented and no code for both: a code for
			// each side (guideline I.B.13).
			for _, sd := range both {
				emit(sd.code, append(sd.steps, c.guideStep(coding.StepGuideline, "laterality",
					fmt.Sprintf("%s has no code for both sides: %s and %s coded, one for each side", start, both[0].code, both[1].code))))
			}
			continue
		}
		emit(code, steps)
	}
	return out, queries
}

// sideCode is the code of one side, with the steps that chose it.
type sideCode struct {
	code  string
	steps []coding.Step
}

// bothSides reports, for a sentence that documents both sides where the
// code assign chose from start is not one for both sides, the right and
// the left codes below start: guideline I.B.13 codes a bilateral
// condition once for each side when the classification has no code for
// both.
func (c *Coder) bothSides(start, code string, sent map[uint32]bool) ([2]sideCode, bool) {
	has := func(ids []uint32) bool { return slices.ContainsFunc(ids, func(id uint32) bool { return sent[id] }) }
	if !has(c.sides.both) || has(c.sides.right) || has(c.sides.left) || c.titleNamesSide(code, c.sides.both) {
		return [2]sideCode{}, false
	}
	var out [2]sideCode
	for i, side := range [][]uint32{c.sides.right, c.sides.left} {
		one := maps.Clone(sent)
		for _, id := range c.sides.both {
			delete(one, id)
		}
		for _, id := range side {
			one[id] = true
		}
		sc, steps, _, q := c.assign(start, one)
		if q != nil || sc == code || !c.titleNamesSide(sc, side) {
			return [2]sideCode{}, false
		}
		out[i] = sideCode{sc, steps}
	}
	return out, out[0].code != out[1].code
}

// titleNamesSide reports whether the Tabular title of code has one of the
// words of a side.
func (c *Coder) titleNamesSide(code string, side []uint32) bool {
	v := c.tab.Validate(code)
	for _, w := range c.lex.phraseWords(v.Title) {
		if id, ok := c.lex.stemID(w, false); ok && slices.Contains(side, id) {
			return true
		}
	}
	return false
}

// manifestation returns the candidate for the manifestation code an
// Index path gives in brackets beside the etiology cd names: both are
// coded, the etiology first (I.A.13, the Index's paired codes).
func (c *Coder) manifestation(cd candidate, manif string, sent map[uint32]bool) (candidate, bool) {
	code, steps, conf, q := c.assign(manif, sent)
	if q != nil {
		return candidate{}, false
	}
	v := c.tab.Validate(code)
	trail := append(slices.Clone(cd.code.Trail), coding.Step{Kind: coding.StepIndex, Ref: manif,
		Detail: fmt.Sprintf("The Index pairs %s with the manifestation code %s in brackets: both are coded, %s first (guideline %s)", cd.code.Code, manif, cd.code.Code, c.guideRef("manifestation"))})
	trail = append(trail, steps...)
	trail = append(trail, coding.Step{Kind: coding.StepTabular, Ref: v.Code,
		Detail: fmt.Sprintf("Tabular List %s: %s %s is valid", c.ref.CM.ID(), v.Code, v.Title)})
	m := cd
	m.code.Code, m.code.Title, m.code.Trail = v.Code, v.Title, trail
	m.code.Evidence = slices.Clone(cd.code.Evidence)
	m.code.Confidence = cd.code.Confidence * conf
	m.after = cd.code.Code
	return m, true
}

// drugHeading is the heading of a column of the Table of Drugs and
// Chemicals as the release prints it, else the column's name.
func (c *Coder) drugHeading(col codesys.Column) string {
	if i := slices.Index(codesys.DrugColumns(), col); i >= 0 && i < len(c.lex.drugHeadings) {
		return c.lex.drugHeadings[i]
	}
	return string(col)
}

// locateStep describes how the mention's entry was found.
func locateStep(e *entry) coding.Step {
	switch e.origin {
	case fromIndex, fromNeoplasm, fromDrug:
		code := e.code
		if e.manif != "" {
			code += " [" + e.manif + "]"
		}
		return coding.Step{Kind: coding.StepIndex, Ref: e.code,
			Detail: fmt.Sprintf("%s %s: %s → %s", capitalize(e.origin.String()), e.release, e.text, code)}
	case fromTerms:
		return coding.Step{Kind: coding.StepIndex, Ref: e.code,
			Detail: fmt.Sprintf("Term table (%s): %q → %s", e.release, e.text, e.code)}
	}
	return coding.Step{Kind: coding.StepTabular, Ref: e.code,
		Detail: fmt.Sprintf("Tabular List %s, %s of %s: %q", e.release, e.origin, e.code, e.text)}
}

// assertionName is the assertion a code of the mention carries in
// results.
func assertionName(a assert.Assertion) coding.Assertion { return a.Coding() }

// sentenceWords returns the word ids of sentence si, with the tokens of
// the sentence before and after it, which often carry the laterality or
// the type ("Fracture of the radius. Left side.").
func (c *Coder) sentenceWords(n *note.Note, si int) map[uint32]bool {
	set := map[uint32]bool{}
	text := n.Text.String()
	toks := n.SentenceTokens(si)
	for i, t := range toks {
		if id, ok := c.lex.stemID(stemOf(t.Norm, t.Stem), false); ok {
			set[id] = true
		}
		// The words the Analyze stage reads specially ("hepatitis C"
		// picks B18.2 under B18).
		c.lex.specialWords(text, toks[i:], func(id uint32, _ int) { set[id] = true })
	}
	return set
}

// commonWords returns the words of the titles of kids that every one of
// them has, when there are two or more.
func (c *Coder) commonWords(kids []*codesys.Node) map[uint32]bool {
	if len(kids) < 2 {
		return nil
	}
	var common map[uint32]bool
	for _, k := range kids {
		have := map[uint32]bool{}
		for _, w := range c.titleWordsOK(k.Title) {
			have[w.id] = true
		}
		if common == nil {
			common = have
			continue
		}
		for id := range common {
			if !have[id] {
				delete(common, id)
			}
		}
	}
	return common
}

// assign walks down the Tabular List from code to a valid code: at each
// level the child whose additional words the sentence has (most words
// first), else the unspecified child; then the 7th character. It returns
// the code, the steps taken, a factor on the confidence (lower for each
// default taken), or a query when no child can be chosen.
func (c *Coder) assign(code string, sent map[uint32]bool) (string, []coding.Step, float64, *coding.Query) {
	conf := 1.0
	node := c.tab.Node(code)
	if node == nil {
		// A full code with a 7th character, as the term table may give.
		if v := c.tab.Validate(code); v.Status == codesys.Valid {
			return v.Code, nil, conf, nil
		}
		return "", nil, 0, &coding.Query{About: code, Question: fmt.Sprintf("%s is not in %s", code, c.ref.CM.ID())}
	}
	var steps []coding.Step
	for len(node.Children) > 0 {
		kids := c.tab.Children(node)
		base := c.titleWords(node.Title)
		// A word every child's title has tells none of them apart: the
		// site all the children of "Medial epicondylitis" share ("right
		// elbow", "left elbow", "unspecified elbow") need not be written
		// for the side to choose the child.
		common := c.commonWords(kids)
		var best *codesys.Node
		var tied []*codesys.Node
		bestN := 0
		for _, k := range kids {
			extra, ok := 0, true
			for _, w := range c.titleWordsOK(k.Title) {
				if base[w.id] || common[w.id] {
					continue
				}
				if !w.ok || !sent[w.id] {
					ok = false
					break
				}
				extra++
			}
			switch {
			case ok && extra > bestN:
				best, bestN, tied = k, extra, []*codesys.Node{k}
			case ok && extra > 0 && extra == bestN:
				tied = append(tied, k)
			}
		}
		if len(tied) > 1 {
			// Children the sentence documents equally ("Other tear ...,
			// right knee" and "Unspecified tear ..., right knee"): what
			// it does not say more of is unspecified.
			if d := defaultChild(node, tied); d != nil {
				best = d
			}
		}
		if best != nil {
			steps = append(steps, coding.Step{Kind: coding.StepSpecify, Ref: best.Code,
				Detail: fmt.Sprintf("%s → %s %s: documented", node.Code, best.Code, best.Title)})
			node = best
			continue
		}
		def := defaultChild(node, kids)
		if def == nil && len(kids) == 1 {
			// One code below and nothing to choose: a placeholder level
			// ("M22.2X" under "M22.2").
			def = kids[0]
		}
		if def == nil {
			return "", nil, 0, &coding.Query{About: node.Code, Partial: node.Code,
				Question: fmt.Sprintf("The documentation supports %s %s but not which of its codes applies; please specify (%s)", node.Code, node.Title, childList(kids))}
		}
		steps = append(steps, coding.Step{Kind: coding.StepSpecify, Ref: def.Code,
			Detail: fmt.Sprintf("%s → %s %s: no further detail documented", node.Code, def.Code, def.Title)})
		conf -= 0.05
		node = def
	}
	code = node.Code
	if sc, from := c.tab.SevenChrFor(node); len(sc) > 0 {
		ch := byte('A') // initial encounter: the patient is receiving active treatment
		why := "active treatment (initial encounter)"
		switch {
		case sent[c.wordID("sequela")]:
			ch, why = 'S', "sequela documented"
		case sent[c.wordID("subsequent")] || sent[c.wordID("healing")]:
			ch, why = 'D', "subsequent encounter documented"
		}
		full := codesys.PadX(code) + string(ch)
		if v := c.tab.Validate(full); v.Status == codesys.Valid {
			steps = append(steps, coding.Step{Kind: coding.StepSpecify, Ref: v.Code,
				Detail: fmt.Sprintf("7th character %c (defined at %s): %s", ch, from.Code, why)})
			code = v.Code
		} else {
			return "", nil, 0, &coding.Query{About: code, Partial: code, Question: fmt.Sprintf("%s needs a 7th character: %s", code, v.Reason)}
		}
	}
	return code, steps, conf, nil
}

type titleWord struct {
	id uint32
	ok bool
}

// titleWords returns the set of word ids of a title.
func (c *Coder) titleWords(title string) map[uint32]bool {
	m := map[uint32]bool{}
	for _, w := range c.titleWordsOK(title) {
		if w.ok {
			m[w.id] = true
		}
	}
	return m
}

func (c *Coder) titleWordsOK(title string) []titleWord {
	var out []titleWord
	for _, s := range c.wd.phraseWords(title) {
		id, ok := c.lex.stemID(s, false)
		out = append(out, titleWord{id, ok})
	}
	return out
}

func (c *Coder) wordID(w string) uint32 {
	for _, s := range c.wd.phraseWords(w) {
		if id, ok := c.lex.stemID(s, false); ok {
			return id
		}
	}
	return ^uint32(0)
}

// defaultChild returns the child of parent a coder takes when the
// documentation says no more: the unspecified one, else the one "without"
// the complications its siblings name, else the one coded 9 as "NOS".
func defaultChild(parent *codesys.Node, kids []*codesys.Node) *codesys.Node {
	// Of the children saying "unspecified", the one that says it most
	// ("of unspecified behavior of unspecified site"), then the one coded
	// 9, the classification's place for the unspecified.
	var best *codesys.Node
	bestN := 0
	for _, k := range kids {
		// Only what the title leaves unspecified of the condition
		// itself counts: "with unspecified cocaine-induced disorder"
		// names an unspecified complication, not the default.
		t := strings.ToLower(k.Title)
		if i := strings.Index(t, " with "); i >= 0 {
			t = t[:i]
		}
		n := strings.Count(t, "unspecified")
		if n > 0 && !strings.HasSuffix(k.Code, "9") && !sharesWord(parent.Title, k.Title) {
			// "Anaphylactic shock, unspecified" under "Adverse effects,
			// not elsewhere classified" leaves the shock unspecified: a
			// condition of its own, not the parent's unspecified form,
			// which would be coded 9 or named by the parent's words.
			n = 0
		}
		if n > bestN || (n == bestN && n > 0 && strings.HasSuffix(k.Code, "9") && !strings.HasSuffix(best.Code, "9")) {
			best, bestN = k, n
		}
	}
	if best != nil {
		return best
	}
	// Then the one "not specified" as anything ("not specified as
	// recurrent"), or NOS.
	for _, k := range kids {
		t := strings.ToLower(k.Title)
		if strings.Contains(t, "not specified as") || strings.Contains(t, " nos") {
			return k
		}
	}
	// Then the one "without" the complications its siblings name: one
	// that names none ("without obstruction or gangrene") over one "with"
	// some of them, and of those the one coded 9.
	score := func(k *codesys.Node) int {
		t := strings.ToLower(k.Title)
		if strings.Contains(t, "uncomplicated") {
			// "Cocaine abuse, uncomplicated": without any of the
			// complications its siblings name, as the one without
			// them that names none.
			return 4
		}
		if !strings.Contains(t, "without") {
			return 0
		}
		n := 1
		if !strings.Contains(strings.ReplaceAll(t, "without", ""), " with ") {
			n += 2
		}
		if strings.HasSuffix(k.Code, "9") {
			n++
		}
		return n
	}
	best, bestN = nil, 0
	for _, k := range kids {
		if n := score(k); n > bestN {
			best, bestN = k, n
		}
	}
	return best
}

// sharesWord reports whether two titles share a word of four letters or
// more, the length below which title words are connectives.
func sharesWord(a, b string) bool {
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	}
	bw := words(b)
	for _, w := range words(a) {
		if len(w) >= 4 && slices.Contains(bw, w) {
			return true
		}
	}
	return false
}

func childList(kids []*codesys.Node) string {
	var b strings.Builder
	for i, k := range kids {
		if i == 6 {
			fmt.Fprintf(&b, ", ... (%d in all)", len(kids))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k.Code + " " + k.Title)
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
