// Package coder is medcode's offline coder: the default coding.Reasoner,
// which codes a clinical note into ICD-10-CM the way a human coder does,
// deterministically, with no model and no network.
//
// Coding runs in four stages, each in its own file:
//
//   - Analyze (analyze.go) finds the codable mentions of the note: its
//     words, and the words its abbreviations and lay phrases stand for, are
//     matched against a lexicon of the classification's own terms (Tabular
//     List titles, inclusion terms, includes notes, the Alphabetic Index
//     when the release has it, the Tables of Neoplasms and of Drugs and
//     Chemicals) and the coder's term
//     tables, word order free, within a window; each mention gets its
//     assertion (negated, possible, historical, family) and section.
//   - Locate (locate.go) takes each mention to the entry of the
//     classification it names, with the path that led there.
//   - Assign (locate.go) opens the Tabular List at that entry and chooses
//     the most specific valid code the sentence supports (laterality,
//     type, 7th character), else the unspecified code.
//   - Verify (verify.go) applies the conventions and guidelines: assertions
//     and the encounter setting, excludes1 pairs, manifestation codes,
//     code-first and use-additional sequencing, symptoms integral to a
//     confirmed diagnosis, and the presumed links of hypertension and
//     diabetes.
//
// The rules the stages use are data: the rule packs of internal/rules
// (word equivalences, lay phrases, terms, integral symptoms, presumed
// links, code groups), embedded in the binary and overridable by the
// user's own. docs/coder.md describes the coder in full.
package coder

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/medcode-dev/medcode/internal/coder/pcs"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/abbrev"
	"github.com/medcode-dev/medcode/internal/note/assert"
	packs "github.com/medcode-dev/medcode/internal/rules"
)

// Name is the reasoner's name in results.
const Name = "offline"

// Reference is what the coder reads. CM is the ICD-10-CM release whose
// Tabular List every code is chosen from and validated against. Tables, if
// set, is another ICD-10-CM release lending the parts CM lacks (Alphabetic
// Index, Table of Neoplasms): a release that has them but whose Tabular
// List is not the one to code with. PCS, if set, is the ICD-10-PCS release
// procedures are coded with.
type Reference struct {
	CM     *codesys.Release
	Tables *codesys.Release
	PCS    *codesys.Release
	// Lexicon, if set, stands for the parts of CM and Tables that only
	// the lexicon is built from (the indexes and the Table of Neoplasms),
	// which they may then lack: CM needs only its Tabular List and Tables
	// none of its parts when the lexicon is in Options.Cache.
	Lexicon *LexiconSource
}

// LexiconSource lets a coder be built from releases opened without the
// parts its lexicon is built from: opening them costs more than reading
// the lexicon from the cache.
type LexiconSource struct {
	// Key identifies the content of the releases the lexicon is built
	// from; it must change whenever that content does.
	Key string
	// Open returns the releases with every part, for New to build the
	// lexicon from when the cache does not hold it.
	Open func() (cm, tables *codesys.Release, err error)
}

// ProcedureCoder codes the procedures of a parsed note; the ICD-10-PCS
// coder (internal/coder/pcs) implements it.
type ProcedureCoder interface {
	Code(ctx context.Context, n *note.Note, an *assert.Analysis) (*pcs.Result, error)
}

// Options configure a Coder.
type Options struct {
	// Procedures, if set, codes procedures in ICD-10-PCS; when nil and
	// Reference.PCS has the tables, the built-in ICD-10-PCS coder is used.
	Procedures ProcedureCoder
	// Cache, if set, keeps the lexicon built from the reference set
	// between runs (most of what New does).
	Cache Cache
	// Rules are the rule packs the coder reads; nil stands for the
	// embedded packs alone (rules.Default).
	Rules *packs.Set
	// Guidelines are the installed Official Guidelines the trail quotes
	// (guidelines.Load); nil when none are installed, and the guideline
	// steps then cite the built-in summaries of icd10cm/guidelines.
	Guidelines *guidelines.Document
}

