package coder

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	packs "github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// The coder of a classification read as a list of classes (codesys.Classes:
// WHO ICD-10, ICD-10 UK, OPCS-4, a code list of one's own). Such a
// classification has no Alphabetic Index: its class titles and inclusion
// rubrics are the lexicon, read by the same matcher as the ICD-10-CM
// Tabular List's titles, and Assign walks its hierarchy as it walks the
// Tabular List.

// ClassCoder codes notes into one classification read as a list of
// classes, with the stages of the ICD-10-CM coder: Analyze and Assign are
// the Coder's own, over the classes seen as a Tabular List; Locate names
// the class title or inclusion rubric a mention matched; Verify applies
// the assertions and the classification's exclusion rubrics. It is safe
// for concurrent use.
type ClassCoder struct {
	c   *Coder
	rel *codesys.Release
	cls codesys.Classification
	// kind is what the classification's codes name: diagnoses, or
	// procedures when it is a classification of interventions.
	kind coding.Kind
	// pairs are the rows of the classification's exclusions pack, read
	// from pairsPack, when the rule packs have one.
	pairs     []pairRule
	pairsPack string
}

// NewClassCoder builds the coder of rel, a release of a classification
// read as a list of classes (rel.Classes), with the rule packs of set (nil:
// the embedded packs).
func NewClassCoder(rel *codesys.Release, set *packs.Set) (*ClassCoder, error) {
	return NewClassCoderWith(rel, ClassOptions{Rules: set})
}

// NewClassCoderWith builds the coder of rel, a release of a
// classification read as a list of classes (rel.Classes), with opts.
func NewClassCoderWith(rel *codesys.Release, opts ClassOptions) (*ClassCoder, error) {
	set := opts.Rules
	if rel == nil || rel.Classes == nil {
		return nil, fmt.Errorf("class coder: a release read as a list of classes (ClaML or a flat list) is required")
	}
	if set == nil {
		var err error
		if set, err = packs.Default(); err != nil {
			return nil, err
		}
	}
	for _, n := range []string{packWords, packVague, packSynonyms, packTerms, packChapters, packDefaults, packProcedures, packSpellings, packSubsidiary} {
		if _, _, err := packText(set, n); err != nil {
			return nil, err
		}
	}
	cls := rel.System.Classification()
	c := &Coder{ref: Reference{CM: rel}, parser: note.NewParser(), assert: assert.New(), rules: &rules{}, packs: set}
	sp, err := parseSpellings(c.pack(packSpellings))
	if err != nil {
		return nil, err
	}
	if c.wd, err = loadWording(set); err != nil {
		return nil, err
	}
	published := rel.Classes.Tabular()
	completeTitles(published, c.wd)
	c.tab = respelled(published, sp)
	tab := c.tab
	c.releases = []string{rel.ID()}
	k := &ClassCoder{c: c, rel: rel, cls: cls, kind: coding.Diagnosis}
	if cls.Procedures {
		k.kind = coding.Procedure
	}
	equiv, err := parseEquivalences(c.pack(packWords))
	if err != nil {
		return nil, err
	}
	_, vague := c.pack(packVague)
	c.lex = newLexicon(equiv, parseWordList(vague), c.wd)
	skip, err := k.skipper()
	if err != nil {
		return nil, err
	}
	// The titles as published and respelled: a note may use either
	// spelling. Entries with the same words are kept once.
	c.lex.addTabular(published, rel.ID(), skip)
	c.lex.addTabular(tab, rel.ID(), skip)
	k.addCoordinated(skip)
	if err := k.addTerms(skip); err != nil {
		return nil, err
	}
	if err := k.addIndex(opts.Index, skip); err != nil {
		return nil, err
	}
	if err := k.loadPairs(); err != nil {
		return nil, err
	}
	c.lex.finish()
	name, table := c.pack(packDefaults)
	if cls.Procedures {
		name, table = c.pack(packProcedures)
	}
	extra, err := parseSynonyms(name, table)
	if err != nil {
		return nil, err
	}
	if c.phrases, c.blocks, err = c.buildPhrases(extra...); err != nil {
		return nil, err
	}
	return k, nil
}

