package pcs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

// aggregate collects the codes, dropped codes and queries of one note,
// merging the mentions of one code.
type aggregate struct {
	c       *Coder
	codes   []coding.Code
	sents   [][]int // per code, the sentences that mention it
	byCode  map[string]int
	dropped []coding.Code
	dropKey map[string]bool
	queries []coding.Query
	qKey    map[string]int
	// seen holds the evidence already attached, per code or query key.
	seen map[evKey]bool
}

type evKey struct {
	key        string
	start, end int
}

func newAggregate(c *Coder) *aggregate {
	return &aggregate{c: c, byCode: make(map[string]int), dropKey: make(map[string]bool), qKey: make(map[string]int), seen: make(map[evKey]bool)}
}

func evidence(spans []note.Span, section string) []coding.Evidence {
	out := make([]coding.Evidence, len(spans))
	for i, s := range spans {
		out[i] = coding.Evidence{Start: s.Start, End: s.End, Text: s.Text, Section: section}
	}
	slices.SortStableFunc(out[1:], func(a, b coding.Evidence) int { return a.Start - b.Start })
	return out
}

// dropReason says why a procedure with assertion as is not coded, or "".
func dropReason(as assert.Assertion, opts Options) string {
	switch {
	case as.Negation == assert.Negated:
		return "negated: the note says the procedure was not done"
	case as.Negation == assert.Possible:
		return "uncertain: the note does not say the procedure was done"
	case as.Temporality == assert.Hypothetical:
		return "planned or hypothetical: not performed in this encounter"
	case as.Experiencer != assert.Patient:
		return "done to someone other than the patient"
	case as.Temporality == assert.Historical && !opts.Historical:
		return "historical: performed before this encounter"
	}
	return ""
}

func (a *aggregate) add(b *built, as assert.Assertion, sentence int) {
	reason := dropReason(as, a.c.opts)
	ev := evidence(b.evidence, b.section)
	if !b.complete {
		if reason != "" || len(b.code) < 3 {
			return
		}
		missing := a.query(b, ev)
		if len(b.code) < minIncomplete || missing == "" {
			return
		}
		code := coding.Code{
			Code: b.code, System: codesys.ICD10PCS, Kind: coding.Procedure, Title: a.labels(b.code),
			Evidence: ev, Assertion: as.Coding(), Confidence: b.confidence,
			Incomplete: true, Missing: missing,
		}
		code.Trail = append(slices.Clone(b.trail), coding.Step{Kind: coding.StepVerify, Ref: b.code,
			Detail: fmt.Sprintf("incomplete: the note documents %s up to character %d; %s is not documented, so the code is not reportable until the query is answered", b.code, len(b.code), missing)})
		a.addCode(code, sentence)
		return
	}
	title := ""
	if chk := a.c.tables.Validate(b.code); chk.Valid() {
		title = chk.Description
	}
	code := coding.Code{
		Code: b.code, System: codesys.ICD10PCS, Kind: coding.Procedure, Title: title,
		Evidence: ev, Assertion: as.Coding(), Trail: b.trail, Confidence: b.confidence,
	}
	if reason != "" {
		key := b.code + "\x00" + reason
		if !a.dropKey[key] {
			a.dropKey[key] = true
			code.Reason = reason
			a.dropped = append(a.dropped, code)
		}
		return
	}
	a.addCode(code, sentence)
}

// minIncomplete is the fewest characters an incomplete code is reported
// with: section, body system, root operation and body part, the first
// four characters CodiEsp's annotation gives an incomplete code. With
// fewer the procedure's site is unknown and only the query is reported.
const minIncomplete = 4

// addCode adds a code to the note's codes, merging it with an earlier
// mention of the same code (all evidence kept).
func (a *aggregate) addCode(code coding.Code, sentence int) {
	if i, ok := a.byCode[code.Code]; ok {
		have := &a.codes[i]
		for _, e := range code.Evidence {
			if k := (evKey{code.Code, e.Start, e.End}); !a.seen[k] {
				a.seen[k] = true
				have.Evidence = append(have.Evidence, e)
			}
		}
		have.Confidence = max(have.Confidence, code.Confidence)
		if !slices.Contains(a.sents[i], sentence) {
			a.sents[i] = append(a.sents[i], sentence)
		}
		return
	}
	for _, e := range code.Evidence {
		a.seen[evKey{code.Code, e.Start, e.End}] = true
	}
	a.byCode[code.Code] = len(a.codes)
	a.codes = append(a.codes, code)
	a.sents = append(a.sents, []int{sentence})
}

