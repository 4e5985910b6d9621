package note

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/textnorm"
)

// SectionType is the normalized type of a note section.
type SectionType string

// Section types. A header the package does not know is Unknown; text before
// the first header is None.
const (
	None                    SectionType = "none"
	Unknown                 SectionType = "unknown"
	ChiefComplaint          SectionType = "chief_complaint"
	HistoryOfPresentIllness SectionType = "history_of_present_illness"
	PastMedicalHistory      SectionType = "past_medical_history"
	PastSurgicalHistory     SectionType = "past_surgical_history"
	FamilyHistory           SectionType = "family_history"
	SocialHistory           SectionType = "social_history"
	Medications             SectionType = "medications"
	DischargeMedications    SectionType = "discharge_medications"
	Allergies               SectionType = "allergies"
	ReviewOfSystems         SectionType = "review_of_systems"
	PhysicalExam            SectionType = "physical_exam"
	Labs                    SectionType = "labs"
	Imaging                 SectionType = "imaging"
	Findings                SectionType = "findings"
	Impression              SectionType = "impression"
	Indication              SectionType = "indication"
	Comparison              SectionType = "comparison"
	Technique               SectionType = "technique"
	Procedures              SectionType = "procedures"
	ProcedureDescription    SectionType = "procedure_description"
	Anesthesia              SectionType = "anesthesia"
	Complications           SectionType = "complications"
	HospitalCourse          SectionType = "hospital_course"
	AssessmentAndPlan       SectionType = "assessment_and_plan"
	AdmissionDiagnoses      SectionType = "admission_diagnoses"
	DischargeDiagnoses      SectionType = "discharge_diagnoses"
	Diagnoses               SectionType = "diagnoses"
	Disposition             SectionType = "disposition"
	DischargeInstructions   SectionType = "discharge_instructions"
	FollowUp                SectionType = "follow_up"

	// labelSection marks table entries that label a part of a section.
	labelSection SectionType = "-"
)

const (
	maxHeaderWords           = 7
	maxHeaderBytes           = 64
	ownLineUnknownMaxWords   = 5
	ownLineUnknownMinLetters = 3
	headerTableCommentPrefix = "#"
)

// Section is a section of a note: a header and the text under it up to the
// next header.
type Section struct {
	Type SectionType
	// Header is the header as written, without list number or colon
	// ("HISTORY OF PRESENT ILLNESS"). It is empty, at the start of Body,
	// for the text before the first header.
	Header Span
	// Body is the text after the header (and its colon) up to the next
	// header or the end of the note.
	Body Span
}

// Span returns the whole section, header included.
func (s Section) Span(t *Text) Span { return t.Span(s.Header.Start, s.Body.End) }

//go:embed sections.tsv
var sectionsTSV string

// sectionTable maps folded header names to section types.
type sectionTable map[string]SectionType

func parseSectionTable(data string) sectionTable {
	tab := make(sectionTable, 400)
	for line := range strings.Lines(data) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, headerTableCommentPrefix) {
			continue
		}
		name, typ, ok := strings.Cut(line, "\t")
		if !ok {
			panic("note: sections.tsv: line without tab: " + line)
		}
		tab[headerKey(name)] = SectionType(typ)
	}
	return tab
}

// headerKey folds a header name to its table key: lower case, letters and
// digits only, words separated by one space, parenthesized parts dropped.
func headerKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	depth := 0
	space := false
	for _, r := range textnorm.Fold(s) {
		switch {
		case r == '(' || r == '[':
			depth++
		case r == ')' || r == ']':
			if depth > 0 {
				depth--
			}
		case depth > 0:
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'':
		default:
			space = true
		}
	}
	return b.String()
}

// header is a header found on a line.
type header struct {
	typ       SectionType
	name      Span
	bodyStart int
}

