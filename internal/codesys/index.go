package codesys

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"

	"github.com/medcode-dev/medcode/internal/textnorm"
)

// Index is an alphabetic index in the publisher's ICD10CM.index or
// ICD10PCS.index form: the Alphabetic Index, the External Cause Index, the
// Table of Neoplasms, the Table of Drugs and Chemicals, or the ICD-10-PCS
// Index. Tables are indexes whose terms carry cells, one per column.
type Index struct {
	// System is the classification the index belongs to, from the root
	// element: ICD10CM for ICD10CM.index, ICD10PCS for ICD10PCS.index.
	System System
	// Part says which of the publisher's indexes this is, as far as the
	// file itself tells: PartPCSIndex for ICD10PCS.index, PartNeoplasm or
	// PartDrug for a table whose column headings name neoplasm behaviours
	// or poisoning intents, PartExternal when the title names the External
	// Cause Index, and PartIndex (the Alphabetic Index) otherwise.
	Part Part
	// Title is the index's title as published; the tables have none.
	Title string
	// Version is the <version> element of the file.
	Version string
	// Columns holds the column headings of a table (Neoplasm, Drug), in
	// column order starting at column 1; nil for a plain index. Column 1
	// heads the term titles themselves ("Neoplasm", "Substance").
	Columns []string
	// Terms are the main terms, in the publisher's order.
	Terms []*Term
}

// Term is a main term or a subterm of an index.
//
// The ICD-10-CM and ICD-10-PCS indexes share this type: a CM term leads to
// Code (and Manif) or to a cross-reference (See, SeeAlso, SeeCat, SubCat);
// a PCS term leads to Code, to a partial code (Codes), to a table (Tab), to
// another term (See, with SeeCodes or SeeTab) or to a body part, device or
// substance value in the tables (Use, with UseTab).
type Term struct {
	// Title is the term without its nonessential modifiers, with runs of
	// white space reduced to one space. PCS index subterms that only carry
	// a cross-reference have no title; see Label.
	Title string
	// Nemod holds the nonessential modifiers as published, in parentheses:
	// words that may be present or absent without changing the code.
	Nemod string
	// NemodAt is the byte offset in Title where Nemod stood, so that Text
	// can rebuild the title as published ("Abandonment (...) NEC").
	NemodAt int
	// Level is 0 for a main term and n for a subterm of the publisher's
	// level n (the number of hyphens printed before it).
	Level int
	// Code is the code the term leads to, if any; it may end in "-" when
	// the code is incomplete and the Tabular List must be consulted.
	Code string
	// Manif is a manifestation code shown in brackets after Code, which is
	// reported after it (E11.36 [H28]). The Neoplasm table uses the element
	// once for a clarifying phrase instead of a code.
	Manif string
	// See is a mandatory cross-reference: the named term is to be used
	// instead ("Accident, transport, car occupant").
	See string
	// SeeAlso points to another term that may hold more specific entries.
	SeeAlso string
	// SeeCat refers to a category of the Tabular List to be consulted
	// (ICD-10-CM <seecat>, printed "see category T71").
	SeeCat string
	// SubCat refers to a subcategory of the Tabular List (ICD-10-CM
	// <subcat>, printed "see subcategory T75.0").
	SubCat string
	// Warning is an ICD-10-CM <warning> note on the entry.
	Warning string
	// Use names the ICD-10-PCS value to be used for the term, such as a
	// body part ("Esophagus, Lower") or a device.
	Use string
	// UseTab is the PCS table (three characters) given with Use, if any.
	UseTab string
	// SeeCodes is the partial PCS code given inside See ("0UT9" in "see
	// Resection, Uterus 0UT9").
	SeeCodes string
	// SeeTab is the PCS table (three characters) given inside See.
	SeeTab string
	// Codes is a partial PCS code (four to six characters) to be
	// completed in the PCS tables.
	Codes string
	// Tab is a PCS table (three characters) to be consulted.
	Tab string
	// Cells are the table cells of a Neoplasm or Drug table row, in the
	// order published.
	Cells []Cell
	// Terms are the subterms, in the publisher's order.
	Terms []*Term
}

// Cell is one cell of a table row: the code in a given column.
type Cell struct {
	Col  int    // 1-based column, as in the publisher's col attribute
	Code string // the code, possibly incomplete ("C79.8-"), or "-"/"--"
}

// HasCode reports whether the cell holds a code rather than a dash, which
// the tables print where no code exists for the column (no adverse effect
// of heroin, no carcinoma in situ of connective tissue).
func (c Cell) HasCode() bool {
	return strings.Trim(c.Code, "-") != ""
}

// Text returns the title as published, with its nonessential modifiers in
// place.
func (t *Term) Text() string {
	if t.Nemod == "" {
		return t.Title
	}
	at := min(max(t.NemodAt, 0), len(t.Title))
	return ixJoin(ixJoin(strings.TrimSpace(t.Title[:at]), t.Nemod), strings.TrimSpace(t.Title[at:]))
}