// addCoordinated adds, for a title that is two one-word conditions
// joined by "and" or "or" ("Nausea and vomiting", "Malaise and fatigue"),
// each word alone: the class is the code of either. The ICD-10-CM coder
// leaves one-word variants out, since its titles that coordinate more
// than two words rarely mean each alone, and its Index names the rest.
func (k *ClassCoder) addCoordinated(skip func(string) bool) {
	t := k.c.tab
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind < codesys.KindCategory || skip(n.Code) {
			continue
		}
		ws := normWords(dropBracketed(n.Title))
		if len(ws) != 3 || (ws[1].Norm != "and" && ws[1].Norm != "or") {
			continue
		}
		for _, w := range []textnorm.Word{ws[0], ws[2]} {
			k.c.lex.add(n.Code, k.c.lex.phraseWords(w.Norm), fromTitle, n.Title, k.rel.ID())
		}
	}
}

// completeTitles prefixes the title of its parent to a title that
// begins with a function word ("with", "without", "of") and shares no
// word with it, as flat lists write the subdivisions of a category
// ("E14.8 With unspecified complications" under "E14 Unspecified
// diabetes mellitus"): the class names the condition with its
// subdivision. A title that names a condition in words of its own
// ("Calculus of gallbladder" under "Cholelithiasis") is left alone, and
// so are the titles of the classes under a chapter or a block.
func completeTitles(t *codesys.Tabular, wd *wording) {
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Parent < 0 || t.Nodes[n.Parent].Kind < codesys.KindCategory {
			continue
		}
		ws := normWords(n.Title)
		if len(ws) == 0 || (!wd.stop[ws[0].Norm] && !wd.connect.absent[ws[0].Norm]) {
			continue
		}
		parent := t.Nodes[n.Parent].Title
		pw := wd.phraseWords(parent)
		if len(pw) > 0 && !slices.ContainsFunc(wd.phraseWords(n.Title), func(w string) bool { return slices.Contains(pw, w) }) {
			n.Title = parent + ", " + n.Title
		}
	}
}

// spelling is one fragment of the en/spellings pack.
type spelling struct {
	from, to   string
	start, end bool
}

// parseSpellings reads the en/spellings pack.
func parseSpellings(name, data string) ([]spelling, error) {
	var out []spelling
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 2 || f[0] == "" {
			return fmt.Errorf("want a fragment and its other spelling")
		}
		s := spelling{from: f[0], to: f[1]}
		s.from, s.start = strings.CutPrefix(s.from, "^")
		s.from, s.end = strings.CutSuffix(s.from, "$")
		out = append(out, s)
		return nil
	})
	return out, err
}

