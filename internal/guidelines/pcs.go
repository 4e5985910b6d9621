package guidelines

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// The ICD-10-PCS guidelines number each guideline by its section letter,
// a number, and optionally a sub-number and a letter: "A1.", "B3.",
// "B3.1a.", "B3.2.", "D1.a."; the section letters themselves head the
// parts ("B. Medical and Surgical Section Guidelines (section 0)").
var (
	pcsPartRe  = regexp.MustCompile(`^([A-F])\.\s+(\S.*)$`)
	pcsGuideRe = regexp.MustCompile(`^([A-F])(\d{1,2})(?:\.(\d{1,2}))?(?:\.?([a-z]))?\.\s+(\S.*)$`)
)

// pcsKey orders PCS guideline numbers as the document prints them.
type pcsKey struct {
	part       byte
	num, sub   int
	letter     byte
	isGuide    bool
	id, parent string
}

func (k pcsKey) after(p pcsKey) bool {
	switch {
	case k.part != p.part:
		return k.part > p.part
	case k.num != p.num:
		return k.num > p.num
	case k.sub != p.sub:
		return k.sub > p.sub
	}
	return k.letter > p.letter
}

// pcsHeading parses a numbered line of the PCS guidelines.
func pcsHeading(line string) (k pcsKey, rest string, ok bool) {
	if m := pcsGuideRe.FindStringSubmatch(line); m != nil {
		k = pcsKey{part: m[1][0], isGuide: true}
		k.num, _ = strconv.Atoi(m[2])
		k.id = m[1] + m[2]
		k.parent = m[1]
		if m[3] != "" || m[4] != "" {
			k.parent = k.id
			if m[3] != "" {
				k.sub, _ = strconv.Atoi(m[3])
				k.id += "." + m[3]
			}
			if m[4] != "" {
				k.letter = m[4][0]
				if m[3] == "" {
					k.id += "."
				}
				k.id += m[4]
			}
		}
		return k, m[5], true
	}
	if m := pcsPartRe.FindStringSubmatch(line); m != nil {
		return pcsKey{part: m[1][0], id: m[1]}, m[2], true
	}
	return pcsKey{}, "", false
}

// isPCSTitle reports whether the text after number k is a heading
// ("Root Operation", "Products of Conception") rather than the guideline
// itself, which is written in sentences. Lettered guidelines (B3.1a, D1.a)
// are always rules; a heading is short, has no comma or final stop, and
// capitalises its longer words, as a wrapped first line of a rule does not.
func isPCSTitle(k pcsKey, s string) bool {
	if !k.isGuide {
		return true // a part letter heads a part
	}
	if k.sub != 0 || k.letter != 0 || len(s) > 60 || strings.ContainsAny(s, ",;") || strings.ContainsAny(s[len(s)-1:], ".:") {
		return false
	}
	for _, w := range strings.Fields(s) {
		if len(w) > 3 && !unicode.IsUpper([]rune(w)[0]) && w[0] != '(' {
			return false
		}
	}
	return true
}

// isSubheading reports whether line is one of the unnumbered headings
// that group PCS guidelines ("General guidelines", "Multiple procedures").
func isSubheading(line string) bool {
	if line == "" || len(line) > 60 || strings.ContainsAny(line[len(line)-1:], ".:,;") {
		return false
	}
	c := line[0]
	return c >= 'A' && c <= 'Z'
}

// parsePCS splits the lines of the ICD-10-PCS guidelines into guidelines
// numbered as PCS cites them (A1, B3.1a, B3.2, D1.a). Numbers must rise
// through the document, so that a guideline number starting a wrapped
// line of body text ("B3.2 applies ...") is not mistaken for a heading.
// A guideline printed without a heading of its own is titled by the
// heading it falls under and the unnumbered subheading grouping it:
// "Root Operation: Multiple procedures". Returns no sections when there
// is no "A1." guideline.
func parsePCS(lines []string) []Section {
	var (
		secs    []Section
		body    bodyWriter
		last    pcsKey
		started bool
		titles  = map[string]string{}
		group   string
		pending string // a subheading seen before A1
	)
	cur := func() *Section {
		if len(secs) == 0 {
			return nil
		}
		return &secs[len(secs)-1]
	}
	for i, line := range lines {
		if k, rest, ok := pcsHeading(line); ok {
			first := !started && k.isGuide && k.id == "A1"
			if first {
				group = pending
			}
			if first || (started && k.after(last)) {
				body.flush(cur())
				started, last = true, k
				s := Section{ID: k.id}
				if isPCSTitle(k, rest) {
					s.Title = rest
				} else {
					s.Title = titles[k.parent]
					if s.Title == "" {
						s.Title = titles[string(k.part)]
					}
					if group != "" {
						s.Title = strings.TrimPrefix(s.Title+": "+group, ": ")
					}
					s.Text = rest
				}
				titles[k.id] = s.Title
				if isPCSTitle(k, rest) {
					group = "" // a new heading ends the group above it
				}
				secs = append(secs, s)
				continue
			}
		}
		if !started {
			if line != "" {
				pending = ""
				if isSubheading(line) {
					pending = line
				}
			}
			continue
		}
		if isSubheading(line) && nextIsPCSGuide(lines[i+1:], last) {
			group = line
			body.line("") // a subheading ends the paragraph above it
			continue
		}
		body.line(line)
	}
	body.flush(cur())
	return secs
}

// nextIsPCSGuide reports whether the next non-blank line after a
// candidate subheading is a numbered guideline following last.
func nextIsPCSGuide(lines []string, last pcsKey) bool {
	for _, l := range lines {
		if l == "" {
			continue
		}
		k, _, ok := pcsHeading(l)
		return ok && k.after(last)
	}
	return false
}
