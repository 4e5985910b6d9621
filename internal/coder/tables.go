package coder

import (
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	packs "github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// The rule packs the coder reads (internal/rules); docs/rules.md
// describes each.
const (
	packWords     = "en/words"
	packSynonyms  = "en/synonyms"
	packVague     = "en/vague"
	packSuffixes  = "en/suffixes"
	packOptional  = "en/optional"
	packDrugs     = "en/drugs"
	packMalignant = "en/malignancy"
	packStopWords = "en/stopwords"
	packLetters   = "en/letters"
	packDeny      = "en/deny"
	packTerms     = "icd10cm/terms"
	packSymptoms  = "icd10cm/symptoms"
	packLinks     = "icd10cm/links"
	packHistory   = "icd10cm/history"
	packChapters  = "icd10cm/chapters"
	packEncounter = "icd10cm/encounter"
	packGroups    = "icd10cm/groups"
	packBeside    = "icd10cm/beside"
	packSides     = "en/sides"
	packConnect   = "en/connectives"

	// The packs of the coder of a classification read as classes.
	packDefaults   = "en/defaults"
	packProcedures = "en/procedures"
	packSpellings  = "en/spellings"
	packSubsidiary = "opcs4/subsidiary"
)

// lexiconPacks returns the packs the lexicon is built from, whose content
// keys the lexicon cache.
func lexiconPacks() []string {
	return []string{packWords, packSynonyms, packTerms, packVague, packEncounter, packOptional, packSuffixes, packGroups,
		packStopWords, packLetters, packConnect}
}

// packText returns the text of the pack name of set, and the name it is
// reported by (its file, or its name marked embedded).
func packText(set *packs.Set, name string) (text, label string, err error) {
	p := set.Pack(name)
	if p == nil {
		return "", "", fmt.Errorf("offline coder: rule pack %s is missing", name)
	}
	return p.Text, p.Label(), nil
}

// tsvLines calls fn with the tab-separated fields of every line of data
// that is not blank or a comment, and its line number.
func tsvLines(name, data string, fn func(line int, f []string) error) error {
	no := 0
	for line := range strings.Lines(data) {
		no++
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := fn(no, strings.Split(line, "\t")); err != nil {
			return fmt.Errorf("%s line %d: %w", name, no, err)
		}
	}
	return nil
}

// parseWordList reads a whitespace-separated word list such as vague.txt,
// leaving out comment lines: the words of a comment are no entries.
func parseWordList(data string) []string {
	var out []string
	for line := range strings.Lines(data) {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// parseLines reads a list of one entry a line (encounter.txt,
// optional.txt): the first field of every line that is not blank or a
// comment.
func parseLines(name, data string) []string {
	var out []string
	// fn never fails, so neither does tsvLines.
	_ = tsvLines(name, data, func(_ int, f []string) error {
		out = append(out, strings.TrimSpace(f[0]))
		return nil
	})
	return out
}

// parseEquivalences reads words.tsv: each line a class of interchangeable
// words, the first canonical. It returns stem -> canonical stem.
func parseEquivalences(name, data string) (map[string]string, error) {
	m := map[string]string{}
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) < 2 {
			return fmt.Errorf("want at least two words")
		}
		canon := textnorm.Stem(textnorm.Fold(f[0]))
		for _, w := range f[1:] {
			s := textnorm.Stem(textnorm.Fold(w))
			if s != canon {
				m[s] = canon
			}
		}
		return nil
	})
	return m, err
}

// parseSynonyms reads a table of phrases and the words they stand for, in
// the form of synonyms.tsv (en/synonyms, en/procedures, en/defaults).
func parseSynonyms(name, data string) ([][2]string, error) {
	var out [][2]string
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 2 || f[0] == "" || f[1] == "" {
			return fmt.Errorf("want a phrase and what it stands for")
		}
		out = append(out, [2]string{f[0], f[1]})
		return nil
	})
	return out, err
}

type term struct {
	code, text string
	// line is the row's line in its pack.
	line int
	// overrides says why the row stands although a path of the Index
	// reads the same words to another code (a misreading of the phrase:
	// an organism's name taken for the infection it causes).
	overrides string
}

