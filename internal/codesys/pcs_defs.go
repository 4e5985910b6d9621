package codesys

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// PCSDefinitions holds the ICD-10-PCS Definitions: per section, the
// definitions of axis values (root operations, approaches, types ...), the
// Body Part Key (section 0 axis 4: which anatomical terms a body part value
// includes), the Device Key (axis 6: which devices a device value
// includes), the Substance Key (section 3 axis 6) and the Device Aggregation
// Table.
type PCSDefinitions struct {
	// Version is the <version> element of the file, e.g. "2025".
	Version string
	// Title is the <title> element.
	Title string
	// Sections are the sections in the publisher's order.
	Sections []PCSDefSection
	// DeviceAggregation maps specific devices to the general device value
	// coded for them, per operation and body system.
	DeviceAggregation []PCSDeviceAggregate
}

// PCSDefSection is one section of the Definitions.
type PCSDefSection struct {
	Code  byte   // the section character, e.g. '0'
	Title string // e.g. "Medical and Surgical"
	Axes  []PCSDefAxis
}

// PCSDefAxis is one axis of a section with the definitions of its values.
type PCSDefAxis struct {
	Pos   int    // 3 to 7
	Title string // e.g. "Operation", "Body Part", "Device"
	Terms []PCSDefTerm
}

// PCSDefTerm is one entry of an axis: one or more value labels as they
// appear in the tables, with their definition, explanation and the terms
// they include. In the Body Part Key an entry such as "1st Toe, Left" and
// "1st Toe, Right" includes anatomical terms ("Hallux"); in the Device Key
// a device value includes device names.
type PCSDefTerm struct {
	Titles      []string
	Definition  string
	Explanation string
	Includes    []string
}

// PCSDeviceAggregate is one row of the Device Aggregation Table: the
// specific device is coded with the general device value Parent for the
// operation in the body systems.
type PCSDeviceAggregate struct {
	Device      string   // e.g. "Cardiac Lead, Defibrillator"
	Operation   string   // e.g. "Insertion", or "All applicable"
	BodySystems []string // e.g. "Heart and Great Vessels"
	Parent      PCSValue // the device value coded, e.g. M "Cardiac Lead"
}

// ReadPCSDefinitions reads an ICD-10-PCS Definitions XML file (root
// ICD10PCS.definitions). name is used in error messages.
func ReadPCSDefinitions(r io.Reader, name string) (*PCSDefinitions, error) {
	d := xml.NewDecoder(r)
	fail := func(line int, err error) error {
		if line == 0 {
			line, _ = d.InputPos()
		}
		return fmt.Errorf("read PCS definitions %s: line %d: %w", name, line, xmlEOF(err, "ICD10PCS.definitions"))
	}
	if _, err := xmlRoot(d, "ICD10PCS.definitions"); err != nil {
		return nil, fail(0, err)
	}
	defs := &PCSDefinitions{}
	seen := make(map[byte]int)
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fail(0, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			switch tok.Name.Local {
			case "version":
				if err := d.DecodeElement(&defs.Version, &tok); err != nil {
					return nil, fail(0, err)
				}
			case "title":
				if err := d.DecodeElement(&defs.Title, &tok); err != nil {
					return nil, fail(0, err)
				}
			case "section":
				var x xDefSection
				if err := d.DecodeElement(&x, &tok); err != nil {
					return nil, fail(0, err)
				}
				s, err := x.section()
				if err != nil {
					return nil, fail(line, err)
				}
				if l, ok := seen[s.Code]; ok {
					return nil, fail(line, fmt.Errorf("section %c given twice (first at line %d)", s.Code, l))
				}
				seen[s.Code] = line
				defs.Sections = append(defs.Sections, s)
			case "deviceAggregation":
				if defs.DeviceAggregation != nil {
					return nil, fail(line, errors.New("<deviceAggregation> given twice"))
				}
				var x xDeviceAggregation
				if err := d.DecodeElement(&x, &tok); err != nil {
					return nil, fail(0, err)
				}
				agg, err := x.aggregates()
				if err != nil {
					return nil, fail(line, err)
				}
				defs.DeviceAggregation = agg
			default:
				return nil, fail(0, fmt.Errorf("unexpected element <%s> in <ICD10PCS.definitions>", tok.Name.Local))
			}
		case xml.EndElement:
			if defs.Version == "" {
				return nil, fail(0, errors.New("no <version>"))
			}
			if len(defs.Sections) == 0 {
				return nil, fail(0, errors.New("no <section>"))
			}
			return defs, nil
		case xml.CharData:
			if len(strings.TrimSpace(string(tok))) > 0 {
				return nil, fail(0, fmt.Errorf("unexpected text %q in <ICD10PCS.definitions>", clip(string(tok))))
			}
		}
	}
}

