package pcs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
)

// built is a procedure mention taken as far toward a code as the note
// allows.
type built struct {
	mention  note.Span
	section  string
	code     string // the code, or the partial code when incomplete
	complete bool
	// missingTitle and missingNext say, for a partial code, which axis the
	// note does not document and the values the table allows there.
	missingTitle string
	missingNext  []codesys.PCSValue
	// missingSub lists Index subterms none of which the note documents,
	// when the Index walk stopped before reaching a table.
	missingSub []string
	evidence   []note.Span
	trail      []coding.Step
	confidence float64
	diagnostic bool
}

func (b *built) step(k coding.StepKind, ref, format string, args ...any) {
	b.trail = append(b.trail, coding.Step{Kind: k, Detail: fmt.Sprintf(format, args...), Ref: ref})
}

func (b *built) addEvidence(spans ...note.Span) {
	for _, s := range spans {
		if !slices.ContainsFunc(b.evidence, func(o note.Span) bool { return o.Start == s.Start && o.End == s.End }) {
			b.evidence = append(b.evidence, s)
		}
	}
}

// build takes one procedure mention from the Index (or the term table) to
// a code, as far as the sentence documents it.
func (c *Coder) build(e entry, m *match, sc *sentCtx) *built {
	b := &built{mention: m.Span, confidence: 0.9, diagnostic: e.diagnose}
	b.addEvidence(m.Span)
	var prefix string
	if isCode(e.target) {
		prefix = e.target
		b.step(coding.StepMention, e.target, "procedure %q: term table gives %s", m.Text, e.target)
	} else {
		if c.index == nil || len(e.path) == 0 {
			return nil
		}
		path := e.path
		if e.term.ok {
			b.step(coding.StepMention, "", "procedure %q: Index main term %q", m.Text, e.term.title)
		} else {
			b.step(coding.StepMention, "", "procedure %q: term table sends to Index %q", m.Text, e.target)
		}
		w := walker{c: c, sc: sc, b: b}
		prefix = w.walk(slices.Clone(path), 0)
	}
	if prefix == "" {
		return nil
	}
	c.complete(b, prefix, sc)
	return b
}

// walker follows the Index from a term down to a code, partial code or
// table, choosing the subterms the sentence documents.
type walker struct {
	c *Coder
	// sc is the sentence, b the code being built.
	sc *sentCtx
	b  *built
}

const maxWalk = 8

func (w *walker) walk(path []*codesys.Term, depth int) string {
	t := path[len(path)-1]
	if depth > maxWalk {
		return ""
	}
	if child, spans := w.bestChild(t); child != nil {
		w.b.addEvidence(spans...)
		return w.walk(append(path, child), depth+1)
	}
	ref := codesys.PathString(path)
	switch {
	case t.Code != "":
		w.b.step(coding.StepIndex, t.Code, "Index: %s → %s", ref, t.Code)
		return t.Code
	case t.Codes != "":
		w.b.step(coding.StepIndex, t.Codes, "Index: %s → %s (partial code, complete in the table)", ref, t.Codes)
		return t.Codes
	case t.Tab != "":
		w.b.step(coding.StepIndex, t.Tab, "Index: %s → table %s", ref, t.Tab)
		return t.Tab
	case t.See != "":
		if strings.Contains(strings.ToLower(t.See), "qualifier diagnostic") {
			w.b.diagnostic = true
		}
		if t.SeeCodes != "" {
			w.b.step(coding.StepIndex, t.SeeCodes, "Index: %s → see %s %s", ref, t.See, t.SeeCodes)
			return t.SeeCodes
		}
		if t.SeeTab != "" {
			w.b.step(coding.StepIndex, t.SeeTab, "Index: %s → see %s, table %s", ref, t.See, t.SeeTab)
			return t.SeeTab
		}
		p, ok := w.c.resolve(t.See)
		if !ok {
			return ""
		}
		w.b.step(coding.StepIndex, "", "Index: %s → see %s", ref, t.See)
		return w.walk(slices.Clone(p), depth+1)
	case t.Use != "":
		return ""
	}
	var alts []*codesys.Term
	for _, s := range t.Terms {
		if s.Title == "" && (s.See != "" || s.Code != "" || s.Codes != "") {
			alts = append(alts, s)
		}
	}
	if len(alts) > 0 {
		return w.walk(append(path, w.pickAlt(ref, alts)), depth+1)
	}
	for _, s := range t.Terms {
		if s.Title != "" {
			w.b.missingSub = append(w.b.missingSub, s.Title)
		}
	}
	p := commonPrefix(t)
	if p != "" {
		w.b.step(coding.StepIndex, p, "Index: %s: the note documents none of its subterms; their codes share %s", ref, p)
	}
	return p
}

