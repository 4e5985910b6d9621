package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// kind is what a column of a pack names, and so how it is checked.
type kind uint8

const (
	// kindBillable: a code a rule emits; the release must have it as a
	// code that may be reported.
	kindBillable kind = iota
	// kindCode: a code the release must have (a header will do).
	kindCode
	// kindPrefixes: space-separated code prefixes; each must begin some
	// code of the release.
	kindPrefixes
	// kindRanges: space-separated ranges (Range); each end must begin
	// some code of the release.
	kindRanges
	// kindChapter: the beginning of a chapter's title.
	kindChapter
)

// column is a column of a pack that names codes.
type column struct {
	index int
	kind  kind
	// except is a value of the column that names no code.
	except string
}

// columns returns the columns of the pack name that name codes, and
// whether medcode reads the pack at all.
func columns(name string) ([]column, bool) {
	switch name {
	case "icd10cm/terms":
		return []column{{index: 0, kind: kindCode}}, true
	case "icd10cm/symptoms":
		return []column{{index: 0, kind: kindPrefixes}, {index: 1, kind: kindPrefixes, except: "same-site"}}, true
	case "icd10cm/links":
		return []column{{index: 0, kind: kindPrefixes}, {index: 1, kind: kindPrefixes}, {index: 2, kind: kindBillable}}, true
	case "icd10cm/history":
		return []column{{index: 0, kind: kindPrefixes}, {index: 1, kind: kindBillable}}, true
	case "icd10cm/groups":
		return []column{{index: 1, kind: kindRanges}}, true
	case "icd10cm/beside":
		return []column{{index: 0, kind: kindCode}, {index: 1, kind: kindRanges}}, true
	case "icd10cm/chapters":
		return []column{{index: 1, kind: kindChapter}}, true
	case "icd10uk/exclusions", "opcs4/exclusions":
		return []column{{index: 0, kind: kindRanges}, {index: 1, kind: kindRanges}}, true
	case "icd10cm/encounter", "en/words", "en/synonyms", "en/vague", "en/suffixes", "en/optional",
		"en/drugs", "en/malignancy", "en/stopwords", "en/defaults", "en/procedures", "en/spellings", "opcs4/subsidiary", "en/sides",
		"en/abbreviations", "en/letters", "en/deny", "en/querywords", "icd10pcs/order", "en/connectives", PackGuidelines:
		return nil, true
	}
	return nil, false
}

// Issue is a rule of a pack that names what the release lacks.
type Issue struct {
	// Pack is the pack's name and File where it was read from.
	Pack, File string
	// Line is the rule's line in the pack.
	Line int
	// Code is what the rule names: a code, a prefix, a range's end or a
	// chapter title's beginning.
	Code string
	// Problem says what the release lacks.
	Problem string
	// Unused says the rule is not applied: it would emit a code the
	// release lacks. A rule that only matches codes (a prefix, a range)
	// is still applied and matches nothing of what the release lacks.
	Unused bool
}

// String writes the issue as a warning: the pack's file and line, then
// the problem.
func (i Issue) String() string {
	where := i.File
	if where == Embedded {
		where = i.Pack + " (embedded)"
	}
	s := fmt.Sprintf("%s line %d: %s", where, i.Line, i.Problem)
	if i.Unused {
		s += " (rule not applied)"
	}
	return s
}

// Report is the outcome of checking the packs against one release.
type Report struct {
	// Release is the release checked, "icd10cm-2025".
	Release string
	// Issues are the rules naming what the release lacks, by pack and
	// line.
	Issues []Issue
	// Unknown are the packs of the release's classification that medcode
	// does not read (a misspelt file name overrides nothing).
	Unknown []string
}

// Unused reports whether the rule of pack at line is not applied because
// it would emit a code the release lacks.
func (r *Report) Unused(pack string, line int) bool {
	for _, i := range r.Issues {
		if i.Pack == pack && i.Line == line && i.Unused {
			return true
		}
	}
	return false
}

// Warnings returns the issues and unknown packs as warnings, the one form
// medcode reports them in (at start-up and by medcode rules check).
func (r *Report) Warnings() []string {
	var out []string
	for _, i := range r.Issues {
		out = append(out, i.String())
	}
	for _, u := range r.Unknown {
		out = append(out, fmt.Sprintf("rule pack %s: not a pack medcode reads (see docs/rules.md)", u))
	}
	return out
}

