package coder

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

// The Verify stage: the conventions and guidelines a coder checks before
// reporting. Each rule says in the trail what it did, and every code it
// removes goes to Result.Dropped with the reason.

// verify applies the rules to the candidates and returns the codes to
// report, in reporting order, and the codes dropped. In the Mentions scope
// the rules that choose what to report together among documented
// conditions give way (assertions, combination codes, integral symptoms,
// unspecified beside specific, less documented beside more, Excludes1):
// every mention of the patient's condition keeps its own code.
func (c *Coder) verify(cands []candidate, setting coding.Setting, scope coding.Scope) ([]coding.Code, []coding.Code) {
	mentions := scope == coding.Mentions
	var dropped []coding.Code
	drop := func(x coding.Code, reason string) {
		x.Reason = reason
		dropped = append(dropped, x)
	}
	// 0. A family member's condition: its family history code.
	cands = c.familyHistory(cands)
	// 1. Assertions and the encounter setting.
	kept := cands[:0:0]
	for _, cd := range cands {
		reason, step := c.assertionRule(cd, setting)
		if reason != "" && mentions && cd.assertion.Experiencer == assert.Patient && cd.drug == "" {
			st := coding.Step{Kind: coding.StepGuideline,
				Detail: "Mentions scope: reported with its assertion (" + string(assertionName(cd.assertion)) + "), which the reportable code set leaves out: " + reason}
			step = &st
			reason = ""
			cd.code.Confidence *= mentionedOnly
		}
		if reason != "" {
			drop(cd.code, reason)
			continue
		}
		if step != nil {
			cd.code.Trail = append(cd.code.Trail, *step)
			if cd.assertion.Negation != assert.Affirmed || cd.assertion.Temporality == assert.Historical {
				cd.code.Confidence *= 0.85
			}
		}
		kept = append(kept, cd)
	}
	// 1a. Outpatient: the conditions the visit addressed.
	if setting == coding.Outpatient {
		kept = c.addressed(kept, drop)
	}
	// 1b. Conditions that end, documented as history: the history code.
	kept = c.historyCodes(kept)
	// 2. One code per code: every mention becomes evidence of it.
	codes := merge(kept)
	if !mentions {
		// 3. Presumed links and combination codes.
		codes = c.applyLinks(codes, drop)
		// 4. Symptoms integral to a confirmed diagnosis.
		codes = c.integralSymptoms(codes, drop)
		// 5. The unspecified code of a category when a specific one is
		// coded.
		codes = unspecifiedBeside(codes, drop)
	}
	// 5b. A neoplasm of unspecified site when a site is coded; an
	// unspecified infection when a specific one is.
	codes = c.unspecifiedNamed(codes, drop)
	if !mentions {
		// 5c. A code documenting less of a condition than another of
		// its category ("chronic" beside "acute on chronic"), or than
		// one a subterm of its Index main term gives.
		codes = c.lessDocumented(codes, drop)
		codes = mainTermBeside(codes, drop)
	}
	// 5d. External causes only beside the injury they caused.
	codes = c.externalWithInjury(codes, drop)
	if !mentions {
		// 6. Excludes1: the two conditions cannot be reported together.
		codes = c.excludes1(codes, drop)
	}
	// 7. Manifestation codes never alone.
	codes = c.manifestations(codes, drop)
	// 8. Code first / use additional code: sequencing.
	codes = c.sequence(codes)
	out := make([]coding.Code, len(codes))
	for i, m := range codes {
		m.code.Confidence = round2(m.code.Confidence)
		out[i] = m.code
	}
	slices.SortStableFunc(dropped, func(a, b coding.Code) int {
		return cmp.Compare(firstStart(a), firstStart(b))
	})
	for i := range dropped {
		dropped[i].Confidence = round2(dropped[i].Confidence)
	}
	return out, dropped
}

// mentionedOnly scales the confidence of a code the Mentions scope keeps
// for a condition documented as absent, uncertain or hypothetical, so that
// such codes rank below the conditions the patient has.
const mentionedOnly = 0.7

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

func firstStart(c coding.Code) int {
	if len(c.Evidence) == 0 {
		return -1
	}
	return c.Evidence[0].Start
}

// Family history and personal history codes (the groups history-family
// and history-personal of icd10cm/groups) are coded from mentions of
// family members and of the past: they are what such mentions are coded
// as.
func (r *rules) isFamilyHistory(code string) bool   { return r.groups.family.Holds(code) }
func (r *rules) isPersonalHistory(code string) bool { return r.groups.personal.Holds(code) }

// familyEntry is a path of the Alphabetic Index below "History, family
// (of)": the words of the condition and the family history code.
type familyEntry struct {
	words map[uint32]bool
	code  string
	path  string
}

// familyEntries reads the subterms of the Index's "History, family (of)"
// term.
func (c *Coder) familyEntries(ix *codesys.Index, release string) []familyEntry {
	path, ok := ix.Find("History", "family")
	if !ok {
		return nil
	}
	var out []familyEntry
	var walk func(ts []*codesys.Term, titles []string)
	walk = func(ts []*codesys.Term, titles []string) {
		for _, t := range ts {
			ti := append(slices.Clone(titles), t.Title)
			code := strings.TrimRight(t.Code, "-.")
			if code != "" && !otherSpecified(t.Title) {
				if v := c.tab.Validate(code); v.Status != codesys.Invalid {
					ws := c.titleWords(strings.Join(ti, " "))
					if len(ws) > 0 {
						out = append(out, familyEntry{words: ws, code: code,
							path: "Index " + release + ": " + codesys.PathString(path) + " > " + strings.Join(ti, " > ")})
					}
				}
			}
			walk(t.Terms, ti)
		}
	}
	walk(path[len(path)-1].Terms, nil)
	return out
}

