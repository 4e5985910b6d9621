package codesys

import (
	"fmt"
	"slices"
	"strings"
)

// PCSProblem says why a code is not a valid ICD-10-PCS code.
type PCSProblem uint8

// The outcomes of PCSTables.Validate.
const (
	PCSOK PCSProblem = iota // a valid, complete code
	// PCSIncomplete: fewer than seven characters, all allowed so far;
	// PCSCheck.Next lists what may come next.
	PCSIncomplete
	PCSTooLong // more than seven characters
	PCSBadChar // a character ICD-10-PCS does not use (I, O, punctuation ...)
	// PCSUnknownTable: the first characters lead to no table; Pos says
	// whether the section, body system or operation is unknown.
	PCSUnknownTable
	// PCSValueNotAllowed: the value at Pos (4 to 7) appears in no row of
	// the table.
	PCSValueNotAllowed
	// PCSCombination: each value appears in some row of the table, but no
	// row allows the value at Pos together with the values before it.
	PCSCombination
)

var pcsProblemNames = [...]string{"valid", "incomplete", "too long", "bad character", "unknown table", "value not allowed", "combination not allowed"}

// String returns a short name of the problem.
func (p PCSProblem) String() string {
	if int(p) < len(pcsProblemNames) {
		return pcsProblemNames[p]
	}
	return fmt.Sprintf("PCSProblem(%d)", int(p))
}

// PCSCheck is the outcome of validating a complete or partial ICD-10-PCS
// code against the tables.
type PCSCheck struct {
	// Input is the code as given; Code is it normalized (upper case, no
	// spaces, dots or hyphens).
	Input, Code string
	// Problem is PCSOK for a valid code.
	Problem PCSProblem
	// Pos is the 1-based character position the problem is at (for
	// PCSIncomplete, the next position to fill); 0 for a valid code.
	Pos int
	// Reason explains the problem in a sentence; "" for a valid code.
	Reason string
	// Description joins the labels of the seven axes of a valid code,
	// e.g. "Medical and Surgical, Gastrointestinal System, Resection,
	// Appendix, Percutaneous Endoscopic, No Device, No Qualifier".
	Description string
	// Axes are the characters that are fixed and allowed so far, in order:
	// all seven for a valid code, the allowed leading ones otherwise.
	Axes []PCSAxisValue
	// Table is the code's table once its first three characters are
	// known and allowed.
	Table *PCSTable
	// NextTitle and Next give the values allowed at Pos given the
	// characters before it: what may come next for an incomplete code, or
	// what would have been allowed instead of the offending character.
	// A value whose label depends on later characters (as in the New
	// Technology substance tables) appears once per label.
	NextTitle string
	Next      []PCSValue
}

// Valid reports whether the code is a valid, complete ICD-10-PCS code.
func (c *PCSCheck) Valid() bool { return c.Problem == PCSOK }

// PCSAxisValue is one character of a code and what it means.
type PCSAxisValue struct {
	Pos   int    // 1 to 7
	Title string // the axis title, e.g. "Approach"
	Value byte   // the character
	Label string // the value's label, e.g. "Percutaneous Endoscopic"
	// Definition is the definition of the operation (axis 3), if any.
	Definition string
	// OtherLabels holds further labels the value has in rows that the
	// later, still missing characters would choose between (partial codes
	// only).
	OtherLabels []string
}