// Coder is the offline coder. It is built once (New) and is safe for
// concurrent use.
type Coder struct {
	ref      Reference
	tab      *codesys.Tabular
	releases []string
	lex      *lexicon
	phrases  map[uint32][]*phrase
	// blocks are the phrases that name no condition ("stress test"),
	// whose tokens are left out of matching.
	blocks map[uint32][]*phrase
	// ambiguous are the clinical abbreviations with more than one common
	// sense, as written ("PCP": primary care provider or phencyclidine),
	// which alone name no code.
	ambiguous map[string]bool
	// family are the Alphabetic Index's family history entries.
	family []familyEntry
	// familyCodes are the family history codes whose inclusion terms
	// name code ranges, read from the Tabular List on first use.
	familyOnce  sync.Once
	familyCodes []familyCode
	// suffixes are the word endings that name a condition (suffixes.txt).
	suffixes []string
	// sides are the words of the sides of the body (en/sides).
	sides sides
	// cached says the lexicon was read from the cache, not built.
	cached bool
	// encounter are the title beginnings of codes that state a reason
	// for the encounter (encounter.txt).
	encounter []string
	// drugCues are the words that say how a substance was involved
	// (drugs.tsv).
	drugCues []drugCue
	// wd is the wording of the language: stop words, lettered kinds and
	// denying words.
	wd *wording
	// packs are the rule packs the coder was built with.
	packs  *packs.Set
	parser *note.Parser
	assert *assert.Classifier
	rules  *rules
	// guides are the guideline rules the steps cite (icd10cm/guidelines),
	// resolved against the installed guidelines.
	guides   *packs.Guidelines
	proc     ProcedureCoder
	warnings []string
}

// New builds a coder over ref: the lexicon, the phrase tables and the
// rules, once.
func New(ref Reference, opts Options) (*Coder, error) {
	if ref.CM == nil || ref.CM.Tabular == nil {
		return nil, fmt.Errorf("offline coder: an ICD-10-CM release with the Tabular List is required")
	}
	c := &Coder{
		ref:    ref,
		tab:    ref.CM.Tabular,
		parser: note.NewParser(),
		assert: assert.New(),
		proc:   opts.Procedures,
	}
	c.releases = append(c.releases, ref.CM.ID())
	tables := ref.Tables
	if tables != nil && tables != ref.CM {
		c.releases = append(c.releases, tables.ID())
	}
	set := opts.Rules
	if set == nil {
		var err error
		if set, err = packs.Default(); err != nil {
			return nil, err
		}
	}
	c.packs = set
	if c.proc == nil && ref.PCS != nil && ref.PCS.PCS != nil {
		p, err := pcs.New(ref.PCS, pcs.Options{Rules: set})
		if err != nil {
			return nil, err
		}
		c.proc = p
	}
	if ref.PCS != nil && c.proc != nil {
		c.releases = append(c.releases, ref.PCS.ID())
	}
	wd, err := loadWording(set)
	if err != nil {
		return nil, err
	}
	c.wd = wd
	// One policy for every pack: a rule naming what the release lacks is
	// a warning, and is not applied when it would emit that code.
	check := set.Check(ref.CM)
	c.warnings = append(c.warnings, check.Warnings()...)
	for _, n := range append(lexiconPacks(), packDrugs, packSides, packConnect) {
		if _, _, err := packText(set, n); err != nil {
			return nil, err
		}
	}
	c.encounter = parseLines(c.pack(packEncounter))
	c.suffixes = parseLines(c.pack(packSuffixes))
	drugCues, err := parseDrugCues(c.pack(packDrugs))
	if err != nil {
		return nil, err
	}
	c.drugCues = drugCues
	terms, err := parseTerms(c.pack(packTerms))
	if err != nil {
		return nil, err
	}
	var valid []term
	for _, t := range terms {
		if !check.Unused(packTerms, t.line) {
			valid = append(valid, t)
		}
	}
	if c.rules, err = loadRules(set, c.tab, check); err != nil {
		return nil, err
	}
	if c.guides, err = set.Guidelines(opts.Guidelines); err != nil {
		return nil, err
	}
	c.warnings = append(c.warnings, c.guides.Warnings()...)
	// The presumed links cite their sections themselves: those the
	// installed guidelines lack are flagged too.
	cited := map[string]bool{}
	for _, l := range c.rules.links {
		sec, _, _ := strings.Cut(l.guideline, " ")
		if cited[sec] {
			continue
		}
		cited[sec] = true
		if f := c.guides.Section(sec, "").Flag; f != "" {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: %s; the links citing it are applied, flagged in the trail", packLinks, f))
		}
	}
	var key string
	if opts.Cache != nil {
		key = cacheKey(ref, set)
	}
	if !c.cachedLexicon(opts.Cache, key) {
		build := ref
		if ref.Lexicon != nil {
			var err error
			if build.CM, build.Tables, err = ref.Lexicon.Open(); err != nil {
				return nil, err
			}
		}
		if err := c.buildLexicon(build, valid); err != nil {
			return nil, err
		}
		c.storeLexicon(opts.Cache, key)
	}
	label, sidesText := c.pack(packSides)
	if c.sides, err = parseSides(label, sidesText, c.lex); err != nil {
		return nil, err
	}
	if c.phrases, c.blocks, err = c.buildPhrases(); err != nil {
		return nil, err
	}
	return c, nil
}