// familyHistory turns the condition of a family member into its family
// history code (I.C.21.c.4), found as a coder finds it: the Index's
// "History, family (of)" subterm whose words the condition's code title
// or mention all have, the most specific first.
func (c *Coder) familyHistory(cands []candidate) []candidate {
	for i := range cands {
		cd := &cands[i]
		if cd.assertion.Experiencer != assert.Family || c.rules.isFamilyHistory(cd.code.Code) {
			continue
		}
		if fh, ok := c.familyByTabular(cd.code.Code); ok {
			v := c.tab.Validate(fh.Code)
			cd.code.Trail = append(cd.code.Trail,
				coding.Step{Kind: coding.StepTabular, Ref: fh.Code,
					Detail: fmt.Sprintf("Tabular List %s: %s %s includes %q", c.ref.CM.ID(), fh.Code, fh.Title, fh.term)},
				c.guideStep(coding.StepGuideline, "family-history",
					fmt.Sprintf("A family member's %s %s: reported as family history %s %s", cd.code.Code, cd.code.Title, v.Code, v.Title)))
			cd.code.Code, cd.code.Title = v.Code, v.Title
			continue
		}
		have := c.titleWords(cd.code.Title)
		for _, e := range cd.code.Evidence {
			for w := range c.titleWords(e.Text) {
				have[w] = true
			}
		}
		var best *familyEntry
		for j := range c.family {
			f := &c.family[j]
			all := true
			for w := range f.words {
				if !have[w] {
					all = false
					break
				}
			}
			if all && (best == nil || len(f.words) > len(best.words)) {
				best = f
			}
		}
		if best == nil {
			continue
		}
		code, _, _, q := c.assign(best.code, have)
		if q != nil {
			continue
		}
		v := c.tab.Validate(code)
		cd.code.Trail = append(cd.code.Trail,
			coding.Step{Kind: coding.StepIndex, Ref: best.code, Detail: best.path + " → " + best.code},
			c.guideStep(coding.StepGuideline, "family-history",
				fmt.Sprintf("A family member's %s %s: reported as family history %s %s", cd.code.Code, cd.code.Title, v.Code, v.Title)))
		cd.code.Code, cd.code.Title = v.Code, v.Title
	}
	return cands
}

// mainTermBeside drops a code reached through an Index main term alone
// when another code was reached through the same main term linked to its
// cause or to another condition: the condition documented once with its
// cause ("pneumonia" J18.9 beside "pneumonia due to Streptococcus
// pneumoniae" J13, "anemia" D64.9 beside "anemia in chronic kidney
// disease" D63.1). A subterm of a site is not enough: "arthritis" and
// "arthritis of the right knee" may be two.
func mainTermBeside(codes []merged, drop func(coding.Code, string)) []merged {
	return slices.DeleteFunc(codes, func(m merged) bool {
		if m.lead == "" || !m.alone {
			return false
		}
		i := slices.IndexFunc(codes, func(o merged) bool { return o.linked && o.lead == m.lead && o.code.Code != m.code.Code })
		if i < 0 {
			return false
		}
		drop(m.code, fmt.Sprintf("the Index's %q alone beside %s, which links it to its cause: the condition coded as fully as documented", m.lead, codes[i].code.Code))
		return true
	})
}

// familyCode is a family history code of the Tabular List and the
// inclusion term that names the conditions it holds by code range
// ("Conditions classifiable to C15-C26" under Z80.0).
type familyCode struct {
	*codesys.Node
	term string
	refs []ref
}

// familyByTabular returns the family history code whose inclusion terms
// name a range holding code, the narrowest if several do: the Tabular
// List says which family history code a condition is, more precisely
// than the Index's words ("colon cancer" under "History, family,
// malignant neoplasm" leads to Z80.9 NOS; C18 is classifiable to Z80.0).
func (c *Coder) familyByTabular(code string) (familyCode, bool) {
	c.familyOnce.Do(func() {
		for i := range c.tab.Nodes {
			n := &c.tab.Nodes[i]
			if len(n.Children) > 0 || n.Kind < codesys.KindCategory || !c.rules.isFamilyHistory(n.Code) {
				continue
			}
			for _, t := range n.Notes.InclusionTerms {
				if refs := c.parseRefsWith(codeRange, []string{t}); len(refs) > 0 {
					c.familyCodes = append(c.familyCodes, familyCode{n, t, refs})
				}
			}
		}
	})
	var best familyCode
	width := -1
	for _, f := range c.familyCodes {
		for _, r := range f.refs {
			if !r.covers(code) {
				continue
			}
			// The narrowest range: fewer categories between its ends.
			w := rangeWidth(r)
			if width < 0 || w < width {
				best, width = f, w
			}
		}
	}
	return best, width >= 0
}

