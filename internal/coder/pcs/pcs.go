// Package pcs codes the procedures of a clinical note in ICD-10-PCS, the
// way a coder builds a PCS code: find the procedure mention, look it up in
// the ICD-10-PCS Index (or the term table of procedure words the package
// carries as data), follow the Index to a table, and fill the remaining
// characters axis by axis from what the note documents: body part,
// approach, device, qualifier. Every character is checked against the
// tables as it is chosen. When the documentation supports all seven
// characters the code is reported with the evidence for each; when it does
// not, the partial code is reported as a query naming the missing axis and
// the values the table allows there, as a coder would ask the clinician.
//
// Only procedures the note says were performed on the patient are coded:
// negated, planned, hypothetical and other people's procedures are not, and
// procedures done before the encounter are reported as dropped unless
// Options.Historical asks for them.
package pcs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// Options adjust what the coder reports.
type Options struct {
	// Historical codes procedures the note places before the encounter
	// (past surgical history, "status post"), which a coder of the
	// encounter would not report. Case reports that tell a whole history,
	// and registries, code them.
	Historical bool
	// Rules are the rule packs the coder reads (en/stopwords,
	// icd10pcs/order); nil stands for the embedded packs alone
	// (rules.Default).
	Rules *rules.Set
}

// Coder codes procedures in ICD-10-PCS. It is safe for concurrent use; New
// builds everything it needs once.
type Coder struct {
	tables *codesys.PCSTables
	index  *codesys.Index // may be nil
	opts   Options
	trie   *trie
	// release is the ID of the release codes are checked against.
	release string
	// suffixes are the word endings of procedure names ("-ectomy").
	suffixes []string
	// stop are the words of Index subterm titles and table labels that
	// the note need not repeat for the title to match: the function words
	// of en/stopwords.
	stop map[string]bool
	// order ranks the root operations an Index entry offers as
	// alternatives when the note does not choose (icd10pcs/order).
	order []string
	// see caches the Index terms see references resolve to (string →
	// []*codesys.Term), filled as references are first followed.
	see sync.Map
	// stems caches the content-word stems of Index titles and table
	// labels (string → []string).
	stems sync.Map
	// defaults maps a root operation or type label and an axis title
	// (lower case, joined by NUL) to the value label coded when the note
	// documents none.
	defaults map[string]string
}

// procedureName reports whether an Index main term (lower case) names a
// procedure by its form: a word with a procedure ending such as "-ectomy"
// or "-scopy". Other main terms (anatomical terms, devices, words such as
// "Isolation" or "Study") are too often something else in a note.
func (c *Coder) procedureName(title string) bool {
	for _, w := range strings.FieldsFunc(title, func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, s := range c.suffixes {
			if strings.HasSuffix(w, s) {
				return true
			}
		}
	}
	return false
}

// Result is what the coder found in one note.
type Result struct {
	// Codes are the complete codes, in the order of their first mention.
	Codes []coding.Code
	// Dropped are procedures found but not coded, with the reason
	// (negated, planned, historical, or integral to another procedure).
	Dropped []coding.Code
	// Queries are procedures whose documentation does not support all
	// seven characters: the partial code and what is missing.
	Queries []coding.Query
}