type xDefSection struct {
	Code  string     `xml:"code,attr"`
	Title []string   `xml:"title"`
	Axes  []xDefAxis `xml:"axis"`
	xExtra
}

type xDefAxis struct {
	Pos   string      `xml:"pos,attr"`
	Title []string    `xml:"title"`
	Terms []xDefTerms `xml:"terms"`
	xExtra
	line int
}

type xDefTerms struct {
	Titles      []string `xml:"title"`
	Definition  []string `xml:"definition"`
	Explanation []string `xml:"explanation"`
	Includes    []string `xml:"includes"`
	xExtra
	line int
}

type xDeviceAggregation struct {
	Aggregates []xAggregate `xml:"aggregate"`
	xExtra
}

type xAggregate struct {
	Device    []string  `xml:"device"`
	Operation []string  `xml:"operation"`
	BodySys   []string  `xml:"bodySys"`
	Parent    []xParent `xml:"parent"`
	xExtra
	line int
}

type xParent struct {
	Value string `xml:"value,attr"`
	Text  string `xml:",chardata"`
	xExtra
}

func (x *xDefAxis) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xDefAxis
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

func (x *xDefTerms) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xDefTerms
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

func (x *xAggregate) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	type plain xAggregate
	x.line, _ = d.InputPos()
	return d.DecodeElement((*plain)(x), &start)
}

// one returns the single non-empty text of an element that must occur
// once.
func one(vals []string, elem string) (string, error) {
	if len(vals) != 1 {
		return "", fmt.Errorf("want one <%s>, have %d", elem, len(vals))
	}
	v := strings.TrimSpace(vals[0])
	if v == "" {
		return "", fmt.Errorf("empty <%s>", elem)
	}
	return v, nil
}

// optional returns the text of an element that may occur at most once.
func optional(vals []string, elem string) (string, error) {
	if len(vals) > 1 {
		return "", fmt.Errorf("want at most one <%s>, have %d", elem, len(vals))
	}
	if len(vals) == 0 {
		return "", nil
	}
	return strings.TrimSpace(vals[0]), nil
}

