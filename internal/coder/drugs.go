package coder

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
)

// Poisonings, adverse effects and underdosing (guideline I.C.19.e): the
// substance is looked up in the Table of Drugs and Chemicals, whose own
// rows name it, and the column is chosen from what the sentence says of
// it (drugs.tsv): an overdose is a poisoning, of the documented intent or
// else accidental; a reaction to or a condition due to a drug taken as
// prescribed is an adverse effect; less taken than prescribed is
// underdosing. A substance named with none of these is a treatment, not a
// code.

// cueKind is what the words of a drugs.tsv row say.
type cueKind uint8

const (
	cuePoisoning cueKind = iota + 1
	cueAdverse
	cueUnderdosing
	cueAccidental
	cueSelfHarm
	cueAssault
	cueUndetermined
	cueSubstance
)

var cueKinds = map[string]cueKind{
	"poisoning": cuePoisoning, "adverse": cueAdverse, "underdosing": cueUnderdosing,
	"accidental": cueAccidental, "self-harm": cueSelfHarm, "assault": cueAssault,
	"undetermined": cueUndetermined, "substance": cueSubstance,
}

// cuePlace is where a cue stands relative to the substance's name.
type cuePlace uint8

const (
	placeNear cuePlace = iota + 1
	placeBefore
	placeAfter
	placeSentence
	placeNone
)

var cuePlaces = map[string]cuePlace{"near": placeNear, "before": placeBefore, "after": placeAfter,
	"sentence": placeSentence, "-": placeNone}

// Distances, in tokens between the cue and the substance's name: a cue
// "near" the name qualifies it in the same phrase ("overdose of 40
// tablets of paracetamol"), one "before" or "after" it joins it directly
// ("due to amoxicillin", "steroid-induced").
const (
	nearTokens  = 6
	beforeGap   = 2
	afterGap    = 1
	maxDrugCues = 2
)

// drugCue is one row of drugs.tsv: the stems of its words in order.
type drugCue struct {
	kind  cueKind
	place cuePlace
	stems []string
	text  string
}

// parseDrugCues reads the pack en/drugs, reported as name.
func parseDrugCues(name, data string) ([]drugCue, error) {
	var out []drugCue
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want a kind, a place and words")
		}
		k, ok := cueKinds[f[0]]
		if !ok {
			return fmt.Errorf("unknown kind %q", f[0])
		}
		p, ok := cuePlaces[f[1]]
		if !ok {
			return fmt.Errorf("unknown place %q", f[1])
		}
		cue := drugCue{kind: k, place: p, text: f[2]}
		for _, t := range note.Tokenize(f[2], 0, len(f[2])) {
			if t.Kind != note.Punct {
				cue.stems = append(cue.stems, t.Stem)
			}
		}
		if len(cue.stems) == 0 {
			return fmt.Errorf("no words")
		}
		out = append(out, cue)
		return nil
	})
	return out, err
}

// drugColumn is the column of the Table of Drugs and Chemicals a cue's
// kind and intent give.
func drugColumn(kind, intent cueKind) codesys.Column {
	switch kind {
	case cueAdverse:
		return codesys.DrugAdverseEffect
	case cueUnderdosing:
		return codesys.DrugUnderdosing
	}
	switch intent {
	case cueSelfHarm:
		return codesys.DrugPoisoningSelfHarm
	case cueAssault:
		return codesys.DrugPoisoningAssault
	case cueUndetermined:
		return codesys.DrugPoisoningUndetermined
	}
	return codesys.DrugPoisoningAccidental
}

// poisoning reports whether col is one of the poisoning columns, whose
// code is sequenced before the manifestations (I.C.19.e.5.b); adverse
// effects and underdosing come after the condition they caused.
func poisoning(col codesys.Column) bool {
	switch col {
	case codesys.DrugPoisoningAccidental, codesys.DrugPoisoningSelfHarm, codesys.DrugPoisoningAssault, codesys.DrugPoisoningUndetermined:
		return true
	}
	return false
}

