package codesys

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// PCSTables holds the ICD-10-PCS Tables: every valid seven-character code
// is built from one table's first three characters and one value of each of
// axes 4 to 7 from one of its rows.
//
// The tables are serialized with encoding/gob, which drops the unexported
// lookup index; call Prepare after decoding (ReadPCSTables does it).
type PCSTables struct {
	// Version is the <version> element of the file, e.g. "2025".
	Version string
	// Title is the <title> element, e.g. "2025 ICD-10-PCS Tables".
	Title string
	// Tables are the tables in the publisher's order.
	Tables []*PCSTable

	idx *pcsIndex // built by Prepare; never serialized
}

// PCSTable is one table: a fixed section, body system and operation, and
// rows of valid values for the remaining four axes.
type PCSTable struct {
	// Axes are positions 1 to 3, one value each. The operation (or type,
	// modality) on axis 3 carries its definition when the publisher gives
	// one.
	Axes [3]PCSAxis
	// Rows are the rows in the publisher's order. No two rows allow the
	// same code (ReadPCSTables checks it).
	Rows []PCSRow
}

// PCSRow is one row of a table: each of axes 4 to 7 may take any of its
// values, and every combination is a valid code.
type PCSRow struct {
	// Axes are positions 4 to 7.
	Axes [4]PCSAxis
	// Codes is the number of codes the row yields, as the publisher's codes
	// attribute says; it equals the product of the axes' value counts.
	Codes int
}

// PCSAxis is one axis (character position) of a table or row, with its
// allowed values.
type PCSAxis struct {
	Pos    int    // 1 to 7
	Title  string // e.g. "Body Part"
	Values []PCSValue
	// Definition is the definition of the axis's value, given on axis 3 for
	// root operations and types (not for Radiation Therapy modalities).
	Definition string
}

// PCSValue is one value of an axis: a character and its label.
type PCSValue struct {
	Code  byte
	Label string
}

// Key returns the table's first three characters, e.g. "0DT".
func (t *PCSTable) Key() string {
	return string([]byte{t.Axes[0].Values[0].Code, t.Axes[1].Values[0].Code, t.Axes[2].Values[0].Code})
}

// Section returns the table's section (axis 1).
func (t *PCSTable) Section() PCSValue { return t.Axes[0].Values[0] }

// BodySystem returns the table's body system (axis 2; "Section Qualifier"
// in section D).
func (t *PCSTable) BodySystem() PCSValue { return t.Axes[1].Values[0] }

// Operation returns the table's root operation, type or modality (axis 3).
func (t *PCSTable) Operation() PCSValue { return t.Axes[2].Values[0] }

// Definition returns the definition of the table's operation, or "" when
// the publisher gives none.
func (t *PCSTable) Definition() string { return t.Axes[2].Definition }

// NumCodes returns the number of valid codes the table yields.
func (t *PCSTable) NumCodes() int {
	n := 0
	for i := range t.Rows {
		n += t.Rows[i].NumCodes()
	}
	return n
}

// NumCodes returns the number of valid codes the row yields: the product of
// its axes' value counts.
func (r *PCSRow) NumCodes() int {
	n := 1
	for i := range r.Axes {
		n *= len(r.Axes[i].Values)
	}
	return n
}

// pcsAlphabet lists the characters ICD-10-PCS uses, in the publisher's
// order: digits, then letters without I and O.
const pcsAlphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// pcsChar returns c's position in pcsAlphabet, or -1 if c is not a PCS
// character. Lower-case letters are not PCS characters.
func pcsChar(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'H':
		return int(c-'A') + 10
	case c >= 'J' && c <= 'N':
		return int(c-'J') + 18
	case c >= 'P' && c <= 'Z':
		return int(c-'P') + 23
	}
	return -1
}

