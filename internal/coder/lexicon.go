package coder

import (
	"cmp"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/note"
	packs "github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// origin says where a lexicon entry comes from; it decides ties between
// entries that match the same words and is shown in the trail.
type origin uint8

// Origins, best first: where two entries cover the same words of a note,
// the one earlier in this list wins.
const (
	fromTerms     origin = iota + 1 // the coder's own term table (terms.tsv)
	fromIndex                       // the Alphabetic Index, when the release has it
	fromTitle                       // a Tabular List title
	fromInclusion                   // an inclusion term or includes note
	fromNeoplasm                    // a row of the Table of Neoplasms
	fromDrug                        // a row of the Table of Drugs and Chemicals
	fromVariant                     // a title with one member of a coordination left out
)

var originNames = [...]string{
	fromTerms:     "term table",
	fromIndex:     "index",
	fromTitle:     "tabular title",
	fromInclusion: "inclusion term",
	fromNeoplasm:  "neoplasm table",
	fromDrug:      "drug table",
	fromVariant:   "tabular title",
}

func (o origin) String() string { return originNames[o] }

// entry is one way of naming a code: the words that must all appear near
// each other in a sentence for the entry to match.
type entry struct {
	code  string // code, possibly a category or subcategory to specify
	words []uint32
	// key is the entry's rarest word, under which it is indexed.
	key    uint32
	origin origin
	// text is the entry as published (the title, inclusion term, index
	// path or table row), for the trail.
	text string
	// release is the ID of the release the entry comes from.
	release string
	// other marks titles of "other" and "other specified" codes, which
	// lose ties against the unspecified or plain code.
	other bool
	// form, when set, is the folded word a note must write for the entry
	// to match (give or take an inflection): a term of the Alphabetic
	// Index that is a single word has no other words to confirm it, so
	// neither its stem ("teething" is "teeth") nor its word class ("dental")
	// stands for it.
	form string
	// manif is the manifestation code an Index path gives in brackets
	// after code ("Amyloid heart E85.4 [I43]"), reported after it.
	manif string
	// row, for an entry of the Table of Drugs and Chemicals, is its row
	// in lexicon.drugRows plus one: the codes of every column, of which
	// the sentence chooses one.
	row int32
}

// lexicon is the vocabulary and entries the Analyze stage matches notes
// against, built once per Coder.
type lexicon struct {
	words   map[string]uint32 // canonical stem -> id
	canon   map[string]string // stem -> canonical stem (word equivalence classes)
	entries []entry
	byKey   map[uint32][]int32
	df      []int32
	// stems memoizes the Snowball stems of the words the build reads
	// (a few tens of thousands of words in millions of titles and index
	// paths); finish drops it, since a built lexicon is read
	// concurrently.
	stems map[string]string
	// indexByCode lists, per code, the entries of the Alphabetic Index
	// naming it, so that the trail can quote the Index path.
	indexByCode map[string][]int32
	// vague are words too general to name a code on their own ("tumor",
	// "lesion"): an entry needs at least one other word.
	vague map[uint32]bool
	// drugRows are the codes of the rows of the Table of Drugs and
	// Chemicals, by column in the order of codesys.DrugColumns ("" where
	// the table prints a dash).
	drugRows [][]string
	// drugHeadings are the headings of those columns as the release
	// prints them, for the trail.
	drugHeadings []string
	// wd is the wording of the language the entries were read with; a
	// lexicon read from the cache gets the coder's.
	wd *wording
}

// wording is what the coder reads of the language apart from its
// lexicon's entries: the stop words of titles a note need not repeat for
// the title to match (every kind of en/stopwords: function words and the
// classification's own qualifiers), the words a letter after names a kind
// of (en/letters), and the words that deny what follows them inside a
// mention (en/deny). It is not changed after loadWording returns.
type wording struct {
	stop, letters, deny map[string]bool
	// connect are the words that join, link or set apart conditions
	// (en/connectives).
	connect connectives
}

// loadWording reads the coder's wording from the packs of set.
func loadWording(set *packs.Set) (*wording, error) {
	sw, err := set.StopWords("en")
	if err != nil {
		return nil, err
	}
	wd := &wording{stop: sw.Of(packs.StopFunction, packs.StopDefault, packs.StopResidual, packs.StopQualifier,
		packs.StopDefaultAbbr, packs.StopResidualAbbr)}
	if wd.letters, err = set.WordSet(packLetters); err != nil {
		return nil, err
	}
	if wd.deny, err = set.WordSet(packDeny); err != nil {
		return nil, err
	}
	text, label, err := packText(set, packConnect)
	if err != nil {
		return nil, err
	}
	if wd.connect, err = parseConnectives(label, text); err != nil {
		return nil, err
	}
	return wd, nil
}

func newLexicon(equiv map[string]string, vague []string, wd *wording) *lexicon {
	lx := &lexicon{words: map[string]uint32{}, canon: equiv, byKey: map[uint32][]int32{}, vague: map[uint32]bool{},
		stems: map[string]string{}, wd: wd}
	for _, w := range vague {
		for _, s := range wd.phraseWords(w) {
			id, _ := lx.stemID(s, true)
			lx.vague[id] = true
		}
	}
	return lx
}

// normWords returns the words of text with their folded forms, not
// stemmed: for the rules that compare words as written.
func normWords(text string) []textnorm.Word {
	var ws []textnorm.Word
	textnorm.EachWordStem(text, func(s string) string { return s }, func(w textnorm.Word) { ws = append(ws, w) })
	return ws
}

// phraseWords is wording.phraseWords with the build's memoized stems.
func (lx *lexicon) phraseWords(text string) []string {
	if lx.stems == nil {
		return lx.wd.phraseWords(text)
	}
	return lx.wd.phraseWordsStem(text, lx.stem)
}

// stem is textnorm.Stem, memoized while the lexicon is built.
func (lx *lexicon) stem(w string) string {
	if lx.stems == nil {
		return textnorm.Stem(w)
	}
	s, ok := lx.stems[w]
	if !ok {
		s = textnorm.Stem(w)
		lx.stems[w] = s
	}
	return s
}

// stemID returns the id of a word's canonical stem, adding it when add is
// set; ok is false for a word never seen.
func (lx *lexicon) stemID(stem string, add bool) (uint32, bool) {
	if c, ok := lx.canon[stem]; ok {
		stem = c
	}
	if id, ok := lx.words[stem]; ok {
		return id, true
	}
	if !add {
		return 0, false
	}
	id := uint32(len(lx.words))
	lx.words[stem] = id
	lx.df = append(lx.df, 0)
	return id, true
}

// phraseWords returns the required words of a published phrase: folded,
// stemmed, without nonessential modifiers (in parentheses or brackets),
// stop words, and the part after "without", "except" or "excluding" up to
// the next comma (which names what is absent, not what the note must
// say).
func (wd *wording) phraseWords(text string) []string {
	return wd.phraseWordsStem(text, textnorm.Stem)
}

// phraseWordsStem is phraseWords with the stems computed by stem.
func (wd *wording) phraseWordsStem(text string, stem func(string) string) []string {
	text = dropBracketed(text)
	var out []string
	var ws []textnorm.Word
	textnorm.EachWordStem(text, stem, func(w textnorm.Word) { ws = append(ws, w) })
	absent := false
	for i, w := range ws {
		if wd.connect.absent[w.Norm] {
			absent = true
			continue
		}
		if absent {
			// What is absent runs to the next comma: in "Laceration
			// without foreign body, left thigh" the side and site are
			// the title's again.
			if i == 0 || !strings.Contains(text[ws[i-1].End:w.Start], ",") {
				continue
			}
			absent = false
		}
		if i > 0 && wd.lettered(ws[i-1].Norm, w.Norm) {
			// "Hepatitis A": the letter names the kind, and is no stop
			// word; the two read together, as a word of their own.
			out = append(out, letteredKey(ws[i-1].Norm, w.Norm))
			continue
		}
		if wd.stop[w.Norm] {
			continue
		}
		if acronym(text[w.Start:w.End]) {
			out = append(out, acronymKey(w.Norm))
			continue
		}
		out = append(out, stemOf(w.Norm, w.Stem))
	}
	return out
}

// lettered reports whether word is one a single letter after names a kind
// of ("hepatitis A", "vitamin D"; en/letters) and letter that letter.
func (wd *wording) lettered(word, letter string) bool {
	return wd.letters[word] && len(letter) == 1 && letter[0] >= 'a' && letter[0] <= 'z'
}

// letteredKey is the lexicon key of a kind named by a letter.
func letteredKey(word, letter string) string { return "kind:" + word + " " + letter }

// acronym reports whether a word is written as an acronym: two to six
// capital letters ("PIN", "HELLP", "MRSA"). An acronym matches only a word
// of the note written the same way, not words of its stem ("pins").
func acronym(s string) bool {
	if len(s) < 2 || len(s) > 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// acronymKey is the lexicon key of an acronym, apart from any stem.
func acronymKey(norm string) string { return "acr:" + norm }

// specialWords calls fn with the lexicon words that toks[0] begins besides
// its stem, and how many tokens each covers: its acronym key when written
// as an acronym ("PIN"), the kind it and the next token name ("hepatitis
// C"). text is the note's text, toks the tokens from this one on.
func (lx *lexicon) specialWords(text string, toks []note.Token, fn func(id uint32, width int)) {
	t := &toks[0]
	if acronym(text[t.Start:t.End]) {
		if id, ok := lx.stemID(acronymKey(t.Norm), false); ok {
			fn(id, 1)
		}
	}
	if len(toks) > 1 && lx.wd.lettered(t.Norm, toks[1].Norm) {
		if id, ok := lx.stemID(letteredKey(t.Norm, toks[1].Norm), false); ok {
			fn(id, 2)
		}
	}
}

// stemOf returns the stem the coder matches a word by: the Snowball stem,
// except for inflammations, which Snowball reduces to their organ
// ("hepatitis" and "hepatic" both to "hepat").
func stemOf(norm, stem string) string {
	switch {
	case strings.HasSuffix(norm, "itis"):
		return norm
	case strings.HasSuffix(norm, "ism"):
		// "lymphatism", "morphinism": a condition of its own, not the
		// adjective of its root ("lymphatic")
		return norm
	case strings.HasSuffix(norm, "ible"), strings.HasSuffix(norm, "able"):
		// "depressible", "palpable": not the condition of their root
		return norm
	case strings.HasSuffix(norm, "itides"):
		return strings.TrimSuffix(norm, "itides") + "itis"
	}
	return stem
}

// dropBracketed removes text in parentheses and square brackets.
func dropBracketed(s string) string {
	if !strings.ContainsAny(s, "([") {
		return s
	}
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch r {
		case '(', '[':
			depth++
			continue
		case ')', ']':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 0 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// add adds an entry naming code with the given words. Entries of fewer than
// one word, or with too many words to ever appear together, are skipped.
func (lx *lexicon) add(code string, stems []string, o origin, text, release string) {
	if len(stems) == 0 || len(stems) > 12 {
		return
	}
	ids := make([]uint32, 0, len(stems))
	for _, s := range stems {
		id, _ := lx.stemID(s, true)
		ids = append(ids, id)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if !slices.ContainsFunc(ids, func(id uint32) bool { return !lx.vague[id] }) {
		return
	}
	if (o == fromVariant || (o != fromTerms && o != fromDrug && (code[0] == 'S' || code[0] == 'T'))) && len(ids) < 2 {
		// A variant of one word is rarely what the title means; an
		// injury named by one word of the classification is a body part
		// ("Axis", "Trachea") listed under a fracture, not an injury. The
		// coder's own terms ("trauma", "burn") are written to be read
		// alone, and so are the substances of the Table of Drugs and
		// Chemicals, which are coded only beside the words saying what
		// the substance did.
		return
	}
	lower := strings.ToLower(text)
	lx.entries = append(lx.entries, entry{code: code, words: ids, origin: o, text: text, release: release,
		other: strings.HasPrefix(lower, "other ") || strings.Contains(lower, "other specified")})
}

// finish counts word frequencies and indexes every entry under its rarest
// word, so that a sentence only looks at entries whose rarest word it has.
func (lx *lexicon) finish() {
	lx.stems = nil
	// Identical entries (same code, same words) are kept once: the best
	// origin first.
	slices.SortStableFunc(lx.entries, func(a, b entry) int {
		if c := cmp.Compare(a.code, b.code); c != 0 {
			return c
		}
		if c := slices.Compare(a.words, b.words); c != 0 {
			return c
		}
		return cmp.Compare(a.origin, b.origin)
	})
	lx.entries = slices.CompactFunc(lx.entries, func(a, b entry) bool {
		return a.code == b.code && slices.Equal(a.words, b.words)
	})
	for i := range lx.df {
		lx.df[i] = 0
	}
	for _, e := range lx.entries {
		for _, w := range e.words {
			lx.df[w]++
		}
	}
	lx.indexByCode = map[string][]int32{}
	for i := range lx.entries {
		e := &lx.entries[i]
		e.key = e.words[0]
		for _, w := range e.words[1:] {
			if lx.df[w] < lx.df[e.key] {
				e.key = w
			}
		}
		lx.index(int32(i))
	}
}

// index files entry i under its key word, and under its code when it is
// a path of the Alphabetic Index.
func (lx *lexicon) index(i int32) {
	e := &lx.entries[i]
	if e.origin == fromIndex {
		lx.indexByCode[e.code] = append(lx.indexByCode[e.code], i)
	}
	lx.byKey[e.key] = append(lx.byKey[e.key], i)
}

// indexEntryFor returns the entry of the Alphabetic Index naming code
// whose words are all in words, the one with most words, or nil.
func (lx *lexicon) indexEntryFor(code string, words map[uint32]bool) *entry {
	var best *entry
	for _, i := range lx.indexByCode[code] {
		e := &lx.entries[i]
		if e.form != "" {
			continue
		}
		all := true
		for _, w := range e.words {
			if !words[w] {
				all = false
				break
			}
		}
		if all && (best == nil || len(e.words) > len(best.words)) {
			best = e
		}
	}
	return best
}

// addTabular adds the titles, inclusion terms and includes notes of every
// category, subcategory and code of the Tabular List.
func (lx *lexicon) addTabular(t *codesys.Tabular, release string, skip func(code string) bool) {
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind < codesys.KindCategory || skip(n.Code) {
			continue
		}
		lx.addPhrase(n.Code, n.Title, nil, fromTitle, release)
		// The inclusion terms of an exposure code name the substance
		// ("Dyes NOS" under Z77.098): the note must say exposure too.
		// Likewise a bilateral code's inclusion terms, which often give
		// "(bilateral)" as a nonessential modifier: the note must say it.
		var also []string
		title := strings.ToLower(n.Title)
		for _, w := range []string{"exposure", "bilateral"} {
			if strings.Contains(title, w) {
				also = append(also, lx.phraseWords(w)...)
			}
		}
		for _, s := range slices.Concat(n.Notes.InclusionTerms, n.Notes.Includes) {
			lx.addPhrase(n.Code, s, also, fromInclusion, release)
		}
	}
}

// addPhrase adds a published phrase, and, when it coordinates two words
// ("kidney and ureter", "bronchus or lung"), one variant per member; also
// are words the note must say besides the phrase's own.
func (lx *lexicon) addPhrase(code, text string, also []string, o origin, release string) {
	lx.add(code, append(lx.phraseWords(text), also...), o, text, release)
	if o == fromTerms {
		return
	}
	for _, v := range coordinationVariants(text) {
		lx.add(code, append(lx.phraseWords(v), also...), fromVariant, text, release)
	}
}

// coordinationVariants returns the phrase with, for its first coordination
// "X and Y" / "X or Y" of single words, once X and once Y left out: "Disorder
// of kidney and ureter" gives "Disorder of kidney" and "Disorder of ureter".
// Only the words next to the conjunction are dropped, which is right for
// the coordinated sites and organs the classification's titles mostly
// join.
func coordinationVariants(text string) []string {
	text = dropBracketed(text)
	ws := normWords(text)
	for i := 1; i+1 < len(ws); i++ {
		if ws[i].Norm != "and" && ws[i].Norm != "or" {
			continue
		}
		// Leave out the word after the conjunction, then the word before.
		a := text[:ws[i].Start] + text[ws[i+1].End:]
		b := text[:ws[i-1].Start] + text[ws[i].End:]
		return []string{a, b}
	}
	return nil
}

// addNeoplasmTable adds, for every row of the Table of Neoplasms, one entry
// per behaviour column it has a code in: the site's words and the
// behaviour's words ("malignant neoplasm", "secondary malignant neoplasm",
// "benign neoplasm", "carcinoma in situ").
func (lx *lexicon) addNeoplasmTable(ix *codesys.Index, release string) {
	// A "tumor" or "neoplasm" of a site that the note gives no behaviour
	// for is read in the Unspecified Behavior column, as the Index's
	// "Tumor - see also Neoplasm, unspecified behavior, by site" says.
	cols := map[int][][]string{}
	for c, phrases := range map[codesys.Column][]string{
		codesys.NeoplasmMalignantPrimary:   {"malignant neoplasm"},
		codesys.NeoplasmMalignantSecondary: {"secondary malignant neoplasm"},
		codesys.NeoplasmInSitu:             {"carcinoma in situ"},
		codesys.NeoplasmBenign:             {"benign neoplasm"},
		codesys.NeoplasmUnspecified:        {"tumor", "neoplasm"},
	} {
		if n, err := ix.Column(c); err == nil {
			for _, p := range phrases {
				cols[n] = append(cols[n], lx.phraseWords(p))
			}
		}
	}
	ix.Walk(func(path []*codesys.Term) bool {
		t := path[len(path)-1]
		if len(t.Cells) == 0 || len(path) < 2 {
			return true
		}
		// Rows such as "lung > upper lobe" and "skin > ... > leg" read as
		// one site; the words "see also", "NEC" were dropped with the stop
		// words. A row naming its site more than one way ("testis,
		// testes", "bile or biliary") gives one site per way.
		sites := [][]string{nil}
		var label []string
		for _, p := range path[1:] {
			var next [][]string
			// "mastectomy site", "colostomy site": the site is the
			// place of an operation, which the note must name as a
			// site, not the operation's organ ("breast cancer status post
			// mastectomy" is the breast).
			var also []string
			if ws := textnorm.Words(dropBracketed(p.Title)); len(ws) > 1 && ws[len(ws)-1].Norm == "site" && ws[len(ws)-2].Norm != "specified" {
				also = []string{stemOf(ws[len(ws)-1].Norm, ws[len(ws)-1].Stem)}
			}
			for _, alt := range lx.wd.siteAlternatives(p.Text()) {
				alt = append(alt, also...)
				for _, s := range sites {
					if len(next) < 16 {
						next = append(next, append(slices.Clone(s), alt...))
					}
				}
			}
			sites = next
			label = append(label, p.Title)
		}
		for _, cell := range t.Cells {
			variants, ok := cols[cell.Col]
			if !ok || !cell.HasCode() {
				continue
			}
			code := strings.TrimRight(cell.Code, "-.")
			for _, site := range sites {
				for _, words := range variants {
					lx.add(code, append(slices.Clone(site), words...), fromNeoplasm,
						"Neoplasm, neoplastic > "+strings.Join(label, " > ")+" ["+ix.Columns[cell.Col-1]+"]", release)
				}
			}
		}
		return true
	})
}

// siteAlternatives returns the ways a row of the Table of Neoplasms names
// its site, each as required words. The table lists forms of one word
// after a comma ("testis, testes", "abdomen, abdominal") and joins
// synonyms with "or" ("bile or biliary"); anything else after a comma
// qualifies the site ("canaliculi, biliary") and is required.
func (wd *wording) siteAlternatives(title string) [][]string {
	title = dropBracketed(title)
	var alts []string
	parts := strings.Split(title, ",")
	first := strings.TrimSpace(parts[0])
	qualifiers := ""
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		if sameStem(first, p) {
			alts = append(alts, p)
		} else {
			qualifiers += " " + p
		}
	}
	alts = append([]string{first}, alts...)
	var out [][]string
	for _, a := range alts {
		ws := strings.Fields(a)
		if len(ws) == 3 && ws[1] == "or" {
			out = append(out, wd.phraseWords(ws[0]+qualifiers), wd.phraseWords(ws[2]+qualifiers))
			continue
		}
		out = append(out, wd.phraseWords(a+qualifiers))
	}
	return out
}

// sameStem reports whether two single words share their first four
// letters: forms of one word, as "testis" and "testes".
func sameStem(a, b string) bool {
	if strings.ContainsAny(a, " ") || strings.ContainsAny(b, " ") || len(a) < 4 || len(b) < 4 {
		return false
	}
	return strings.EqualFold(a[:4], b[:4])
}

// otherSpecified reports whether an index subterm stands for the other
// specified members of its term ("specified NEC", "specified type NEC"),
// which a coder chooses knowing the documented kind is not listed: the
// words of a note cannot show that.
func otherSpecified(title string) bool {
	ws := normWords(dropBracketed(title))
	return len(ws) > 0 && ws[0].Norm == "specified"
}

// nec reports whether a title carries the abbreviation NEC.
func nec(title string) bool {
	for _, w := range normWords(title) {
		if w.Norm == "nec" {
			return true
		}
	}
	return false
}

// addIndex adds the paths of the Alphabetic Index that lead to a code, the
// way a coder reads them: the main term is the condition, each subterm
// must be documented too. A path is left out when its last subterm names
// nothing the note could say ("specified NEC", "NOS": the coder reaches
// those only knowing the condition is specified, which words cannot
// show), when its main term is a single letter (an eponym's initial, "H
// disease", whose words the rebuilt index may have lost), or when skip
// refuses its code (external causes, encounter reasons).
func (lx *lexicon) addIndex(ix *codesys.Index, release string, r *indexReading) {
	ix.Walk(func(path []*codesys.Term) bool {
		t := path[len(path)-1]
		if t.SeeAlso != "" && len(path) == 1 && len(t.Terms) == 0 && len(lx.phraseWords(t.Title)) > 0 {
			// A main term listing no subterms of its own sends what a
			// note adds to it to the term its "see also" names
			// ("Consolidation - see also Pneumonia"). A term with
			// subterms lists the kinds it is coded by itself, and what
			// it lacks is mostly a site or a description the target
			// reads otherwise ("Lump - see also Mass", "Periods - see
			// also Menstruation": on CodiEsp train such readings were
			// wrong more often than right); a subterm's "see also"
			// names a neighbouring term the note must document itself
			// ("History, personal - see also History, family"); a title
			// of no words of its own ("Condition - see also Disease")
			// would let the target's subterms stand alone.
			lx.addSee(ix, path, t.SeeAlso, release, r)
		}
		if t.Code == "" && t.See != "" {
			lx.addSee(ix, path, t.See, release, r)
			return true
		}
		code, text := t.Code, codesys.PathString(path)
		if code == "" {
			// "see category T71", "see subcategory T75.0": the Tabular
			// List gives the code under it.
			for _, ref := range []struct{ to, what string }{{t.SubCat, "subcategory"}, {t.SeeCat, "category"}} {
				if f := strings.Fields(ref.to); code == "" && len(f) > 0 {
					code, text = f[0], text+" (see "+ref.what+" "+f[0]+")"
				}
			}
		}
		if code == "" {
			return true
		}
		lx.addIndexPath(path, path, code, t.Manif, text, release, r)
		return true
	})
}

// indexReading is what the Alphabetic Index's reader needs from the
// coder: the codes it leaves out, whether the Tabular List names a code
// by a word, and the main-term qualifiers a note need not repeat.
type indexReading struct {
	skip     func(code string) bool
	agrees   func(code, word string) bool
	optional map[string]bool
	// resolved caches the terms cross-references name.
	resolved map[string][]*codesys.Term
	// byFirst holds the main terms by the first word of their title, so
	// that a cross-reference is resolved among the few it can name.
	byFirst map[string]*codesys.Index
}

// mains returns the part of ix a reference can name: the main terms that
// share its first word.
func (r *indexReading) mains(ix *codesys.Index, ref string) *codesys.Index {
	if r.byFirst == nil {
		r.byFirst = map[string]*codesys.Index{}
		for _, t := range ix.Terms {
			k := firstWord(t.Title)
			sub := r.byFirst[k]
			if sub == nil {
				sub = &codesys.Index{System: ix.System, Part: ix.Part}
				r.byFirst[k] = sub
			}
			sub.Terms = append(sub.Terms, t)
		}
	}
	if sub := r.byFirst[firstWord(ref)]; sub != nil {
		return sub
	}
	return &codesys.Index{}
}

// firstWord is the folded first word of a title.
func firstWord(s string) string {
	if ws := normWords(s); len(ws) > 0 {
		return ws[0].Norm
	}
	return ""
}

// addIndexPath adds the entries of one index path leading to code: words
// is the path whose words the note must say (a cross-reference's source),
// path the one shown.
func (lx *lexicon) addIndexPath(words, path []*codesys.Term, code, manif, text, release string, r *indexReading) {
	code = strings.TrimRight(code, "-.")
	t := words[len(words)-1]
	if r.skip(code) || len(strings.TrimSpace(words[0].Title)) < 2 {
		return
	}
	last := lx.wd.indexForms(t.Title, nil)[0]
	if len(words) > 1 && (len(lx.phraseWords(last)) == 0 || otherSpecified(last)) {
		return
	}
	if len(words) == 1 && nec(t.Title) && len(lx.phraseWords(last)) == 1 {
		// "Symptoms NEC": the rest of a class, which a single word of
		// the note cannot tell from its named members.
		return
	}
	// The path reads as one phrase, so that a subterm's letter names the
	// kind of its main term ("Hepatitis > C"), and a "without" ends what
	// the note must say. A title listing forms of its word ("viral,
	// virus"; "Ulcer, ulcerated, ulceration") or alternative prepositions
	// ("from, off, out of") gives one reading per form.
	for _, rd := range lx.wd.pathReadings(words, r.optional) {
		n := len(lx.entries)
		lx.addIndexReading(code, lx.phraseWords(rd), words, text, release, r.agrees)
		if manif != "" && len(lx.entries) > n {
			lx.entries[n].manif = strings.TrimRight(manif, "-.")
		}
	}
}

// pathReadings returns the ways path reads as one phrase: one per form of
// each title (indexForms), the main term's qualifiers in optional left
// out, at most maxReadings.
func (wd *wording) pathReadings(path []*codesys.Term, optional map[string]bool) []string {
	readings := []string{""}
	for i, p := range path {
		var opt map[string]bool
		if i == 0 {
			opt = optional
		}
		var next []string
		for _, form := range wd.indexForms(p.Title, opt) {
			// A subterm of alternatives ("intervertebral cartilage or
			// disc") is either one.
			alts := []string{form}
			if i > 0 && strings.Contains(form, " or ") {
				alts = coordinationVariants(form)
			}
			for _, alt := range alts {
				for _, rd := range readings {
					if len(next) < maxReadings {
						next = append(next, rd+" "+alt)
					}
				}
			}
		}
		readings = next
	}
	return readings
}

// maxReadings bounds the readings of one index path (forms multiply
// level by level); maxSeeTerms and maxSeeDepth bound the subterms of a
// cross-reference's target read for its source ("Abuse > cocaine - see
// Abuse, drug, cocaine" reads cocaine's "with intoxication"): the first
// levels, where what a note adds to the term is named, and a bound on
// their number, since the deeper levels of large terms multiply the
// lexicon for little.
const (
	maxReadings = 8
	maxSeeTerms = 40
	maxSeeDepth = 2
)

// addSee follows a cross-reference as a coder does. A "see" reference
// (see, the term's only lead): the words of the path that carries it
// lead to the code of the term it names, and to the codes of that term's
// subterms ("Abuse > cocaine - see Abuse, drug, cocaine" gives F14.10 for
// "cocaine abuse"). A "see also" reference (the term has its own code):
// the words lead to the named term's subterms, so that a mention
// documenting more than the term lists is coded where the Index sends
// it; the term's own code stays its own.
func (lx *lexicon) addSee(ix *codesys.Index, path []*codesys.Term, see, release string, r *indexReading) {
	target, ok := r.resolved[see]
	if !ok {
		var rest string
		var err error
		target, rest, err = r.mains(ix, see).Resolve(see)
		if err != nil || rest != "" {
			target = nil
		}
		r.resolved[see] = target
	}
	if len(target) == 0 {
		return
	}
	src := slices.Clone(path)
	t := path[len(path)-1]
	also := see == t.SeeAlso && see != t.See
	kind := "see"
	if also {
		kind = "see also"
	}
	from := codesys.PathString(src) + " (" + kind + " " + see + ")"
	var walk func(sub []*codesys.Term, below []*codesys.Term, budget *int)
	walk = func(sub []*codesys.Term, below []*codesys.Term, budget *int) {
		for _, t := range sub {
			if *budget <= 0 {
				return
			}
			*budget--
			b := append(slices.Clone(below), t)
			if t.Code != "" {
				lx.addIndexPath(append(slices.Clone(src), b...), append(slices.Clone(target), b...), t.Code, t.Manif,
					from+" > "+codesys.PathString(b), release, r)
			}
			if len(b) < maxSeeDepth {
				walk(t.Terms, b, budget)
			}
		}
	}
	end := target[len(target)-1]
	if end.Code != "" && !also {
		lx.addIndexPath(src, target, end.Code, end.Manif, from, release, r)
	}
	budget := maxSeeTerms
	walk(end.Terms, nil, &budget)
}

// addIndexReading adds one reading of an index path. A single word leads
// to its main term's default code only where the Tabular List names that
// code by the word too ("Tachypnea" R06.82 "Tachypnea, not elsewhere
// classified"); otherwise the default is a class the word alone does not
// establish ("Swelling" R60.9 "Edema, unspecified"). Such an entry
// whose word the stemmer cuts to another word matches only the word as
// written (form).
func (lx *lexicon) addIndexReading(code string, words []string, path []*codesys.Term, text, release string, agrees func(code, word string) bool) {
	n := len(lx.entries)
	lx.add(code, words, fromIndex, text, release)
	if len(lx.entries) == n || len(words) != 1 {
		return
	}
	var ws []textnorm.Word
	textnorm.EachWordStem(dropBracketed(path[0].Title), lx.stem, func(w textnorm.Word) { ws = append(ws, w) })
	if len(path) != 1 || len(ws) == 0 || !agrees(code, ws[0].Norm) {
		lx.entries = lx.entries[:n]
		return
	}
	if w := ws[0]; len(w.Norm)-len(stemOf(w.Norm, w.Stem)) >= 3 {
		// The stem lost a suffix of its own ("teething" to "teeth",
		// "overeating" to "over"): only the word as written names it.
		lx.entries[n].form = w.Norm
	}
}

// indexForms returns the ways an index title may be read: a title that
// lists forms of its word after commas ("viral, virus", "Ulcer,
// ulcerated, ulcerating") or alternative prepositions ("from, off, out
// of") gives each; any other part after a comma qualifies the word
// ("Wound, open") and stays, unless optional lists it (a main term's
// default kind, "Fracture, traumatic").
func (wd *wording) indexForms(title string, optional map[string]bool) []string {
	title = dropBracketed(title)
	if !strings.Contains(title, ",") {
		return []string{title}
	}
	parts := strings.Split(title, ",")
	first := strings.TrimSpace(parts[0])
	function := len(wd.phraseWords(first)) == 0
	var forms []string
	qual := ""
	for _, p := range parts[1:] {
		p = strings.TrimSpace(p)
		switch {
		case function,
			!strings.Contains(p, " ") && !strings.Contains(first, " ") && len(p) >= 3 && len(first) >= 3 &&
				strings.EqualFold(p[:3], first[:3]):
			forms = append(forms, p)
		case optional[strings.ToLower(p)]:
		default:
			qual += " " + p
		}
	}
	out := []string{first + qual}
	for _, f := range forms {
		out = append(out, f+qual)
	}
	return out
}

// sameForm reports whether a note's word is the form of a one-word
// entry, give or take an inflection: the two share all but at most two
// letters of the longer ("abscesses", "ischemic", "hemorrhagic").
func sameForm(word, form string) bool {
	n := 0
	for n < len(word) && n < len(form) && word[n] == form[n] {
		n++
	}
	return n >= 4 && max(len(word), len(form))-n <= 2
}