// parseTerms reads terms.tsv: code, phrase and, for a row standing
// against a reading of the Index, why.
func parseTerms(name, data string) ([]term, error) {
	var out []term
	err := tsvLines(name, data, func(line int, f []string) error {
		if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
			return fmt.Errorf("want a code, a phrase and, where the Index reads the phrase otherwise, why the row overrides it")
		}
		t := term{code: f[0], text: f[1], line: line}
		if len(f) == 3 {
			t.overrides = f[2]
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// symptomRule: a symptom code prefix not coded when a diagnosis with one
// of the prefixes is, or, for sameSite, when a diagnosis of the site the
// symptom's code names is.
type symptomRule struct {
	symptom   string
	diagnoses []string
	sameSite  bool
	what      string
	// guideline is the row's own source, when it is not the rule of
	// integral symptoms (icd10cm/guidelines).
	guideline string
}

// sameSiteMark in the diagnoses column of symptoms.tsv stands for the
// diagnoses of the site the symptom's code names.
const sameSiteMark = "same-site"

// linkRule: a presumed link or combination code.
type linkRule struct {
	from, with []string
	result     string
	keepWith   bool
	guideline  string
}

// historyRule: conditions that end, reported as history with code (of
// title in the release). The table's third column describes the rule for
// its readers.
type historyRule struct {
	conditions  []string
	code, title string
}

// chapterRole is the part a chapter of the Tabular List plays in Verify.
type chapterRole uint8

// The chapter roles of chapters.tsv; a chapter none names plays none.
const (
	roleCondition chapterRole = iota
	roleInjury
	roleSymptom
	roleFactor
	roleExternal
)

// chapterRoles returns the roles by their names in icd10cm/chapters.
func chapterRoles() map[string]chapterRole {
	return map[string]chapterRole{"injury": roleInjury, "symptom": roleSymptom, "factor": roleFactor, "external": roleExternal}
}

// chapterRule names a chapter by the beginning of its title.
type chapterRule struct {
	role      chapterRole
	title     string
	guideline string
}

// rules are the Verify stage's tables and the code groups of the
// classification.
type rules struct {
	symptoms []symptomRule
	links    []linkRule
	history  []historyRule
	chapters []chapterRule
	groups   codeGroups
	beside   []besideRule
	// eradicatedWords, activeWords, clearWords and spreadWords say a
	// malignancy documented as history is gone or still there
	// (en/malignancy).
	eradicatedWords, activeWords, clearWords, spreadWords []string
}

// besideRule: a code of an unnamed site or kind (icd10cm/beside), not
// coded beside a code of ranges, which names it.
type besideRule struct {
	code   string
	ranges packs.Ranges
	why    string
}

// codeGroups are the groups of codes of icd10cm/groups the coder treats
// alike.
type codeGroups struct {
	neoplasm, primary, secondary          packs.Ranges
	family, personal, malignancy, noLexis packs.Ranges
}

// parseGroups reads icd10cm/groups; every group the coder reads must be
// there.
func parseGroups(name, data string) (codeGroups, error) {
	var g codeGroups
	slots := map[string]*packs.Ranges{
		"neoplasm": &g.neoplasm, "neoplasm-primary": &g.primary, "neoplasm-secondary": &g.secondary,
		"history-family": &g.family, "history-personal": &g.personal, "history-malignancy": &g.malignancy,
		"lexicon-skip": &g.noLexis,
	}
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want a group, its ranges and what it is")
		}
		slot, ok := slots[f[0]]
		if !ok {
			return fmt.Errorf("unknown group %q", f[0])
		}
		rs, err := packs.ParseRanges(f[1])
		if err != nil {
			return err
		}
		*slot = append(*slot, rs...)
		return nil
	})
	if err != nil {
		return g, err
	}
	for k, slot := range slots {
		if len(*slot) == 0 {
			return g, fmt.Errorf("%s: no group %s", name, k)
		}
	}
	return g, nil
}