// rangeWidth is how many categories a range spans, for ranges within one
// letter (the only kind the Tabular List writes); 0 for one code.
func rangeWidth(r ref) int {
	if r.hi == "" || len(r.lo) < 3 || len(r.hi) < 3 {
		return 0
	}
	num := func(s string) int {
		n := 0
		for _, d := range s[1:3] {
			if d >= '0' && d <= '9' {
				n = n*10 + int(d-'0')
			} else {
				n *= 10
			}
		}
		return n
	}
	return int(r.hi[0]-r.lo[0])*100 + num(r.hi) - num(r.lo)
}

// assertionRule decides a candidate by its assertion: a reason to drop it,
// or a step to add to its trail.
func (c *Coder) assertionRule(cd candidate, setting coding.Setting) (string, *coding.Step) {
	a, code := cd.assertion, cd.code.Code
	switch {
	case a.Negation == assert.Negated && a.Resolved:
		st := c.guideStep(coding.StepGuideline, "resolved",
			"Documented as resolved: the condition was present during the encounter and is coded; confidence lowered")
		return "", &st
	case a.Negation == assert.Negated:
		return "negated in the note: a condition documented as absent is not coded", nil
	case a.Experiencer == assert.Family && !c.rules.isFamilyHistory(code):
		return "the condition is a family member's: coded only as family history (Z80-Z84) where documented", nil
	case a.Experiencer == assert.Other && !c.rules.isFamilyHistory(code):
		return "the condition is someone else's, not the patient's", nil
	case a.Temporality == assert.Hypothetical:
		return "hypothetical (a risk, an instruction or a plan), not a condition of the patient", nil
	case a.Negation == assert.Possible && setting == coding.Outpatient:
		return "uncertain diagnosis (probable, suspected, rule out ...) in an outpatient setting: not coded; code the signs and symptoms instead (guideline " + c.guideRef("uncertain-outpatient") + ")", nil
	case a.Negation == assert.Possible:
		st := c.guideStep(coding.StepGuideline, "uncertain-inpatient",
			"Uncertain diagnosis coded as if established: inpatient setting (guideline "+c.guideRef("uncertain-inpatient")+")")
		return "", &st
	case a.Temporality == assert.Historical && cd.drug != "":
		return "a past poisoning, adverse effect or underdosing: not a condition of this encounter", nil
	case a.Temporality == assert.Historical && !c.rules.isPersonalHistory(code):
		st := c.guideStep(coding.StepGuideline, historyStillPresent,
			"Documented as history: coded as a condition the patient still has (chronic conditions affect care); confidence lowered")
		return "", &st
	}
	return "", nil
}

// historyStillPresent is the guideline rule of the step that codes a
// condition documented as history as still present, which a history code
// replaces.
const historyStillPresent = "history-present"

// historyCodes replaces a condition that ends (history.tsv), documented
// as history, with its personal history code: a stroke years ago without
// residual deficits is Z86.73, not I63.9 (guideline I.C.21.c.4).
func (c *Coder) historyCodes(cands []candidate) []candidate {
	for i := range cands {
		cd := &cands[i]
		if cd.assertion.Temporality != assert.Historical {
			continue
		}
		for _, r := range c.rules.history {
			if !slices.ContainsFunc(r.conditions, func(p string) bool { return strings.HasPrefix(cd.code.Code, p) }) {
				continue
			}
			if c.rules.groups.malignancy.Holds(r.code) && !c.rules.eradicated(cd.sentence) {
				// A malignancy is history only once excised or
				// eradicated with no disease left (I.C.2.d); otherwise it
				// is still the condition.
				break
			}
			// The condition is not still present after all: the step
			// that said it is gives way to this one.
			cd.code.Trail = slices.DeleteFunc(cd.code.Trail, func(s coding.Step) bool {
				return s.Kind == coding.StepGuideline && s.Ref == c.guideRef(historyStillPresent)
			})
			rule := "history-personal"
			if c.rules.groups.malignancy.Holds(r.code) {
				rule = "neoplasm-history"
			}
			cd.code.Trail = append(cd.code.Trail, c.guideStep(coding.StepGuideline, rule,
				fmt.Sprintf("Documented as history: %s %s no longer present, reported as personal history %s %s",
					cd.code.Code, cd.code.Title, r.code, r.title)))
			cd.code.Code, cd.code.Title = r.code, r.title
			break
		}
	}
	return cands
}

// eradicated reports whether a sentence documents a malignancy as
// excised or eradicated, with no sign of disease or treatment left
// (en/malignancy): a sentence that says the disease has not come back
// documents it gone unless it names a spread.
func (r *rules) eradicated(sentence string) bool {
	t := strings.ToLower(sentence)
	has := func(ws []string) bool {
		return slices.ContainsFunc(ws, func(w string) bool { return strings.Contains(t, w) })
	}
	if has(r.clearWords) {
		return !has(r.spreadWords)
	}
	return has(r.eradicatedWords) && !has(r.activeWords)
}

// merged is one code with every mention supporting it.
type merged struct {
	code  coding.Code
	pos   int
	words int
	// sents are the sentences of the mentions, drug the column of the
	// Table of Drugs and Chemicals the code comes from.
	sents []int
	drug  codesys.Column
	// after is the etiology an Index's paired manifestation code follows.
	after string
	// lead, alone and linked tell the candidate's Index path
	// (candidate.lead, candidate.alone, candidate.linked).
	lead          string
	alone, linked bool
}