// ReadPCSTables reads an ICD-10-PCS Tables XML file (root ICD10PCS.tabular).
// name is used in error messages. Besides the XML shape it checks what makes
// the tables usable for validation: one value on each of axes 1 to 3, at
// least one value on each of axes 4 to 7, valid PCS characters, values
// attributes and codes attributes that match the labels, no table given
// twice and no code allowed by two rows.
func ReadPCSTables(r io.Reader, name string) (*PCSTables, error) {
	d := xml.NewDecoder(r)
	fail := func(line int, err error) error {
		if line == 0 {
			line, _ = d.InputPos()
		}
		return fmt.Errorf("read PCS tables %s: line %d: %w", name, line, xmlEOF(err, "ICD10PCS.tabular"))
	}
	if _, err := xmlRoot(d, "ICD10PCS.tabular"); err != nil {
		return nil, fail(0, err)
	}
	t := &PCSTables{}
	seen := make(map[string]int) // table key -> line
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fail(0, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "version":
				if err := d.DecodeElement(&t.Version, &tok); err != nil {
					return nil, fail(0, err)
				}
			case "title":
				if err := d.DecodeElement(&t.Title, &tok); err != nil {
					return nil, fail(0, err)
				}
			case "pcsTable":
				var x xPCSTable
				if err := d.DecodeElement(&x, &tok); err != nil {
					return nil, fail(0, err)
				}
				tab, err := x.table()
				if err != nil {
					return nil, fail(x.line, err)
				}
				k := tab.Key()
				if l, ok := seen[k]; ok {
					return nil, fail(x.line, fmt.Errorf("table %s given twice (first at line %d)", k, l))
				}
				seen[k] = x.line
				t.Tables = append(t.Tables, tab)
			default:
				return nil, fail(0, fmt.Errorf("unexpected element <%s> in <ICD10PCS.tabular>", tok.Name.Local))
			}
		case xml.EndElement:
			if t.Version == "" {
				return nil, fail(0, errors.New("no <version>"))
			}
			if len(t.Tables) == 0 {
				return nil, fail(0, errors.New("no <pcsTable>"))
			}
			t.Prepare()
			return t, nil
		case xml.CharData:
			if len(strings.TrimSpace(string(tok))) > 0 {
				return nil, fail(0, fmt.Errorf("unexpected text %q in <ICD10PCS.tabular>", clip(string(tok))))
			}
		}
	}
}

// xmlRoot reads up to the root element and checks its name.
func xmlRoot(d *xml.Decoder, want string) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, fmt.Errorf("no <%s> root element (empty or not XML)", want)
			}
			return xml.StartElement{}, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Local != want {
				return xml.StartElement{}, fmt.Errorf("root element is <%s>, want <%s>", tok.Name.Local, want)
			}
			return tok, nil
		case xml.CharData:
			if len(strings.TrimSpace(string(tok))) > 0 {
				return xml.StartElement{}, fmt.Errorf("text %q before the root element", clip(string(tok)))
			}
		}
	}
}

