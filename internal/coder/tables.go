package coder

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// The coder's data tables, written for medcode from general clinical and
// coding knowledge; docs/coder.md describes each.
var (
	//go:embed data/words.tsv
	wordsTSV string
	//go:embed data/synonyms.tsv
	synonymsTSV string
	//go:embed data/terms.tsv
	termsTSV string
	//go:embed data/symptoms.tsv
	symptomsTSV string
	//go:embed data/vague.txt
	vagueTXT string
	//go:embed data/links.tsv
	linksTSV string
	//go:embed data/history.tsv
	historyTSV string
	//go:embed data/encounter.txt
	encounterTXT string
	//go:embed data/optional.txt
	optionalTXT string
	//go:embed data/chapters.tsv
	chaptersTSV string
	//go:embed data/suffixes.txt
	suffixesTXT string
	//go:embed data/drugs.tsv
	drugsTSV string
)

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
func parseEquivalences(data string) (map[string]string, error) {
	m := map[string]string{}
	err := tsvLines("words.tsv", data, func(_ int, f []string) error {
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

// parseSynonyms reads synonyms.tsv: phrase, then the words it stands for.
func parseSynonyms(data string) ([][2]string, error) {
	var out [][2]string
	err := tsvLines("synonyms.tsv", data, func(_ int, f []string) error {
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
	// overrides says why the row stands although a path of the Index
	// reads the same words to another code (a misreading of the phrase:
	// an organism's name taken for the infection it causes).
	overrides string
}

// parseTerms reads terms.tsv: code, phrase and, for a row standing
// against a reading of the Index, why.
func parseTerms(data string) ([]term, error) {
	var out []term
	err := tsvLines("terms.tsv", data, func(_ int, f []string) error {
		if len(f) < 2 || len(f) > 3 || f[0] == "" || f[1] == "" {
			return fmt.Errorf("want a code, a phrase and, where the Index reads the phrase otherwise, why the row overrides it")
		}
		t := term{code: f[0], text: f[1]}
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

var chapterRoles = map[string]chapterRole{"injury": roleInjury, "symptom": roleSymptom, "factor": roleFactor, "external": roleExternal}

// chapterRule names a chapter by the beginning of its title.
type chapterRule struct {
	role      chapterRole
	title     string
	guideline string
}

// rules are the Verify stage's tables.
type rules struct {
	symptoms []symptomRule
	links    []linkRule
	history  []historyRule
	chapters []chapterRule
	// warnings are the rules that name what the release lacks.
	warnings []string
}

// loadRules reads symptoms.tsv, history.tsv and links.tsv and checks every
// result code against the Tabular List, so that a rule never emits a code
// the release lacks.
func loadRules(tab *codesys.Tabular) (*rules, error) {
	r := &rules{}
	err := tsvLines("chapters.tsv", chaptersTSV, func(line int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want a role, a title's beginning and a guideline")
		}
		role, ok := chapterRoles[f[0]]
		if !ok {
			return fmt.Errorf("unknown role %q", f[0])
		}
		found := false
		for i := range tab.Nodes {
			n := &tab.Nodes[i]
			if n.Kind == codesys.KindChapter && strings.HasPrefix(n.Title, f[1]) {
				found = true
				break
			}
		}
		if !found {
			// A list composed from an order file alone has no
			// chapters: the rule has nothing to apply to, which is
			// reported, not fatal.
			r.warnings = append(r.warnings, fmt.Sprintf("chapters.tsv line %d: no chapter of the Tabular List begins %q", line, f[1]))
			return nil
		}
		r.chapters = append(r.chapters, chapterRule{role: role, title: f[1], guideline: f[2]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tsvLines("symptoms.tsv", symptomsTSV, func(_ int, f []string) error {
		if len(f) < 3 || len(f) > 4 {
			return fmt.Errorf("want symptom, diagnoses, a description and optionally the guideline")
		}
		rule := symptomRule{symptom: f[0], diagnoses: strings.Fields(f[1]), what: f[2], guideline: "guideline I.B.5"}
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
	err = tsvLines("history.tsv", historyTSV, func(_ int, f []string) error {
		if len(f) != 3 {
			return fmt.Errorf("want conditions, a history code and a description")
		}
		v := tab.Validate(f[1])
		if v.Status != codesys.Valid {
			// A release without the code: the rule is left out.
			return nil
		}
		r.history = append(r.history, historyRule{conditions: strings.Fields(f[0]), code: v.Code, title: v.Title})
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = tsvLines("links.tsv", linksTSV, func(_ int, f []string) error {
		if len(f) != 5 || (f[3] != "keep" && f[3] != "drop") {
			return fmt.Errorf("want from, with, result, keep or drop, and a guideline")
		}
		if v := tab.Validate(f[2]); v.Status != codesys.Valid {
			return fmt.Errorf("result %s: %s", f[2], v.Reason)
		}
		r.links = append(r.links, linkRule{from: strings.Fields(f[0]), with: strings.Fields(f[1]), result: f[2],
			keepWith: f[3] == "keep", guideline: f[4]})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}