// merge gathers candidates with the same code: evidence in text order,
// the trail and assertion of the most confident mention first.
func merge(cands []candidate) []merged {
	by := map[string]int{}
	var out []merged
	for _, cd := range cands {
		i, ok := by[cd.code.Code]
		if !ok {
			by[cd.code.Code] = len(out)
			out = append(out, merged{code: cd.code, pos: cd.pos, words: cd.words, sents: []int{cd.sent}, drug: cd.drug, after: cd.after,
				lead: cd.lead, alone: cd.alone, linked: cd.linked})
			continue
		}
		m := &out[i]
		if !slices.Contains(m.sents, cd.sent) {
			m.sents = append(m.sents, cd.sent)
		}
		if cd.code.Confidence > m.code.Confidence || (cd.code.Confidence == m.code.Confidence && cd.words > m.words) {
			ev := m.code.Evidence
			m.code = cd.code
			m.code.Evidence = append(cd.code.Evidence, ev...)
		} else {
			m.code.Evidence = append(m.code.Evidence, cd.code.Evidence...)
		}
		m.pos = min(m.pos, cd.pos)
		m.words = max(m.words, cd.words)
	}
	for i := range out {
		m := &out[i]
		ev := m.code.Evidence
		// The deciding mention first, the others in text order, each once.
		rest := slices.Clone(ev[1:])
		slices.SortFunc(rest, func(a, b coding.Evidence) int { return cmp.Compare(a.Start, b.Start) })
		rest = slices.DeleteFunc(rest, func(e coding.Evidence) bool { return e.Start == ev[0].Start && e.End == ev[0].End })
		rest = slices.CompactFunc(rest, func(a, b coding.Evidence) bool { return a.Start == b.Start && a.End == b.End })
		m.code.Evidence = append(ev[:1:1], rest...)
		if k := len(m.code.Evidence); k > 1 {
			m.code.Confidence = min(0.99, m.code.Confidence+0.03*float64(k-1))
		}
	}
	slices.SortStableFunc(out, func(a, b merged) int { return cmp.Compare(a.pos, b.pos) })
	return out
}

// hasPrefix reports whether code (with dot) falls under prefix, a code or
// category written with or without dot.
func hasPrefix(code, prefix string) bool {
	return strings.HasPrefix(strings.Replace(code, ".", "", 1), strings.Replace(prefix, ".", "", 1))
}

func anyPrefix(code string, prefixes []string) bool {
	for _, p := range prefixes {
		if hasPrefix(code, p) {
			return true
		}
	}
	return false
}

// applyLinks applies the presumed links and combination codes of
// links.tsv until nothing changes. In each round every rule is matched
// against the codes as they were at the start of the round, so that
// diabetes with two complications gets both combination codes.
func (c *Coder) applyLinks(codes []merged, drop func(coding.Code, string)) []merged {
	for round := 0; round < 4; round++ {
		type hit struct {
			rule       *linkRule
			from, with int
		}
		var hits []hit
		for ri := range c.rules.links {
			r := &c.rules.links[ri]
			for fi := range codes {
				if !anyPrefix(codes[fi].code.Code, r.from) {
					continue
				}
				for wi := range codes {
					if wi != fi && anyPrefix(codes[wi].code.Code, r.with) {
						hits = append(hits, hit{r, fi, wi})
						break
					}
				}
			}
		}
		if len(hits) == 0 {
			return codes
		}
		gone := map[int]string{}
		var added []merged
		have := map[string]bool{}
		for _, m := range codes {
			have[m.code.Code] = true
		}
		for _, h := range hits {
			from, with := codes[h.from], codes[h.with]
			gone[h.from] = fmt.Sprintf("combined with %s into %s (guideline %s)", with.code.Code, h.rule.result, h.rule.guideline)
			if !h.rule.keepWith {
				gone[h.with] = fmt.Sprintf("included in combination code %s with %s (guideline %s)", h.rule.result, from.code.Code, h.rule.guideline)
			}
			if have[h.rule.result] {
				continue
			}
			have[h.rule.result] = true
			v := c.tab.Validate(h.rule.result)
			ref, what, _ := strings.Cut(h.rule.guideline, " ")
			nc := coding.Code{Code: v.Code, System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: v.Title,
				Assertion:  from.code.Assertion,
				Confidence: min(from.code.Confidence, with.code.Confidence),
				Evidence:   mergeEvidence(from.code.Evidence, with.code.Evidence),
				Trail: append(slices.Clone(from.code.Trail), citeStep(coding.StepGuideline, c.guides.Section(ref, what),
					fmt.Sprintf("%s with %s: %s → %s %s", from.code.Code, with.code.Code, h.rule.guideline, v.Code, v.Title))),
			}
			added = append(added, merged{code: nc, pos: min(from.pos, with.pos), words: from.words + with.words,
				sents: slices.Concat(from.sents, with.sents)})
		}
		var next []merged
		for i, m := range codes {
			if reason, ok := gone[i]; ok {
				drop(m.code, reason)
				continue
			}
			next = append(next, m)
		}
		next = append(next, added...)
		slices.SortStableFunc(next, func(a, b merged) int { return cmp.Compare(a.pos, b.pos) })
		codes = next
	}
	return codes
}