// findHeader looks for a section header at the start of the line
// src[start:end] (end excludes the line break).
func (tab sectionTable) findHeader(src string, start, end int) (header, bool) {
	i := skipSpace(src, start, end)
	i = skipListMarker(src, i, end)
	lineEnd := end
	for lineEnd > i && isSpaceByte(src[lineEnd-1]) {
		lineEnd--
	}
	if i >= lineEnd {
		return header{}, false
	}
	colon := -1
	for j := i; j < lineEnd && j-i <= maxHeaderBytes; j++ {
		if src[j] == ':' {
			colon = j
			break
		}
		if !headerByte(src[j]) {
			break
		}
	}
	if colon < 0 {
		// A line holding only a known header name: "HOSPITAL COURSE".
		name := src[i:lineEnd]
		if len(name) > maxHeaderBytes || !onlyHeaderBytes(name) || !capitalized(name) {
			return header{}, false
		}
		typ, ok := tab[headerKey(name)]
		if !ok || typ == labelSection {
			return header{}, false
		}
		return header{typ, Span{i, lineEnd, name}, lineEnd}, true
	}
	nameEnd := colon
	for nameEnd > i && isSpaceByte(src[nameEnd-1]) {
		nameEnd--
	}
	name := src[i:nameEnd]
	if name == "" || wordCount(name) > maxHeaderWords || !capitalized(name) {
		return header{}, false
	}
	key := headerKey(name)
	typ, known := tab[key]
	if known && typ == labelSection {
		return header{}, false
	}
	if !known {
		// An unknown name is a header only when it stands on its own
		// line and looks like one; inline "Lungs: clear" or "TSH: 2.1"
		// are labels and values, not sections.
		rest := skipSpace(src, colon+1, lineEnd)
		if rest < lineEnd || wordCount(name) > ownLineUnknownMaxWords || letterCount(name) < ownLineUnknownMinLetters || !titleOrUpper(name) {
			return header{}, false
		}
		typ = Unknown
	}
	return header{typ, Span{i, nameEnd, name}, colon + 1}, true
}

func headerByte(c byte) bool {
	return isLetter(c) || c == ' ' || c == '\t' || c == '/' || c == '&' || c == '-' || c == '(' || c == ')' || c == '\'' || c == ',' || isDigit(c) || c >= utf8.RuneSelf
}

func onlyHeaderBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if !headerByte(s[i]) {
			return false
		}
	}
	return true
}

// capitalized reports whether s starts with an upper-case letter, as every
// header does; "history of..." in running text does not.
func capitalized(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsUpper(r)
}

// titleOrUpper reports whether s is all upper case or has every long word
// capitalized, the shapes of a header standing on its own line.
func titleOrUpper(s string) bool {
	allUpper := true
	title := true
	for _, w := range strings.Fields(s) {
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLetter(r) && !unicode.IsUpper(r) && len(w) > 3 {
			title = false
		}
		for _, r := range w {
			if unicode.IsLower(r) {
				allUpper = false
			}
		}
	}
	return allUpper || title
}

func wordCount(s string) int { return len(strings.Fields(s)) }

func letterCount(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

func skipSpace(src string, i, end int) int {
	for i < end && isSpaceByte(src[i]) {
		i++
	}
	return i
}

// skipListMarker skips a list number or bullet at i: "1.", "2)", "a.",
// "IV.", "-", "*", "•".
func skipListMarker(src string, i, end int) int {
	j := listMarkerEnd(src, i, end)
	if j == i {
		return i
	}
	return skipSpace(src, j, end)
}

// listMarkerEnd returns the end of a list marker starting at i, followed by
// a space, or i if there is none.
func listMarkerEnd(src string, i, end int) int {
	if i >= end {
		return i
	}
	switch c := src[i]; {
	case c == '-' || c == '*' || c == '+' || c == '#':
		if i+1 < end && isSpaceByte(src[i+1]) {
			return i + 1
		}
		return i
	case c == 0xE2 && strings.HasPrefix(src[i:end], "•"):
		return i + len("•")
	case c == 0xC2 && strings.HasPrefix(src[i:end], "·"):
		return i + len("·")
	}
	j := i
	for j < end && j-i < 3 && isDigit(src[j]) {
		j++
	}
	if j == i {
		// a single letter or a short roman numeral: "a.", "B)", "iv."
		for j < end && j-i < 4 && strings.IndexByte("ivxIVX", src[j]) >= 0 {
			j++
		}
		if j == i && j < end && isLetter(src[j]) {
			j++
		}
	}
	if j > i && j+1 < end && (src[j] == '.' || src[j] == ')') && isSpaceByte(src[j+1]) {
		return j + 1
	}
	return i
}

// sections splits the text into sections.
func (tab sectionTable) sections(t *Text) []Section {
	src := t.src
	var out []Section
	cur := Section{Type: None, Header: Span{t.start, t.start, ""}}
	bodyStart := t.start
	for lineStart := t.start; lineStart < len(src); {
		nl := strings.IndexByte(src[lineStart:], '\n')
		lineEnd, next := len(src), len(src)
		if nl >= 0 {
			lineEnd, next = lineStart+nl, lineStart+nl+1
		}
		if h, ok := tab.findHeader(src, lineStart, lineEnd); ok {
			if lineStart > bodyStart || cur.Type != None {
				cur.Body = t.Span(bodyStart, lineStart)
				out = append(out, cur)
			}
			cur = Section{Type: h.typ, Header: h.name}
			bodyStart = h.bodyStart
		}
		lineStart = next
	}
	if len(src) > bodyStart || cur.Type != None {
		cur.Body = t.Span(bodyStart, len(src))
		out = append(out, cur)
	}
	return out
}