func trimAll(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (x *xDefSection) section() (PCSDefSection, error) {
	if err := x.check("section"); err != nil {
		return PCSDefSection{}, err
	}
	if len(x.Code) != 1 || pcsChar(x.Code[0]) < 0 {
		return PCSDefSection{}, fmt.Errorf("section code %q is not one ICD-10-PCS character", x.Code)
	}
	title, err := one(x.Title, "title")
	if err != nil {
		return PCSDefSection{}, fmt.Errorf("section %s: %w", x.Code, err)
	}
	s := PCSDefSection{Code: x.Code[0], Title: title, Axes: make([]PCSDefAxis, len(x.Axes))}
	for i := range x.Axes {
		a, err := x.Axes[i].axis()
		if err != nil {
			return PCSDefSection{}, fmt.Errorf("section %s: %w", x.Code, err)
		}
		for _, b := range s.Axes[:i] {
			if b.Pos == a.Pos {
				return PCSDefSection{}, fmt.Errorf("section %s: line %d: axis %d given twice", x.Code, x.Axes[i].line, a.Pos)
			}
		}
		s.Axes[i] = a
	}
	return s, nil
}

func (x *xDefAxis) axis() (PCSDefAxis, error) {
	fail := func(err error) (PCSDefAxis, error) {
		return PCSDefAxis{}, fmt.Errorf("line %d: axis %s: %w", x.line, x.Pos, err)
	}
	if err := x.check("axis"); err != nil {
		return fail(err)
	}
	pos, err := strconv.Atoi(x.Pos)
	if err != nil || pos < 1 || pos > 7 {
		return fail(fmt.Errorf("pos=%q is not a position 1 to 7", x.Pos))
	}
	title, err := one(x.Title, "title")
	if err != nil {
		return fail(err)
	}
	a := PCSDefAxis{Pos: pos, Title: title, Terms: make([]PCSDefTerm, len(x.Terms))}
	for i := range x.Terms {
		xt := &x.Terms[i]
		t, err := xt.term()
		if err != nil {
			return PCSDefAxis{}, fmt.Errorf("line %d: axis %d terms: %w", xt.line, pos, err)
		}
		a.Terms[i] = t
	}
	return a, nil
}

func (x *xDefTerms) term() (PCSDefTerm, error) {
	if err := x.check("terms"); err != nil {
		return PCSDefTerm{}, err
	}
	t := PCSDefTerm{Titles: trimAll(x.Titles), Includes: trimAll(x.Includes)}
	if len(t.Titles) == 0 {
		return PCSDefTerm{}, errors.New("no <title>")
	}
	var err error
	if t.Definition, err = optional(x.Definition, "definition"); err != nil {
		return PCSDefTerm{}, fmt.Errorf("%s: %w", t.Titles[0], err)
	}
	if t.Explanation, err = optional(x.Explanation, "explanation"); err != nil {
		return PCSDefTerm{}, fmt.Errorf("%s: %w", t.Titles[0], err)
	}
	return t, nil
}

func (x *xDeviceAggregation) aggregates() ([]PCSDeviceAggregate, error) {
	if err := x.check("deviceAggregation"); err != nil {
		return nil, err
	}
	out := make([]PCSDeviceAggregate, len(x.Aggregates))
	for i := range x.Aggregates {
		xa := &x.Aggregates[i]
		a, err := xa.aggregate()
		if err != nil {
			return nil, fmt.Errorf("line %d: aggregate: %w", xa.line, err)
		}
		out[i] = a
	}
	return out, nil
}

func (x *xAggregate) aggregate() (PCSDeviceAggregate, error) {
	var a PCSDeviceAggregate
	var err error
	if err = x.check("aggregate"); err != nil {
		return a, err
	}
	if a.Device, err = one(x.Device, "device"); err != nil {
		return a, err
	}
	if a.Operation, err = one(x.Operation, "operation"); err != nil {
		return a, fmt.Errorf("%s: %w", a.Device, err)
	}
	if a.BodySystems = trimAll(x.BodySys); len(a.BodySystems) == 0 {
		return a, fmt.Errorf("%s: no <bodySys>", a.Device)
	}
	if len(x.Parent) != 1 {
		return a, fmt.Errorf("%s: want one <parent>, have %d", a.Device, len(x.Parent))
	}
	p := x.Parent[0]
	if err := p.check("parent"); err != nil {
		return a, fmt.Errorf("%s: %w", a.Device, err)
	}
	if len(p.Value) != 1 || pcsChar(p.Value[0]) < 0 {
		return a, fmt.Errorf("%s: parent value %q is not one ICD-10-PCS character", a.Device, p.Value)
	}
	a.Parent = PCSValue{Code: p.Value[0], Label: strings.TrimSpace(p.Text)}
	return a, nil
}

// Section returns the section with the given character, or nil.
func (d *PCSDefinitions) Section(code byte) *PCSDefSection {
	for i := range d.Sections {
		if d.Sections[i].Code == code {
			return &d.Sections[i]
		}
	}
	return nil
}

// Axis returns the section's axis at position pos, or nil.
func (s *PCSDefSection) Axis(pos int) *PCSDefAxis {
	for i := range s.Axes {
		if s.Axes[i].Pos == pos {
			return &s.Axes[i]
		}
	}
	return nil
}

// Term returns the entry one of whose titles is title (ignoring case), or
// nil.
func (a *PCSDefAxis) Term(title string) *PCSDefTerm {
	title = strings.TrimSpace(title)
	for i := range a.Terms {
		for _, t := range a.Terms[i].Titles {
			if strings.EqualFold(t, title) {
				return &a.Terms[i]
			}
		}
	}
	return nil
}

// Lookup returns the entry for the value labelled title on axis pos of
// section, e.g. Lookup('0', 3, "Excision") for the root operation Excision,
// or nil.
func (d *PCSDefinitions) Lookup(section byte, pos int, title string) *PCSDefTerm {
	s := d.Section(section)
	if s == nil {
		return nil
	}
	a := s.Axis(pos)
	if a == nil {
		return nil
	}
	return a.Term(title)
}

// PCSKeyEntry is an entry of a key (Body Part Key, Device Key, Substance
// Key) that includes a given term.
type PCSKeyEntry struct {
	Section   byte
	Pos       int
	AxisTitle string
	Term      *PCSDefTerm
}

// Including returns the entries whose includes list term (ignoring case):
// where the keys send an anatomical term, device name or substance name,
// e.g. "Hallux" to the body part values "1st Toe, Left" and "1st Toe,
// Right" in section 0.
func (d *PCSDefinitions) Including(term string) []PCSKeyEntry {
	term = strings.TrimSpace(term)
	var out []PCSKeyEntry
	for si := range d.Sections {
		s := &d.Sections[si]
		for ai := range s.Axes {
			a := &s.Axes[ai]
			for ti := range a.Terms {
				for _, inc := range a.Terms[ti].Includes {
					if strings.EqualFold(inc, term) {
						out = append(out, PCSKeyEntry{Section: s.Code, Pos: a.Pos, AxisTitle: a.Title, Term: &a.Terms[ti]})
						break
					}
				}
			}
		}
	}
	return out
}

// Aggregates returns the Device Aggregation Table rows for device
// (ignoring case).
func (d *PCSDefinitions) Aggregates(device string) []PCSDeviceAggregate {
	device = strings.TrimSpace(device)
	var out []PCSDeviceAggregate
	for _, a := range d.DeviceAggregation {
		if strings.EqualFold(a.Device, device) {
			out = append(out, a)
		}
	}
	return out
}
