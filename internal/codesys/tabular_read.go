package codesys

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The xml* types mirror the publisher's ICD10CM.tabular schema
// (icd10cm_tabular.xsd); they exist only to be decoded and turned into the
// flat Tabular.
type xmlTabular struct {
	XMLName  xml.Name     `xml:"ICD10CM.tabular"`
	Version  string       `xml:"version"`
	Chapters []xmlChapter `xml:"chapter"`
}

type xmlNoteList struct {
	Notes []string `xml:"note"`
}

type xmlNotes struct {
	InclusionTerm     []xmlNoteList         `xml:"inclusionTerm"`
	Includes          []xmlNoteList         `xml:"includes"`
	Excludes1         []xmlNoteList         `xml:"excludes1"`
	Excludes2         []xmlNoteList         `xml:"excludes2"`
	CodeFirst         []xmlNoteList         `xml:"codeFirst"`
	UseAdditionalCode []xmlNoteList         `xml:"useAdditionalCode"`
	CodeAlso          []xmlNoteList         `xml:"codeAlso"`
	Notes             []xmlNoteList         `xml:"notes"`
	SevenChrNote      []xmlNoteList         `xml:"sevenChrNote"`
	SevenChrDef       []xmlSevenChrDef      `xml:"sevenChrDef"`
	VisualImpairment  []xmlVisualImpairment `xml:"visualImpairment"`
}

type xmlSevenChrDef struct {
	Extensions []struct {
		Char string `xml:"char,attr"`
		Text string `xml:",chardata"`
	} `xml:"extension"`
}

// xmlVisualImpairment is the one table inside the Tabular List (category
// H54); it is kept as note text so that nothing published is lost.
type xmlVisualImpairment struct {
	Categories []struct {
		Heading string `xml:"heading"`
		Value   string `xml:"value"`
		Ranges  []struct {
			Heading string `xml:"heading"`
			Max     struct {
				Heading string `xml:"heading"`
				Value   string `xml:"value"`
			} `xml:"visMax"`
			Min struct {
				Heading string `xml:"heading"`
				Value   string `xml:"value"`
			} `xml:"visMin"`
		} `xml:"visRange"`
	} `xml:"visCategory"`
}

type xmlChapter struct {
	Name string `xml:"name"`
	Desc string `xml:"desc"`
	xmlNotes
	Sections []xmlSection `xml:"section"`
}

type xmlSection struct {
	ID   string `xml:"id,attr"`
	Desc string `xml:"desc"`
	xmlNotes
	Diags []xmlDiag `xml:"diag"`
}

type xmlDiag struct {
	Name string `xml:"name"`
	Desc string `xml:"desc"`
	xmlNotes
	Diags []xmlDiag `xml:"diag"`
}

// ReadTabular reads an ICD-10-CM Tabular List XML file (root
// ICD10CM.tabular), keeping every instructional note. name is used in error
// messages.
func ReadTabular(r io.Reader, name string) (*Tabular, error) {
	dec := xml.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	root, err := xmlRoot(dec, "ICD10CM.tabular")
	if err != nil {
		line, _ := dec.InputPos()
		return nil, fmt.Errorf("read tabular %s: line %d: %w", name, line, err)
	}
	var doc xmlTabular
	if err := dec.DecodeElement(&doc, &root); err != nil {
		line, _ := dec.InputPos()
		return nil, fmt.Errorf("read tabular %s: line %d: %w", name, line, err)
	}
	if len(doc.Chapters) == 0 {
		return nil, fmt.Errorf("read tabular %s: no <chapter> elements: not a Tabular List", name)
	}
	t := &Tabular{Version: strings.TrimSpace(doc.Version), byCode: make(map[string]int32)}
	for i := range doc.Chapters {
		ch := &doc.Chapters[i]
		ci := t.add(Node{Code: clean(ch.Name), Kind: KindChapter, Title: clean(ch.Desc), Parent: -1, Notes: ch.notes()})
		for j := range ch.Sections {
			s := &ch.Sections[j]
			si := t.add(Node{Code: clean(s.ID), Kind: KindBlock, Title: clean(s.Desc), Parent: ci, Notes: s.notes(), SevenChr: s.sevenChr()})
			for k := range s.Diags {
				if err := t.addDiag(&s.Diags[k], si); err != nil {
					return nil, fmt.Errorf("read tabular %s: %w", name, err)
				}
			}
		}
	}
	t.Prepare()
	return t, nil
}

func (t *Tabular) add(n Node) int32 {
	t.Nodes = append(t.Nodes, n)
	i := int32(len(t.Nodes) - 1)
	if n.Parent >= 0 {
		p := &t.Nodes[n.Parent]
		p.Children = append(p.Children, i)
	}
	return i
}

