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
		a.query(b, ev)
		return
	}
	title := ""
	if chk := a.c.tables.Validate(b.code); chk.Valid() {
		title = chk.Description
	}
	code := coding.Code{
		Code: b.code, System: codesys.ICD10PCS, Kind: coding.Procedure, Title: title,
		Evidence: ev, Assertion: as.String(), Trail: b.trail, Confidence: b.confidence,
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
	if i, ok := a.byCode[b.code]; ok {
		have := &a.codes[i]
		for _, e := range ev {
			if k := (evKey{b.code, e.Start, e.End}); !a.seen[k] {
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
	for _, e := range ev {
		a.seen[evKey{b.code, e.Start, e.End}] = true
	}
	a.byCode[b.code] = len(a.codes)
	a.codes = append(a.codes, code)
	a.sents = append(a.sents, []int{sentence})
}

func (a *aggregate) query(b *built, ev []coding.Evidence) {
	var about, question string
	switch {
	case b.missingTitle != "":
		about = strings.ToLower(b.missingTitle)
		question = fmt.Sprintf("%s not documented for %q (%s): %s?", b.missingTitle, b.mention.Text, a.describe(b.code), describeNext(b.missingNext))
	case len(b.missingSub) > 0:
		about = "index subterm"
		question = fmt.Sprintf("the note does not say which of these %q was: %s?", b.mention.Text, strings.Join(b.missingSub, "; "))
	default:
		return
	}
	key := b.code + "\x00" + about
	if i, ok := a.qKey[key]; ok {
		for _, e := range ev {
			if k := (evKey{"?" + key, e.Start, e.End}); !a.seen[k] {
				a.seen[k] = true
				a.queries[i].Evidence = append(a.queries[i].Evidence, e)
			}
		}
		return
	}
	for _, e := range ev {
		a.seen[evKey{"?" + key, e.Start, e.End}] = true
	}
	a.qKey[key] = len(a.queries)
	a.queries = append(a.queries, coding.Query{About: about, Question: question, Partial: b.code, Evidence: ev})
}

// describe names the characters of a partial code: "Medical and
// Surgical, Gastrointestinal System, Resection, Appendix".
func (a *aggregate) describe(partial string) string {
	chk := a.c.tables.Validate(partial)
	labels := make([]string, len(chk.Axes))
	for i, ax := range chk.Axes {
		labels[i] = ax.Label
	}
	return partial + ": " + strings.Join(labels, ", ")
}

// result applies the guidelines that look at the codes of the note
// together, and returns the result.
func (a *aggregate) result() *Result {
	// B3.11a: inspection done to achieve the objective of another
	// procedure on the same body system is not coded separately.
	var keep []coding.Code
	for i, cd := range a.codes {
		if integral := a.inspectionFor(i); integral != "" {
			cd.Reason = fmt.Sprintf("inspection integral to %s in the same sentence (ICD-10-PCS guideline B3.11a)", integral)
			cd.Trail = append(slices.Clone(cd.Trail), coding.Step{Kind: coding.StepGuideline, Detail: cd.Reason, Ref: "B3.11a"})
			a.dropped = append(a.dropped, cd)
			continue
		}
		keep = append(keep, cd)
	}
	return &Result{Codes: keep, Dropped: a.dropped, Queries: a.queries}
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