// bestChild returns the titled subterm of t whose words the sentence
// documents, preferring the most words and then the mention nearest the
// procedure.
func (w *walker) bestChild(t *codesys.Term) (*codesys.Term, []note.Span) {
	var best *codesys.Term
	var bestSpans []note.Span
	bw, bd := 0, 0
	for _, s := range t.Terms {
		if s.Title == "" {
			continue
		}
		spans, words, dist, ok := w.sc.cover(s.Title, w.b.mention)
		if !ok {
			continue
		}
		if best == nil || words > bw || words == bw && dist < bd {
			best, bestSpans, bw, bd = s, spans, words, dist
		}
	}
	return best, bestSpans
}

// pickAlt chooses among the untitled subterms of an Index entry, which
// name alternative root operations ("Appendectomy: see Excision, Appendix;
// see Resection, Appendix").
func (w *walker) pickAlt(ref string, alts []*codesys.Term) *codesys.Term {
	op := func(t *codesys.Term) string {
		s := t.See
		if i := strings.IndexAny(s, ","); i >= 0 {
			s = s[:i]
		}
		if i := strings.Index(s, " with "); i >= 0 {
			s = s[:i]
		}
		return strings.TrimSpace(s)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	// A word of the sentence chooses the operation ("partial" →
	// Excision); the nearest such word wins.
	var pick *codesys.Term
	bd := -1
	for _, p := range w.sc.prefer {
		for _, a := range alts {
			if strings.EqualFold(op(a), p.label) {
				if d := distance(p.span, w.b.mention); bd < 0 || d < bd {
					pick, bd = a, d
					w.b.addEvidence(p.span)
				}
			}
		}
	}
	if pick != nil {
		w.b.step(coding.StepGuideline, "", "Index: %s offers %s; the note says %s", ref, altNames(alts, op), op(pick))
		return pick
	}
	if w.b.diagnostic {
		for _, a := range alts {
			if op(a) == "Excision" {
				w.b.step(coding.StepGuideline, "B3.4a", "Index: %s offers %s; a biopsy that removes tissue is Excision with qualifier Diagnostic", ref, altNames(alts, op))
				return a
			}
		}
	}
	// The coder's order (icd10pcs/order): an "-ectomy" names the removal
	// of the organ (Resection) unless the note says partial.
	for _, o := range w.c.order {
		for _, a := range alts {
			if op(a) == o {
				w.b.confidence = min(w.b.confidence, 0.7)
				w.b.step(coding.StepGuideline, "", "Index: %s offers %s; nothing in the note chooses, so %s (whole body part unless documented as partial)", ref, altNames(alts, op), o)
				return a
			}
		}
	}
	w.b.confidence = min(w.b.confidence, 0.5)
	w.b.step(coding.StepGuideline, "", "Index: %s offers %s; nothing in the note chooses, first taken", ref, altNames(alts, op))
	return alts[0]
}

func altNames(alts []*codesys.Term, op func(*codesys.Term) string) string {
	var names []string
	for _, a := range alts {
		if n := op(a); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// commonPrefix returns the longest prefix shared by every code, partial
// code and table the subterms of t lead to.
func commonPrefix(t *codesys.Term) string {
	var p string
	first := true
	var visit func(t *codesys.Term, depth int)
	visit = func(t *codesys.Term, depth int) {
		if depth > maxWalk {
			return
		}
		for _, c := range []string{t.Code, t.Codes, t.Tab, t.SeeCodes, t.SeeTab} {
			if c == "" {
				continue
			}
			if first {
				p, first = c, false
				continue
			}
			n := 0
			for n < len(p) && n < len(c) && p[n] == c[n] {
				n++
			}
			p = p[:n]
		}
		for _, s := range t.Terms {
			visit(s, depth+1)
		}
	}
	for _, s := range t.Terms {
		visit(s, 0)
	}
	return p
}

// axisKind says which documented values fill an axis, from its title.
func axisKind(title string) (kind, bool) {
	t := strings.ToLower(title)
	switch {
	case strings.Contains(t, "approach"):
		return kindApproach, true
	case strings.Contains(t, "device"):
		return kindDevice, true
	case strings.Contains(t, "contrast"):
		return kindContrast, true
	case strings.Contains(t, "qualifier"):
		return kindQualifier, true
	}
	return 0, false
}

// complete fills the characters after prefix one at a time, each from the
// values the table allows given the characters before it.
func (c *Coder) complete(b *built, prefix string, sc *sentCtx) {
	code := prefix
	for len(code) < 7 {
		chk := c.tables.Validate(code)
		if chk.Problem != codesys.PCSIncomplete {
			if !chk.Valid() {
				b.step(coding.StepVerify, code, "not in the tables: %s", chk.Reason)
				b.code = ""
				return
			}
			break
		}
		v, ok := c.choose(b, code, chk.Pos, chk.NextTitle, chk.Next, sc)
		if !ok {
			b.code, b.missingTitle, b.missingNext = code, chk.NextTitle, chk.Next
			return
		}
		code += string(v)
	}
	chk := c.tables.Validate(code)
	if !chk.Valid() {
		b.step(coding.StepVerify, code, "not in the tables: %s", chk.Reason)
		b.code = ""
		return
	}
	b.code, b.complete = code, true
	b.step(coding.StepVerify, code, "table %s: %s is a valid code", code[:3], code)
}

// choose picks the value of the axis at pos among next, from what the
// sentence documents, or from the defaults the guidelines allow.
func (c *Coder) choose(b *built, code string, pos int, title string, next []codesys.PCSValue, sc *sentCtx) (byte, bool) {
	if len(next) == 1 {
		b.step(coding.StepSpecify, "", "character %d (%s): %c %s, the only value the table allows here", pos, title, next[0].Code, next[0].Label)
		return next[0].Code, true
	}
	k, typed := axisKind(title)
	// A value a phrase of the sentence names, nearest to the mention.
	if typed {
		docs := sc.vals[k]
		if k == kindQualifier && b.diagnostic {
			docs = append(slices.Clone(docs), docValue{label: "Diagnostic", span: b.mention})
		}
		var best *docValue
		var bv codesys.PCSValue
		bd := -1
		for i := range docs {
			d := &docs[i]
			for _, v := range next {
				if strings.EqualFold(v.Label, d.label) {
					if dd := distance(d.span, b.mention); bd < 0 || dd < bd {
						best, bv, bd = d, v, dd
					}
				}
			}
		}
		if best != nil {
			b.addEvidence(best.span)
			b.step(coding.StepSpecify, "", "character %d (%s): %c %s, documented by %q", pos, title, bv.Code, bv.Label, best.span.Text)
			return bv.Code, true
		}
	}
	// A value whose label's words the sentence documents ("Kidney, Left",
	// "Transesophageal").
	if k != kindApproach {
		var bv codesys.PCSValue
		var bspans []note.Span
		bw, bd, found := 0, 0, false
		for _, v := range next {
			if v.Code == 'Z' || strings.HasPrefix(v.Label, "No ") || v.Label == "None" {
				continue
			}
			spans, words, dist, ok := sc.cover(v.Label, b.mention)
			if !ok {
				continue
			}
			if !found || words > bw || words == bw && dist < bd {
				bv, bspans, bw, bd, found = v, spans, words, dist, true
			}
		}
		if found {
			b.addEvidence(bspans...)
			b.step(coding.StepSpecify, "", "character %d (%s): %c %s, documented by %s", pos, title, bv.Code, bv.Label, quoteSpans(bspans))
			return bv.Code, true
		}
	}
	// Nothing documented: the default the term table gives for this axis
	// of this root operation or type ("no contrast" for ultrasound).
	if len(code) >= 3 {
		op := c.tables.Validate(code[:3])
		if len(op.Axes) == 3 {
			if lbl, ok := c.defaults[strings.ToLower(op.Axes[2].Label+"\x00"+title)]; ok {
				for _, v := range next {
					if strings.EqualFold(v.Label, lbl) {
						b.step(coding.StepGuideline, "", "character %d (%s): none documented; %c %s is the default for %s", pos, title, v.Code, v.Label, op.Axes[2].Label)
						return v.Code, true
					}
				}
			}
		}
	}
	// Nothing documented: a device is coded only when one remains after
	// the procedure, and a qualifier only when documented.
	if typed && (k == kindDevice || k == kindQualifier) {
		for _, v := range next {
			if v.Code == 'Z' {
				b.step(coding.StepGuideline, "", "character %d (%s): none documented, so %c %s", pos, title, v.Code, v.Label)
				return 'Z', true
			}
		}
	}
	return 0, false
}

func quoteSpans(ss []note.Span) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s.Text)
	}
	return strings.Join(q, ", ")
}

// describeNext renders allowed values as "Open (0), Percutaneous (3)".
func describeNext(next []codesys.PCSValue) string {
	parts := make([]string, len(next))
	for i, v := range next {
		parts[i] = fmt.Sprintf("%s (%c)", v.Label, v.Code)
	}
	return strings.Join(parts, ", ")
}