// New returns a coder for the ICD-10-PCS release rel, which must have the
// Tables; the Index is used when the release has it (without it only the
// built-in term table finds procedures).
func New(rel *codesys.Release, opts Options) (*Coder, error) {
	if rel == nil || rel.PCS == nil {
		return nil, fmt.Errorf("pcs coder: release has no ICD-10-PCS tables")
	}
	c := &Coder{tables: rel.PCS, index: rel.PCSIndex, opts: opts, trie: &trie{}, release: rel.ID()}
	set := opts.Rules
	if set == nil {
		var err error
		if set, err = rules.Default(); err != nil {
			return nil, fmt.Errorf("pcs coder: %w", err)
		}
	}
	sw, err := set.StopWords("en")
	if err != nil {
		return nil, fmt.Errorf("pcs coder: %w", err)
	}
	c.stop = sw.Of(rules.StopFunction)
	order := set.Pack(packOrder)
	if order == nil {
		return nil, fmt.Errorf("pcs coder: no rule pack %s", packOrder)
	}
	c.order = order.Lines()
	lex, err := parseTerms(builtinTerms)
	if err != nil {
		return nil, fmt.Errorf("pcs coder: %w", err)
	}
	blocked := make(map[string]bool)
	allowed := make(map[string]bool)
	c.defaults = make(map[string]string)
	for _, e := range lex {
		switch e.kind {
		case kindBlock, kindAllow:
			for _, p := range e.phrases {
				if e.kind == kindBlock {
					blocked[strings.ToLower(p)] = true
				} else {
					allowed[strings.ToLower(p)] = true
				}
			}
			continue
		case kindSuffix:
			c.suffixes = append(c.suffixes, e.phrases...)
			continue
		case kindDefault:
			for _, p := range e.phrases {
				c.defaults[strings.ToLower(p+"\x00"+e.target)] = e.flags[0]
			}
			continue
		}
		if e.kind == kindProc && isCode(e.target) {
			chk := c.tables.Validate(e.target)
			if !chk.Valid() && chk.Problem != codesys.PCSIncomplete {
				return nil, fmt.Errorf("pcs coder: term table line %d: %s: %s", e.line, e.target, chk.Reason)
			}
		}
		var path []*codesys.Term
		if e.kind == kindProc && !isCode(e.target) && c.index != nil {
			p, rest, err := c.index.Resolve(e.target)
			if err != nil {
				return nil, fmt.Errorf("pcs coder: term table line %d: %w", e.line, err)
			}
			if rest != "" {
				return nil, fmt.Errorf("pcs coder: term table line %d: Index has no %q under %q", e.line, rest, codesys.PathString(p))
			}
			path = p
		}
		for _, p := range e.phrases {
			en := entry{kind: e.kind, target: e.target, path: path, diagnose: slices.Contains(e.flags, "diagnostic"), source: "term table"}
			c.trie.add(phraseKey(p), en)
		}
	}
	if c.index != nil {
		c.addIndex(blocked, allowed)
	}
	return c, nil
}

// addIndex adds the Index main terms: procedure terms as procedure
// mentions, "use" terms (anatomical terms, device names) as the body part
// or device value they are coded to.
func (c *Coder) addIndex(blocked, allowed map[string]bool) {
	for _, t := range c.index.Terms {
		title := strings.TrimSpace(t.Title)
		if len(title) < 3 {
			continue
		}
		phrases := []string{stripParens(title)}
		if alt := parenText(title); alt != "" && len(strings.Fields(alt)) <= 3 && (abbreviation(alt) || c.procedureName(strings.ToLower(alt))) {
			phrases = append(phrases, alt)
		}
		uses := useLabels(t)
		if len(uses) > 0 {
			for _, u := range uses {
				for _, p := range phrases {
					c.trie.add(phraseKey(p), entry{kind: kindUse, target: u, source: "index"})
				}
			}
			continue
		}
		low := strings.ToLower(title)
		if blocked[low] || blocked[strings.ToLower(stripParens(title))] {
			continue
		}
		if !allowed[low] && !c.procedureName(low) {
			continue
		}
		for _, p := range phrases {
			key := phraseKey(p)
			if len(key) == 0 {
				continue
			}
			c.trie.add(key, entry{kind: kindProc, target: title, path: []*codesys.Term{t}, term: indexTerm{title: title, ok: true}, source: "index"})
		}
	}
}

// useLabels returns the values a "use" main term sends to, without
// laterality (which the note itself documents): "Abductor hallucis
// muscle" uses "Foot Muscle, Right" and "Foot Muscle, Left", i.e. "Foot
// Muscle".
func useLabels(t *codesys.Term) []string {
	var out []string
	add := func(u string) {
		if u = stripLaterality(u); u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if t.Use != "" {
		add(t.Use)
	}
	for _, s := range t.Terms {
		if s.Title == "" && s.Use != "" {
			add(s.Use)
		}
	}
	return out
}

func stripLaterality(s string) string {
	var keep []string
	for p := range strings.SplitSeq(s, ",") {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "right", "left", "bilateral":
			continue
		}
		keep = append(keep, strings.TrimSpace(p))
	}
	return strings.Join(keep, ", ")
}