// xmlEOF turns the end of input inside the root element into an error that
// says the file looks truncated.
func xmlEOF(err error, root string) error {
	var syn *xml.SyntaxError
	if err == io.EOF || err == io.ErrUnexpectedEOF || (errors.As(err, &syn) && syn.Msg == "unexpected EOF") {
		return fmt.Errorf("file ends before </%s> (truncated?): %w", root, err)
	}
	return err
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// xExtra catches elements and attributes the reader does not know, so that
// a change in the publisher's format is reported instead of silently lost.
type xExtra struct {
	Elems []struct {
		XMLName xml.Name
	} `xml:",any"`
	Attrs []xml.Attr `xml:",any,attr"`
}

func (x *xExtra) check(elem string) error {
	if len(x.Elems) > 0 {
		return fmt.Errorf("unexpected element <%s> in <%s>", x.Elems[0].XMLName.Local, elem)
	}
	if len(x.Attrs) > 0 {
		return fmt.Errorf("unexpected attribute %s in <%s>", x.Attrs[0].Name.Local, elem)
	}
	return nil
}

type xPCSTable struct {
	Axes []xPCSAxis `xml:"axis"`
	Rows []xPCSRow  `xml:"pcsRow"`
	xExtra
	line int
}

type xPCSRow struct {
	Codes string     `xml:"codes,attr"`
	Axes  []xPCSAxis `xml:"axis"`
	xExtra
	line int
}

type xPCSAxis struct {
	Pos        string      `xml:"pos,attr"`
	NValues    string      `xml:"values,attr"`
	Title      []string    `xml:"title"`
	Labels     []xPCSLabel `xml:"label"`
	Definition []string    `xml:"definition"`
	xExtra
	line int
}

type xPCSLabel struct {
	Code string `xml:"code,attr"`
	Text string `xml:",chardata"`
	xExtra
}

// The UnmarshalXML methods record the line of each element for error
// messages; the decoder passed in is the file's own decoder.

func (x *xPCSTable) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xPCSTable
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

func (x *xPCSRow) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xPCSRow
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

func (x *xPCSAxis) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xPCSAxis
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

func (x *xPCSTable) table() (*PCSTable, error) {
	if err := x.check("pcsTable"); err != nil {
		return nil, err
	}
	if len(x.Axes) != 3 {
		return nil, fmt.Errorf("table has %d axes, want 3 (positions 1 to 3)", len(x.Axes))
	}
	t := &PCSTable{}
	for i := range x.Axes {
		a, err := x.Axes[i].axis(i + 1)
		if err != nil {
			return nil, err
		}
		if len(a.Values) != 1 {
			return nil, fmt.Errorf("line %d: axis %d has %d values, want 1", x.Axes[i].line, i+1, len(a.Values))
		}
		t.Axes[i] = a
	}
	if len(x.Rows) == 0 {
		return nil, fmt.Errorf("table %s has no rows", t.Key())
	}
	t.Rows = make([]PCSRow, len(x.Rows))
	masks := make([][4]uint64, len(x.Rows))
	for i := range x.Rows {
		xr := &x.Rows[i]
		row, err := xr.row()
		if err != nil {
			return nil, fmt.Errorf("line %d: table %s: %w", xr.line, t.Key(), err)
		}
		t.Rows[i] = row
		masks[i] = rowMasks(&row)
		for j := range i {
			if overlap(&masks[i], &masks[j]) {
				return nil, fmt.Errorf("line %d: table %s: row allows codes the row at line %d allows too", xr.line, t.Key(), x.Rows[j].line)
			}
		}
	}
	return t, nil
}

func (x *xPCSRow) row() (PCSRow, error) {
	if err := x.check("pcsRow"); err != nil {
		return PCSRow{}, err
	}
	if len(x.Axes) != 4 {
		return PCSRow{}, fmt.Errorf("row has %d axes, want 4 (positions 4 to 7)", len(x.Axes))
	}
	var r PCSRow
	for i := range x.Axes {
		a, err := x.Axes[i].axis(i + 4)
		if err != nil {
			return PCSRow{}, err
		}
		r.Axes[i] = a
	}
	n, err := strconv.Atoi(x.Codes)
	if err != nil {
		return PCSRow{}, fmt.Errorf("codes attribute %q is not a number", x.Codes)
	}
	if n != r.NumCodes() {
		return PCSRow{}, fmt.Errorf("codes=%d but the axes yield %d codes (%d×%d×%d×%d)", n, r.NumCodes(),
			len(r.Axes[0].Values), len(r.Axes[1].Values), len(r.Axes[2].Values), len(r.Axes[3].Values))
	}
	r.Codes = n
	return r, nil
}

func (x *xPCSAxis) axis(pos int) (PCSAxis, error) {
	fail := func(format string, args ...any) (PCSAxis, error) {
		return PCSAxis{}, fmt.Errorf("line %d: axis %s: %s", x.line, x.Pos, fmt.Sprintf(format, args...))
	}
	if err := x.check("axis"); err != nil {
		return fail("%v", err)
	}
	if x.Pos != strconv.Itoa(pos) {
		return fail("pos=%q, want %d (axes must come in order)", x.Pos, pos)
	}
	if len(x.Title) != 1 || strings.TrimSpace(x.Title[0]) == "" {
		return fail("want one non-empty <title>, have %d", len(x.Title))
	}
	if len(x.Definition) > 1 {
		return fail("%d <definition> elements, want at most 1", len(x.Definition))
	}
	if len(x.Labels) == 0 {
		return fail("no <label>")
	}
	if n, err := strconv.Atoi(x.NValues); err != nil || n != len(x.Labels) {
		return fail("values=%q but %d labels", x.NValues, len(x.Labels))
	}
	a := PCSAxis{Pos: pos, Title: strings.TrimSpace(x.Title[0]), Values: make([]PCSValue, len(x.Labels))}
	if len(x.Definition) == 1 {
		a.Definition = strings.TrimSpace(x.Definition[0])
	}
	var seen uint64
	for i, l := range x.Labels {
		if err := l.check("label"); err != nil {
			return fail("%v", err)
		}
		if len(l.Code) != 1 || pcsChar(l.Code[0]) < 0 {
			return fail("label code %q is not one ICD-10-PCS character", l.Code)
		}
		bit := uint64(1) << pcsChar(l.Code[0])
		if seen&bit != 0 {
			return fail("value %s given twice", l.Code)
		}
		seen |= bit
		label := strings.TrimSpace(l.Text)
		if label == "" {
			return fail("value %s has an empty label", l.Code)
		}
		a.Values[i] = PCSValue{Code: l.Code[0], Label: label}
	}
	return a, nil
}

// pcsIndex is the lookup index of a PCSTables, rebuilt by Prepare.
type pcsIndex struct {
	byKey map[string]int // table key -> index in Tables
	keys  []string       // table keys, sorted
	order []int          // order[i] is the index in Tables of keys[i]
	masks [][][4]uint64  // masks[table][row][axis 4..7]: allowed values as bits of pcsChar
	union [][4]uint64    // union[table][axis 4..7]: values allowed in any row
}

// Prepare builds the lookup index that Validate, Table and the other
// lookups use. ReadPCSTables calls it; call it again after decoding the
// tables with encoding/gob (which drops the index) and after changing
// Tables. Without it, lookups still work but build a throwaway index on
// every call, which is slow. Prepare must not run concurrently with
// lookups on the same tables.
func (t *PCSTables) Prepare() { t.idx = buildPCSIndex(t.Tables) }

func (t *PCSTables) index() *pcsIndex {
	if t.idx != nil {
		return t.idx
	}
	return buildPCSIndex(t.Tables)
}

func buildPCSIndex(tables []*PCSTable) *pcsIndex {
	ix := &pcsIndex{
		byKey: make(map[string]int, len(tables)),
		keys:  make([]string, 0, len(tables)),
		order: make([]int, 0, len(tables)),
		masks: make([][][4]uint64, len(tables)),
		union: make([][4]uint64, len(tables)),
	}
	for i, tab := range tables {
		k := tab.Key()
		if _, dup := ix.byKey[k]; !dup {
			ix.byKey[k] = i
			ix.keys = append(ix.keys, k)
			ix.order = append(ix.order, i)
		}
		ix.masks[i] = make([][4]uint64, len(tab.Rows))
		for j := range tab.Rows {
			m := rowMasks(&tab.Rows[j])
			ix.masks[i][j] = m
			for a := range m {
				ix.union[i][a] |= m[a]
			}
		}
	}
	perm := make([]int, len(ix.keys))
	for i := range perm {
		perm[i] = i
	}
	slices.SortFunc(perm, func(a, b int) int { return strings.Compare(ix.keys[a], ix.keys[b]) })
	keys, order := make([]string, len(perm)), make([]int, len(perm))
	for i, p := range perm {
		keys[i], order[i] = ix.keys[p], ix.order[p]
	}
	ix.keys, ix.order = keys, order
	return ix
}

func rowMasks(r *PCSRow) [4]uint64 {
	var m [4]uint64
	for a := range r.Axes {
		for _, v := range r.Axes[a].Values {
			if c := pcsChar(v.Code); c >= 0 {
				m[a] |= 1 << c
			}
		}
	}
	return m
}

func overlap(a, b *[4]uint64) bool {
	return a[0]&b[0] != 0 && a[1]&b[1] != 0 && a[2]&b[2] != 0 && a[3]&b[3] != 0
}

// Table returns the table whose first three characters are key (case and
// surrounding spaces are ignored; a longer code selects its table), or nil.
func (t *PCSTables) Table(key string) *PCSTable {
	k := normalizePCS(key)
	if len(k) < 3 {
		return nil
	}
	if i, ok := t.index().byKey[k[:3]]; ok {
		return t.Tables[i]
	}
	return nil
}

// WithPrefix returns the tables whose keys start with prefix (up to three
// characters: a section, a section and body system, or a whole key), in
// code order. An empty prefix returns every table.
func (t *PCSTables) WithPrefix(prefix string) []*PCSTable {
	p := normalizePCS(prefix)
	if len(p) > 3 {
		p = p[:3]
	}
	ix := t.index()
	lo, hi := prefixRange(ix.keys, p)
	out := make([]*PCSTable, 0, hi-lo)
	for _, i := range ix.order[lo:hi] {
		out = append(out, t.Tables[i])
	}
	return out
}

// prefixRange returns the range of sorted keys that start with p. Keys are
// PCS characters, all below 0x7f, so p+"\x7f" bounds the range from above.
func prefixRange(keys []string, p string) (lo, hi int) {
	lo, _ = slices.BinarySearch(keys, p)
	hi, _ = slices.BinarySearch(keys[lo:], p+"\x7f")
	return lo, lo + hi
}

// NumCodes returns the number of valid codes: the sum over all rows of the
// product of the rows' value counts.
func (t *PCSTables) NumCodes() int {
	n := 0
	for _, tab := range t.Tables {
		n += tab.NumCodes()
	}
	return n
}

// EachCode calls fn with every valid code in code order (the order of the
// publisher's code files), stopping early when fn returns false. It suits
// comparing two releases by merging their code streams.
func (t *PCSTables) EachCode(fn func(code string) bool) {
	ix := t.index()
	var codes []string
	for _, i := range ix.order {
		tab := t.Tables[i]
		codes = codes[:0]
		prefix := tab.Key()
		for r := range tab.Rows {
			a := &tab.Rows[r].Axes
			for _, v4 := range a[0].Values {
				for _, v5 := range a[1].Values {
					for _, v6 := range a[2].Values {
						for _, v7 := range a[3].Values {
							codes = append(codes, prefix+string([]byte{v4.Code, v5.Code, v6.Code, v7.Code}))
						}
					}
				}
			}
		}
		slices.Sort(codes)
		for _, c := range codes {
			if !fn(c) {
				return
			}
		}
	}
}
