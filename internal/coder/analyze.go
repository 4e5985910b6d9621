package coder

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

// The Analyze stage: find the codable mentions of a note. Each sentence's
// words (and the words its abbreviations and lay phrases stand for) are
// matched against the lexicon: an entry matches when all its words occur
// near each other in the sentence, in any order, not necessarily
// contiguous ("fracture of the distal left radius").

// unit is one word of a sentence as the matcher sees it: a token of the
// note, or a word an abbreviation or phrase of the note stands for, placed
// on the tokens it came from.
type unit struct {
	word uint32
	// first and last are the note token indexes the unit covers.
	first, last int32
}

// mention is a lexicon entry matched in a note.
type mention struct {
	entry    *entry
	sentence int
	// first and last are the note token indexes of the matched words;
	// tokens lists every matched token (for subsumption).
	first, last int32
	tokens      []int32
	span        note.Span
	assertion   assert.Assertion
	// via names the abbreviations and phrases of the note that were read
	// as other words ("CHF" as "congestive heart failure").
	via []string
	// column, for a substance of the Table of Drugs and Chemicals, is
	// the table's column the sentence points to, cue the words that
	// say so and intent the documented intent of a poisoning.
	column codesys.Column
	cue    string
	intent cueKind
}

// phrase is a sequence of note words standing for other words: a lay
// phrase of synonyms.tsv or an abbreviation.
type phrase struct {
	words  []uint32 // the phrase's words, in order
	stands []uint32 // the words it stands for
	text   string
	// exact, when set, are the folded forms the note's tokens must have,
	// not only their stems: an abbreviation ("PIN") is not its plural
	// ("pins").
	exact []string
}

// maxGap is how many words a match may spread beyond its own length: an
// entry of n words matches when its words fall within n+maxGap consecutive
// tokens of a sentence.
const maxGap = 4

// neoplasmGap is the spread allowed to a neoplasm (a row of the Table of
// Neoplasms or a title of C00-D49): its site words and behaviour are read
// together ("liver metastases",
// "carcinoma of the bladder"), since a sentence of a case report names
// many sites and a tumour of one.
const neoplasmGap = 2

// indexGap is the spread allowed to a path of the Alphabetic Index: a
// subterm qualifies its main term in the same phrase ("sepsis due to E.
// coli", "pain in the right kidney"), not anywhere in a sentence.
const indexGap = 3

func (c *Coder) gapOf(e *entry) int {
	if c.rules.groups.neoplasm.Holds(e.code) {
		return neoplasmGap
	}
	if e.origin == fromIndex || e.origin == fromDrug {
		return indexGap
	}
	return maxGap
}

// scratch holds the buffers matchRange reuses from one sentence to the
// next of a note.
type scratch struct {
	units   []unit
	present map[uint32][]int32 // word -> unit indexes
	ids     []int64            // per token of the range: its stem's id, or -1
	blocked []bool             // per token of the range: in a phrase naming no condition
}

// analyze finds the mentions of n.
func (c *Coder) analyze(n *note.Note, an *assert.Analysis) []mention {
	var out []mention
	sc := &scratch{present: map[uint32][]int32{}}
	for si := range n.Sentences {
		s := n.Sentences[si]
		if s.EndToken-s.FirstToken > 400 {
			// A "sentence" of hundreds of words is a table or a run of
			// text without punctuation: read it in windows.
			for lo := s.FirstToken; lo < s.EndToken; lo += 200 {
				hi := min(lo+300, s.EndToken)
				out = c.matchRange(n, an, si, lo, hi, sc, out)
			}
			continue
		}
		out = c.matchRange(n, an, si, s.FirstToken, s.EndToken, sc, out)
	}
	return out
}

