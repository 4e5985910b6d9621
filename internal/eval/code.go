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

// cmChapters are the ICD-10-CM chapters by their first and last category,
// as published in the Tabular List (FY2018 onwards).
var cmChapters = [...]struct{ first, last, title string }{
	{"A00", "B99", "1 Certain infectious and parasitic diseases"},
	{"C00", "D49", "2 Neoplasms"},
	{"D50", "D89", "3 Diseases of the blood and immune mechanism"},
	{"E00", "E89", "4 Endocrine, nutritional and metabolic diseases"},
	{"F01", "F99", "5 Mental, behavioral and neurodevelopmental disorders"},
	{"G00", "G99", "6 Diseases of the nervous system"},
	{"H00", "H59", "7 Diseases of the eye and adnexa"},
	{"H60", "H95", "8 Diseases of the ear and mastoid process"},
	{"I00", "I99", "9 Diseases of the circulatory system"},
	{"J00", "J99", "10 Diseases of the respiratory system"},
	{"K00", "K95", "11 Diseases of the digestive system"},
	{"L00", "L99", "12 Diseases of the skin and subcutaneous tissue"},
	{"M00", "M99", "13 Diseases of the musculoskeletal system and connective tissue"},
	{"N00", "N99", "14 Diseases of the genitourinary system"},
	{"O00", "O9A", "15 Pregnancy, childbirth and the puerperium"},
	{"P00", "P96", "16 Certain conditions originating in the perinatal period"},
	{"Q00", "Q99", "17 Congenital malformations and chromosomal abnormalities"},
	{"R00", "R99", "18 Symptoms, signs and abnormal findings"},
	{"S00", "T88", "19 Injury, poisoning and other consequences of external causes"},
	{"U00", "U85", "22 Codes for special purposes"},
	{"V00", "Y99", "20 External causes of morbidity"},
	{"Z00", "Z99", "21 Factors influencing health status and contact with health services"},
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
// tables: its ICD-10-CM chapter or its ICD-10-PCS section. Codes of other
// systems, and codes that fit no chapter, are grouped by system.
func Chapter(sys codesys.System, code string) string {
	switch sys {
	case codesys.ICD10CM:
		cat := Category(sys, code)
		if len(cat) == 3 {
			for _, ch := range cmChapters {
				if ch.first <= cat && cat <= ch.last {
					return "CM " + ch.title
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