// respell returns text with each word written in the other spelling.
func respell(text string, sp []spelling) string {
	var b strings.Builder
	last := 0
	for _, w := range normWords(text) {
		word := text[w.Start:w.End]
		lower := strings.ToLower(word)
		out := lower
		for _, s := range sp {
			switch {
			case s.start && s.end:
				if out == s.from {
					out = s.to
				}
			case s.start:
				if rest, ok := strings.CutPrefix(out, s.from); ok {
					out = s.to + rest
				}
			case s.end:
				if rest, ok := strings.CutSuffix(out, s.from); ok {
					out = rest + s.to
				}
			default:
				out = strings.ReplaceAll(out, s.from, s.to)
			}
		}
		if out == lower {
			continue
		}
		b.WriteString(text[last:w.Start])
		b.WriteString(out)
		last = w.End
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// respelled returns a copy of t whose titles and inclusion terms are
// respelled (respell); t itself is left as published.
func respelled(t *codesys.Tabular, sp []spelling) *codesys.Tabular {
	out := &codesys.Tabular{Version: t.Version, Nodes: slices.Clone(t.Nodes)}
	for i := range out.Nodes {
		n := &out.Nodes[i]
		n.Title = respell(n.Title, sp)
		if len(n.Notes.InclusionTerms) > 0 {
			terms := make([]string, len(n.Notes.InclusionTerms))
			for j, s := range n.Notes.InclusionTerms {
				terms[j] = respell(s, sp)
			}
			n.Notes.InclusionTerms = terms
		}
	}
	out.Prepare()
	return out
}

// skipper returns the classes left out of the lexicon: those under the
// chapters of subsidiary codes (the opcs4/subsidiary pack), never coded alone, and in
// a classification of diagnoses those under the chapters whose role
// (chapters.tsv) is the external causes, which the ICD-10-CM coder keeps
// only beside an injury: "car" or "fall" alone is no code.
func (k *ClassCoder) skipper() (func(string) bool, error) {
	starts := parseLines(k.c.pack(packSubsidiary))
	label, chapters := k.c.pack(packChapters)
	err := tsvLines(label, chapters, func(_ int, f []string) error {
		if len(f) == 3 && chapterRoles()[f[0]] == roleExternal && !k.cls.Procedures {
			starts = append(starts, f[1])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	skip := map[string]bool{}
	t := k.c.tab
	// A flat list may keep "Chapter Z - " before the title.
	begins := func(title string) bool {
		title = strings.ToLower(title)
		return slices.ContainsFunc(starts, func(s string) bool { return strings.Contains(title, strings.ToLower(s)) })
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		for p := n; ; p = &t.Nodes[p.Parent] {
			if p.Kind == codesys.KindChapter && begins(p.Title) {
				skip[n.Code] = true
				break
			}
			if p.Parent < 0 {
				break
			}
		}
	}
	return func(code string) bool { return skip[code] }, nil
}

// addTerms adds the rows of the coder's term table (terms.tsv, keyed to
// ICD-10-CM codes) when the classification is of ICD-10-CM's family:
// each row names the class of its code, or the nearest class above it
// that the classification has (ICD-10-CM's extensions of a WHO category
// are read at that category), from which Assign walks down.
func (k *ClassCoder) addTerms(skip func(string) bool) error {
	if k.cls.Procedures || k.cls.Family() != codesys.ICD10CM.Classification().Family() {
		return nil
	}
	terms, err := parseTerms(k.c.pack(packTerms))
	if err != nil {
		return err
	}
	for _, t := range terms {
		cl := k.nearestClass(t.code)
		if cl == nil || skip(cl.Code) {
			continue
		}
		k.c.lex.add(cl.Code, k.c.lex.phraseWords(t.text), fromTerms, t.text, "terms.tsv")
	}
	return nil
}

// nearestClass returns the class of code, or of the longest beginning of
// it that is a category or below (three characters at least), or nil.
func (k *ClassCoder) nearestClass(code string) *codesys.Class {
	bare := strings.ReplaceAll(code, ".", "")
	for n := len(bare); n >= 3; n-- {
		if cl := k.rel.Classes.Class(bare[:n]); cl != nil && cl.Kind != "chapter" && cl.Kind != "block" {
			return cl
		}
	}
	return nil
}

// Releases returns the IDs of the releases the coder reads: the
// classification's, and the ICD-10-CM release whose Index it reads.
func (k *ClassCoder) Releases() []string { return k.c.Releases() }

// Warnings returns what building the coder noticed, such as rules of a
// pack that are not applied.
func (k *ClassCoder) Warnings() []string { return k.c.Warnings() }

// System returns the classification the coder codes into.
func (k *ClassCoder) System() codesys.System { return k.rel.System }

// Code codes one note. It implements coding.Reasoner; a request whose
// Systems leave out the coder's classification gets no codes.
func (k *ClassCoder) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	start := time.Now()
	setting := cmp.Or(req.Setting, coding.Inpatient)
	if sc, err := coding.ParseScope(string(req.Scope)); err != nil || sc != coding.Reportable {
		// The classes have no rules of their own to set aside, and a
		// code set reported as mentions must say so truthfully.
		return nil, fmt.Errorf("class coder %s: note %s: scope %q: only the reportable scope is coded in this classification", k.rel.ID(), cmp.Or(req.ID, "(unnamed)"), req.Scope)
	}
	res := &coding.Result{ID: req.ID, Reasoner: Name, Releases: k.Releases(), Setting: setting, Codes: []coding.Code{}}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !wants(req.Systems, k.rel.System) {
		return res, nil
	}
	n, err := k.c.parser.Parse(req.Text)
	if err != nil {
		return nil, fmt.Errorf("class coder %s: note %s: %w", k.rel.ID(), cmp.Or(req.ID, "(unnamed)"), err)
	}
	an := k.c.assert.Analyze(n)
	ms := k.c.analyze(n, an)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cands, queries := k.locate(n, ms)
	res.Queries = append(res.Queries, queries...)
	codes, dropped := k.verify(cands, setting)
	res.Codes = append(res.Codes, codes...)
	res.Dropped = append(res.Dropped, dropped...)
	res.Usage.Duration = time.Since(start)
	return res, nil
}

// classOrigin names where an entry of the lexicon comes from in the words
// of a classification read as classes.
func classOrigin(o origin) string {
	switch o {
	case fromInclusion:
		return "inclusion"
	case fromTerms:
		return "term table"
	}
	return "title"
}

// locate takes each mention to the class whose title or inclusion rubric
// it matched and walks down to a selectable class (Assign).
func (k *ClassCoder) locate(n *note.Note, ms []mention) ([]candidate, []coding.Query) {
	var out []candidate
	var queries []coding.Query
	for i := range ms {
		m := &ms[i]
		e := m.entry
		ev, trail := m.start()
		switch e.origin {
		case fromTerms:
			trail = append(trail, coding.Step{Kind: coding.StepIndex, Ref: e.code,
				Detail: fmt.Sprintf("Term table (%s): %q → %s", e.release, e.text, e.code)})
		case fromIndex, fromNeoplasm:
			trail = append(trail, coding.Step{Kind: coding.StepIndex, Ref: e.code, Detail: k.indexStep(e)})
		default:
			text := e.text
			if cl := k.rel.Classes.Class(e.code); cl != nil && e.origin != fromInclusion {
				// The title as published, not as respelled.
				text = cl.Title
			}
			trail = append(trail, coding.Step{Kind: coding.StepTabular, Ref: e.code,
				Detail: fmt.Sprintf("Classes %s: %s of %s %q", e.release, classOrigin(e.origin), e.code, text)})
		}
		code, steps, conf, q := k.c.assign(e.code, k.c.sentenceWords(n, m.sentence))
		if q == nil {
			if v := k.rel.Classes.Validate(code, k.cls); v.Status != codesys.Valid {
				q = &coding.Query{About: code, Partial: code, Question: fmt.Sprintf("%s: %s", code, v.Reason)}
			}
		}
		if q != nil {
			q.Evidence = []coding.Evidence{ev}
			queries = append(queries, *q)
			continue
		}
		trail = append(trail, steps...)
		v := k.rel.Classes.Validate(code, k.cls)
		trail = append(trail, coding.Step{Kind: coding.StepTabular, Ref: v.Code,
			Detail: fmt.Sprintf("Classes %s: %s %s is selectable", k.rel.ID(), v.Code, v.Title)})
		conf *= baseConfidence[e.origin]
		if len(e.words) == 1 && e.origin != fromTerms {
			conf -= 0.1
		}
		out = append(out, candidate{
			code: coding.Code{Code: v.Code, System: k.rel.System, Kind: k.kind, Title: v.Title,
				Evidence: []coding.Evidence{ev}, Assertion: assertionName(m.assertion), Trail: trail, Confidence: conf},
			assertion: m.assertion, pos: m.span.Start, words: len(m.tokens),
			sentence: n.Sentences[m.sentence].Text, sent: m.sentence,
		})
	}
	return out, queries
}

// verify applies the assertions and the setting as the ICD-10-CM coder
// does, merges the mentions of one code, drops an unspecified code
// beside a specific one of its category and a code documenting less than
// another of its category, and keeps one of two codes an exclusion rubric
// or the classification's exclusions pack sets apart.
func (k *ClassCoder) verify(cands []candidate, setting coding.Setting) ([]coding.Code, []coding.Code) {
	var dropped []coding.Code
	drop := func(x coding.Code, reason string) {
		x.Reason = reason
		dropped = append(dropped, x)
	}
	kept := cands[:0:0]
	for _, cd := range cands {
		reason, step := k.assertionRule(cd, setting)
		if reason != "" {
			drop(cd.code, reason)
			continue
		}
		if step != nil {
			cd.code.Trail = append(cd.code.Trail, *step)
			cd.code.Confidence *= 0.85
		}
		kept = append(kept, cd)
	}
	if setting == coding.Outpatient && !k.cls.Procedures {
		kept = k.c.addressed(kept, drop)
	}
	codes := merge(kept)
	codes = unspecifiedBeside(codes, drop)
	codes = k.c.lessDocumented(codes, drop)
	codes = k.unspecifiedKind(codes, drop)
	codes = k.exclusions(codes, drop)
	codes = k.cannotCodeWith(codes, drop)
	out := make([]coding.Code, len(codes))
	for i, m := range codes {
		m.code.Confidence = round2(m.code.Confidence)
		out[i] = m.code
	}
	slices.SortStableFunc(dropped, func(a, b coding.Code) int { return cmp.Compare(firstStart(a), firstStart(b)) })
	for i := range dropped {
		dropped[i].Confidence = round2(dropped[i].Confidence)
	}
	return out, dropped
}

// assertionRule decides a candidate by its assertion, with the policy of
// the ICD-10-CM coder: what is denied, hypothetical or someone else's is
// not coded; an uncertain diagnosis is coded inpatient and not
// outpatient; a condition documented as history is coded with lower
// confidence, since chronic conditions affect care. A procedure documented
// as history was done before the encounter and is not coded, as with
// ICD-10-PCS.
func (k *ClassCoder) assertionRule(cd candidate, setting coding.Setting) (string, *coding.Step) {
	a := cd.assertion
	switch {
	case a.Negation == assert.Negated && a.Resolved && !k.cls.Procedures:
		return "", &coding.Step{Kind: coding.StepGuideline,
			Detail: "Documented as resolved: the condition was present during the encounter and is coded; confidence lowered"}
	case a.Negation == assert.Negated:
		return "negated in the note: what is documented as absent or not done is not coded", nil
	case a.Experiencer == assert.Family:
		return "a family member's, not the patient's", nil
	case a.Experiencer == assert.Other:
		return "someone else's, not the patient's", nil
	case a.Temporality == assert.Hypothetical:
		return "hypothetical (a risk, an instruction or a plan), not documented as done or present", nil
	case a.Negation == assert.Possible && k.cls.Procedures:
		return "uncertain: a procedure is coded only when documented as done", nil
	case a.Negation == assert.Possible && setting == coding.Outpatient:
		return "uncertain diagnosis in an outpatient setting: not coded; code the signs and symptoms instead", nil
	case a.Negation == assert.Possible:
		return "", &coding.Step{Kind: coding.StepGuideline,
			Detail: "Uncertain diagnosis coded as if established: inpatient setting; confidence lowered"}
	case a.Temporality == assert.Historical && k.cls.Procedures:
		return "done before this encounter (history): not a procedure of the encounter", nil
	case a.Temporality == assert.Historical:
		return "", &coding.Step{Kind: coding.StepGuideline,
			Detail: "Documented as history: coded as a condition the patient still has (chronic conditions affect care); confidence lowered"}
	}
	return "", nil
}

// unspecifiedKind drops a code whose title says "unspecified" beside a
// code of another category of its block whose title has every word of its
// own: "Unspecified diabetes mellitus" beside "Type 2 diabetes mellitus",
// whose kind the note documents. unspecifiedBeside does the same within
// a category.
func (k *ClassCoder) unspecifiedKind(codes []merged, drop func(coding.Code, string)) []merged {
	// The titles as read, completed with their parents' (completeTitles).
	words := make(map[string]map[uint32]bool, len(codes))
	unspecified := map[string]bool{}
	for _, m := range codes {
		title := m.code.Title
		if n := k.c.tab.Node(m.code.Code); n != nil {
			title = n.Title
		}
		words[m.code.Code] = k.c.titleWords(title)
		unspecified[m.code.Code] = strings.Contains(strings.ToLower(title), "unspecified")
	}
	return dropBeside(codes, drop, func(m, o coding.Code) string {
		if !unspecified[m.Code] || unspecified[o.Code] {
			return ""
		}
		bm, bo := k.block(m.Code), k.block(o.Code)
		if bm == nil || bm != bo || len(words[m.Code]) == 0 {
			return ""
		}
		for w := range words[m.Code] {
			if !words[o.Code][w] {
				return ""
			}
		}
		return "unspecified code beside %s, which documents its kind"
	})
}

// block returns the class a code's category stands under (a block or a
// chapter), or nil.
func (k *ClassCoder) block(code string) *codesys.Class {
	cs := k.rel.Classes
	cl := cs.Class(code)
	for cl != nil && cl.Parent >= 0 {
		p := &cs.Classes[cl.Parent]
		if p.Kind == "chapter" || p.Kind == "block" {
			return p
		}
		cl = p
	}
	return nil
}

// exclusions keeps one of two coded classes when an exclusion rubric of
// one (its own, or a superclass's of a kind that applies below it) names
// the other or a class above it: the class the rubric names, unless the
// excluding one was matched on more words.
func (k *ClassCoder) exclusions(codes []merged, drop func(coding.Code, string)) []merged {
	gone := map[int]bool{}
	for i := range codes {
		if gone[i] {
			continue
		}
		entry := k.rel.Classes.Lookup(codes[i].code.Code, k.cls)
		for _, sr := range entry.Rubrics {
			for _, r := range sr.Rubrics {
				if r.Kind != "exclusion" {
					continue
				}
				for _, ref := range r.Refs {
					for j := range codes {
						if j == i || gone[i] || gone[j] || !k.under(codes[j].code.Code, ref) {
							continue
						}
						// The exclusion sends the condition to the class it
						// names, unless the excluding class was documented
						// in more words.
						loser, winner := i, j
						if codes[i].words > codes[j].words {
							loser, winner = j, i
						}
						gone[loser] = true
						drop(codes[loser].code, fmt.Sprintf("exclusion at %s: %q; %s kept", sr.From, r.Text, codes[winner].code.Code))
						codes[winner].code.Trail = append(codes[winner].code.Trail, coding.Step{Kind: coding.StepVerify, Ref: sr.From,
							Detail: fmt.Sprintf("Classes %s: exclusion at %s: %s; %s not coded with it", k.rel.ID(), sr.From, r.Text, codes[loser].code.Code)})
					}
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

// under reports whether code is the class ref names or one below it. A
// reference may name a class ("K75.0"), all of a category ("A00.-") or a
// range the classification has as a block ("A00-A09"); a range it does
// not have is read by its two ends.
func (k *ClassCoder) under(code, ref string) bool {
	ref = strings.TrimRight(strings.TrimSpace(ref), ".-")
	cl := k.rel.Classes.Class(code)
	if cl == nil {
		return false
	}
	if target := k.rel.Classes.Class(ref); target != nil {
		for p := cl; ; p = &k.rel.Classes.Classes[p.Parent] {
			if p == target {
				return true
			}
			if p.Parent < 0 {
				return false
			}
		}
	}
	lo, hi, ok := strings.Cut(ref, "-")
	if !ok {
		return false
	}
	c := strings.ReplaceAll(code, ".", "")
	lo, hi = strings.ReplaceAll(lo, ".", ""), strings.ReplaceAll(hi, ".", "")
	return c >= lo && (c <= hi || strings.HasPrefix(c, hi))
}