func mergeEvidence(a, b []coding.Evidence) []coding.Evidence {
	out := slices.Concat(a, b)
	rest := slices.Clone(out[1:])
	slices.SortFunc(rest, func(x, y coding.Evidence) int { return cmp.Compare(x.Start, y.Start) })
	rest = slices.DeleteFunc(rest, func(e coding.Evidence) bool { return e.Start == out[0].Start && e.End == out[0].End })
	rest = slices.CompactFunc(rest, func(x, y coding.Evidence) bool { return x.Start == y.Start && x.End == y.End })
	return append(out[:1:1], rest...)
}

// integralSymptoms drops symptom codes that a coded, confirmed diagnosis
// explains (guideline I.B.5), per symptoms.tsv.
func (c *Coder) integralSymptoms(codes []merged, drop func(coding.Code, string)) []merged {
	out := codes[:0:0]
	for _, m := range codes {
		var by, what, guideline string
		for _, r := range c.rules.symptoms {
			if !hasPrefix(m.code.Code, r.symptom) {
				continue
			}
			site := c.siteWords(m.code.Code, r)
			for _, o := range codes {
				if o.code.Code == m.code.Code {
					continue
				}
				if r.sameSite && (hasPrefix(o.code.Code, r.symptom) || !c.titleHas(o.code.Code, site)) ||
					!r.sameSite && !anyPrefix(o.code.Code, r.diagnoses) {
					continue
				}
				by, what, guideline = o.code.Code, r.what, r.guideline
				break
			}
			if by != "" {
				break
			}
		}
		if by != "" {
			if guideline == "" {
				guideline = "guideline " + c.guideRef("integral-symptoms")
			}
			drop(m.code, fmt.Sprintf("integral to %s (%s): not coded separately (%s)", by, what, guideline))
			continue
		}
		out = append(out, m)
	}
	return out
}

// siteWords returns, for a rule of the same site, the ways the Tabular
// title of code names its site: the words after its "in" ("Pain in right
// knee"), each part of a site joined by "and" on its own ("Pain in right
// ankle and joints of right foot"), the classification's way of naming
// where a sign is.
func (c *Coder) siteWords(code string, r symptomRule) [][]string {
	if !r.sameSite {
		return nil
	}
	v := c.tab.Validate(code)
	if v.Title == "" {
		return nil
	}
	_, site, ok := strings.Cut(strings.ToLower(v.Title), " in ")
	if !ok {
		return nil
	}
	var out [][]string
	for _, part := range strings.Split(site, " and ") {
		if ws := c.lex.phraseWords(part); len(ws) > 0 {
			out = append(out, ws)
		}
	}
	return out
}