// Check compares every code the packs of rel's classification name with
// rel. A rule naming a code the release lacks is reported, never dropped
// without a word and never an error: the one policy of every pack.
func (s *Set) Check(rel *codesys.Release) *Report {
	rep := &Report{Release: rel.ID()}
	k := newKnown(rel)
	for _, p := range s.Packs() {
		if p.Scope() != string(rel.System) {
			continue
		}
		cols, ok := columns(p.Name)
		if !ok {
			rep.Unknown = append(rep.Unknown, p.Name)
			continue
		}
		for _, row := range p.Rows {
			for _, col := range cols {
				if col.index >= len(row.Fields) || row.Fields[col.index] == col.except {
					continue
				}
				for _, is := range k.check(col.kind, row.Fields[col.index]) {
					is.Pack, is.File, is.Line = p.Name, p.File, row.Line
					rep.Issues = append(rep.Issues, is)
				}
			}
		}
	}
	return rep
}

// known answers what a release has.
type known struct {
	rel *codesys.Release
	// codes are the release's codes and identifiers without their dots,
	// sorted, for the prefix checks.
	codes []string
	// chapters are the titles of the chapters.
	chapters []string
}

func newKnown(rel *codesys.Release) *known {
	k := &known{rel: rel}
	switch {
	case rel.Tabular != nil:
		for i := range rel.Tabular.Nodes {
			n := &rel.Tabular.Nodes[i]
			switch n.Kind {
			case codesys.KindChapter:
				k.chapters = append(k.chapters, n.Title)
			case codesys.KindBlock:
			default:
				k.codes = append(k.codes, compact(n.Code))
			}
		}
	case rel.Classes != nil:
		for i := range rel.Classes.Classes {
			c := &rel.Classes.Classes[i]
			if c.Kind == "chapter" {
				k.chapters = append(k.chapters, c.Title)
			}
			k.codes = append(k.codes, compact(c.Code))
			if c.ID != "" {
				k.codes = append(k.codes, compact(c.ID))
			}
		}
	}
	slices.Sort(k.codes)
	return k
}

// begins reports whether some code of the release begins with prefix.
// A four-character code ending in the filler X (J22X: the UK's way of
// writing a category without subdivisions in four characters) begins the
// category's code.
func (k *known) begins(prefix string) bool {
	p := compact(prefix)
	i, _ := slices.BinarySearch(k.codes, p)
	if i < len(k.codes) && strings.HasPrefix(k.codes[i], p) {
		return true
	}
	if len(p) == 4 && p[3] == 'X' {
		i, ok := slices.BinarySearch(k.codes, p[:3])
		return ok || i < len(k.codes) && k.codes[i] == p[:3]
	}
	return false
}

func (k *known) check(kd kind, field string) []Issue {
	id := k.rel.ID()
	switch kd {
	case kindBillable, kindCode:
		code := strings.TrimSpace(field)
		v, err := k.rel.Validate(code)
		switch {
		case err != nil:
			return []Issue{{Code: code, Problem: err.Error(), Unused: true}}
		case v.Status == codesys.Invalid:
			return []Issue{{Code: code, Problem: fmt.Sprintf("%s is not in %s: %s", code, id, v.Reason), Unused: true}}
		case kd == kindBillable && v.Status != codesys.Valid:
			return []Issue{{Code: code, Problem: fmt.Sprintf("%s is not a code of %s that may be reported: %s", code, id, v.Reason), Unused: true}}
		}
	case kindPrefixes:
		var out []Issue
		for _, p := range strings.Fields(field) {
			if !k.begins(p) {
				out = append(out, Issue{Code: p, Problem: fmt.Sprintf("no code of %s begins %s", id, p)})
			}
		}
		return out
	case kindRanges:
		rs, err := ParseRanges(field)
		if err != nil {
			return []Issue{{Code: field, Problem: err.Error()}}
		}
		var out []Issue
		for _, r := range rs {
			for _, end := range []string{r.Lo, r.Hi} {
				if !k.begins(end) {
					out = append(out, Issue{Code: end, Problem: fmt.Sprintf("no code of %s begins %s (range %s)", id, end, r)})
					break
				}
			}
		}
		return out
	case kindChapter:
		for _, t := range k.chapters {
			if strings.HasPrefix(t, field) {
				return nil
			}
		}
		return []Issue{{Code: field, Problem: fmt.Sprintf("no chapter of %s begins %q", id, field), Unused: true}}
	}
	return nil
}
