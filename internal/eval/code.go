package eval

import (
	"strings"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// CanonCode returns code in the form the harness compares: upper case, no
// spaces, and for ICD-10-CM a dot after the third character when the code
// is longer ("n28.89", "N2889" and " N28.89 " all give "N28.89"). Other
// systems lose their dots ("0dt.j0zz" gives "0DTJ0ZZ").
func CanonCode(sys codesys.System, code string) string {
	c := strings.ToUpper(strings.Join(strings.Fields(code), ""))
	c = strings.ReplaceAll(c, ".", "")
	if sys == codesys.ICD10CM && len(c) > 3 {
		c = c[:3] + "." + c[3:]
	}
	return c
}

// Category returns the three-character category of a canonical code: the
// ICD-10-CM category ("E11" for "E11.9") or the first three characters of
// an ICD-10-PCS code (section, body system and root operation).
func Category(sys codesys.System, code string) string {
	c := strings.ReplaceAll(code, ".", "")
	if len(c) > 3 {
		c = c[:3]
	}
	return c
}

// Chapters are the chapters of an ICD-10-CM Tabular List with the range
// of categories each holds, read from the release so that the grouping
// follows the classification rather than a table in the program.
type Chapters struct {
	list []chapter
}

type chapter struct {
	// first and last are the first and last category of the chapter's
	// blocks; label is how the chapter is reported ("CM 4 Endocrine,
	// nutritional and metabolic diseases").
	first, last, label string
}

// NewChapters reads the chapters of t; a chapter's range runs from the
// first category of its first block to the last of its last block. A list
// without chapters gives none.
func NewChapters(t *codesys.Tabular) *Chapters {
	c := &Chapters{}
	if t == nil {
		return c
	}
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind != codesys.KindChapter {
			continue
		}
		var first, last string
		for _, ci := range n.Children {
			b := &t.Nodes[ci]
			if b.Kind != codesys.KindBlock {
				continue
			}
			lo, hi, ok := strings.Cut(b.Code, "-")
			if !ok {
				hi = lo
			}
			if first == "" {
				first = lo
			}
			last = hi
		}
		if first == "" {
			continue
		}
		title := n.Title
		// The publisher ends a chapter's title with its range, which the
		// label need not repeat.
		if k := strings.LastIndex(title, " ("); k > 0 && strings.HasSuffix(title, ")") {
			title = title[:k]
		}
		c.list = append(c.list, chapter{first: first, last: last, label: "CM " + n.Code + " " + title})
	}
	return c
}

// pcsSections are the ICD-10-PCS sections by their first character.
var pcsSections = map[byte]string{
	'0': "Medical and Surgical", '1': "Obstetrics", '2': "Placement",
	'3': "Administration", '4': "Measurement and Monitoring",
	'5': "Extracorporeal or Systemic Assistance and Performance",
	'6': "Extracorporeal or Systemic Therapies", '7': "Osteopathic",
	'8': "Other Procedures", '9': "Chiropractic", 'B': "Imaging",
	'C': "Nuclear Medicine", 'D': "Radiation Therapy",
	'F': "Physical Rehabilitation and Diagnostic Audiology",
	'G': "Mental Health", 'H': "Substance Abuse Treatment",
	'X': "New Technology",
}

// Chapter names the group a canonical code is reported under in per-chapter
// tables: its ICD-10-CM chapter among chs (nil: none are known) or its
// ICD-10-PCS section. Codes of other systems, and codes that fit no
// chapter, are grouped by system.
func Chapter(chs *Chapters, sys codesys.System, code string) string {
	switch sys {
	case codesys.ICD10CM:
		cat := Category(sys, code)
		if len(cat) == 3 && chs != nil {
			for _, ch := range chs.list {
				if ch.first <= cat && cat <= ch.last {
					return ch.label
				}
			}
		}
	case codesys.ICD10PCS:
		if code != "" {
			if t, ok := pcsSections[code[0]]; ok {
				return "PCS " + code[:1] + " " + t
			}
		}
	}
	return "other " + string(sys)
}

// Offsets converts between the byte offsets the harness uses and the
// character (Unicode code point) offsets of datasets such as CodiEsp and
// MDACE, for one text.
type Offsets struct {
	text string
	// byteAt[i] is the byte offset of character i; byteAt[n] = len(text).
	byteAt []int
}

// NewOffsets prepares offset conversion for text.
func NewOffsets(text string) *Offsets {
	b := make([]int, 0, utf8.RuneCountInString(text)+1)
	for i := range text {
		b = append(b, i)
	}
	return &Offsets{text: text, byteAt: append(b, len(text))}
}

// Chars returns the number of characters of the text.
func (o *Offsets) Chars() int { return len(o.byteAt) - 1 }

// Byte returns the byte offset of character offset c, and false when c is
// outside the text.
func (o *Offsets) Byte(c int) (int, bool) {
	if c < 0 || c >= len(o.byteAt) {
		return 0, false
	}
	return o.byteAt[c], true
}

// Char returns the character offset of byte offset b. A byte offset inside
// a multi-byte character maps to that character.
func (o *Offsets) Char(b int) int {
	lo, hi := 0, len(o.byteAt)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if o.byteAt[mid] <= b {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// ByteSpan converts a character span to a byte span, and reports false when
// it falls outside the text or is empty or reversed.
func (o *Offsets) ByteSpan(start, end int) (Span, bool) {
	if start >= end {
		return Span{}, false
	}
	s, ok1 := o.Byte(start)
	e, ok2 := o.Byte(end)
	return Span{s, e}, ok1 && ok2
}