// matchRange matches tokens [lo, hi) of sentence si.
func (c *Coder) matchRange(n *note.Note, an *assert.Analysis, si, lo, hi int, sc *scratch, out []mention) []mention {
	lx := c.lex
	present := sc.present
	clear(present)
	units := sc.units[:0]
	defer func() { sc.units = units[:0] }()
	text := n.Text.String()
	// The lexicon id of each word token's stem, looked up once.
	sc.ids = slices.Grow(sc.ids[:0], hi-lo)[:hi-lo]
	ids := sc.ids
	for k := lo; k < hi; k++ {
		ids[k-lo] = -1
		if t := &n.Tokens[k]; t.Kind == note.Word || t.Kind == note.Number {
			if id, ok := lx.stemID(stemOf(t.Norm, t.Stem), false); ok {
				ids[k-lo] = int64(id)
			}
		}
	}
	// Phrases that name no condition leave their tokens out.
	sc.blocked = slices.Grow(sc.blocked[:0], hi-lo)[:hi-lo]
	blocked := sc.blocked
	clear(blocked)
	for k := lo; k < hi; k++ {
		if ids[k-lo] < 0 || n.Tokens[k].Kind != note.Word {
			continue
		}
		for _, p := range c.blocks[uint32(ids[k-lo])] {
			if end, ok := matchPhrase(n, k, hi, p, lx); ok {
				for j := k; j < end; j++ {
					blocked[j-lo] = true
				}
				break
			}
		}
	}
	for k := lo; k < hi; k++ {
		t := &n.Tokens[k]
		if t.Kind == note.Punct || t.Kind == note.Placeholder || listMarker(n, k, lo, hi) || blocked[k-lo] || dosageNumber(n, k, lo, hi) {
			continue
		}
		if t.Norm == "non" && k+2 < hi && n.Tokens[k+1].Norm == "-" {
			// "non-perforated": the word after "non-" is denied.
			k += 2
			continue
		}
		if id := ids[k-lo]; id >= 0 {
			units = append(units, unit{word: uint32(id), first: int32(k), last: int32(k)})
		}
		lx.specialWords(text, n.Tokens[k:hi], func(id uint32, width int) {
			units = append(units, unit{word: id, first: int32(k), last: int32(k + width - 1)})
		})
	}
	// Phrases and abbreviations: each stands for more words.
	var via map[int32]string
	var read []readAs
	covered := lo // phrases do not start inside one already read
	for k := lo; k < hi; k++ {
		t := &n.Tokens[k]
		if t.Kind != note.Word || blocked[k-lo] || k < covered || ids[k-lo] < 0 {
			continue
		}
		for _, p := range c.phrases[uint32(ids[k-lo])] {
			end, ok := matchPhrase(n, k, hi, p, lx)
			if !ok {
				continue
			}
			for _, w := range p.stands {
				units = append(units, unit{word: w, first: int32(k), last: int32(end - 1)})
			}
			if p.exact != nil && len(p.stands) > 1 {
				read = append(read, readAs{int32(k), int32(end - 1), p.stands})
			}
			covered = max(covered, end)
			if via == nil {
				via = map[int32]string{}
			}
			via[int32(k)] = text[t.Start:n.Tokens[end-1].End] + " = " + p.text
		}
	}
	if len(units) == 0 {
		return out
	}
	for i, u := range units {
		present[u.word] = append(present[u.word], int32(i))
	}
	start := len(out)
	seen := map[int32]bool{}
	for w := range present {
		for _, ei := range lx.byKey[w] {
			if seen[ei] {
				continue
			}
			seen[ei] = true
			e := &lx.entries[ei]
			if m, ok := c.matchEntry(e, units, present); ok {
				if e.form != "" && !sameForm(n.Tokens[m.first].Norm, e.form) {
					continue
				}
				if m.first == m.last && c.ambiguous[text[n.Tokens[m.first].Start:n.Tokens[m.first].End]] {
					// An abbreviation of several senses ("PCP") does not
					// name a code by itself.
					continue
				}
				m.sentence = si
				out = append(out, m)
			}
		}
	}
	found := out[start:]
	// The entries were visited in map order: sort the matches so that
	// every rule below sees them in one order and the result is
	// deterministic.
	slices.SortFunc(found, func(a, b mention) int {
		return cmp.Or(cmp.Compare(a.first, b.first), cmp.Compare(a.last, b.last),
			strings.Compare(a.entry.code, b.entry.code), strings.Compare(a.entry.text, b.entry.text),
			cmp.Compare(a.entry.origin, b.entry.origin), slices.Compare(a.tokens, b.tokens),
			slices.Compare(a.entry.words, b.entry.words))
	})
	// The substances of the Table of Drugs and Chemicals are settled
	// apart, against the conditions the rules leave.
	var drugs []mention
	for _, m := range found {
		if m.entry.origin == fromDrug {
			drugs = append(drugs, m)
		}
	}
	found = slices.DeleteFunc(found, func(m mention) bool { return m.entry.origin == fromDrug })
	found = dropDenied(n, found, c.wd.deny)
	found = c.dropSecondaryOfPrimary(found)
	found = c.dropStraddling(n, found)
	found = c.dropAlternatives(n, found)
	found = dropAcrossClauses(an.ClauseBreaks(si), found)
	found = c.dropUnknownBetween(n, ids, lo, found)
	found = dropPartReadings(read, found)
	before := slices.Clone(found)
	found = keepMaximal(found)
	found = oneCodePerCategory(found)
	found = append(found, c.askedFor(before, found)...)
	drugs = c.placeDrugs(n, keepMaximal(drugs), found, lo, hi)
	found = append(found, drugs...)
	out = out[:start+len(found)]
	for i := range found {
		m := &found[i]
		m.span = n.Text.Span(n.Tokens[m.first].Start, n.Tokens[m.last].End)
		m.assertion = an.Classify(m.span)
		for _, k := range m.tokens {
			if v, ok := via[k]; ok {
				m.via = append(m.via, v)
			}
		}
		m.via = slices.Compact(m.via)
	}
	return out
}

