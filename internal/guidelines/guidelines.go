// Package guidelines turns the ICD-10-CM Official Guidelines for Coding and
// Reporting into numbered, searchable sections, so that a coder (or the LLM
// agent) can look a rule up and cite it by its section number, such as
// I.C.9.a.2 for hypertensive chronic kidney disease.
//
// The guidelines are published each fiscal year as a PDF. Import reads the
// PDF (or a text rendering of it, such as pdftotext output) and Parse splits
// the text at its outline headings: "Section I.", then "C.", "9.", "a.",
// "2)", "(a)" and "(i)", each level numbered in sequence. A line that looks
// like a heading but breaks the sequence ("b." where no "a." came before) is
// body text. Installed guidelines live in the data directory as
// guidelines/<year>.json.
package guidelines

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/medcode-dev/medcode/internal/textnorm"
)

// ErrNotInstalled is returned (wrapped) by Load when no guidelines are
// installed in the data directory.
var ErrNotInstalled = errors.New("no guidelines installed")

// The classifications whose guidelines Parse reads.
const (
	SystemCM  = "icd10cm"
	SystemPCS = "icd10pcs"
)

// Section is one numbered section of the guidelines.
type Section struct {
	// ID is the section number as coders cite it: "I", "I.C", "I.C.9",
	// "I.C.9.a", "I.C.9.a.2", "I.C.9.a.2.(a)".
	ID string `json:"id"`
	// Title is the heading text after the number.
	Title string `json:"title"`
	// Text is the section's own body, up to its first subsection.
	Text string `json:"text,omitempty"`
}

// Document is one edition of the guidelines, split into sections in
// document order.
type Document struct {
	// Year is the fiscal year the edition applies to, e.g. "2025".
	Year string `json:"year"`
	// System is the classification the guidelines are for: SystemCM or
	// SystemPCS (empty in files installed before it was recorded: CM).
	System string `json:"system,omitempty"`
	// Source says where the document was imported from.
	Source   string    `json:"source,omitempty"`
	Imported time.Time `json:"imported,omitzero"`
	Sections []Section `json:"sections"`

	once  sync.Once
	index *searchIndex
}

// Section returns the section numbered id (compared case-sensitively for
// letters, since "I.C" and "I.c" are different levels), or nil.
func (d *Document) Section(id string) *Section {
	id = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(id), "Section "))
	for i := range d.Sections {
		if d.Sections[i].ID == id {
			return &d.Sections[i]
		}
	}
	return nil
}

// level numbers the outline levels of the guidelines.
const (
	lvSection    = iota // Section I.
	lvUpper             // A.
	lvNumber            // 1.
	lvLower             // a.
	lvParenNum          // 1)
	lvParenLower        // (a)
	lvRoman             // (i)
	numLevels
)

var headingRes = [numLevels]*regexp.Regexp{
	lvSection:    regexp.MustCompile(`^Section\s+(IV|I{1,3})\.?(?:\s+(.*))?$`),
	lvUpper:      regexp.MustCompile(`^([A-Z])\.\s+(\S.*)$`),
	lvNumber:     regexp.MustCompile(`^(\d{1,2})\.\s+(\S.*)$`),
	lvLower:      regexp.MustCompile(`^([a-z])\.\s+(\S.*)$`),
	lvParenNum:   regexp.MustCompile(`^(\d{1,2})\)\s+(\S.*)$`),
	lvParenLower: regexp.MustCompile(`^\(([a-z])\)\s+(\S.*)$`),
	lvRoman:      regexp.MustCompile(`^\(((?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii))\)\s+(\S.*)$`),
}

// Lines that are not part of the text: page footers (the document's
// title, its fiscal year and the page number, each on a line of its own)
// and table-of-contents entries with dot leaders.
var (
	pageLineRe   = regexp.MustCompile(`(?i)\bpage\s+\d+\s+of\s+\d+\s*$`)
	footerLineRe = regexp.MustCompile(`(?i)^(ICD-10-(CM|PCS) Official Guidelines for Coding and Reporting( FY \d{4})?|FY \d{4})$`)
	tocLineRe    = regexp.MustCompile(`(\.\s?){4,}\s*\d+\s*$`)
)

// ordinal returns the 1-based position of a heading label at level lv.
func ordinal(lv int, label string) int {
	switch lv {
	case lvSection, lvRoman:
		return roman(label)
	case lvUpper:
		return int(label[0]-'A') + 1
	case lvLower, lvParenLower:
		return int(label[0]-'a') + 1
	default:
		n, _ := strconv.Atoi(label)
		return n
	}
}

func roman(s string) int {
	vals := map[byte]int{'i': 1, 'v': 5, 'x': 10, 'I': 1, 'V': 5, 'X': 10}
	n := 0
	for i := 0; i < len(s); i++ {
		v := vals[s[i]]
		if i+1 < len(s) && vals[s[i+1]] > v {
			n -= v
		} else {
			n += v
		}
	}
	return n
}