// buildLexicon builds the lexicon from the Tabular List, the indexes and
// the Table of Neoplasms of ref (CM's own when it has them, else those of
// the tables release) and the valid rows of terms.tsv, and reads the
// family history entries of the Index.
func (c *Coder) buildLexicon(ref Reference, terms []term) error {
	equiv, err := parseEquivalences(c.pack(packWords))
	if err != nil {
		return err
	}
	_, vague := c.pack(packVague)
	c.lex = newLexicon(equiv, parseWordList(vague), c.wd)
	c.lex.addTabular(c.tab, ref.CM.ID(), c.skipCode)
	optional := map[string]bool{}
	for _, w := range parseLines(c.pack(packOptional)) {
		optional[strings.ToLower(w)] = true
	}
	reading := func(skip func(string) bool) *indexReading {
		return &indexReading{skip: skip, agrees: c.titleNames, optional: optional, resolved: map[string][]*codesys.Term{}}
	}
	if ix, id := partOf(ref.CM, ref.Tables, func(r *codesys.Release) *codesys.Index { return r.Index }); ix != nil {
		c.lex.addIndex(ix, id, reading(c.skipIndexCode))
		c.family = c.familyEntries(ix, id)
	}
	if ix, id := partOf(ref.CM, ref.Tables, func(r *codesys.Release) *codesys.Index { return r.External }); ix != nil {
		// The External Cause Index names the codes skipCode leaves out
		// of the Tabular List's words: read it whole; Verify keeps its
		// codes only beside an injury.
		c.lex.addIndex(ix, id, reading(c.skipExternalCode))
	}
	if ix, id := partOf(ref.CM, ref.Tables, func(r *codesys.Release) *codesys.Index { return r.Neoplasm }); ix != nil {
		c.lex.addNeoplasmTable(ix, id)
	}
	if ix, id := partOf(ref.CM, ref.Tables, func(r *codesys.Release) *codesys.Index { return r.Drug }); ix != nil {
		c.lex.addDrugTable(ix, id)
	}
	for _, t := range terms {
		c.lex.add(t.code, c.lex.phraseWords(t.text), fromTerms, t.text, "terms.tsv")
	}
	c.lex.finish()
	return nil
}

// cachedLexicon reads the lexicon kept in cache under key, reporting
// whether it did; a cache that fails is reported among the warnings, and
// the lexicon is built instead.
func (c *Coder) cachedLexicon(cache Cache, key string) bool {
	if cache == nil {
		return false
	}
	data, err := cache.Load(key)
	if err == nil && data == nil {
		return false
	}
	if err == nil {
		c.lex, c.family, err = decodeLexicon(data)
	}
	if err == nil {
		c.lex.wd = c.wd
	}
	if err != nil {
		c.lex, c.family = nil, nil
		c.warnings = append(c.warnings, fmt.Sprintf("lexicon cache %s: %v (rebuilt)", key, err))
		return false
	}
	c.cached = true
	return true
}

// storeLexicon keeps the lexicon just built in cache under key.
func (c *Coder) storeLexicon(cache Cache, key string) {
	if cache == nil {
		return
	}
	data, err := encodeLexicon(c.lex, c.family)
	if err == nil {
		err = cache.Store(key, data)
	}
	if err != nil {
		c.warnings = append(c.warnings, fmt.Sprintf("lexicon cache %s: %v (not kept)", key, err))
	}
}