// ixJoin joins two pieces of a title with a space, or without one when b
// starts with punctuation that attaches to the word before it.
func ixJoin(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	case strings.IndexByte(",;:.)-", b[0]) >= 0:
		return a + b
	}
	return a + " " + b
}

// Label returns a short name for the term to show in a trail: its title,
// or for an untitled PCS subterm what it points to ("see Destruction",
// "use Foot Muscle, Right", or its code).
func (t *Term) Label() string {
	switch {
	case t.Title != "":
		return t.Title
	case t.See != "":
		return "see " + joinNonEmpty(" ", t.See, t.SeeCodes, t.SeeTab)
	case t.Use != "":
		return "use " + joinNonEmpty(" ", t.Use, t.UseTab)
	}
	return joinNonEmpty(" ", t.Code, t.Codes, t.Tab)
}

// Cell returns the code in column col (1-based, as in Index.Columns) of a
// table row. ok is false when the row has no cell in that column or the
// cell is a dash.
func (t *Term) Cell(col int) (code string, ok bool) {
	for _, c := range t.Cells {
		if c.Col == col {
			return c.Code, c.HasCode()
		}
	}
	return "", false
}

// PathString renders a path of terms, main term first, as a coder would
// name it: "Accident > transport > car occupant".
func PathString(path []*Term) string {
	labels := make([]string, len(path))
	for i, t := range path {
		labels[i] = t.Label()
	}
	return strings.Join(labels, " > ")
}

func joinNonEmpty(sep string, ss ...string) string {
	var b strings.Builder
	for _, s := range ss {
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return b.String()
}

// ErrIndexFormat is wrapped by the errors ReadIndex returns for input that
// is well-formed XML but not an index in the publisher's format.
var ErrIndexFormat = errors.New("not in the index format")

// ReadIndex reads an ICD10CM.index file (Alphabetic Index, External Cause
// Index, Table of Neoplasms, Table of Drugs and Chemicals) or an
// ICD10PCS.index file. name is used in error messages, which give the line
// where reading stopped.
//
// The reader follows the publisher's schemas (icd10cm_index.xsd,
// icd10cm_drug_neoplasm.xsd and the PCS index layout) and rejects elements
// they do not define rather than dropping index content silently. Addenda
// markup (<diff>, <new>, <old>, <unc>) is read as the updated text: old
// text is left out.
func ReadIndex(r io.Reader, name string) (*Index, error) {
	ir := &indexReader{d: xml.NewDecoder(r), name: name}
	ix, err := ir.read()
	if err != nil {
		return nil, ir.errorf("%w", err)
	}
	return ix, nil
}

// indexReader decodes one index file token by token; the files are flat
// enough that a hand-written descent is both simpler and several times
// faster than unmarshalling into mirror structs.
type indexReader struct {
	d    *xml.Decoder
	name string
	line int        // where the last token started, for errors
	open []xml.Name // the elements open at the current token
	sb   strings.Builder
}

// errorf builds the error for the current position of the decoder.
func (ir *indexReader) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		// A syntax error carries its own line.
		if se.Msg == "unexpected EOF" {
			return fmt.Errorf("read index %s: %w (the file is truncated): %w", ir.name, err, io.ErrUnexpectedEOF)
		}
		return fmt.Errorf("read index %s: %w", ir.name, err)
	}
	return fmt.Errorf("read index %s: line %d: %w", ir.name, ir.line, err)
}