// idPart renders a heading label as it appears in a section number.
func idPart(lv int, label string) string {
	if lv >= lvParenLower {
		return "(" + label + ")"
	}
	return label
}

type open struct {
	lv, ord int
	part    string
}

// Parse splits the text of the guidelines into sections. The text is
// expected one line per printed line, as PDF text extraction gives it.
// Text before the first "Section I." heading (title page, contents) is
// dropped. Without such a heading the text is read as the ICD-10-PCS
// guidelines, from guideline A1 on, and the Document's System says which
// it was. Parse fails if it finds neither, which means the input is not
// the guidelines.
func Parse(r io.Reader) (*Document, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	var lines []string
	for sc.Scan() {
		line := strings.ReplaceAll(sc.Text(), "\u00a0", " ")
		line = strings.Join(strings.Fields(line), " ")
		if pageLineRe.MatchString(line) || footerLineRe.MatchString(line) || tocLineRe.MatchString(line) {
			continue
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read guidelines text: line %d: %w", len(lines)+1, err)
	}
	d := &Document{System: SystemCM, Sections: parseCM(lines)}
	if len(d.Sections) == 0 {
		d = &Document{System: SystemPCS, Sections: parsePCS(lines)}
	}
	if len(d.Sections) == 0 {
		return nil, errors.New("read guidelines text: no \"Section I.\" heading (ICD-10-CM) and no \"A1.\" guideline (ICD-10-PCS) found; is this the Official Guidelines?")
	}
	for i := range d.Sections {
		splitLongTitle(&d.Sections[i])
	}
	return d, nil
}

// bodyWriter collects the body text of the section being read: lines of
// a paragraph joined by spaces, paragraphs by a newline.
type bodyWriter struct {
	b     strings.Builder
	blank bool
}

func (w *bodyWriter) line(s string) {
	if s == "" {
		w.blank = true
		return
	}
	if w.b.Len() > 0 {
		if w.blank {
			w.b.WriteString("\n")
		} else {
			w.b.WriteString(" ")
		}
	}
	w.b.WriteString(s)
	w.blank = false
}

// flush appends the collected text to s and starts afresh.
func (w *bodyWriter) flush(s *Section) {
	if s != nil {
		s.Text = strings.TrimSpace(s.Text + " " + w.b.String())
	}
	w.b.Reset()
	w.blank = false
}

// parseCM splits the lines of the ICD-10-CM guidelines at their outline
// headings; it returns no sections when there is no "Section I." heading.
func parseCM(lines []string) []Section {
	var (
		secs  []Section
		stack []open
		body  bodyWriter
	)
	cur := func() *Section {
		if len(secs) == 0 {
			return nil
		}
		return &secs[len(secs)-1]
	}
	for _, line := range lines {
		if line != "" {
			if lv, label, title, ok := heading(stack, line); ok && (lv == lvSection || len(stack) > 0) {
				body.flush(cur())
				stack = push(stack, lv, label)
				secs = append(secs, Section{ID: sectionID(stack), Title: title})
				continue
			}
		}
		if len(secs) == 0 {
			continue // title page and contents before Section I
		}
		body.line(line)
	}
	body.flush(cur())
	return secs
}

// maxGap is how many headings of one level may be missing between two
// that are found.
const maxGap = 1

// heading reports whether line is the next heading the outline allows:
// the first child of the deepest open level, or the successor of an open
// level's current heading (allowing maxGap lost headings). "Section" headings are always accepted.
func heading(stack []open, line string) (lv int, label, title string, ok bool) {
	for lv = range numLevels {
		m := headingRes[lv].FindStringSubmatch(line)
		if m == nil {
			continue
		}
		label, title = m[1], strings.TrimSpace(m[2])
		ord := ordinal(lv, label)
		if lv == lvSection {
			return lv, label, title, true
		}
		if len(stack) > 0 && stack[len(stack)-1].lv == lv-1 && ord == 1 {
			return lv, label, title, true
		}
		for _, o := range stack {
			// A heading may be lost in text extraction: tolerate a gap
			// of up to maxGap headings, no more, since numbered lists in
			// body text would otherwise become sections.
			if o.lv == lv && o.ord < ord && ord <= o.ord+1+maxGap {
				return lv, label, title, true
			}
		}
		// "(i)" is both the ninth letter and the first roman numeral:
		// keep trying the later levels.
	}
	return 0, "", "", false
}

func push(stack []open, lv int, label string) []open {
	for i, o := range stack {
		if o.lv >= lv {
			stack = stack[:i]
			break
		}
	}
	return append(stack, open{lv: lv, ord: ordinal(lv, label), part: idPart(lv, label)})
}

func sectionID(stack []open) string {
	parts := make([]string, len(stack))
	for i, o := range stack {
		parts[i] = o.part
	}
	return strings.Join(parts, ".")
}

// splitLongTitle moves the sentences after the first out of a heading line
// that runs on into body text, as "(a) Sequencing ... The underlying
// condition is ..." does in print.
func splitLongTitle(s *Section) {
	if len(s.Title) <= 120 {
		return
	}
	if i := strings.Index(s.Title, ". "); i > 0 && i < 120 {
		rest := strings.TrimSpace(s.Title[i+2:])
		s.Title = s.Title[:i]
		s.Text = strings.TrimSpace(rest + " " + s.Text)
	}
}

// Hit is a section found by Search.
type Hit struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Score float64 `json:"score"`
}