// partOf returns the part get reads from cm, else from tables, with the ID
// of the release it came from.
func partOf(cm, tables *codesys.Release, get func(*codesys.Release) *codesys.Index) (*codesys.Index, string) {
	if ix := get(cm); ix != nil {
		return ix, cm.ID()
	}
	if tables != nil {
		if ix := get(tables); ix != nil {
			return ix, tables.ID()
		}
	}
	return nil, ""
}

// skipIndexCode leaves out of the Alphabetic Index's entries the codes
// skipCode leaves out and the reasons for an encounter (encounter.txt):
// the index names them by words a note uses for other things
// ("examination", "observation", "test").
func (c *Coder) skipIndexCode(code string) bool {
	if c.skipCode(code) {
		return true
	}
	n := c.tab.Node(code)
	for n != nil {
		for _, p := range c.encounter {
			if len(n.Title) >= len(p) && strings.EqualFold(n.Title[:len(p)], p) {
				return true
			}
		}
		if n.Parent < 0 {
			break
		}
		n = &c.tab.Nodes[n.Parent]
	}
	return false
}

// titleNames reports whether word names code by itself: a word with the
// ending of a condition (suffixes.txt), or one that the Tabular List's
// title or an inclusion term of code contains in some form (sameForm).
func (c *Coder) titleNames(code, word string) bool {
	for _, suf := range c.suffixes {
		if len(word) > len(suf)+2 && strings.HasSuffix(word, suf) {
			return true
		}
	}
	n := c.tab.Node(code)
	if n == nil {
		return false
	}
	for _, s := range append([]string{n.Title}, n.Notes.InclusionTerms...) {
		for _, w := range normWords(s) {
			if sameForm(w.Norm, word) {
				return true
			}
		}
	}
	return false
}

// skipExternalCode leaves out of the External Cause Index's entries the
// codes that are not external causes (its cross-references into the
// Alphabetic Index's conditions).
func (c *Coder) skipExternalCode(code string) bool {
	return !c.skipCode(code)
}

// skipCode leaves out of the lexicon the parts of the classification a
// note's words name only by accident (the group lexicon-skip of
// icd10cm/groups): the external causes, coded from the External Cause
// Index, not from words such as "car" or "fall" alone, the codes for
// special purposes, and the donor encounters.
func (c *Coder) skipCode(code string) bool {
	return c.rules.groups.noLexis.Holds(code)
}

// pack returns the text of a pack New found in the coder's set, and the
// name it is reported by.
func (c *Coder) pack(name string) (label, text string) {
	p := c.packs.Pack(name)
	return p.Label(), p.Text
}

// buildPhrases compiles the lay phrases of synonyms.tsv and the
// unambiguous abbreviations of the clinical abbreviation table, and apart
// from them the phrases that name no condition (a right side of "-"), each
// keyed by its first word. extra are further phrases of the same form,
// read after those of synonyms.tsv.
func (c *Coder) buildPhrases(extra ...[2]string) (phrases, blocks map[uint32][]*phrase, err error) {
	syn, err := parseSynonyms(c.pack(packSynonyms))
	if err != nil {
		return nil, nil, err
	}
	syn = append(syn, extra...)
	out, blocks := map[uint32][]*phrase{}, map[uint32][]*phrase{}
	tok := note.NewTokenizer()
	add := func(from, to string, exact bool) {
		var words []uint32
		var forms []string
		for _, t := range tok.Tokenize(from) {
			if t.Kind == note.Punct {
				continue
			}
			id, _ := c.lex.stemID(stemOf(t.Norm, t.Stem), true)
			words = append(words, id)
			forms = append(forms, t.Norm)
		}
		if len(words) == 0 {
			return
		}
		p := &phrase{words: words, text: to}
		if exact {
			p.exact = forms
		}
		if to == "-" {
			blocks[words[0]] = append(blocks[words[0]], p)
			return
		}
		var stands []uint32
		// A hyphenated compound of an expansion is one word: the "high"
		// of "high-density lipoprotein" (HDL) is not "elevated".
		for _, s := range c.wd.phraseWords(compound(to)) {
			id, _ := c.lex.stemID(s, true)
			stands = append(stands, id)
		}
		if len(stands) == 0 {
			return
		}
		p.stands = stands
		out[words[0]] = append(out[words[0]], p)
	}
	for _, s := range syn {
		add(s[0], s[1], false)
	}
	abbrevs, err := abbrev.Load(c.packs)
	if err != nil {
		return nil, nil, err
	}
	c.ambiguous = map[string]bool{}
	for _, e := range abbrevs.Entries() {
		if e.Ambiguous {
			c.ambiguous[e.Abbr] = true
		}
		if e.Ambiguous || e.CaseSensitive || len(e.Expansions) == 0 {
			continue
		}
		add(e.Abbr, e.Expansions[0], true)
	}
	for k, ps := range out {
		// Longest phrase first, then by text, for determinism.
		slices.SortStableFunc(ps, func(a, b *phrase) int {
			if c := cmp.Compare(len(b.words), len(a.words)); c != 0 {
				return c
			}
			return strings.Compare(a.text, b.text)
		})
		out[k] = ps
	}
	return out, blocks, nil
}

