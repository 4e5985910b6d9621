package codesys

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// The xml* types below mirror the ClaML 2.0 document type (ISO 13120) and
// exist only to be decoded, one top-level element at a time, and turned
// into Classes.

type xmlClaMLMeta struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlClaMLRef struct {
	Code string `xml:"code,attr"`
}

type xmlClaMLTitle struct {
	Name    string `xml:"name,attr"`
	Version string `xml:"version,attr"`
	Date    string `xml:"date,attr"`
	Text    string `xml:",chardata"`
}

type xmlClaMLIdentifier struct {
	Authority string `xml:"authority,attr"`
	UID       string `xml:"uid,attr"`
}

type xmlClaMLKinds struct {
	ClassKinds []struct {
		Name string `xml:"name,attr"`
	} `xml:"ClassKind"`
	UsageKinds []struct {
		Name string `xml:"name,attr"`
		Mark string `xml:"mark,attr"`
	} `xml:"UsageKind"`
	RubricKinds []struct {
		Name      string `xml:"name,attr"`
		Inherited string `xml:"inherited,attr"`
	} `xml:"RubricKind"`
}

type xmlClaMLRubric struct {
	ID     string          `xml:"id,attr"`
	Kind   string          `xml:"kind,attr"`
	Usage  string          `xml:"usage,attr"`
	Labels []xmlClaMLLabel `xml:"Label"`
}

type xmlClaMLModifiedBy struct {
	Code     string        `xml:"code,attr"`
	All      string        `xml:"all,attr"`
	Position string        `xml:"position,attr"`
	Valid    []xmlClaMLRef `xml:"ValidModifierClass"`
}

type xmlClaMLClass struct {
	Code       string               `xml:"code,attr"`
	Kind       string               `xml:"kind,attr"`
	Usage      string               `xml:"usage,attr"`
	Modifier   string               `xml:"modifier,attr"` // ModifierClass only
	Meta       []xmlClaMLMeta       `xml:"Meta"`
	Super      []xmlClaMLRef        `xml:"SuperClass"`
	Sub        []xmlClaMLRef        `xml:"SubClass"`
	ModifiedBy []xmlClaMLModifiedBy `xml:"ModifiedBy"`
	Exclude    []xmlClaMLRef        `xml:"ExcludeModifier"`
	Rubrics    []xmlClaMLRubric     `xml:"Rubric"`
}

// xmlClaMLLabel decodes a Label's mixed content into a Label.
type xmlClaMLLabel struct{ Label }

// maxLabelDepth bounds the nesting of elements inside a label (lists in
// tables in lists ...); real files nest a few levels.
const maxLabelDepth = 32

func (l *xmlClaMLLabel) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	for _, a := range start.Attr {
		if a.Name.Local == "lang" {
			l.Lang = a.Value
		}
	}
	content, err := readMixed(d, 0)
	if err != nil {
		return err
	}
	l.Text = segmentsText(content)
	collectRefs(content, &l.Refs)
	if slices.ContainsFunc(content, func(s Segment) bool { return s.Element != "" }) {
		l.Content = content
	}
	return nil
}

// readMixed reads mixed content up to the end of the enclosing element.
func readMixed(d *xml.Decoder, depth int) ([]Segment, error) {
	var out []Segment
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if n := len(out); n > 0 && out[n-1].Element == "" {
				out[n-1].Text += string(t)
			} else {
				out = append(out, Segment{Text: string(t)})
			}
		case xml.StartElement:
			if depth >= maxLabelDepth {
				return nil, fmt.Errorf("<%s> nested more than %d levels deep in a label", t.Name.Local, maxLabelDepth)
			}
			s := Segment{Element: t.Name.Local}
			for _, a := range t.Attr {
				s.Attrs = append(s.Attrs, Meta{Name: a.Name.Local, Value: a.Value})
			}
			if s.Content, err = readMixed(d, depth+1); err != nil {
				return nil, err
			}
			out = append(out, s)
		case xml.EndElement:
			return out, nil
		}
	}
}