// Field weights of the search index. A heading names what its section
// governs, so a word of the title counts as much as several of the body;
// the headings above a section say which rule it belongs to ("Hypertension"
// above "Hypertensive Heart and Chronic Kidney Disease"), so they count
// too, though little, as every sibling shares them. The values were chosen
// on the retrieval benchmark of docs/benchmarks.md.
const (
	titleWeight    = 5.0
	textWeight     = 1.0
	ancestorWeight = 0.3
)

type searchIndex struct {
	// postings maps a stem to the sections holding it, with the
	// field-weighted term frequency.
	postings map[string][]posting
	lens     []float64
	avgLen   float64
}

type posting struct {
	doc int
	tf  float64
}

// parentID returns the number of the section above id: "I.C.9.a" for
// "I.C.9.a.2", "" for "I".
func parentID(id string) string {
	if i := strings.LastIndexByte(id, '.'); i > 0 {
		return id[:i]
	}
	return ""
}

func (d *Document) build() {
	ix := &searchIndex{postings: map[string][]posting{}, lens: make([]float64, len(d.Sections))}
	titles := make(map[string]string, len(d.Sections))
	for _, s := range d.Sections {
		titles[s.ID] = s.Title
	}
	total := 0.0
	for i, s := range d.Sections {
		tf := map[string]float64{}
		add := func(text string, w float64) {
			for _, st := range textnorm.Stems(text) {
				tf[st] += w
				ix.lens[i] += w
			}
		}
		add(s.Title, titleWeight)
		add(s.Text, textWeight)
		for p := parentID(s.ID); p != ""; p = parentID(p) {
			add(titles[p], ancestorWeight)
		}
		total += ix.lens[i]
		keys := make([]string, 0, len(tf))
		for k := range tf {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			ix.postings[k] = append(ix.postings[k], posting{i, tf[k]})
		}
	}
	if len(d.Sections) > 0 {
		ix.avgLen = total / float64(len(d.Sections))
	}
	d.index = ix
}

// Search returns the sections best matching query, best first, at most
// limit of them (all when limit is 0). Sections are scored by BM25 over
// the stemmed words of their title, body and the titles of the sections
// above them, weighted by field; of two sections scoring the same, the
// higher in the outline comes first.
func (d *Document) Search(query string, limit int) []Hit {
	d.once.Do(d.build)
	ix := d.index
	const k1, b = 1.2, 0.75
	scores := map[int]float64{}
	n := float64(len(d.Sections))
	seen := map[string]bool{}
	for _, st := range textnorm.Stems(query) {
		if seen[st] {
			continue
		}
		seen[st] = true
		ps := ix.postings[st]
		if len(ps) == 0 {
			continue
		}
		idf := math.Log(1 + (n-float64(len(ps))+0.5)/(float64(len(ps))+0.5))
		for _, p := range ps {
			norm := k1 * (1 - b + b*ix.lens[p.doc]/ix.avgLen)
			scores[p.doc] += idf * p.tf * (k1 + 1) / (p.tf + norm)
		}
	}
	hits := make([]Hit, 0, len(scores))
	for i, sc := range scores {
		hits = append(hits, Hit{ID: d.Sections[i].ID, Title: d.Sections[i].Title, Score: math.Round(sc*100) / 100})
	}
	slices.SortFunc(hits, func(a, b Hit) int {
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		// Equal scores: the shallower section is the one that governs
		// (a subsection often repeats its parent's heading).
		if da, db := strings.Count(a.ID, "."), strings.Count(b.ID, "."); da != db {
			return da - db
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	return hits
}

// Parent returns the number of the section above section id, or "" for a
// top-level section or one the document lacks; an outline level lost in
// text extraction is skipped, so that the parent is always a section of d.
func (d *Document) Parent(id string) string {
	if d.Section(id) == nil {
		return ""
	}
	for p := parentID(id); p != ""; p = parentID(p) {
		if d.Section(p) != nil {
			return p
		}
	}
	return ""
}

// Children returns the numbers of the sections directly below section id,
// in document order (none for a section the document lacks).
func (d *Document) Children(id string) []string {
	if d.Section(id) == nil {
		return nil
	}
	have := make(map[string]bool, len(d.Sections))
	for _, s := range d.Sections {
		have[s.ID] = true
	}
	var out []string
	for _, s := range d.Sections {
		p := parentID(s.ID)
		for p != "" && !have[p] {
			p = parentID(p)
		}
		if p == id {
			out = append(out, s.ID)
		}
	}
	return out
}