// resolve follows a see reference of the Index, once per reference.
func (c *Coder) resolve(ref string) ([]*codesys.Term, bool) {
	if p, ok := c.see.Load(ref); ok {
		return p.([]*codesys.Term), p != nil
	}
	p, _, err := c.index.Resolve(ref)
	if err != nil {
		p = nil
	}
	c.see.Store(ref, p)
	return p, p != nil
}

// abbreviation reports whether s holds a word of two or more capitals,
// as the Index's alternative names in parentheses do ("CT Scan", "EEG").
func abbreviation(s string) bool {
	for _, w := range strings.Fields(s) {
		n := 0
		for _, r := range w {
			if unicode.IsUpper(r) {
				n++
			}
		}
		if n >= 2 {
			return true
		}
	}
	return false
}

func stripParens(s string) string {
	if i := strings.IndexByte(s, '('); i >= 0 {
		if j := strings.IndexByte(s[i:], ')'); j >= 0 {
			return strings.TrimSpace(strings.TrimSpace(s[:i]) + " " + strings.TrimSpace(s[i+j+1:]))
		}
	}
	return s
}

func parenText(s string) string {
	i := strings.IndexByte(s, '(')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], ')')
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(s[i+1 : i+j])
}

// isCode reports whether s is written as an ICD-10-PCS code or partial
// code (upper-case PCS characters), as term table targets that are codes
// are.
func isCode(s string) bool {
	if s == "" || len(s) > 7 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'O' {
			return false
		}
	}
	return true
}

// Code codes the procedures of n. an is the assertion analysis of n
// (assert.Classifier.Analyze); nil classifies with the built-in triggers.
func (c *Coder) Code(ctx context.Context, n *note.Note, an *assert.Analysis) (*Result, error) {
	if an == nil {
		an = assert.New().Analyze(n)
	}
	src := n.Text.String()
	agg := newAggregate(c)
	var matches []match
	for si := range n.Sentences {
		if si%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s := n.Sentences[si]
		toks := n.SentenceTokens(si)
		matches = c.trie.scan(src, toks, s.FirstToken, matches[:0])
		if len(matches) == 0 {
			continue
		}
		sc := c.newSentCtx(toks, matches)
		for mi := range matches {
			m := &matches[mi]
			e, ok := procEntry(m.entries)
			if !ok {
				continue
			}
			section := sectionName(n, m.Start)
			as := an.Classify(m.Span)
			sc.context(&as, m.Span)
			b := c.build(e, m, sc)
			if b == nil {
				continue
			}
			b.section = section
			agg.add(b, as, si)
		}
	}
	return agg.result(), nil
}

func procEntry(es []entry) (entry, bool) {
	for _, e := range es {
		if e.kind == kindProc {
			return e, true
		}
	}
	return entry{}, false
}

func sectionName(n *note.Note, off int) string {
	if i := n.SectionAt(off); i >= 0 {
		return string(n.Sections[i].Type)
	}
	return ""
}

// sentCtx is what one sentence documents: word stems (and the site words
// anatomical terms imply) with where they are, and the values of the
// approach, device, contrast and qualifier axes its phrases name.
type sentCtx struct {
	c     *Coder
	words map[string][]note.Span
	vals  map[kind][]docValue
	// prefer holds the root operations the sentence's words choose.
	prefer []docValue
	// procs are the procedure mentions of the sentence and seps the
	// offsets of its list separators (commas, semicolons): in a list of
	// procedures, a site word belongs to its own item ("chest X-ray,
	// abdominal ultrasound, cranial CT").
	procs []note.Span
	seps  []int
}

// docValue is a value of an axis a phrase of the note documents.
type docValue struct {
	label string
	span  note.Span
}