// addDrugTable adds, for every row of the Table of Drugs and Chemicals
// with a code, the substance's words, one entry per reading of its path
// ("Insulin > defalan"); the row's codes by column are kept aside, since
// the column is chosen from the sentence.
func (lx *lexicon) addDrugTable(ix *codesys.Index, release string) {
	cols := make([]int, len(codesys.DrugColumns()))
	for i, c := range codesys.DrugColumns() {
		n, err := ix.Column(c)
		if err != nil {
			return
		}
		cols[i] = n
	}
	lx.drugHeadings = make([]string, len(cols))
	for i, n := range cols {
		lx.drugHeadings[i] = string(codesys.DrugColumns()[i])
		if n-1 >= 0 && n-1 < len(ix.Columns) {
			lx.drugHeadings[i] = ix.Columns[n-1]
		}
	}
	ix.Walk(func(path []*codesys.Term) bool {
		t := path[len(path)-1]
		if len(t.Cells) == 0 || (len(path) > 1 && otherSpecified(t.Title)) {
			return true
		}
		row := make([]string, len(cols))
		first := ""
		for _, cell := range t.Cells {
			if !cell.HasCode() {
				continue
			}
			if i := slices.Index(cols, cell.Col); i >= 0 {
				row[i] = strings.TrimRight(cell.Code, "-.")
				if first == "" {
					first = row[i]
				}
			}
		}
		if first == "" {
			return true
		}
		readings := lx.wd.pathReadings(path, nil)
		lx.drugRows = append(lx.drugRows, row)
		text := codesys.PathString(path)
		if t.SeeAlso != "" {
			// "Tablets - see also specified substance": a row for
			// what the note did not name more precisely.
			text += " (see also " + t.SeeAlso + ")"
		}
		for _, rd := range readings {
			n := len(lx.entries)
			lx.add(first, lx.phraseWords(rd), fromDrug, text, release)
			if len(lx.entries) > n {
				lx.entries[n].row = int32(len(lx.drugRows))
				if ws := normWords(dropBracketed(rd)); len(ws) == 1 {
					// A substance of one word is named as written:
					// "digestive" is no "Digestants", though the two
					// share a stem.
					lx.entries[n].form = ws[0].Norm
				}
			}
		}
		return true
	})
}

// cueAt is a drugs.tsv cue found in a sentence, on tokens [first, last].
type cueAt struct {
	cue         *drugCue
	first, last int32
}

// findCues returns the cues of drugs.tsv in tokens [lo, hi) of n.
func (c *Coder) findCues(n *note.Note, lo, hi int) []cueAt {
	var out []cueAt
	for k := lo; k < hi; k++ {
		if n.Tokens[k].Kind != note.Word {
			continue
		}
		for i := range c.drugCues {
			cue := &c.drugCues[i]
			if cue.place == placeNone || n.Tokens[k].Stem != cue.stems[0] {
				continue
			}
			j, ok := k+1, true
			for _, s := range cue.stems[1:] {
				for j < hi && n.Tokens[j].Kind == note.Punct && n.Tokens[j].Norm == "-" {
					j++ // "self-harm" reads as "self harm"
				}
				if j >= hi || n.Tokens[j].Stem != s {
					ok = false
					break
				}
				j++
			}
			if ok {
				out = append(out, cueAt{cue: cue, first: int32(k), last: int32(j - 1)})
			}
		}
	}
	// A cue inside a longer one is the longer one's word ("intent" of
	// "intent undetermined" is no "intentional").
	return slices.DeleteFunc(out, func(a cueAt) bool {
		return slices.ContainsFunc(out, func(b cueAt) bool {
			return b.first <= a.first && a.last <= b.last && b.last-b.first > a.last-a.first
		})
	})
}

// generalDrug reports whether a row of the Table of Drugs and Chemicals
// stands for substances not named more precisely: a class "NEC", or a row
// referring to the specified substance ("Tablets - see also specified
// substance").
func generalDrug(e *entry) bool {
	return nec(e.text) || strings.Contains(e.text, "(see also ")
}