// loadRules reads the Verify stage's packs. A row that names a code the
// release lacks is reported by check (rules.Set.Check) and, when it would
// emit that code, not applied.
func loadRules(set *packs.Set, tab *codesys.Tabular, check *packs.Report) (*rules, error) {
	r := &rules{}
	for _, n := range []string{packChapters, packSymptoms, packHistory, packLinks, packGroups, packBeside, packMalignant} {
		if _, _, err := packText(set, n); err != nil {
			return nil, err
		}
	}
	// Every pack is there (above).
	text := func(name string) (string, string) {
		p := set.Pack(name)
		return p.Text, p.Label()
	}
	data, label := text(packChapters)
	err := tsvLines(label, data, func(line int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want a role, a title's beginning and a guideline")
		}
		role, ok := chapterRoles()[f[0]]
		if !ok {
			return fmt.Errorf("unknown role %q", f[0])
		}
		if check.Unused(packChapters, line) {
			// A list composed from an order file alone has no
			// chapters: the rule has nothing to apply to.
			return nil
		}
		r.chapters = append(r.chapters, chapterRule{role: role, title: f[1], guideline: f[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, label = text(packSymptoms)
	err = tsvLines(label, data, func(_ int, f []string) error {
		if len(f) < 3 || len(f) > 4 {
			return fmt.Errorf("want symptom, diagnoses, a description and optionally the guideline")
		}
		rule := symptomRule{symptom: f[0], diagnoses: strings.Fields(f[1]), what: f[2]}
		if len(f) == 4 {
			rule.guideline = f[3]
		}
		if f[1] == sameSiteMark {
			rule.diagnoses, rule.sameSite = nil, true
		}
		r.symptoms = append(r.symptoms, rule)
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, label = text(packHistory)
	err = tsvLines(label, data, func(line int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want conditions, a history code and a description")
		}
		if check.Unused(packHistory, line) {
			return nil
		}
		v := tab.Validate(f[1])
		r.history = append(r.history, historyRule{conditions: strings.Fields(f[0]), code: v.Code, title: v.Title})
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, label = text(packLinks)
	err = tsvLines(label, data, func(line int, f []string) error {
		if len(f) != 5 || (f[3] != "keep" && f[3] != "drop") {
			return fmt.Errorf("want from, with, result, keep or drop, and a guideline")
		}
		if check.Unused(packLinks, line) {
			return nil
		}
		r.links = append(r.links, linkRule{from: strings.Fields(f[0]), with: strings.Fields(f[1]), result: f[2],
			keepWith: f[3] == "keep", guideline: f[4]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, label = text(packGroups)
	if r.groups, err = parseGroups(label, data); err != nil {
		return nil, err
	}
	data, label = text(packBeside)
	err = tsvLines(label, data, func(line int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want a code, the ranges that name its site or kind, and why")
		}
		rs, err := packs.ParseRanges(f[1])
		if err != nil {
			return err
		}
		if check.Unused(packBeside, line) {
			return nil
		}
		r.beside = append(r.beside, besideRule{code: f[0], ranges: rs, why: f[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	data, label = text(packMalignant)
	err = tsvLines(label, data, func(_ int, f []string) error {
		if len(f) != 2 || f[1] == "" {
			return fmt.Errorf("want eradicated or active, and the words")
		}
		slot, ok := map[string]*[]string{"eradicated": &r.eradicatedWords, "active": &r.activeWords,
			"clear": &r.clearWords, "spread": &r.spreadWords}[f[0]]
		if !ok {
			return fmt.Errorf("unknown kind %q", f[0])
		}
		*slot = append(*slot, f[1])
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// sides are the word ids of the sides a note names (en/sides): each
// side's, and those that say both sides.
type sides struct {
	right, left, both []uint32
}

// parseSides reads en/sides, with the word ids of lx.
func parseSides(name, data string, lx *lexicon) (sides, error) {
	var sd sides
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 2 {
			return fmt.Errorf("want a side and its words")
		}
		var ids []uint32
		for _, w := range strings.Fields(f[1]) {
			for _, s := range lx.phraseWords(w) {
				if id, ok := lx.stemID(s, false); ok {
					ids = append(ids, id)
				}
			}
		}
		switch f[0] {
		case "right":
			sd.right = append(sd.right, ids...)
		case "left":
			sd.left = append(sd.left, ids...)
		case "both":
			sd.both = append(sd.both, ids...)
		default:
			return fmt.Errorf("side %q: want right, left or both", f[0])
		}
		return nil
	})
	return sd, err
}

// connectives are the words that join, link or set apart conditions in a
// phrase (en/connectives), by kind.
type connectives struct {
	coordinate, alternative, link, join, absent map[string]bool
}

// parseConnectives reads en/connectives.
func parseConnectives(name, data string) (connectives, error) {
	cn := connectives{coordinate: map[string]bool{}, alternative: map[string]bool{}, link: map[string]bool{},
		join: map[string]bool{}, absent: map[string]bool{}}
	kinds := map[string]map[string]bool{"coordinate": cn.coordinate, "alternative": cn.alternative, "link": cn.link,
		"join": cn.join, "absent": cn.absent}
	err := tsvLines(name, data, func(_ int, f []string) error {
		if len(f) != 2 || strings.TrimSpace(f[1]) == "" {
			return fmt.Errorf("want a kind and its words")
		}
		set, ok := kinds[f[0]]
		if !ok {
			return fmt.Errorf("kind %q: want coordinate, alternative, link, join or absent", f[0])
		}
		set[strings.ToLower(strings.Join(strings.Fields(f[1]), " "))] = true
		return nil
	})
	return cn, err
}