// token returns the next token, noting the line it starts on. It reads
// raw tokens, which is markedly faster than Decoder.Token (the files use
// no namespaces), and does the nesting check Token would do itself.
func (ir *indexReader) token() (xml.Token, error) {
	ir.line, _ = ir.d.InputPos()
	tok, err := ir.d.RawToken()
	if err != nil {
		if err == io.EOF && len(ir.open) > 0 {
			return nil, fmt.Errorf("file ends inside <%s> (the file is truncated): %w", ir.open[len(ir.open)-1].Local, io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		ir.open = append(ir.open, t.Name)
	case xml.EndElement:
		n := len(ir.open)
		if n == 0 {
			return nil, &xml.SyntaxError{Msg: "unexpected end element </" + t.Name.Local + ">", Line: ir.line}
		}
		if ir.open[n-1] != t.Name {
			return nil, &xml.SyntaxError{Msg: "element <" + ir.open[n-1].Local + "> closed by </" + t.Name.Local + ">", Line: ir.line}
		}
		ir.open = ir.open[:n-1]
	}
	return tok, nil
}

// next returns the next start or end element, skipping comments,
// processing instructions and white space. Text other than white space
// between elements is an error: index content lives in leaf elements.
func (ir *indexReader) next(in string) (xml.Token, error) {
	for {
		tok, err := ir.token()
		if err == io.EOF {
			return nil, fmt.Errorf("no root element: want <ICD10CM.index> or <ICD10PCS.index>: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return t, nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				where := "before the root element"
				if in != "" {
					where = "in <" + in + ">"
				}
				return nil, fmt.Errorf("text %q %s, want only elements: %w", ixShorten(string(t), 40), where, ErrIndexFormat)
			}
		}
	}
}

func (ir *indexReader) read() (*Index, error) {
	tok, err := ir.next("")
	if err != nil {
		return nil, err
	}
	root, ok := tok.(xml.StartElement)
	if !ok {
		return nil, fmt.Errorf("unexpected end element before the root element: %w", ErrIndexFormat)
	}
	ix := &Index{}
	switch root.Name.Local {
	case "ICD10CM.index":
		ix.System = ICD10CM
	case "ICD10PCS.index":
		ix.System = ICD10PCS
	default:
		return nil, fmt.Errorf("root element <%s>, want <ICD10CM.index> or <ICD10PCS.index>: %w", root.Name.Local, ErrIndexFormat)
	}
	letters := 0
	for {
		tok, err := ir.next(root.Name.Local)
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			break
		}
		se := tok.(xml.StartElement)
		switch se.Name.Local {
		case "version":
			if ix.Version, err = ir.plainText(se); err != nil {
				return nil, err
			}
		case "title":
			tt, err := ir.text(se, allowNemod)
			if err != nil {
				return nil, err
			}
			ix.Title = tt.full()
		case "indexHeading":
			if ix.Columns, err = ir.heading(se); err != nil {
				return nil, err
			}
		case "letter":
			letters++
			if ix.Terms, err = ir.letter(se, ix.Terms); err != nil {
				return nil, err
			}
		default:
			return nil, ir.unexpected(se, root.Name.Local)
		}
	}
	// Anything after the root element other than comments and white
	// space means the file is not what it claims to be.
	for {
		tok, err := ir.token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return nil, fmt.Errorf("element <%s> after the root element: %w", t.Name.Local, ErrIndexFormat)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, fmt.Errorf("text after the root element: %w", ErrIndexFormat)
			}
		}
	}
	if letters == 0 {
		return nil, fmt.Errorf("<%s> has no <letter> elements: %w", root.Name.Local, ErrIndexFormat)
	}
	ix.Part = ix.detectPart()
	return ix, nil
}

func (ir *indexReader) unexpected(se xml.StartElement, in string) error {
	return fmt.Errorf("unexpected element <%s> in <%s>: %w", se.Name.Local, in, ErrIndexFormat)
}

func (ir *indexReader) heading(start xml.StartElement) ([]string, error) {
	var cols []string
	for {
		tok, err := ir.next("indexHeading")
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return cols, nil
		}
		se := tok.(xml.StartElement)
		if se.Name.Local != "head" {
			return nil, ir.unexpected(se, "indexHeading")
		}
		col, err := ixColAttr(se, "col")
		if err != nil {
			return nil, err
		}
		tt, err := ir.text(se, allowNemod)
		if err != nil {
			return nil, err
		}
		for len(cols) < col {
			cols = append(cols, "")
		}
		if cols[col-1] != "" {
			return nil, fmt.Errorf("second <head col=\"%d\">: %w", col, ErrIndexFormat)
		}
		cols[col-1] = tt.full()
	}
}

func (ir *indexReader) letter(start xml.StartElement, terms []*Term) ([]*Term, error) {
	for {
		tok, err := ir.next("letter")
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return terms, nil
		}
		se := tok.(xml.StartElement)
		switch se.Name.Local {
		case "title", "diff":
			// The letter heading ("A") is implied by the main terms.
			if _, err := ir.text(se, allowNemod); err != nil {
				return nil, err
			}
		case "mainTerm":
			t, err := ir.term(se, 0)
			if err != nil {
				return nil, err
			}
			terms = append(terms, t)
		default:
			return nil, ir.unexpected(se, "letter")
		}
	}
}