// placeDrugs keeps the mentions of the Drug table that the sentence says
// were taken in overdose, caused a reaction or were underdosed, each with
// the table column that says so, its span widened to the words that say
// it; it drops the others (a treatment named), those whose words are part
// of a condition's name ("insulin-dependent diabetes", "iron deficiency",
// "alcohol abuse"), and, beside a named substance, a class of substances
// "NEC".
//
// ms are the substances of a sentence's tokens [lo, hi), conds the
// conditions found there.
func (c *Coder) placeDrugs(n *note.Note, ms, conds []mention, lo, hi int) []mention {
	if len(ms) == 0 {
		return ms
	}
	cues := c.findCues(n, lo, hi)
	drop := make([]bool, len(ms))
	named := false
	for i := range ms {
		m := &ms[i]
		if m.entry.origin != fromDrug {
			continue
		}
		best, bestD := -1, int32(1<<30)
		intent, intentD := cueKind(0), int32(1<<30)
		for ci, cu := range cues {
			if intersects(m.tokens, []int32{cu.first}) || intersects(m.tokens, []int32{cu.last}) {
				continue
			}
			d := max(cu.first-m.last-1, m.first-cu.last-1)
			var ok bool
			switch cu.cue.place {
			case placeNear:
				ok = d <= nearTokens
			case placeBefore:
				// "rash due to amoxicillin": the cue links a condition
				// documented right before it to the substance.
				ok = cu.last < m.first && d <= beforeGap && conditionNear(conds, cu.first, -1)
			case placeAfter:
				// "steroid-induced diabetes": likewise after it.
				ok = cu.first > m.last && d <= afterGap && conditionNear(conds, cu.last, 1)
			case placeSentence:
				if d < intentD {
					intent, intentD = cu.cue.kind, d
				}
				continue
			}
			if ok && d < bestD {
				best, bestD = ci, d
			}
		}
		if best < 0 {
			drop[i] = true
			continue
		}
		cu := cues[best]
		col := drugColumn(cu.cue.kind, intent)
		for _, o := range conds {
			// The substance's words are part of a condition's name,
			// unless that condition asks for the substance's code
			// ("Hypoglycemia, due to insulin" E16.0: use additional code
			// for adverse effect, to identify drug).
			if intersects(m.tokens, o.tokens) &&
				!c.asksFor(o.entry.code, c.lex.drugCode(m.entry, col)) {
				drop[i] = true
				break
			}
		}
		if drop[i] {
			continue
		}
		m.column = col
		m.cue = cu.cue.text
		if cu.cue.kind == cuePoisoning {
			m.intent = intent
		}
		m.first, m.last = min(m.first, cu.first), max(m.last, cu.last)
		if !generalDrug(m.entry) {
			named = true
		}
	}
	if named {
		for i, m := range ms {
			if m.entry.origin == fromDrug && generalDrug(m.entry) {
				drop[i] = true
			}
		}
	}
	return keep(ms, drop)
}

// conditionNear reports whether a condition of ms has a token within beforeGap tokens of token k, before it (dir -1) or after
// it (dir 1).
func conditionNear(ms []mention, k int32, dir int32) bool {
	for _, o := range ms {
		for _, t := range o.tokens {
			if d := (t - k) * dir; d > 0 && d-1 <= beforeGap {
				return true
			}
		}
	}
	return false
}

// asksFor reports whether a "use additional code" note of code (its own
// or inherited) names other.
func (c *Coder) asksFor(code, other string) bool {
	if other == "" {
		return false
	}
	texts, _ := c.notesOf(code, useAdd)
	return slices.ContainsFunc(c.parseRefsWith(codeRange, texts), func(r ref) bool { return r.covers(other) })
}

// drugCode returns the code of the row of e in col, "" where the table
// prints a dash.
func (lx *lexicon) drugCode(e *entry, col codesys.Column) string {
	if e.row <= 0 || int(e.row) > len(lx.drugRows) {
		return ""
	}
	i := slices.Index(codesys.DrugColumns(), col)
	if i < 0 {
		return ""
	}
	return lx.drugRows[e.row-1][i]
}

// cueStep explains the column chosen for a substance, citing the
// guideline rule of that column.
func (c *Coder) cueStep(m *mention) coding.Step {
	say := func(rule, format string, args ...any) coding.Step {
		return c.guideStep(coding.StepMention, rule,
			"Read "+fmt.Sprintf(format, args...)+" (guideline "+c.guideRef(rule)+")")
	}
	switch {
	case m.column == codesys.DrugAdverseEffect:
		return say("drug-adverse", "%q: adverse effect of a drug taken as prescribed", m.cue)
	case m.column == codesys.DrugUnderdosing:
		return say("drug-underdosing", "%q: underdosing, less taken than prescribed", m.cue)
	case m.intent == 0:
		return say("drug-poisoning", "%q: poisoning; no intent documented, coded accidental", m.cue)
	}
	return say("drug-poisoning", "%q: poisoning, %s", m.cue, strings.TrimPrefix(string(m.column), "poisoning "))
}