// compound joins the words of hyphenated compounds ("high-density" reads
// as "highdensity").
func compound(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r == '-' && i > 0 && i+1 < len(s) && s[i-1] != ' ' && s[i+1] != ' ' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Releases returns the IDs of the releases the coder reads.
func (c *Coder) Releases() []string { return slices.Clone(c.releases) }

// guideStep is a step of the guideline rule id (icd10cm/guidelines):
// detail is what the coder did, the citation what the rule rests on.
func (c *Coder) guideStep(kind coding.StepKind, id, detail string) coding.Step {
	return citeStep(kind, c.guides.Rule(id), detail)
}

// guideRef is the section the rule id cites.
func (c *Coder) guideRef(id string) string { return c.guides.Rule(id).Section }

func citeStep(kind coding.StepKind, ct packs.Citation, detail string) coding.Step {
	return coding.Step{Kind: kind, Ref: ct.Section, Detail: detail + ct.Note(), Year: ct.Year, Quote: ct.Quote}
}

// Warnings returns what building the coder noticed, such as term table
// codes the release lacks.
func (c *Coder) Warnings() []string { return slices.Clone(c.warnings) }

// Code codes one note. It implements coding.Reasoner.
func (c *Coder) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	start := time.Now()
	setting := req.Setting
	if setting == "" {
		setting = coding.Inpatient
	}
	scope, err := coding.ParseScope(string(req.Scope))
	if err != nil {
		return nil, fmt.Errorf("offline coder: note %s: %w", cmp.Or(req.ID, "(unnamed)"), err)
	}
	res := &coding.Result{ID: req.ID, Reasoner: Name, Releases: c.Releases(), Setting: setting, Codes: []coding.Code{}}
	if scope != coding.Reportable {
		res.Scope = scope
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	n, err := c.parser.Parse(req.Text)
	if err != nil {
		return nil, fmt.Errorf("offline coder: note %s: %w", cmp.Or(req.ID, "(unnamed)"), err)
	}
	an := c.assert.Analyze(n)
	if wants(req.Systems, codesys.ICD10CM) {
		ms := c.analyze(n, an)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cands, queries := c.locate(n, ms)
		res.Queries = append(res.Queries, queries...)
		codes, dropped := c.verify(cands, setting, scope)
		res.Codes = append(res.Codes, codes...)
		res.Dropped = append(res.Dropped, dropped...)
	}
	if c.proc != nil && wants(req.Systems, codesys.ICD10PCS) {
		pr, err := c.proc.Code(ctx, n, an)
		if err != nil {
			return nil, fmt.Errorf("offline coder: note %s: procedures: %w", cmp.Or(req.ID, "(unnamed)"), err)
		}
		res.Codes = append(res.Codes, pr.Codes...)
		res.Dropped = append(res.Dropped, pr.Dropped...)
		res.Queries = append(res.Queries, pr.Queries...)
	}
	res.Usage.Duration = time.Since(start)
	return res, nil
}

func wants(systems []codesys.System, s codesys.System) bool {
	return len(systems) == 0 || slices.Contains(systems, s)
}