// term reads a <mainTerm> (level 0) or <term level="n">.
func (ir *indexReader) term(start xml.StartElement, level int) (*Term, error) {
	t := &Term{Level: level}
	var seen uint32
	once := func(bit uint32, name string) error {
		if seen&bit != 0 {
			return fmt.Errorf("second <%s> in %s: %w", name, ixTermName(t), ErrIndexFormat)
		}
		seen |= bit
		return nil
	}
	for {
		tok, err := ir.next(start.Name.Local)
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok {
			return t, nil
		}
		se := tok.(xml.StartElement)
		el := se.Name.Local
		switch el {
		case "term":
			lv, err := ixColAttr(se, "level")
			if err != nil {
				return nil, err
			}
			if lv != level+1 {
				return nil, fmt.Errorf("<term level=\"%d\"> in %s of level %d, want level %d: %w", lv, ixTermName(t), level, level+1, ErrIndexFormat)
			}
			sub, err := ir.term(se, lv)
			if err != nil {
				return nil, err
			}
			t.Terms = append(t.Terms, sub)
		case "cell":
			col, err := ixColAttr(se, "col")
			if err != nil {
				return nil, err
			}
			tt, err := ir.text(se, allowNemod)
			if err != nil {
				return nil, err
			}
			for _, c := range t.Cells {
				if c.Col == col {
					return nil, fmt.Errorf("second <cell col=\"%d\"> in %s: %w", col, ixTermName(t), ErrIndexFormat)
				}
			}
			t.Cells = append(t.Cells, Cell{Col: col, Code: tt.full()})
		case "title", "diff":
			if err := once(1<<0, "title"); err != nil {
				return nil, err
			}
			tt, err := ir.text(se, allowNemod)
			if err != nil {
				return nil, err
			}
			t.Title, t.Nemod, t.NemodAt = tt.text, tt.nemod, tt.nemodAt
		default:
			dst, allow, bit := ir.field(t, el)
			if dst == nil {
				return nil, ir.unexpected(se, start.Name.Local)
			}
			if err := once(bit, el); err != nil {
				return nil, err
			}
			tt, err := ir.text(se, allow)
			if err != nil {
				return nil, err
			}
			*dst = tt.full()
			switch el {
			case "see":
				t.SeeCodes, t.SeeTab = tt.codes, tt.tab
			case "use":
				t.UseTab = tt.tab
			}
		}
	}
}

// field returns where the text of a term's leaf element el goes, which
// child elements it may hold, and a bit to detect repeats.
func (ir *indexReader) field(t *Term, el string) (dst *string, allow textAllow, bit uint32) {
	switch el {
	case "code":
		return &t.Code, 0, 1 << 1
	case "manif":
		return &t.Manif, allowNemod, 1 << 2
	case "see":
		return &t.See, allowNemod | allowCodes | allowTab, 1 << 3
	case "seeAlso":
		return &t.SeeAlso, allowNemod, 1 << 4
	case "seecat":
		return &t.SeeCat, 0, 1 << 5
	case "subcat":
		return &t.SubCat, 0, 1 << 6
	case "warning":
		return &t.Warning, 0, 1 << 7
	case "use":
		return &t.Use, allowTab, 1 << 8
	case "codes":
		return &t.Codes, 0, 1 << 9
	case "tab":
		return &t.Tab, 0, 1 << 10
	}
	return nil, 0, 0
}

// textAllow says which child elements a text element may contain besides
// the addenda markup every text may carry.
type textAllow uint8

const (
	allowNemod textAllow = 1 << iota
	allowCodes
	allowTab
)

// ixText is the content of a mixed-content element.
type ixText struct {
	text    string // the text without nonessential modifiers
	nemod   string
	nemodAt int
	codes   string // <codes> inside a PCS <see>
	tab     string // <tab> inside a PCS <see> or <use>
}

// full returns the text with its nonessential modifiers, for elements
// where they are not kept apart.
func (t ixText) full() string {
	tm := Term{Title: t.text, Nemod: t.nemod, NemodAt: t.nemodAt}
	return tm.Text()
}

// text reads the content of start up to its end element: character data,
// nonessential modifiers and, where allowed, PCS codes and tables. Addenda
// markup is flattened: <new> and <unc> text is kept, <old> text dropped.
func (ir *indexReader) text(start xml.StartElement, allow textAllow) (ixText, error) {
	var out ixText
	ir.sb.Reset()
	var nemods []string
	if err := ir.mixed(start.Name.Local, allow, &out, &nemods, false); err != nil {
		return out, err
	}
	raw := ir.sb.String()
	if len(nemods) > 0 {
		// The modifiers sat at the first marker; collapse spaces around it
		// while keeping its position. Words a <nemod> holds outside its
		// parentheses are essential and join the title there.
		var groups, essential []string
		for _, s := range nemods {
			g, e := splitNemod(s)
			groups = append(groups, g...)
			if e != "" {
				essential = append(essential, e)
			}
		}
		i := strings.IndexByte(raw, 0)
		before := ixSpace(strings.ReplaceAll(raw[:i], "\x00", " "))
		after := ixSpace(strings.ReplaceAll(raw[i+1:], "\x00", " "))
		out.text = ixJoin(ixJoin(before, ixSpace(strings.Join(essential, " "))), after)
		out.nemodAt = len(before)
		out.nemod = ixSpace(strings.Join(groups, " "))
	} else {
		out.text = ixSpace(raw)
	}
	return out, nil
}