func (c *Coder) newSentCtx(toks []note.Token, ms []match) *sentCtx {
	sc := &sentCtx{c: c, words: make(map[string][]note.Span, len(toks)), vals: make(map[kind][]docValue)}
	for i := range toks {
		t := &toks[i]
		if t.Kind == note.Punct && (t.Text == "," || t.Text == ";") {
			sc.seps = append(sc.seps, t.Start)
		}
		if t.Kind != note.Word {
			continue
		}
		sc.words[t.Stem] = append(sc.words[t.Stem], t.Span)
	}
	for _, m := range ms {
		if _, ok := procEntry(m.entries); ok {
			sc.procs = append(sc.procs, m.Span)
		}
		for _, e := range m.entries {
			switch e.kind {
			case kindAnat, kindUse:
				for _, w := range textnorm.Stems(e.target) {
					sc.words[w] = append(sc.words[w], m.Span)
				}
				if e.kind == kindUse {
					sc.vals[kindDevice] = append(sc.vals[kindDevice], docValue{e.target, m.Span})
				}
			case kindApproach, kindDevice, kindContrast, kindQualifier:
				sc.vals[e.kind] = append(sc.vals[e.kind], docValue{e.target, m.Span})
			case kindPrefer:
				sc.prefer = append(sc.prefer, docValue{e.target, m.Span})
			case kindPlanned, kindRefused:
				sc.vals[e.kind] = append(sc.vals[e.kind], docValue{e.target, m.Span})
			}
		}
	}
	return sc
}

// contextWindow is how far, in bytes, a planned or refused cue reaches
// from a procedure mention in the same sentence.
const contextWindow = 80

// context applies the procedure cues of the term table that the general
// assertion triggers lack ("candidate for", "refused"): a cue within
// contextWindow bytes of the mention makes it hypothetical or negated.
func (sc *sentCtx) context(as *assert.Assertion, m note.Span) {
	if as.Negation != assert.Affirmed || as.Temporality == assert.Hypothetical {
		return
	}
	for _, k := range []kind{kindRefused, kindPlanned} {
		for _, v := range sc.vals[k] {
			if distance(v.span, m) > contextWindow || v.span.Overlaps(m) {
				continue
			}
			cue := assert.Cue{Span: v.span}
			if k == kindRefused {
				as.Negation, cue.Kind = assert.Negated, assert.KindNegated
			} else {
				as.Temporality, cue.Kind = assert.Hypothetical, assert.KindHypothetical
			}
			as.Cues = append(as.Cues, cue)
			return
		}
	}
}

// titleStems returns the stems of the content words of title.
func (c *Coder) titleStems(title string) []string {
	if v, ok := c.stems.Load(title); ok {
		return v.([]string)
	}
	var out []string
	for _, w := range textnorm.Stems(title) {
		if !c.stop[w] {
			out = append(out, w)
		}
	}
	c.stems.Store(title, out)
	return out
}

// packOrder is the rule pack ranking the root operations an Index entry
// offers as alternatives.
const packOrder = "icd10pcs/order"

// cover reports whether every content word of title is documented in the
// sentence for the procedure mentioned at near, returning the spans of the
// nearest mention of each word to near, the number of words and their
// total distance from near. A word of another item of the sentence's list
// of procedures documents that item, not this one.
func (sc *sentCtx) cover(title string, near note.Span) (spans []note.Span, words, dist int, ok bool) {
	for _, w := range sc.c.titleStems(title) {
		bd := -1
		var best note.Span
		for _, s := range sc.words[w] {
			d := distance(s, near)
			if sc.otherItem(s, near) {
				continue
			}
			if bd < 0 || d < bd {
				best, bd = s, d
			}
		}
		if bd < 0 {
			return nil, 0, 0, false
		}
		words++
		dist += bd
		if !slices.Contains(spans, best) {
			spans = append(spans, best)
		}
	}
	return spans, words, dist, words > 0
}

// otherItem reports whether the word at s belongs to another item of a
// list of procedures than the mention at near: a list separator and
// another procedure mention lie between them.
func (sc *sentCtx) otherItem(s, near note.Span) bool {
	lo, hi := min(s.End, near.End), max(s.Start, near.Start)
	sep := false
	for _, o := range sc.seps {
		if o >= lo && o < hi {
			sep = true
			break
		}
	}
	if !sep {
		return false
	}
	for _, p := range sc.procs {
		if p != near && p.Start >= lo && p.End <= hi {
			return true
		}
	}
	return false
}

func distance(a, b note.Span) int {
	switch {
	case a.End <= b.Start:
		return b.Start - a.End
	case b.End <= a.Start:
		return a.Start - b.End
	}
	return 0
}
