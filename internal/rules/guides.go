package rules

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/medcode-dev/medcode/internal/guidelines"
)

// PackGuidelines is the pack of the guideline rules the offline coder
// applies, keyed by the ids the coder refers to them by.
const PackGuidelines = "icd10cm/guidelines"

// quoteLen bounds a quote of a section, so that a trail cites the rule
// without reprinting the guidelines.
const quoteLen = 200

// GuidelineRule is one row of icd10cm/guidelines.
type GuidelineRule struct {
	// ID is the coder's name for the rule, e.g. "uncertain-inpatient".
	ID string
	// Section is the guideline section the rule comes from, e.g. "II.H".
	Section string
	// Title is the section's title as the guidelines print it (or its
	// beginning), which the installed section's title must begin with.
	Title string
	// Summary is medcode's own short statement of the rule, cited when no
	// guidelines are installed or the installed ones lack the section.
	Summary string
	// Line is the row's line in the pack.
	Line int
}

// Citation is what a trail step cites for a guideline rule.
type Citation struct {
	// Section is the section number, e.g. "II.H".
	Section string
	// Year and Quote are the fiscal year of the installed guidelines and
	// the beginning of the section's text; both are empty when the rule is
	// applied from its built-in summary.
	Year, Quote string
	// Summary is the rule's built-in summary.
	Summary string
	// Flag says why the installed guidelines could not be cited ("the
	// FY2025 guidelines have no section II.H"); empty otherwise.
	Flag string
}

// Note is what a step adds to its detail when the rule is applied from
// its built-in summary, and empty when the installed section is quoted.
func (c Citation) Note() string {
	if c.Quote != "" {
		return ""
	}
	why := "no guidelines installed"
	if c.Flag != "" {
		why = c.Flag
	}
	return fmt.Sprintf(" [rule applied: built-in summary of %s (%s): %s]", c.Section, why, c.Summary)
}

// Guidelines are the guideline rules of a Set resolved against the
// installed guidelines: what each rule's steps cite, and the rules the
// installed edition does not bear out.
type Guidelines struct {
	cites     map[string]Citation
	doc       *guidelines.Document
	year      string
	warnings  []string
	packLabel string
}

// GuidelineRules reads icd10cm/guidelines.
func (s *Set) GuidelineRules() ([]GuidelineRule, error) {
	p := s.Pack(PackGuidelines)
	if p == nil {
		return nil, fmt.Errorf("rule pack %s is missing", PackGuidelines)
	}
	var out []GuidelineRule
	seen := map[string]bool{}
	err := p.Each(func(r Row) error {
		f := r.Fields
		if len(f) != 4 || f[0] == "" || f[1] == "" || f[3] == "" {
			return fmt.Errorf("want a rule id, a section, its title and a summary")
		}
		if seen[f[0]] {
			return fmt.Errorf("rule %q listed twice", f[0])
		}
		seen[f[0]] = true
		out = append(out, GuidelineRule{ID: f[0], Section: f[1], Title: f[2], Summary: f[3], Line: r.Line})
		return nil
	})
	return out, err
}

// Guidelines resolves the guideline rules against doc, the installed
// guidelines (nil when none are). A rule whose section doc lacks, or whose
// title doc changed, is a warning, and is cited by its built-in summary:
// the rule is still applied, so that the codes never depend on which
// edition is installed, and its steps say that it is flagged.
func (s *Set) Guidelines(doc *guidelines.Document) (*Guidelines, error) {
	rs, err := s.GuidelineRules()
	if err != nil {
		return nil, err
	}
	g := &Guidelines{cites: map[string]Citation{}, doc: doc, packLabel: s.Pack(PackGuidelines).Label()}
	if doc != nil {
		g.year = doc.Year
	}
	for _, r := range rs {
		c := Citation{Section: r.Section, Summary: r.Summary}
		if doc != nil {
			sec := doc.Section(r.Section)
			switch {
			case sec == nil:
				c.Flag = fmt.Sprintf("the FY%s guidelines have no section %s", doc.Year, r.Section)
			case !titleBegins(sec.Title, r.Title):
				c.Flag = fmt.Sprintf("section %s of the FY%s guidelines is titled %q, not %q", r.Section, doc.Year, sec.Title, r.Title)
			default:
				c.Year, c.Quote = doc.Year, quoteSection(sec)
			}
			if c.Flag != "" {
				g.warnings = append(g.warnings, fmt.Sprintf("%s line %d: rule %s: %s; applied with its built-in summary, flagged in the trail",
					g.packLabel, r.Line, r.ID, c.Flag))
			}
		}
		g.cites[r.ID] = c
	}
	return g, nil
}

// Warnings returns the rules the installed guidelines do not bear out.
func (g *Guidelines) Warnings() []string { return append([]string(nil), g.warnings...) }

// Year returns the fiscal year of the installed guidelines, or "".
func (g *Guidelines) Year() string { return g.year }

// Rule returns what a step of the rule id cites. An id the pack lacks is
// a programming error in the coder, not a data error: it is cited as
// unknown rather than failing a note.
func (g *Guidelines) Rule(id string) Citation {
	if c, ok := g.cites[id]; ok {
		return c
	}
	return Citation{Section: id, Summary: "no such rule in " + PackGuidelines, Flag: "unknown rule"}
}

// Section returns what a step citing section (a row of another pack, such
// as a presumed link of icd10cm/links) cites; summary is that row's own
// description. A section the installed guidelines lack is flagged.
func (g *Guidelines) Section(section, summary string) Citation {
	c := Citation{Section: section, Summary: summary}
	if g.doc == nil {
		return c
	}
	if sec := g.doc.Section(section); sec != nil {
		c.Year, c.Quote = g.doc.Year, quoteSection(sec)
	} else {
		c.Flag = fmt.Sprintf("the FY%s guidelines have no section %s", g.doc.Year, section)
	}
	return c
}

// quoteSection quotes a section's text, or its title when the section
// has no text of its own (only subsections).
func quoteSection(sec *guidelines.Section) string {
	if q := Quote(sec.Text); q != "" {
		return q
	}
	return sec.Title
}

// Quote returns the beginning of a section's text: its first sentence,
// cut at a word to about quoteLen characters.
func Quote(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	if i := strings.Index(t, ". "); i >= 0 && i < quoteLen {
		return t[:i+1]
	}
	if len(t) <= quoteLen {
		return t
	}
	cut := strings.LastIndexByte(t[:quoteLen], ' ')
	if cut <= 0 {
		cut = quoteLen
	}
	return t[:cut] + " …"
}

// titleBegins reports whether title begins with want, compared by words,
// ignoring case, quotes and punctuation: a printed title may run on into
// its first line of text.
func titleBegins(title, want string) bool {
	words := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	}
	t, w := words(title), words(want)
	if len(w) == 0 || len(w) > len(t) {
		return false
	}
	for i := range w {
		if t[i] != w[i] {
			return false
		}
	}
	return true
}