// splitNemod splits the content of a <nemod> element into its top-level
// parenthesized groups, which are the nonessential modifiers, and the words
// outside them. The publisher's files put only parenthesized groups in the
// element, but conversions of the Index through other formats fold title
// words into it ("(infectional) due to blood loss (chronic)"); those words
// change the code and must stay in the title.
func splitNemod(s string) (groups []string, essential string) {
	var out strings.Builder
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			if depth == 0 {
				start = i
			}
			depth++
		case ')':
			if depth == 0 {
				out.WriteByte(s[i])
				continue
			}
			depth--
			if depth == 0 {
				groups = append(groups, s[start:i+1])
			}
		default:
			if depth == 0 {
				out.WriteByte(s[i])
			}
		}
	}
	if depth > 0 {
		// An unclosed group runs to the end.
		groups = append(groups, s[start:])
	}
	return groups, ixSpace(out.String())
}

// mixed accumulates the text of the element named in into ir.sb. A NUL
// byte marks where nonessential modifiers stood.
func (ir *indexReader) mixed(in string, allow textAllow, out *ixText, nemods *[]string, drop bool) error {
	for {
		tok, err := ir.token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if !drop {
				ir.sb.Write(t)
			}
		case xml.EndElement:
			return nil
		case xml.StartElement:
			el := t.Name.Local
			switch {
			case el == "new" || el == "unc" || el == "diff":
				if err := ir.mixed(el, allow, out, nemods, drop); err != nil {
					return err
				}
			case el == "old":
				if err := ir.mixed(el, allow, out, nemods, true); err != nil {
					return err
				}
			case el == "nemod" && allow&allowNemod != 0:
				s, err := ir.plainText(t)
				if err != nil {
					return err
				}
				if !drop {
					*nemods = append(*nemods, s)
					ir.sb.WriteByte(0)
				}
			case el == "codes" && allow&allowCodes != 0:
				s, err := ir.plainText(t)
				if err != nil {
					return err
				}
				if out.codes != "" {
					return fmt.Errorf("second <codes> in <%s>: %w", in, ErrIndexFormat)
				}
				out.codes = s
			case el == "tab" && allow&allowTab != 0:
				s, err := ir.plainText(t)
				if err != nil {
					return err
				}
				if out.tab != "" {
					return fmt.Errorf("second <tab> in <%s>: %w", in, ErrIndexFormat)
				}
				out.tab = s
			default:
				return ir.unexpected(t, in)
			}
		}
	}
}

// plainText reads an element that holds only text (addenda markup aside)
// and returns it with white space collapsed.
func (ir *indexReader) plainText(start xml.StartElement) (string, error) {
	var b strings.Builder
	depth := len(ir.open) // start is open
	dropAt := 0           // depth of an open <old>, whose text is dropped
	for {
		tok, err := ir.token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if dropAt == 0 {
				b.Write(t)
			}
		case xml.StartElement:
			switch t.Name.Local {
			case "new", "unc", "diff":
			case "old":
				if dropAt == 0 {
					dropAt = len(ir.open)
				}
			default:
				return "", ir.unexpected(t, start.Name.Local)
			}
		case xml.EndElement:
			if len(ir.open) < dropAt {
				dropAt = 0
			}
			if len(ir.open) < depth {
				return ixSpace(b.String()), nil
			}
		}
	}
}