// titleHas reports whether the Tabular title of code has every word of
// one of sites (stems, as phraseWords gives them).
func (c *Coder) titleHas(code string, sites [][]string) bool {
	// Validate, not Node: a code with a 7th character has no node of its
	// own.
	v := c.tab.Validate(code)
	if v.Title == "" {
		return false
	}
	have := c.lex.phraseWords(v.Title)
	for _, words := range sites {
		all := true
		for _, w := range words {
			if !slices.Contains(have, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// unspecifiedBeside drops a code whose title says "unspecified" when a
// code of the same category that does not is coded: the documentation
// supports the specific code, and the unspecified one is for when it does
// not (guideline I.B.18 and the conventions on "unspecified" codes).
func unspecifiedBeside(codes []merged, drop func(coding.Code, string)) []merged {
	unspecified := func(c coding.Code) bool { return strings.Contains(strings.ToLower(c.Title), "unspecified") }
	// wholly is a code whose title leaves the condition itself
	// unspecified ("Dorsalgia, unspecified", "Unspecified abdominal
	// pain"), not one of its aspects ("... with heart failure and stage 1
	// through stage 4 chronic kidney disease, or unspecified chronic
	// kidney disease").
	wholly := func(c coding.Code) bool {
		t := strings.ToLower(c.Title)
		return strings.HasSuffix(t, ", unspecified") || strings.HasPrefix(t, "unspecified ")
	}
	return dropBeside(codes, drop, func(m, o coding.Code) string {
		// A code one level deeper, unspecified in its own detail, still
		// says more than the category's unspecified code: "Low back pain,
		// unspecified" beside "Dorsalgia, unspecified".
		if unspecified(m) && o.Code[:3] == m.Code[:3] && (!unspecified(o) || wholly(m) && len(o.Code) > len(m.Code)) {
			return "unspecified code beside the more specific %s of the same category"
		}
		return ""
	})
}

// unspecifiedNamed drops the codes of an unnamed site or kind
// (icd10cm/beside) beside a code that names their site or kind: a
// neoplasm of unspecified site beside one of the same behaviour at a
// named site, an unspecified infection beside the named infectious or
// viral disease.
func (c *Coder) unspecifiedNamed(codes []merged, drop func(coding.Code, string)) []merged {
	return dropBeside(codes, drop, func(m, o coding.Code) string {
		// A code with a 7th character is named by the code it extends
		// ("W19" for W19.XXXA).
		base := m.Code
		if v := c.tab.Validate(m.Code); v.Base != nil {
			base = v.Base.Code
		}
		for _, r := range c.rules.beside {
			if (m.Code == r.code || base == r.code) && r.ranges.Holds(o.Code) {
				return r.why
			}
		}
		return ""
	})
}

// dropBeside drops each code m for which another coded code o makes
// beside(m, o) a reason, a format naming o.
func dropBeside(codes []merged, drop func(coding.Code, string), beside func(m, o coding.Code) string) []merged {
	out := codes[:0:0]
	for _, m := range codes {
		why, by := "", ""
		for _, o := range codes {
			if o.code.Code != m.code.Code {
				if why = beside(m.code, o.code); why != "" {
					by = o.code.Code
					break
				}
			}
		}
		if why != "" {
			drop(m.code, fmt.Sprintf(why, by))
			continue
		}
		out = append(out, m)
	}
	return out
}

// assessedSection are the sections where an outpatient note records the
// conditions the visit addressed: the reason for the visit (IV.D) and the
// provider's assessment.
var assessedSection = map[note.SectionType]bool{
	note.ChiefComplaint: true, note.AssessmentAndPlan: true, note.Impression: true, note.Diagnoses: true, note.DischargeDiagnoses: true,
}

// addressed keeps, in an outpatient note that has an assessment (or
// impression, or diagnoses) with a codable condition, the conditions
// documented there: outpatient coding reports the conditions that
// require or affect care at the visit (guideline IV.J), and the
// assessment is where the provider says which those are; a condition
// named only in the history or the review of systems is not coded. An
// external cause stays wherever it is told (the history says how the
// injury the assessment treats happened): Verify keeps it only beside
// that injury.
func (c *Coder) addressed(cands []candidate, drop func(coding.Code, string)) []candidate {
	in := func(cd candidate) bool {
		for _, e := range cd.code.Evidence {
			if assessedSection[note.SectionType(e.Section)] {
				return true
			}
		}
		return false
	}
	if !slices.ContainsFunc(cands, in) {
		return cands
	}
	out := cands[:0:0]
	for _, cd := range cands {
		if r, _ := c.role(cd.code.Code); !in(cd) && r != roleExternal {
			drop(cd.code, "outpatient: not among the conditions the assessment addresses (guideline "+c.guideRef("outpatient-addressed")+")")
			continue
		}
		out = append(out, cd)
	}
	return out
}

// principalSection are the sections that state the diagnoses the
// encounter established: a coder looks there first for the principal
// diagnosis, then at the chief complaint (the reason for the visit, which
// the diagnoses explain).
var principalSection = map[note.SectionType]bool{
	note.AdmissionDiagnoses: true, note.DischargeDiagnoses: true,
	note.Diagnoses: true, note.Impression: true, note.AssessmentAndPlan: true,
}

// codeRef and codeRange read the codes and ranges instructional notes
// cite (codesys.NoteCodeRef, codesys.NoteRange).
var (
	codeRef   = codesys.NoteCodeRef()
	codeRange = codesys.NoteRange()
)

// ref is a code or range cited in a note.
type ref struct{ lo, hi string } // compact forms; hi == "" for one code

// parseRefs returns the codes and ranges the notes cite, leaving out those
// the active release lacks: the notes of a Tabular List composed from an
// order file are borrowed from an older release and may cite a code
// deleted since.
func (c *Coder) parseRefs(notes []string) []ref { return c.parseRefsWith(codeRef, notes) }

// parseRefsWith is parseRefs with the pattern re.
func (c *Coder) parseRefsWith(re *regexp.Regexp, notes []string) []ref {
	var out []ref
	for _, s := range notes {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			if c.tab.Validate(m[1]).Status == codesys.Invalid || m[2] != "" && c.tab.Validate(m[2]).Status == codesys.Invalid {
				continue
			}
			r := ref{lo: strings.Replace(m[1], ".", "", 1)}
			if m[2] != "" {
				r.hi = strings.Replace(m[2], ".", "", 1)
			}
			out = append(out, r)
		}
	}
	return out
}

func (r ref) covers(code string) bool {
	cc := strings.Replace(code, ".", "", 1)
	if r.hi == "" {
		return strings.HasPrefix(cc, r.lo)
	}
	lo := cc[:min(len(cc), len(r.lo))]
	hi := cc[:min(len(cc), len(r.hi))]
	return lo >= r.lo && hi <= r.hi
}

// notesOf returns the notes of one kind that apply to code: its own and
// its ancestors', with the node each is from.
func (c *Coder) notesOf(code string, get func(*codesys.Notes) []string) (texts []string, from []string) {
	v := c.tab.Validate(code)
	n := v.Base
	for n != nil {
		for _, s := range get(&n.Notes) {
			texts = append(texts, s)
			from = append(from, n.Code)
		}
		if n.Parent < 0 || n.Kind <= codesys.KindBlock {
			// Chapter-level notes are general; blocks' notes apply.
			if n.Kind == codesys.KindBlock && n.Parent >= 0 {
				n = &c.tab.Nodes[n.Parent]
				continue
			}
			break
		}
		n = &c.tab.Nodes[n.Parent]
	}
	return texts, from
}

func excl1(n *codesys.Notes) []string     { return n.Excludes1 }
func codeFirst(n *codesys.Notes) []string { return n.CodeFirst }
func useAdd(n *codesys.Notes) []string    { return n.UseAdditionalCode }

// excludes1 removes, of two codes one of whose Excludes1 notes names the
// other, the weaker: the less confident, then the one matched on fewer
// words, then the later.
func (c *Coder) excludes1(codes []merged, drop func(coding.Code, string)) []merged {
	gone := map[int]bool{}
	for i := range codes {
		if gone[i] {
			continue
		}
		texts, from := c.notesOf(codes[i].code.Code, excl1)
		for ti, t := range texts {
			for _, r := range c.parseRefs([]string{t}) {
				for j := range codes {
					if j == i || gone[j] || gone[i] || !r.covers(codes[j].code.Code) {
						continue
					}
					// the pair i excludes j: keep the stronger
					loser, winner := j, i
					if stronger(codes[j], codes[i]) {
						loser, winner = i, j
					}
					gone[loser] = true
					drop(codes[loser].code, fmt.Sprintf("Excludes1 at %s: %q; %s kept", from[ti], t, codes[winner].code.Code))
					codes[winner].code.Trail = append(codes[winner].code.Trail, coding.Step{Kind: coding.StepVerify, Ref: from[ti],
						Detail: fmt.Sprintf("Excludes1 at %s: %s; %s not coded with it", from[ti], t, codes[loser].code.Code)})
				}
			}
		}
	}
	out := codes[:0:0]
	for i, m := range codes {
		if !gone[i] {
			out = append(out, m)
		}
	}
	return out
}

// stronger reports whether a should be kept over b: a diagnosis over a
// symptom, then the code matched on
// more words (the combination code, "acute appendicitis with localized
// peritonitis", over the code of one of its parts), then the more
// confident, then the earlier.
func stronger(a, b merged) bool {
	if ar, br := a.code.Code[0] == 'R', b.code.Code[0] == 'R'; ar != br {
		// A diagnosis over a sign or symptom (chapter 18).
		return br
	}
	if a.words != b.words {
		return a.words > b.words
	}
	if a.code.Confidence != b.code.Confidence {
		return a.code.Confidence > b.code.Confidence
	}
	return a.pos < b.pos
}

// isManifestation reports whether a code is a manifestation code, which
// the classification never lets stand alone: its title says "in diseases
// classified elsewhere".
func (c *Coder) isManifestation(code string) bool {
	v := c.tab.Validate(code)
	for n := v.Base; n != nil; {
		if strings.Contains(strings.ToLower(n.Title), "in diseases classified elsewhere") {
			return true
		}
		if n.Kind <= codesys.KindCategory || n.Parent < 0 {
			return false
		}
		n = &c.tab.Nodes[n.Parent]
	}
	return false
}

// manifestations drops manifestation codes without a coded etiology: one
// named in the code's "code first" note, or, where the note names none,
// any other code that is not itself a manifestation.
func (c *Coder) manifestations(codes []merged, drop func(coding.Code, string)) []merged {
	out := codes[:0:0]
	for i, m := range codes {
		if !c.isManifestation(m.code.Code) {
			out = append(out, m)
			continue
		}
		texts, _ := c.notesOf(m.code.Code, codeFirst)
		refs := c.parseRefs(texts)
		for _, t := range texts {
			if strings.Contains(t, "such as") || strings.Contains(t, "underlying") {
				// The note's codes are examples: any underlying
				// condition coded will do.
				refs = nil
				break
			}
		}
		found := ""
		for j, o := range codes {
			if j == i || c.isManifestation(o.code.Code) {
				continue
			}
			if len(refs) == 0 {
				found = o.code.Code
				break
			}
			for _, r := range refs {
				if r.covers(o.code.Code) {
					found = o.code.Code
					break
				}
			}
			if found != "" {
				break
			}
		}
		if found == "" {
			drop(m.code, "manifestation code (\"in diseases classified elsewhere\") without its underlying condition coded: never reported alone (guideline "+c.guideRef("manifestation")+")")
			continue
		}
		m.code.Trail = append(m.code.Trail, c.guideStep(coding.StepVerify, "manifestation",
			fmt.Sprintf("Manifestation code: reported after its underlying condition %s", found)))
		out = append(out, m)
	}
	return out
}

// role returns the part code's chapter plays (chapters.tsv), with the
// guideline behind it.
func (c *Coder) role(code string) (chapterRole, string) {
	n := c.tab.Node(code)
	if n == nil {
		if v := c.tab.Validate(code); v.Base != nil {
			n = v.Base
		} else {
			return roleCondition, ""
		}
	}
	title := c.tab.Chapter(n).Title
	for _, r := range c.rules.chapters {
		if strings.HasPrefix(title, r.title) {
			return r.role, r.guideline
		}
	}
	return roleCondition, ""
}

// lessDocumented drops a code whose title says nothing another code of
// its category does not also say: "Chronic systolic heart failure" beside
// "Acute on chronic systolic heart failure", "Type 2 diabetes mellitus
// without complications" beside a complication of it. The condition was
// documented twice, once fully; it is coded once, as fully as documented.
func (c *Coder) lessDocumented(codes []merged, drop func(coding.Code, string)) []merged {
	words := make(map[string]map[uint32]bool, len(codes))
	for _, m := range codes {
		words[m.code.Code] = c.titleWords(m.code.Title)
	}
	return dropBeside(codes, drop, func(m, o coding.Code) string {
		wm, wo := words[m.Code], words[o.Code]
		if m.Code[:3] != o.Code[:3] || len(wm) == 0 || len(wm) >= len(wo) {
			return ""
		}
		for w := range wm {
			if !wo[w] {
				return ""
			}
		}
		return "the condition is coded as fully as documented by %s"
	})
}

// externalWithInjury drops external cause codes when no injury or
// poisoning is coded: an external cause describes how an injury happened
// (I.C.20); a fall or an activity the note mentions otherwise is no
// code.
func (c *Coder) externalWithInjury(codes []merged, drop func(coding.Code, string)) []merged {
	injured := false
	for _, m := range codes {
		if r, _ := c.role(m.code.Code); r == roleInjury {
			injured = true
		}
	}
	if injured {
		return codes
	}
	out := codes[:0:0]
	for _, m := range codes {
		if r, g := c.role(m.code.Code); r == roleExternal {
			drop(m.code, "external cause without an injury or poisoning it caused ("+g+")")
			continue
		}
		out = append(out, m)
	}
	return out
}

// pair says that code first is reported before code then.
type pair struct{ first, then string }

// drugOrder sequences the codes of the Table of Drugs and Chemicals
// beside the conditions documented with them (I.C.19.e.5): a poisoning
// before its manifestations, an adverse effect or underdosing after the
// condition it caused.
func (c *Coder) drugOrder(codes []merged) []pair {
	var pairs []pair
	for _, d := range codes {
		if d.drug == "" {
			continue
		}
		for _, o := range codes {
			if o.drug != "" || !slices.ContainsFunc(o.sents, func(s int) bool { return slices.Contains(d.sents, s) }) {
				continue
			}
			if r, _ := c.role(o.code.Code); r == roleExternal {
				continue
			}
			if poisoning(d.drug) {
				pairs = append(pairs, pair{d.code.Code, o.code.Code})
			} else {
				pairs = append(pairs, pair{o.code.Code, d.code.Code})
			}
		}
	}
	return pairs
}

// sequence puts first the diagnosis the guidelines make principal (or
// first-listed): conditions documented among the note's diagnoses, in
// the order listed there, then those of the chief complaint, then the
// other conditions, then symptoms (II.A), status and history codes (I.C.21),
// and external causes (I.C.20.a), each group in note order; then it moves each
// code a "code first" note of another names before it, and each code a
// "use additional code" note names after the code that asks for it.
func (c *Coder) sequence(codes []merged) []merged {
	// A code's rank, then where it is first documented: in the
	// diagnosis sections, their order (the principal diagnosis is
	// listed first); elsewhere, the note's.
	type key struct{ rank, pos int }
	keys := make(map[string]key, len(codes))
	for _, m := range codes {
		k := key{2, m.pos}
		switch r, _ := c.role(m.code.Code); r {
		case roleSymptom:
			k.rank = 3
		case roleFactor:
			k.rank = 4
		case roleExternal:
			k.rank = 5
		default:
			for _, e := range m.code.Evidence {
				rank := 2
				switch sec := note.SectionType(e.Section); {
				case principalSection[sec]:
					rank = 0
				case sec == note.ChiefComplaint:
					rank = 1
				}
				if rank < k.rank || rank == k.rank && rank < 2 && e.Start < k.pos {
					k = key{rank, e.Start}
				}
			}
		}
		keys[m.code.Code] = k
	}
	slices.SortStableFunc(codes, func(a, b merged) int {
		ka, kb := keys[a.code.Code], keys[b.code.Code]
		return cmp.Or(cmp.Compare(ka.rank, kb.rank), cmp.Compare(ka.pos, kb.pos))
	})
	var pairs []pair
	for i := range codes {
		a := codes[i].code.Code
		for _, kind := range []struct {
			get    func(*codesys.Notes) []string
			before bool
			name   string
		}{{codeFirst, true, "Code first"}, {useAdd, false, "Use additional code"}} {
			texts, from := c.notesOf(a, kind.get)
			for ti, t := range texts {
				for _, r := range c.parseRefs([]string{t}) {
					for j := range codes {
						b := codes[j].code.Code
						if j == i || !r.covers(b) {
							continue
						}
						if kind.before {
							pairs = append(pairs, pair{b, a})
						} else {
							pairs = append(pairs, pair{a, b})
						}
						codes[i].code.Trail = append(codes[i].code.Trail, coding.Step{Kind: coding.StepVerify, Ref: from[ti],
							Detail: fmt.Sprintf("%s at %s: %s; %s is coded", kind.name, from[ti], t, b)})
					}
				}
			}
		}
	}
	pairs = append(pairs, c.drugOrder(codes)...)
	for _, m := range codes {
		if m.after != "" {
			pairs = append(pairs, pair{m.after, m.code.Code})
		}
	}
	if len(pairs) == 0 {
		return codes
	}
	for pass := 0; pass < len(codes); pass++ {
		moved := false
		for _, p := range pairs {
			fi := slices.IndexFunc(codes, func(m merged) bool { return m.code.Code == p.first })
			ti := slices.IndexFunc(codes, func(m merged) bool { return m.code.Code == p.then })
			if fi > ti {
				m := codes[fi]
				codes = slices.Delete(codes, fi, fi+1)
				codes = slices.Insert(codes, ti, m)
				moved = true
			}
		}
		if !moved {
			break
		}
	}
	return codes
}