// normalizePCS upper-cases s and drops spaces, dots and hyphens.
func normalizePCS(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ' ' || c == '.' || c == '-' || c == '\t' || (c >= 'a' && c <= 'z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '.' || c == '-' || c == '\t':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsValid reports whether code (normalized as in Validate) is a valid,
// complete ICD-10-PCS code. It does not allocate for normalized input.
func (t *PCSTables) IsValid(code string) bool {
	code = normalizePCS(code)
	if len(code) != 7 {
		return false
	}
	var v [7]int
	for i := range 7 {
		if v[i] = pcsChar(code[i]); v[i] < 0 {
			return false
		}
	}
	ix := t.index()
	ti, ok := ix.byKey[code[:3]]
	if !ok {
		return false
	}
	for _, m := range ix.masks[ti] {
		if m[0]>>v[3]&1 != 0 && m[1]>>v[4]&1 != 0 && m[2]>>v[5]&1 != 0 && m[3]>>v[6]&1 != 0 {
			return true
		}
	}
	return false
}

// Validate checks a complete or partial ICD-10-PCS code. The code is
// normalized first (upper case; spaces, dots and hyphens dropped). A valid
// seven-character code gets its description and per-axis breakdown; an
// invalid one gets the precise reason and the values that would have been
// allowed at the offending position; a valid beginning of a code (including
// the empty string) gets the fixed axes and the values allowed next, so
// that a code can be built axis by axis.
func (t *PCSTables) Validate(code string) PCSCheck {
	c := PCSCheck{Input: code, Code: normalizePCS(code), Axes: make([]PCSAxisValue, 0, 7)}
	s := c.Code
	if len(s) > 7 {
		c.Problem, c.Pos = PCSTooLong, 8
		c.Reason = fmt.Sprintf("%q has %d characters; an ICD-10-PCS code has 7", s, len(s))
		return c
	}
	var v [7]int
	for i := 0; i < len(s); i++ {
		if v[i] = pcsChar(s[i]); v[i] < 0 {
			c.Problem, c.Pos = PCSBadChar, i+1
			switch s[i] {
			case 'I', 'O':
				c.Reason = fmt.Sprintf("character %d is the letter %c, which ICD-10-PCS does not use (to avoid confusion with the digits 1 and 0)", i+1, s[i])
			default:
				c.Reason = fmt.Sprintf("character %d is %q, not a digit or letter ICD-10-PCS uses", i+1, s[i])
			}
			return c
		}
	}
	ix := t.index()

	// Positions 1 to 3 choose the table.
	for p := 0; p < 3; p++ {
		lo, hi := prefixRange(ix.keys, s[:min(p, len(s))])
		if p >= len(s) {
			title, next := t.leadingNext(ix, lo, hi, p)
			c.incomplete(p+1, title, next)
			return c
		}
		plo, phi := prefixRange(ix.keys[lo:hi], s[:p+1])
		if plo == phi {
			c.Problem, c.Pos = PCSUnknownTable, p+1
			c.NextTitle, c.Next = t.leadingNext(ix, lo, hi, p)
			c.Reason = fmt.Sprintf("no table has %s %c", strings.ToLower(c.NextTitle), s[p])
			if p > 0 {
				c.Reason += " after " + describeAxes(c.Axes)
			}
			return c
		}
		tab := t.Tables[ix.order[lo+plo]]
		a := &tab.Axes[p]
		c.Axes = append(c.Axes, PCSAxisValue{Pos: p + 1, Title: a.Title, Value: s[p], Label: a.Values[0].Label, Definition: a.Definition})
	}
	ti := ix.byKey[s[:3]]
	tab := t.Tables[ti]
	c.Table = tab
	masks := ix.masks[ti]

	// Positions 4 to 7 must all be allowed by one row.
	for a := 0; a < len(s)-3; a++ {
		if ix.union[ti][a]>>v[a+3]&1 == 0 {
			c.Problem, c.Pos = PCSValueNotAllowed, a+4
			c.NextTitle, c.Next = rowNext(tab, masks, v[3:3+a], a)
			c.Reason = fmt.Sprintf("table %s has no %s value %c", tab.Key(), rowTitle(tab, a), s[a+3])
			return c
		}
	}
	for a := 0; a < len(s)-3; a++ {
		if !anyRow(masks, v[3:4+a]) {
			c.Problem, c.Pos = PCSCombination, a+4
			c.NextTitle, c.Next = rowNext(tab, masks, v[3:3+a], a)
			label := ""
			for r := range tab.Rows {
				if l, ok := tab.Rows[r].Axes[a].label(s[a+3]); ok {
					label = l
					break
				}
			}
			c.Axes = append(c.Axes, rowAxes(tab, masks, s, v, a)...)
			c.Reason = fmt.Sprintf("table %s allows %s %c (%s), but not with %s", tab.Key(), rowTitle(tab, a), s[a+3], label, describeAxes(c.Axes[3:]))
			return c
		}
	}
	c.Axes = append(c.Axes, rowAxes(tab, masks, s, v, len(s)-3)...)
	if len(s) < 7 {
		c.NextTitle, c.Next = rowNext(tab, masks, v[3:len(s)], len(s)-3)
		c.Problem, c.Pos = PCSIncomplete, len(s)+1
		c.Reason = fmt.Sprintf("%d of 7 characters; next is the %s", len(s), c.NextTitle)
		return c
	}
	labels := make([]string, len(c.Axes))
	for i, a := range c.Axes {
		labels[i] = a.Label
	}
	c.Description = strings.Join(labels, ", ")
	return c
}

func (c *PCSCheck) incomplete(pos int, title string, next []PCSValue) {
	c.Problem, c.Pos, c.NextTitle, c.Next = PCSIncomplete, pos, title, next
	c.Reason = fmt.Sprintf("%d of 7 characters; next is the %s", pos-1, title)
}

// describeAxes renders fixed axes as "Body Part 6 (Cerebral Ventricle),
// Approach 0 (Open)".
func describeAxes(axes []PCSAxisValue) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = fmt.Sprintf("%s %c (%s)", a.Title, a.Value, a.Label)
	}
	return strings.Join(parts, ", ")
}