// ixColAttr returns the positive integer attribute attr (col or level).
func ixColAttr(se xml.StartElement, attr string) (int, error) {
	for _, a := range se.Attr {
		if a.Name.Local == attr {
			n, err := strconv.Atoi(strings.TrimSpace(a.Value))
			if err != nil || n < 1 || n > 99 {
				return 0, fmt.Errorf("<%s %s=%q>: want a number from 1 to 99: %w", se.Name.Local, attr, a.Value, ErrIndexFormat)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("<%s> without the %s attribute: %w", se.Name.Local, attr, ErrIndexFormat)
}

// ixTermName names a term being read, for error messages.
func ixTermName(t *Term) string {
	if t.Title == "" {
		return "term"
	}
	return fmt.Sprintf("term %q", t.Title)
}

// ixSpace trims s and reduces each run of white space to one space.
func ixSpace(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' || c == '\t' || c == '\r' || (c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func ixShorten(s string, n int) string {
	s = ixSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// detectPart tells which index the file is from what it says about itself.
func (ix *Index) detectPart() Part {
	if ix.System == ICD10PCS {
		return PartPCSIndex
	}
	if len(ix.Columns) > 0 {
		if _, err := ix.Column(NeoplasmMalignantPrimary); err == nil {
			return PartNeoplasm
		}
		if _, err := ix.Column(DrugPoisoningAccidental); err == nil {
			return PartDrug
		}
	}
	if strings.Contains(textnorm.Fold(ix.Title), "external cause") {
		return PartExternal
	}
	return PartIndex
}

// ErrNoTerm is wrapped by the errors returned when a path or
// cross-reference names no term of the index.
var ErrNoTerm = errors.New("no such index term")

// ErrNoCell is wrapped by the error Index.Cell returns when the row exists
// but holds no code in the column (a dash, or no cell at all).
var ErrNoCell = errors.New("no code in this column")

// Walk calls fn for every term of the index in the publisher's order, main
// terms first and each followed by its subterms, with the path from the
// main term to the term (the term is path[len(path)-1]). When fn returns
// false Walk does not descend into the term's subterms. The path slice is
// reused between calls; clone it to keep it.
func (ix *Index) Walk(fn func(path []*Term) bool) {
	path := make([]*Term, 0, 10)
	var walk func(ts []*Term)
	walk = func(ts []*Term) {
		for _, t := range ts {
			path = append(path, t)
			if fn(path) {
				walk(t.Terms)
			}
			path = path[:len(path)-1]
		}
	}
	walk(ix.Terms)
}

// All returns an iterator over every term of the index with its path from
// the main term, in the order Walk visits them. The path slice is reused
// between iterations; clone it to keep it.
func (ix *Index) All() iter.Seq[[]*Term] {
	return func(yield func([]*Term) bool) {
		path := make([]*Term, 0, 10)
		var walk func(ts []*Term) bool
		walk = func(ts []*Term) bool {
			for _, t := range ts {
				path = append(path, t)
				if !yield(path) || !walk(t.Terms) {
					return false
				}
				path = path[:len(path)-1]
			}
			return true
		}
		walk(ix.Terms)
	}
}

// Find returns the path to the term reached by following titles from a
// main term down through its subterms, as a coder reads the index: each
// title names one level. Titles match case- and accent-insensitively and
// with or without the nonessential modifiers; a title also matches one of
// the comma-separated alternatives of a term such as "abdomen, abdominal"
// or "boat, boating". Exact matches are preferred over alternatives.
func (ix *Index) Find(titles ...string) ([]*Term, bool) {
	if len(titles) == 0 {
		return nil, false
	}
	parts := make([]string, len(titles))
	for i, s := range titles {
		parts[i] = ixSpace(s)
	}
	budget := ixMatchBudget
	path, used := ixMatch(ix.Terms, parts, false, &budget)
	if used < len(parts) {
		return nil, false
	}
	return path, true
}

// Resolve finds the term a cross-reference names, such as the see
// reference "Accident, transport, car occupant" or the see also reference
// "Neoplasm, abdomen, wall, skin". The reference is a comma-separated
// path; since titles may themselves contain commas ("Neoplasm,
// neoplastic", "due to, caused by cataclysm"), Resolve tries the longest
// run of components that names a term first, then shorter ones.
//
// References often end in an instruction rather than a term ("Forces of
// nature, by type", "Burn, by site"): Resolve returns the deepest term it
// reaches and the components it could not follow, joined as published,
// in rest; rest is empty when the whole reference resolved. The error
// wraps ErrNoTerm when not even a main term matches, as for "see
// condition" or a reference to another index such as "Table of Drugs and
// Chemicals".
func (ix *Index) Resolve(ref string) (path []*Term, rest string, err error) {
	var parts []string
	for p := range strings.SplitSeq(ref, ",") {
		if p = ixSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, "", fmt.Errorf("resolve %q: empty reference: %w", ref, ErrNoTerm)
	}
	budget := ixMatchBudget
	path, used := ixMatch(ix.Terms, parts, true, &budget)
	if used == 0 {
		return nil, "", fmt.Errorf("resolve %q: no main term %q: %w", ref, parts[0], ErrNoTerm)
	}
	return path, strings.Join(parts[used:], ", "), nil
}

// ixMatchBudget bounds the number of candidate terms one Find or Resolve
// descends into. Real references need a few dozen; the bound keeps
// pathological input (many equal titles at every level) from taking
// exponential time.
const ixMatchBudget = 10000

// ixMatch follows parts down from terms and returns the path that consumes
// the most parts (all of them if possible) and how many it consumed. With
// join, several consecutive parts may together name one term (titles with
// commas). The first complete match in order of preference wins.
func ixMatch(terms []*Term, parts []string, join bool, budget *int) ([]*Term, int) {
	if len(parts) == 0 || len(terms) == 0 || *budget <= 0 {
		return nil, 0
	}
	var best []*Term
	bestUsed := 0
	// try reports whether a complete match was found through t.
	try := func(t *Term, k int) bool {
		*budget--
		sub, u := ixMatch(t.Terms, parts[k:], join, budget)
		if k+u > bestUsed {
			best = append([]*Term{t}, sub...)
			bestUsed = k + u
		}
		return bestUsed == len(parts) || *budget <= 0
	}
	maxK := 1
	if join {
		maxK = len(parts)
	}
	// Longer runs of parts first; alternatives and prefixes only name
	// single parts, so they come last of all.
	var cands [ixPrefix + 1][]*Term
	for k := maxK; k >= 1; k-- {
		q := parts[0]
		if k > 1 {
			q = strings.Join(parts[:k], ", ")
		}
		query := newIxQuery(q)
		for i := range cands {
			cands[i] = cands[i][:0]
		}
		for _, t := range terms {
			if m := ixTitleMatch(t, query); m != ixNone && (k == 1 || m <= ixLoose) {
				cands[m] = append(cands[m], t)
			}
		}
		for _, ts := range cands {
			for _, t := range ts {
				if try(t, k) {
					return best, bestUsed
				}
			}
		}
	}
	return best, bestUsed
}

// ixQuery is one title to match, with its loose form computed once.
type ixQuery struct {
	text, loose string
}

func newIxQuery(q string) ixQuery {
	return ixQuery{text: q, loose: ixLooseKey(q)}
}

// How well a query matches a title, best first.
const (
	ixNone = iota
	ixExact
	// ixLoose: equal once parenthesized modifiers and the abbreviations
	// NEC and NOS are removed ("skin" for "skin NOS").
	ixLoose
	// ixAlternative: equal to one comma-separated alternative of the
	// title ("abdomen" for "abdomen, abdominal").
	ixAlternative
	// ixPrefix: the leading words of the title, as references abbreviate
	// ("streetcar" for "streetcar occupant").
	ixPrefix
)

func ixTitleMatch(t *Term, query ixQuery) int {
	q, lq := query.text, query.loose
	if t.Title == "" {
		return ixNone
	}
	if ixEqual(t.Title, q) || (t.Nemod != "" && strings.IndexByte(q, '(') >= 0 && ixEqual(t.Text(), q)) {
		return ixExact
	}
	lt := t.Title
	if ixHasModifier(lt) {
		lt = ixLooseKey(lt)
	}
	if ixEqual(lt, lq) {
		return ixLoose
	}
	if strings.IndexByte(t.Title, ',') >= 0 {
		for alt := range strings.SplitSeq(t.Title, ",") {
			if alt = strings.TrimSpace(alt); ixEqual(alt, q) || ixEqual(ixLooseKey(alt), lq) {
				return ixAlternative
			}
		}
	}
	if len(lt) > len(lq) && lt[len(lq)] == ' ' && ixEqual(lt[:len(lq)], lq) {
		return ixPrefix
	}
	return ixNone
}

// ixHasModifier reports whether s may hold something ixLooseKey removes.
func ixHasModifier(s string) bool {
	return strings.IndexByte(s, '(') >= 0 || strings.Contains(s, "NEC") || strings.Contains(s, "NOS") ||
		strings.Contains(s, "nec") || strings.Contains(s, "nos")
}

// ixLooseKey removes parenthesized groups, the printed form of nonessential
// modifiers, and the words NEC (not elsewhere classifiable) and NOS (not
// otherwise specified), which qualify a title without naming anything.
func ixLooseKey(s string) string {
	if !ixHasModifier(s) {
		return s
	}
	s = ixStripParens(s)
	if !strings.Contains(s, "NEC") && !strings.Contains(s, "NOS") && !strings.Contains(s, "nec") && !strings.Contains(s, "nos") {
		return s
	}
	words := strings.Fields(s)
	words = slices.DeleteFunc(words, func(w string) bool {
		return strings.EqualFold(w, "NEC") || strings.EqualFold(w, "NOS")
	})
	return strings.Join(words, " ")
}

// ixEqual compares two titles ignoring case, accents and typographic
// variants of hyphens and quotes.
func ixEqual(a, b string) bool {
	if strings.EqualFold(a, b) {
		return true
	}
	if ixASCII(a) && ixASCII(b) {
		return false
	}
	return textnorm.Fold(a) == textnorm.Fold(b)
}

func ixASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ixStripParens removes parenthesized groups, the printed form of
// nonessential modifiers, and collapses the space left behind.
func ixStripParens(s string) string {
	var b strings.Builder
	depth := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return ixSpace(b.String())
}

// Column names the meaning of a column of the Table of Neoplasms or the
// Table of Drugs and Chemicals. Index.Column maps it to the column number
// from the file's own headings, so that a reordered or renamed heading in a
// future release is noticed instead of silently read from the wrong column.
type Column string

// The columns of the Table of Neoplasms (by behaviour) and of the Table of
// Drugs and Chemicals (by intent).
const (
	NeoplasmMalignantPrimary   Column = "malignant primary"
	NeoplasmMalignantSecondary Column = "malignant secondary"
	NeoplasmInSitu             Column = "ca in situ"
	NeoplasmBenign             Column = "benign"
	NeoplasmUncertain          Column = "uncertain behavior"
	NeoplasmUnspecified        Column = "unspecified behavior"

	DrugPoisoningAccidental   Column = "poisoning accidental"
	DrugPoisoningSelfHarm     Column = "poisoning intentional self-harm"
	DrugPoisoningAssault      Column = "poisoning assault"
	DrugPoisoningUndetermined Column = "poisoning undetermined"
	DrugAdverseEffect         Column = "adverse effect"
	DrugUnderdosing           Column = "underdosing"
)

// NeoplasmColumns lists the columns of the Table of Neoplasms in the order
// the publisher prints them.
func NeoplasmColumns() []Column {
	return []Column{NeoplasmMalignantPrimary, NeoplasmMalignantSecondary, NeoplasmInSitu, NeoplasmBenign, NeoplasmUncertain, NeoplasmUnspecified}
}

// DrugColumns lists the columns of the Table of Drugs and Chemicals in the
// order the publisher prints them.
func DrugColumns() []Column {
	return []Column{DrugPoisoningAccidental, DrugPoisoningSelfHarm, DrugPoisoningAssault, DrugPoisoningUndetermined, DrugAdverseEffect, DrugUnderdosing}
}

// columnWords holds, for each Column, the words its heading must contain.
// The words are chosen so that exactly one heading of each table has
// them all ("Poisoning Accidental (unintentional)", "Ca in situ").
func columnWords(c Column) []string {
	switch c {
	case NeoplasmMalignantPrimary:
		return []string{"malignant", "primary"}
	case NeoplasmMalignantSecondary:
		return []string{"malignant", "secondary"}
	case NeoplasmInSitu:
		return []string{"situ"}
	case NeoplasmBenign:
		return []string{"benign"}
	case NeoplasmUncertain:
		return []string{"uncertain"}
	case NeoplasmUnspecified:
		return []string{"unspecified"}
	case DrugPoisoningAccidental:
		return []string{"poisoning", "accidental"}
	case DrugPoisoningSelfHarm:
		return []string{"poisoning", "self", "harm"}
	case DrugPoisoningAssault:
		return []string{"poisoning", "assault"}
	case DrugPoisoningUndetermined:
		return []string{"poisoning", "undetermined"}
	case DrugAdverseEffect:
		return []string{"adverse", "effect"}
	case DrugUnderdosing:
		return []string{"underdosing"}
	}
	return nil
}

// Column returns the 1-based number of the column c, found by its heading
// in the file. It fails if the index is not a table, if no heading names
// c, or if more than one does.
func (ix *Index) Column(c Column) (int, error) {
	want := columnWords(c)
	if want == nil {
		return 0, fmt.Errorf("unknown table column %q", string(c))
	}
	if len(ix.Columns) == 0 {
		return 0, fmt.Errorf("column %q: the index has no table columns", string(c))
	}
	found := 0
	for i, h := range ix.Columns {
		words := strings.FieldsFunc(textnorm.Fold(h), func(r rune) bool {
			return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
		})
		ok := true
		for _, w := range want {
			if !slices.Contains(words, w) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		if found != 0 {
			return 0, fmt.Errorf("column %q: both heading %q and %q match", string(c), ix.Columns[found-1], h)
		}
		found = i + 1
	}
	if found == 0 {
		return 0, fmt.Errorf("column %q: no heading matches (headings: %s)", string(c), strings.Join(ix.Columns, "; "))
	}
	return found, nil
}

// ColumnNamed returns the 1-based number of the column whose heading is
// heading, compared case-insensitively.
func (ix *Index) ColumnNamed(heading string) (int, bool) {
	heading = ixSpace(heading)
	for i, h := range ix.Columns {
		if ixEqual(h, heading) {
			return i + 1, true
		}
	}
	return 0, false
}

// Cell returns the code a table gives for a row and a column: the row is
// named by titles as for Find ("lung", or "abdomen", "wall"), the column by
// its meaning. In a table with a single main term (the Neoplasm table's
// "Neoplasm, neoplastic") the titles may leave that main term out. It
// returns the path to the row as well, for the trail. The error wraps
// ErrNoTerm if no row matches and ErrNoCell if the row has no code in
// the column.
func (ix *Index) Cell(c Column, titles ...string) (string, []*Term, error) {
	col, err := ix.Column(c)
	if err != nil {
		return "", nil, err
	}
	path, ok := ix.Find(titles...)
	if !ok && len(ix.Terms) == 1 {
		path, ok = ix.Find(append([]string{ix.Terms[0].Title}, titles...)...)
	}
	if !ok {
		return "", nil, fmt.Errorf("table row %q: %w", strings.Join(titles, ", "), ErrNoTerm)
	}
	code, ok := path[len(path)-1].Cell(col)
	if !ok {
		return "", path, fmt.Errorf("table row %q, column %q: %w", PathString(path), ix.Columns[col-1], ErrNoCell)
	}
	return code, path, nil
}