// askedFor returns the mentions of before that a longer mention of kept
// took in and whose code the longer one's Tabular notes ask to be coded
// too ("code first" or "use additional code"): "anemia in chronic kidney
// disease" is D63.1, whose note asks to code first the chronic kidney
// disease (N18.-) the phrase names. Each is returned with a line for its
// trail.
func (c *Coder) askedFor(before, kept []mention) []mention {
	if len(before) == len(kept) {
		return nil
	}
	var out []mention
	asks := map[string][]ref{} // per kept code, the codes its notes ask for
	for _, m := range before {
		if slices.ContainsFunc(kept, func(k mention) bool { return k.entry == m.entry && slices.Equal(k.tokens, m.tokens) }) ||
			slices.ContainsFunc(out, func(o mention) bool { return sameCategory(o.entry.code, m.entry.code) }) {
			continue
		}
		for _, k := range kept {
			if sameCategory(k.entry.code, m.entry.code) || !subsumes(k, m) {
				continue
			}
			refs, ok := asks[k.entry.code]
			if !ok {
				texts, _ := c.notesOf(k.entry.code, codeFirst)
				adds, _ := c.notesOf(k.entry.code, useAdd)
				refs = c.parseRefs(append(texts, adds...))
				asks[k.entry.code] = refs
			}
			if slices.ContainsFunc(refs, func(r ref) bool { return r.covers(m.entry.code) }) {
				m.via = append(m.via, fmt.Sprintf("inside the words of %s, whose Tabular notes ask for this condition's code too (code first / use additional code)", k.entry.code))
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// listMarker reports whether token k is the number of a list item ("1.",
// "2)") at the start of a line or sentence, which is no word of the
// condition ("1. Type 2 diabetes" is not type 1 diabetes).
func listMarker(n *note.Note, k, lo, hi int) bool {
	t := &n.Tokens[k]
	if t.Kind != note.Number || (k != lo && t.Newlines == 0) || k+1 >= hi {
		return false
	}
	next := n.Tokens[k+1].Norm
	return next == "." || next == ")"
}

// dosageNumber reports whether token k is a number of a dosage or
// schedule written with hyphens ("1-0-1", "1-1-1"), which is no word of a
// condition ("type 1").
func dosageNumber(n *note.Note, k, lo, hi int) bool {
	if n.Tokens[k].Kind != note.Number {
		return false
	}
	hyphenNumber := func(dash, num int) bool {
		return dash >= lo && dash < hi && num >= lo && num < hi &&
			n.Tokens[dash].Norm == "-" && n.Tokens[num].Kind == note.Number
	}
	return hyphenNumber(k+1, k+2) || hyphenNumber(k-1, k-2)
}

// matchPhrase reports whether phrase p starts at token k, and where it ends.
func matchPhrase(n *note.Note, k, hi int, p *phrase, lx *lexicon) (int, bool) {
	j := k
	for i, w := range p.words {
		for j < hi && n.Tokens[j].Kind == note.Punct && strings.Contains("-/.", n.Tokens[j].Norm) {
			j++ // "end-stage" reads as "end stage", "s/p" as "s p"
		}
		if j >= hi {
			return 0, false
		}
		id, ok := lx.stemID(stemOf(n.Tokens[j].Norm, n.Tokens[j].Stem), false)
		if !ok || id != w || (p.exact != nil && n.Tokens[j].Norm != p.exact[i]) {
			return 0, false
		}
		j++
	}
	return j, true
}

// matchEntry checks that every word of e is in the sentence, choosing for
// each the occurrence nearest the entry's key word, and that the words lie
// close together.
func (c *Coder) matchEntry(e *entry, units []unit, present map[uint32][]int32) (mention, bool) {
	for _, w := range e.words {
		if _, ok := present[w]; !ok {
			return mention{}, false
		}
	}
	best := mention{first: -1}
	for _, ku := range present[e.key] {
		anchor := units[ku]
		first, last := anchor.first, anchor.last
		toks := make([]int32, 0, len(e.words)+2)
		for _, w := range e.words {
			var pick unit
			bestDist := int32(1 << 30)
			for _, ui := range present[w] {
				u := units[ui]
				d := dist(u, anchor)
				if d < bestDist {
					bestDist, pick = d, u
				}
			}
			first, last = min(first, pick.first), max(last, pick.last)
			for k := pick.first; k <= pick.last; k++ {
				toks = append(toks, k)
			}
		}
		if int(last-first+1) > len(e.words)+c.gapOf(e) {
			continue
		}
		if best.first < 0 || last-first < best.last-best.first {
			slices.Sort(toks)
			best = mention{entry: e, first: first, last: last, tokens: slices.Compact(toks)}
		}
	}
	return best, best.first >= 0
}

func dist(a, b unit) int32 {
	switch {
	case a.last < b.first:
		return b.first - a.last
	case b.last < a.first:
		return a.first - b.last
	}
	return 0
}

// keepMaximal keeps, among the mentions of one sentence, the most
// specific: a mention is dropped when another covers its tokens and names
// all its words and more ("chronic kidney disease, stage 3" over "kidney
// disease"; "type 2 diabetes mellitus with diabetic chronic kidney disease"
// over "diabetes mellitus with diabetic chronic kidney disease"), and of
// mentions naming the same words on the same tokens the best entry is
// kept.
func keepMaximal(ms []mention) []mention {
	slices.SortFunc(ms, func(a, b mention) int {
		if c := cmp.Compare(len(b.entry.words), len(a.entry.words)); c != 0 {
			return c
		}
		if c := cmp.Compare(len(b.tokens), len(a.tokens)); c != 0 {
			return c
		}
		if c := compareEntries(a.entry, b.entry); c != 0 {
			return c
		}
		return slices.Compare(a.tokens, b.tokens)
	})
	out := ms[:0]
	for _, m := range ms {
		keep := true
		for _, k := range out {
			if subsumes(k, m) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b mention) int { return cmp.Compare(a.first, b.first) })
	return out
}

// dropDenied drops the mentions that take a word after a denying word
// (deny: en/deny, "endometrial stroma, without signs of malignancy")
// inside their own span: the assertion classifier does not see a trigger
// that is part of the mention, so the words after it would be coded as
// present.
func dropDenied(n *note.Note, ms []mention, deny map[string]bool) []mention {
	out := ms[:0]
	for _, m := range ms {
		denied := false
		for k := m.first; k < m.last && !denied; k++ {
			if !deny[n.Tokens[k].Norm] {
				continue
			}
			for _, t := range m.tokens {
				if t > k {
					denied = true
					break
				}
			}
		}
		if !denied {
			out = append(out, m)
		}
	}
	return out
}

// dropSecondaryOfPrimary settles a site word read both as the site of a
// secondary neoplasm and of a primary malignancy: the site belongs to the
// behaviour word nearer to it. "Metastases of renal cell carcinoma" are
// metastases of a kidney primary, not to the kidney; "colon
// adenocarcinoma with liver metastases" has a colon primary and liver
// metastases, not a liver primary.
func (c *Coder) dropSecondaryOfPrimary(ms []mention) []mention {
	dropped := make([]bool, len(ms))
	for i, m := range ms {
		if !c.rules.groups.secondary.Holds(m.entry.code) {
			continue
		}
		for j, k := range ms {
			if i == j || dropped[j] || !c.rules.groups.primary.Holds(k.entry.code) || !intersects(m.tokens, k.tokens) {
				continue
			}
			if behaviourDistance(m, k) <= behaviourDistance(k, m) {
				dropped[j] = true
			} else {
				dropped[i] = true
				break
			}
		}
	}
	return keep(ms, dropped)
}

// behaviourDistance is how far m's own tokens (those it does not share
// with other) lie from the tokens they share; 0 when m has none of its
// own (its behaviour word is among the shared ones).
func behaviourDistance(m, other mention) int32 {
	if subset(m.tokens, other.tokens) {
		return 0
	}
	best := int32(1 << 30)
	for _, t := range m.tokens {
		if slices.Contains(other.tokens, t) {
			continue
		}
		for _, s := range m.tokens {
			if slices.Contains(other.tokens, s) {
				best = min(best, max(t-s, s-t))
			}
		}
	}
	return best
}

// dropAlternatives drops the mentions that join words across an "or":
// "anemia or GI bleed" names two conditions a work-up weighs, not anemia
// due to hemorrhage. A mention whose own entry says "or" ("bronchus or
// lung") stays.
func (c *Coder) dropAlternatives(n *note.Note, ms []mention) []mention {
	alt := c.wd.connect.alternative
	drop := make([]bool, len(ms))
	for i, m := range ms {
		if slices.ContainsFunc(strings.Fields(strings.ToLower(m.entry.text)), func(w string) bool { return alt[w] }) {
			continue
		}
		for k := m.first + 1; k < m.last; k++ {
			if t := &n.Tokens[k]; t.Kind == note.Word && alt[t.Norm] {
				drop[i] = true
				break
			}
		}
	}
	return keep(ms, drop)
}

// readAs is an abbreviation of a note read as the words it stands for:
// tokens first to last, as stands.
type readAs struct {
	first, last int32
	stands      []uint32
}

// dropPartReadings drops the mentions that take one word alone of the
// three or more an abbreviation stands for: "BMI" read as "body mass
// index" names no mass. Two of "hepatitis B virus" (HBV) still name
// the hepatitis, and one of "diabetes mellitus" (DM) the diabetes.
func dropPartReadings(read []readAs, ms []mention) []mention {
	if len(read) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m mention) bool {
		part, other := false, false
		for _, r := range read {
			if !slices.Contains(m.tokens, r.first) {
				continue
			}
			n := 0
			for _, w := range r.stands {
				if slices.Contains(m.entry.words, w) {
					n++
				}
			}
			switch {
			case n == 1 && len(r.stands) > 2:
				part = true
			case n > 0:
				other = true
			}
		}
		return part && !other
	})
}

// dropUnknownBetween drops the mentions whose words lie on both sides of a
// word the lexicon does not know (ids, per token from lo: -1 for such a
// word) that is no function word. The words a condition's name takes
// between its own are those of the classification's vocabulary (sites,
// kinds, sides) and function words; a word no Index entry, title or term
// uses ("a lesion compatible with glomerulonephritis type IgA with focal
// ...", "the tumor pressed on the renal vein") is most often a verb or a
// word of another phrase.
func (c *Coder) dropUnknownBetween(n *note.Note, ids []int64, lo int, ms []mention) []mention {
	return slices.DeleteFunc(ms, func(m mention) bool {
		for k := m.first + 1; k < m.last; k++ {
			if slices.Contains(m.tokens, k) {
				continue
			}
			t := &n.Tokens[k]
			if t.Kind != note.Word || ids[int(k)-lo] >= 0 {
				continue
			}
			if !c.wd.stop[t.Norm] || c.wd.connect.coordinate[t.Norm] && !c.linksConditions(m.entry.text) {
				return true
			}
		}
		return false
	})
}

// linksConditions reports whether an entry's Index path links two
// conditions by a subterm the classification presumes of conditions
// documented together (en/connectives, guideline I.A.15): "nausea and
// vomiting" is Vomiting > with nausea.
func (c *Coder) linksConditions(path string) bool {
	for _, t := range strings.Split(path, " > ")[1:] {
		t = strings.ToLower(strings.TrimSpace(dropBracketed(t)))
		if c.wd.connect.link[t] {
			return true
		}
		if i := strings.IndexByte(t, ' '); i > 0 && c.wd.connect.link[t[:i]] {
			return true
		}
	}
	return false
}

// dropAcrossClauses drops the mentions whose words lie on both sides of a
// clause break (breaks, token indexes): in "the pain improved, but renal
// function worsened" the pain is not of the kidney.
func dropAcrossClauses(breaks []int, ms []mention) []mention {
	if len(breaks) == 0 {
		return ms
	}
	return slices.DeleteFunc(ms, func(m mention) bool {
		return slices.ContainsFunc(breaks, func(b int) bool { return int(m.first) < b && b <= int(m.last) })
	})
}

// dropStraddling drops the mentions that join words across a comma or
// semicolon while taking only part of a mention that lies on one side: in
// "a history of obstructive pulmonary disease, hypertension and
// hypercholesterolemia" the items of the list are three conditions, not
// "pulmonary hypertension". A mention that takes all of the other ("type 2
// diabetes, with chronic kidney disease" for E11.22) stays.
func (c *Coder) dropStraddling(n *note.Note, ms []mention) []mention {
	// seps returns the separators inside m's span that end a list item:
	// not those before "with", "due to" and the like.
	// With and, "and" counts too: it joins two conditions as often as
	// two words of one title, so it only separates a mention that cuts
	// another ("tuberculosis and renal lithiasis" is not tuberculosis of
	// the kidney).
	seps := func(m mention, and bool) []int32 {
		var out []int32
		for k := m.first + 1; k < m.last; k++ {
			t := n.Tokens[k]
			if (t.Kind == note.Punct && (t.Norm == "," || t.Norm == ";") || and && c.wd.connect.coordinate[t.Norm]) && !c.joins(n, k+1) {
				out = append(out, k)
			}
		}
		return out
	}
	commas, ands := make([][]int32, len(ms)), make([]bool, len(ms))
	for i, m := range ms {
		commas[i], ands[i] = seps(m, false), len(seps(m, true)) > 0
	}
	drop := make([]bool, len(ms))
	for i, m := range ms {
		for j, k := range ms {
			if i == j {
				continue
			}
			// k is cut: m takes part of it.
			cut := ands[i] && !ands[j] && intersects(m.tokens, k.tokens) && !subset(k.tokens, m.tokens)
			// k is a condition of its own after a separator, not joined
			// to what precedes by "with", "due to" and the like.
			own := len(commas[i]) > 0 && len(commas[j]) == 0 && subset(k.tokens, m.tokens) &&
				!sameCategory(k.entry.code, m.entry.code) && k.first > commas[i][0]
			if cut || own {
				drop[i] = true
				break
			}
		}
	}
	return keep(ms, drop)
}

// keep returns the mentions of ms not marked in drop, in place.
func keep(ms []mention, drop []bool) []mention {
	out := ms[:0]
	for i, m := range ms {
		if !drop[i] {
			out = append(out, m)
		}
	}
	return out
}

// joins reports whether the token at k begins a phrase that ties a
// condition to the one before it ("with", "due to", "secondary to"; the
// join words of en/connectives).
func (c *Coder) joins(n *note.Note, k int32) bool {
	return int(k) < len(n.Tokens) && c.wd.connect.join[n.Tokens[k].Norm]
}

func sameCategory(a, b string) bool {
	return len(a) >= 3 && len(b) >= 3 && a[:3] == b[:3]
}

// intersects reports whether sorted a and b share an element.
func intersects(a, b []int32) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// oneCodePerCategory keeps, of overlapping mentions whose codes share a
// category ("fracture of ankle" and "displaced fracture of lateral
// malleolus of right fibula"), the one naming more words: one condition
// described twice in a sentence is coded once, as specifically as the
// sentence allows.
func oneCodePerCategory(ms []mention) []mention {
	out := ms[:0]
	for i, m := range ms {
		keep := true
		for j, k := range ms {
			if i == j || k.first > m.last || m.first > k.last || len(k.entry.code) < 3 || len(m.entry.code) < 3 ||
				k.entry.code[:3] != m.entry.code[:3] {
				continue
			}
			if len(k.entry.words) > len(m.entry.words) || (len(k.entry.words) == len(m.entry.words) && j < i) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, m)
		}
	}
	return out
}

// subsumes reports whether mention k makes m redundant: m's tokens are
// k's, or lie within k's span and m's words are all k's words.
func subsumes(k, m mention) bool {
	if subset(m.tokens, k.tokens) {
		return true
	}
	return k.first <= m.first && m.last <= k.last && subset32(m.entry.words, k.entry.words)
}

func subset32(a, b []uint32) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}

// compareEntries orders entries matching the same words, best first: by
// origin, then plain titles before "other" ones, fewer words (the entry
// asks for nothing the note did not say), then code, for determinism.
func compareEntries(a, b *entry) int {
	if c := cmp.Compare(a.origin, b.origin); c != 0 {
		return c
	}
	if a.other != b.other {
		if a.other {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(len(a.words), len(b.words)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(a.code), len(b.code)); c != 0 {
		return c
	}
	return strings.Compare(a.code, b.code)
}

// subset reports whether sorted a is a subset of sorted b (equal counts).
func subset(a, b []int32) bool {
	if len(a) > len(b) {
		return false
	}
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}