func (t *Tabular) addDiag(d *xmlDiag, parent int32) error {
	c, err := ParseCode(clean(d.Name))
	if err != nil {
		return fmt.Errorf("diag under %s: %w", t.Nodes[parent].Code, err)
	}
	code := c.String()
	if _, dup := t.byCode[code]; dup {
		return fmt.Errorf("diag %s under %s: duplicate code", code, t.Nodes[parent].Code)
	}
	t.byCode[code] = int32(len(t.Nodes))
	kind := KindCode
	switch {
	case len(strings.ReplaceAll(code, ".", "")) == 3:
		kind = KindCategory
	case len(d.Diags) > 0:
		kind = KindSubcategory
	}
	i := t.add(Node{Code: code, Kind: kind, Title: clean(d.Desc), Parent: parent, Notes: d.notes(), SevenChr: d.sevenChr()})
	for k := range d.Diags {
		if err := t.addDiag(&d.Diags[k], i); err != nil {
			return err
		}
	}
	return nil
}

func (n *xmlNotes) notes() Notes {
	out := Notes{
		InclusionTerms:    flatten(n.InclusionTerm),
		Includes:          flatten(n.Includes),
		Excludes1:         flatten(n.Excludes1),
		Excludes2:         flatten(n.Excludes2),
		CodeFirst:         flatten(n.CodeFirst),
		UseAdditionalCode: flatten(n.UseAdditionalCode),
		CodeAlso:          flatten(n.CodeAlso),
		Notes:             flatten(n.Notes),
		SevenChrNote:      flatten(n.SevenChrNote),
	}
	for _, vi := range n.VisualImpairment {
		out.Notes = append(out.Notes, vi.text()...)
	}
	return out
}

func (n *xmlNotes) sevenChr() []SevenChr {
	var out []SevenChr
	for _, def := range n.SevenChrDef {
		for _, e := range def.Extensions {
			c := strings.TrimSpace(e.Char)
			if len(c) != 1 {
				continue
			}
			out = append(out, SevenChr{Char: c[0], Title: clean(e.Text)})
		}
	}
	return out
}

// text renders the visual impairment table as one note line per category.
func (vi *xmlVisualImpairment) text() []string {
	var lines []string
	for _, c := range vi.Categories {
		head := clean(c.Heading)
		if c.Value != "" {
			head = "Category " + clean(c.Value)
		}
		var ranges []string
		for _, r := range c.Ranges {
			if r.Heading != "" {
				ranges = append(ranges, clean(r.Heading)+": "+clean(r.Max.Heading)+" / "+clean(r.Min.Heading))
				continue
			}
			ranges = append(ranges, "less than "+clean(r.Max.Value)+", equal to or better than "+clean(r.Min.Value))
		}
		lines = append(lines, head+": "+strings.Join(ranges, "; "))
	}
	return lines
}

func flatten(lists []xmlNoteList) []string {
	var out []string
	for _, l := range lists {
		for _, n := range l.Notes {
			if s := clean(n); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// clean trims a text node and folds its internal runs of white space, which
// in the publisher's files come from pretty-printing, not from the content.
func clean(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// ReadOrder reads an ICD-10-CM order file: fixed-width lines of a 5-digit
// order number, the code without its dot, a 0/1 billable flag, a 60-column
// short title and the long title.
func ReadOrder(r io.Reader, name string) (*Order, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	o := &Order{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		e, err := parseOrderLine(text)
		if err != nil {
			return nil, fmt.Errorf("read order file %s: line %d: %w", name, line, err)
		}
		o.Entries = append(o.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read order file %s: line %d: %w", name, line+1, err)
	}
	if len(o.Entries) == 0 {
		return nil, fmt.Errorf("read order file %s: no entries", name)
	}
	o.Prepare()
	return o, nil
}

func parseOrderLine(s string) (OrderEntry, error) {
	// 00001 A00     0 Cholera...
	// 0     6       14 16                                                          77
	if len(s) < 17 || s[5] != ' ' || s[13] != ' ' || s[15] != ' ' {
		return OrderEntry{}, fmt.Errorf("expected fixed-width order line (NNNNN CODE    B SHORT LONG), got %q", truncate(s, 40))
	}
	seq, err := strconv.Atoi(s[:5])
	if err != nil {
		return OrderEntry{}, fmt.Errorf("order number %q: %w", s[:5], err)
	}
	raw := strings.TrimSpace(s[6:13])
	code, err := ParseCode(raw)
	if err != nil {
		return OrderEntry{}, err
	}
	var billable bool
	switch s[14] {
	case '0':
	case '1':
		billable = true
	default:
		return OrderEntry{}, fmt.Errorf("billable flag %q: expected 0 or 1", s[14:15])
	}
	short, long := strings.TrimSpace(s[16:]), ""
	if len(s) > 77 {
		short, long = strings.TrimSpace(s[16:77]), strings.TrimSpace(s[77:])
	}
	if long == "" {
		long = short
	}
	return OrderEntry{Seq: seq, Code: code.String(), Billable: billable, Short: short, Long: long}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