// segmentsText writes mixed content as plain text: paragraphs, list items,
// captions and table rows on lines of their own (list items after "- ",
// cells separated by " | "), whitespace collapsed.
func segmentsText(segs []Segment) string {
	var b strings.Builder
	writeSegments(&b, segs)
	var lines []string
	for l := range strings.SplitSeq(b.String(), "\n") {
		if l = clean(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

func writeSegments(b *strings.Builder, segs []Segment) {
	cells := 0
	for _, s := range segs {
		switch s.Element {
		case "":
			b.WriteString(s.Text)
			continue
		case "Para", "Row", "Caption", "THead", "TBody", "TFoot", "Table", "List":
			b.WriteString("\n")
			writeSegments(b, s.Content)
			b.WriteString("\n")
		case "ListItem":
			b.WriteString("\n- ")
			writeSegments(b, s.Content)
			b.WriteString("\n")
		case "Cell":
			if cells > 0 {
				b.WriteString(" | ")
			}
			cells++
			writeSegments(b, s.Content)
		case "Fragment":
			b.WriteString(" ")
			writeSegments(b, s.Content)
		case "Include", "IncludeDescendants":
			// An include names another class's rubric; it has no text of
			// its own.
		default:
			writeSegments(b, s.Content)
		}
	}
}

func collectRefs(segs []Segment, refs *[]Reference) {
	for _, s := range segs {
		if s.Element == "Reference" {
			r := Reference{Text: segmentsText(s.Content)}
			for _, a := range s.Attrs {
				switch a.Name {
				case "code":
					r.Code = a.Value
				case "class":
					r.Class = a.Value
				case "authority":
					r.Authority = a.Value
				case "uid":
					r.UID = a.Value
				case "usage":
					r.Usage = a.Value
				}
			}
			if r.Code == "" {
				r.Code = r.Text
			}
			*refs = append(*refs, r)
			continue
		}
		collectRefs(s.Content, refs)
	}
}

func rubrics(xs []xmlClaMLRubric) []Rubric {
	out := make([]Rubric, len(xs))
	for i, x := range xs {
		r := Rubric{Kind: x.Kind, ID: x.ID, Usage: x.Usage, Labels: make([]Label, len(x.Labels))}
		for j := range x.Labels {
			r.Labels[j] = x.Labels[j].Label
		}
		out[i] = r
	}
	return out
}

func preferredTitle(rs []Rubric) string {
	for _, r := range rs {
		if r.Kind == "preferred" {
			return r.Text()
		}
	}
	return ""
}

func metas(xs []xmlClaMLMeta) []Meta {
	var out []Meta
	for _, m := range xs {
		out = append(out, Meta(m))
	}
	return out
}

func codes(xs []xmlClaMLRef) []string {
	var out []string
	for _, x := range xs {
		out = append(out, strings.TrimSpace(x.Code))
	}
	return out
}

// parseBool reads a ClaML boolean attribute; empty is the default.
func parseBool(s string, dflt bool) (bool, error) {
	switch strings.TrimSpace(s) {
	case "":
		return dflt, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", s)
}

// claMLCharset lets the decoder read the 8-bit encodings older ClaML files
// declare; Go reads UTF-8 itself.
func claMLCharset(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return charmap.ISO8859_1.NewDecoder().Reader(in), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(in), nil
	}
	return nil, fmt.Errorf("unsupported character encoding %q", label)
}

// ReadClaML reads a classification in ClaML 2.0 (ISO 13120): its title,
// identifiers and meta data, the kinds of classes, usages and rubrics, the
// modifiers and modifier classes and every class with its superclasses,
// subclasses, modifiers and rubrics, labels kept with their references and
// structure. Classes that modifiers imply are added (see Class.Modifier).
// The file is read one top-level element at a time. name is used in error
// messages, which give the line.
func ReadClaML(r io.Reader, name string) (*Classes, error) {
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	dec.CharsetReader = claMLCharset
	dec.Entity = xml.HTMLEntity
	fail := func(err error) error {
		line, _ := dec.InputPos()
		return fmt.Errorf("read ClaML %s: line %d: %w", name, line, err)
	}
	if _, err := xmlRoot(dec, "ClaML"); err != nil {
		return nil, fail(err)
	}
	c := &Classes{}
	var (
		parents    []string   // per class: its first superclass
		subs       [][]string // per class: its subclasses
		lines      []int      // per class: line of its <Class>
		modClasses []xmlClaMLClass
		modLines   []int
		modSubs    [][]string // per modifier: its SubClass codes
	)
loop:
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fail(xmlEOF(err, "ClaML"))
		}
		var start xml.StartElement
		switch t := tok.(type) {
		case xml.EndElement:
			break loop
		case xml.StartElement:
			start = t
		default:
			continue
		}
		line, _ := dec.InputPos()
		var err2 error
		switch start.Name.Local {
		case "Meta":
			var m xmlClaMLMeta
			if err2 = dec.DecodeElement(&m, &start); err2 == nil {
				c.Meta = append(c.Meta, Meta(m))
			}
		case "Identifier":
			var id xmlClaMLIdentifier
			if err2 = dec.DecodeElement(&id, &start); err2 == nil {
				c.Identifiers = append(c.Identifiers, Identifier(id))
			}
		case "Title":
			var t xmlClaMLTitle
			if err2 = dec.DecodeElement(&t, &start); err2 == nil {
				c.Title, c.Name, c.Version, c.Date = clean(t.Text), clean(t.Name), clean(t.Version), clean(t.Date)
			}
		case "ClassKinds", "UsageKinds", "RubricKinds":
			var k xmlClaMLKinds
			if err2 = dec.DecodeElement(&k, &start); err2 != nil {
				break
			}
			for _, x := range k.ClassKinds {
				c.ClassKinds = append(c.ClassKinds, x.Name)
			}
			for _, x := range k.UsageKinds {
				c.UsageKinds = append(c.UsageKinds, UsageKind(x))
			}
			for _, x := range k.RubricKinds {
				inh, err := parseBool(x.Inherited, true)
				if err != nil {
					err2 = fmt.Errorf("RubricKind %s: inherited: %w", x.Name, err)
					break
				}
				c.RubricKinds = append(c.RubricKinds, RubricKind{Name: x.Name, Inherited: inh})
			}
		case "Modifier":
			var x xmlClaMLClass
			if err2 = dec.DecodeElement(&x, &start); err2 == nil {
				if x.Code = strings.TrimSpace(x.Code); x.Code == "" {
					return nil, fmt.Errorf("read ClaML %s: line %d: <Modifier> without a code", name, line)
				}
				c.Modifiers = append(c.Modifiers, Modifier{Code: x.Code, Rubrics: rubrics(x.Rubrics)})
				modSubs = append(modSubs, codes(x.Sub))
			}
		case "ModifierClass":
			var x xmlClaMLClass
			if err2 = dec.DecodeElement(&x, &start); err2 == nil {
				modClasses = append(modClasses, x)
				modLines = append(modLines, line)
			}
		case "Class":
			var x xmlClaMLClass
			if err2 = dec.DecodeElement(&x, &start); err2 != nil {
				break
			}
			cl := Class{Code: strings.TrimSpace(x.Code), Kind: x.Kind, Usage: x.Usage, Meta: metas(x.Meta),
				Rubrics: rubrics(x.Rubrics), ExcludeModifier: codes(x.Exclude)}
			cl.Title = preferredTitle(cl.Rubrics)
			for _, m := range x.ModifiedBy {
				mb := ModifiedBy{Code: strings.TrimSpace(m.Code), Valid: codes(m.Valid)}
				if mb.All, err2 = parseBool(m.All, true); err2 != nil {
					err2 = fmt.Errorf("class %s: ModifiedBy %s: all: %w", cl.Code, mb.Code, err2)
					break
				}
				if p := strings.TrimSpace(m.Position); p != "" {
					if mb.Position, err2 = strconv.Atoi(p); err2 != nil || mb.Position < 0 {
						err2 = fmt.Errorf("class %s: ModifiedBy %s: position %q is not a number", cl.Code, mb.Code, m.Position)
						break
					}
				}
				cl.ModifiedBy = append(cl.ModifiedBy, mb)
			}
			sup := codes(x.Super)
			parent := ""
			if len(sup) > 0 {
				parent, cl.Others = sup[0], sup[1:]
			}
			c.Classes = append(c.Classes, cl)
			parents = append(parents, parent)
			subs = append(subs, codes(x.Sub))
			lines = append(lines, line)
		default:
			err2 = dec.Skip()
		}
		var syn *xml.SyntaxError
		switch {
		case err2 == nil:
		case errors.As(err2, &syn) || err2 == io.EOF || err2 == io.ErrUnexpectedEOF:
			return nil, fail(xmlEOF(err2, "ClaML"))
		default:
			return nil, fmt.Errorf("read ClaML %s: line %d: <%s>: %w", name, line, start.Name.Local, err2)
		}
	}
	if len(c.Classes) == 0 {
		return nil, fmt.Errorf("read ClaML %s: no <Class> elements", name)
	}
	if err := c.addModifierClasses(modClasses, modSubs); err != nil {
		return nil, fmt.Errorf("read ClaML %s: %w", name, errAt(err, modLines))
	}
	if err := c.link(parents, subs, func(i int) string { return "line " + strconv.Itoa(lines[i]) }); err != nil {
		return nil, fmt.Errorf("read ClaML %s: %w", name, err)
	}
	for i := range c.Classes {
		cl := &c.Classes[i]
		cl.Selectable = len(cl.Children) == 0 && cl.Kind != "chapter" && cl.Kind != "block"
	}
	if err := c.expandModifiers(); err != nil {
		return nil, fmt.Errorf("read ClaML %s: %w", name, err)
	}
	c.Prepare()
	return c, nil
}

// lineError is an error about the i-th ModifierClass, which errAt turns
// into one naming its line.
type lineError struct {
	i   int
	err error
}

func (e *lineError) Error() string { return e.err.Error() }

func errAt(err error, lines []int) error {
	var le *lineError
	if errors.As(err, &le) && le.i < len(lines) {
		return fmt.Errorf("line %d: %w", lines[le.i], le.err)
	}
	return err
}

// addModifierClasses attaches each ModifierClass to its Modifier, in the
// order of the modifier's SubClass list, then in document order.
func (c *Classes) addModifierClasses(xs []xmlClaMLClass, modSubs [][]string) error {
	idx := make(map[string]int, len(c.Modifiers))
	for i, m := range c.Modifiers {
		if _, dup := idx[m.Code]; dup {
			return fmt.Errorf("modifier %s is given twice", m.Code)
		}
		idx[m.Code] = i
	}
	byMod := make([][]ModifierClass, len(c.Modifiers))
	for k, x := range xs {
		mi, ok := idx[strings.TrimSpace(x.Modifier)]
		if !ok {
			return &lineError{k, fmt.Errorf("modifier class %s belongs to modifier %q, which is not in the file", x.Code, x.Modifier)}
		}
		mc := ModifierClass{Code: strings.TrimSpace(x.Code), Usage: x.Usage, Children: codes(x.Sub), Rubrics: rubrics(x.Rubrics), Meta: metas(x.Meta)}
		if mc.Code == "" {
			return &lineError{k, fmt.Errorf("modifier class of %s without a code", x.Modifier)}
		}
		if sup := codes(x.Super); len(sup) > 0 && sup[0] != c.Modifiers[mi].Code {
			mc.Parent = sup[0]
		}
		mc.Title = preferredTitle(mc.Rubrics)
		if slices.ContainsFunc(byMod[mi], func(o ModifierClass) bool { return o.Code == mc.Code }) {
			return &lineError{k, fmt.Errorf("modifier class %s of %s is given twice", mc.Code, x.Modifier)}
		}
		byMod[mi] = append(byMod[mi], mc)
	}
	for i := range c.Modifiers {
		order := modSubs[i]
		slices.SortStableFunc(byMod[i], func(a, b ModifierClass) int {
			ia, ib := slices.Index(order, a.Code), slices.Index(order, b.Code)
			if ia < 0 {
				ia = len(order)
			}
			if ib < 0 {
				ib = len(order)
			}
			return ia - ib
		})
		c.Modifiers[i].Classes = byMod[i]
	}
	return nil
}