// query records what a partial code lacks as a query, and returns the
// name of what is missing ("" when nothing can be asked).
func (a *aggregate) query(b *built, ev []coding.Evidence) string {
	var about, missing, question string
	switch {
	case b.missingTitle != "":
		about, missing = strings.ToLower(b.missingTitle), b.missingTitle
		question = fmt.Sprintf("%s not documented for %q (%s): %s?", b.missingTitle, b.mention.Text, a.describe(b.code), describeNext(b.missingNext))
	case len(b.missingSub) > 0:
		about, missing = "index subterm", "Index subterm"
		question = fmt.Sprintf("the note does not say which of these %q was: %s?", b.mention.Text, strings.Join(b.missingSub, "; "))
	default:
		return ""
	}
	key := b.code + "\x00" + about
	if i, ok := a.qKey[key]; ok {
		for _, e := range ev {
			if k := (evKey{"?" + key, e.Start, e.End}); !a.seen[k] {
				a.seen[k] = true
				a.queries[i].Evidence = append(a.queries[i].Evidence, e)
			}
		}
		return missing
	}
	for _, e := range ev {
		a.seen[evKey{"?" + key, e.Start, e.End}] = true
	}
	a.qKey[key] = len(a.queries)
	a.queries = append(a.queries, coding.Query{About: about, Question: question, Partial: b.code, Evidence: ev})
	return missing
}

// describe names the characters of a partial code: "0DTJ: Medical and
// Surgical, Gastrointestinal System, Resection, Appendix".
func (a *aggregate) describe(partial string) string {
	return partial + ": " + a.labels(partial)
}

// labels joins the labels of the characters of a partial code.
func (a *aggregate) labels(partial string) string {
	chk := a.c.tables.Validate(partial)
	labels := make([]string, len(chk.Axes))
	for i, ax := range chk.Axes {
		labels[i] = ax.Label
	}
	return strings.Join(labels, ", ")
}

// result applies the guidelines that look at the codes of the note
// together, and returns the result.
func (a *aggregate) result() *Result {
	// B3.11a: inspection done to achieve the objective of another
	// procedure on the same body system is not coded separately.
	var keep, incomplete []coding.Code
	for i, cd := range a.codes {
		if integral := a.inspectionFor(i); integral != "" {
			cd.Reason = fmt.Sprintf("inspection integral to %s in the same sentence (ICD-10-PCS guideline B3.11a)", integral)
			cd.Trail = append(slices.Clone(cd.Trail), coding.Step{Kind: coding.StepGuideline, Detail: cd.Reason, Ref: "B3.11a"})
			a.dropped = append(a.dropped, cd)
			continue
		}
		if !cd.Incomplete {
			keep = append(keep, cd)
			continue
		}
		// An incomplete code that another mention completes is that
		// procedure, documented in full elsewhere in the note.
		if full := a.completedBy(cd.Code); full != "" {
			cd.Reason = fmt.Sprintf("incomplete code completed by %s, documented elsewhere in the note", full)
			a.dropped = append(a.dropped, cd)
			continue
		}
		incomplete = append(incomplete, cd)
	}
	// Reportable codes first, then the incomplete ones.
	return &Result{Codes: append(keep, incomplete...), Dropped: a.dropped, Queries: a.queries}
}

// completedBy returns a complete code of the note that begins with the
// incomplete code partial, or "".
func (a *aggregate) completedBy(partial string) string {
	for _, o := range a.codes {
		if !o.Incomplete && strings.HasPrefix(o.Code, partial) {
			return o.Code
		}
	}
	return ""
}

// inspectionFor returns the code that makes code i, an Inspection in the
// Medical and Surgical section, integral, or "".
func (a *aggregate) inspectionFor(i int) string {
	c := a.codes[i].Code
	if c[0] != '0' || c[2] != 'J' {
		return ""
	}
	for j, o := range a.codes {
		if j == i || o.Code[0] != '0' || o.Code[2] == 'J' || o.Code[1] != c[1] {
			continue
		}
		for _, s := range a.sents[i] {
			if slices.Contains(a.sents[j], s) {
				return o.Code
			}
		}
	}
	return ""
}