// leadingNext returns the title and values of position p+1 (1 to 3) among
// the tables keys[lo:hi], which share their first p characters.
func (t *PCSTables) leadingNext(ix *pcsIndex, lo, hi, p int) (string, []PCSValue) {
	var title string
	var next []PCSValue
	for k := lo; k < hi; {
		a := &t.Tables[ix.order[k]].Axes[p]
		if title == "" {
			title = a.Title
		}
		next = append(next, a.Values[0])
		// Skip the other tables that share this character.
		_, n := prefixRange(ix.keys[k:hi], ix.keys[k][:p+1])
		k += n
	}
	if title == "" {
		title = [...]string{"Section", "Body System", "Operation"}[p]
	}
	return title, next
}

// matches reports whether row mask m allows the values v for the first
// len(v) of axes 4 to 7.
func matches(m *[4]uint64, v []int) bool {
	for a, x := range v {
		if m[a]>>x&1 == 0 {
			return false
		}
	}
	return true
}

func anyRow(masks [][4]uint64, v []int) bool {
	for r := range masks {
		if matches(&masks[r], v) {
			return true
		}
	}
	return false
}

// rowNext returns the title of axis a (0 for position 4) and the values it
// may take in rows that allow v on the axes before it, in code order.
func rowNext(tab *PCSTable, masks [][4]uint64, v []int, a int) (string, []PCSValue) {
	var next []PCSValue
	for r := range tab.Rows {
		if !matches(&masks[r], v) {
			continue
		}
		for _, val := range tab.Rows[r].Axes[a].Values {
			if !slices.Contains(next, val) {
				next = append(next, val)
			}
		}
	}
	slices.SortStableFunc(next, func(x, y PCSValue) int { return pcsChar(x.Code) - pcsChar(y.Code) })
	return rowTitle(tab, a), next
}

// rowAxes describes positions 4 to 3+n of code s, whose values v are
// allowed together by at least one row. Labels come from the rows that
// allow all of them.
func rowAxes(tab *PCSTable, masks [][4]uint64, s string, v [7]int, n int) []PCSAxisValue {
	out := make([]PCSAxisValue, 0, n)
	for a := range n {
		av := PCSAxisValue{Pos: a + 4, Title: rowTitle(tab, a), Value: s[a+3]}
		for r := range tab.Rows {
			if !matches(&masks[r], v[3:3+n]) {
				continue
			}
			l, _ := tab.Rows[r].Axes[a].label(s[a+3])
			switch {
			case av.Label == "":
				av.Label = l
			case l != av.Label && !slices.Contains(av.OtherLabels, l):
				av.OtherLabels = append(av.OtherLabels, l)
			}
		}
		out = append(out, av)
	}
	return out
}

// label returns the label of value code on the axis.
func (a *PCSAxis) label(code byte) (string, bool) {
	for _, v := range a.Values {
		if v.Code == code {
			return v.Label, true
		}
	}
	return "", false
}

// rowTitle returns the title of axis a (0 for position 4) of the table's
// rows, which all rows share.
func rowTitle(tab *PCSTable, a int) string {
	if len(tab.Rows) > 0 {
		return tab.Rows[0].Axes[a].Title
	}
	return fmt.Sprintf("character %d", a+4)
}
