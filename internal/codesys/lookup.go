package codesys

import (
	"fmt"
	"strings"
)

// Entry is everything the Tabular List says about one code: what a coder
// reads when they open the code in the book.
type Entry struct {
	Validation
	// Short is the official short title from the order file, if the
	// release has one.
	Short string `json:"short,omitempty"`
	// Kind is the level of the node the code rests on.
	Kind string `json:"kind,omitempty"`
	// Hierarchy runs from the chapter down to the code's parent.
	Hierarchy []Ref `json:"hierarchy,omitempty"`
	// Notes are the instructional notes that apply to the code: its own
	// first, then those inherited from each ancestor, nearest first.
	Notes []SourcedNotes `json:"notes,omitempty"`
	// SevenChr are the 7th-character values that apply, with the node
	// that defines them.
	SevenChr     []SevenChrRef `json:"sevenChr,omitempty"`
	SevenChrFrom string        `json:"sevenChrFrom,omitempty"`
	// Children are the codes directly below this one.
	Children []Ref `json:"children,omitempty"`
	// Axes are the values of an ICD-10-PCS code, one per character.
	Axes []AxisRef `json:"axes,omitempty"`
	// Usage is, for a class of a classification read as classes, its kind
	// of usage with its mark ("aster (*)"); Modifier names the modifier
	// that generated the class; Rubrics are the rubrics that apply to it,
	// its own first, then those inherited from each superclass.
	Usage    string           `json:"usage,omitempty"`
	Modifier string           `json:"modifier,omitempty"`
	Rubrics  []SourcedRubrics `json:"rubrics,omitempty"`
	// Problems says what a reader of a composed Tabular List (see
	// ComposeTabular) must not take on trust: a borrowed note that names a
	// code this release lacks, or a node the composition placed by its
	// range.
	Problems []string `json:"problems,omitempty"`
}

// AxisRef is one character of an ICD-10-PCS code and what it means.
type AxisRef struct {
	Pos   int    `json:"pos"`
	Title string `json:"title"`
	Value string `json:"value"`
	Label string `json:"label"`
}

// Ref names a node of the Tabular List.
type Ref struct {
	Code  string `json:"code"`
	Title string `json:"title"`
	Kind  string `json:"kind,omitempty"`
}

// SevenChrRef is one 7th-character value in printable form.
type SevenChrRef struct {
	Char  string `json:"char"`
	Title string `json:"title"`
}

// SourcedNotes are the notes of one node, labelled with where they come
// from, so that a reader sees which level of the hierarchy an instruction
// belongs to.
type SourcedNotes struct {
	From      string `json:"from"`
	FromTitle string `json:"fromTitle"`
	Inherited bool   `json:"inherited"`
	// NotesFrom names the release whose Tabular List the notes were
	// borrowed from ("icd10cm-2021"), and Label says so for a reader
	// ("notes from ICD-10-CM 2021 Tabular List"); both are empty for the
	// release's own notes.
	NotesFrom string `json:"notesFrom,omitempty"`
	Label     string `json:"label,omitempty"`
	Notes
}

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindChapter:
		return "chapter"
	case KindBlock:
		return "block"
	case KindCategory:
		return "category"
	case KindSubcategory:
		return "subcategory"
	case KindCode:
		return "code"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Lookup returns the Tabular List entry for an ICD-10-CM code, a chapter
// ("chapter 4") or a block ("E08-E13"), with the notes that apply to it,
// own and inherited. The entry's Status says whether the code is valid; for
// an invalid code only Validation is filled in.
func (t *Tabular) Lookup(code string) Entry {
	var e Entry
	n := t.Node(code)
	if n != nil && n.Kind <= KindBlock {
		e.Validation = Validation{Input: code, Code: n.Code, Status: Header, Title: n.Title, Base: n,
			Reason: fmt.Sprintf("%s is a %s of the Tabular List, not a code", n.Code, n.Kind)}
	} else {
		e.Validation = t.Validate(code)
	}
	n = e.Base
	if n == nil {
		return e
	}
	e.Kind = n.Kind.String()
	for _, a := range t.Ancestors(n) {
		e.Hierarchy = append(e.Hierarchy, Ref{Code: a.Code, Title: a.Title, Kind: a.Kind.String()})
	}
	if e.Code != n.Code {
		// A code with a 7th character rests on n: show n as its parent.
		e.Hierarchy = append(e.Hierarchy, Ref{Code: n.Code, Title: n.Title, Kind: n.Kind.String()})
	}
	for cur, inherited := n, false; ; inherited = true {
		notes := cur.Notes
		if inherited {
			// Inclusion terms describe the node they stand under, not the
			// codes below it.
			notes.InclusionTerms = nil
		}
		if !notes.empty() {
			e.Notes = append(e.Notes, SourcedNotes{From: cur.Code, FromTitle: cur.Title, Inherited: inherited || e.Code != n.Code,
				NotesFrom: cur.NotesFrom, Label: cur.NotesLabel(), Notes: notes})
		}
		if i, ok := t.index(cur.Code); ok {
			for _, p := range t.refProblems[i] {
				if !inherited || p.kind != "inclusionTerm" {
					e.Problems = append(e.Problems, p.msg)
				}
			}
			if cur.Kind >= KindCategory {
				e.Problems = append(e.Problems, t.problems[i]...)
			}
		}
		if cur.Parent < 0 {
			break
		}
		cur = &t.Nodes[cur.Parent]
	}
	if sc, from := t.SevenChrFor(n); len(sc) > 0 && e.Code == n.Code {
		e.SevenChrFrom = from.Code
		for _, s := range sc {
			if _, ok := t.sevenChrAllowed(n, PadX(n.Code), s.Char); ok {
				e.SevenChr = append(e.SevenChr, SevenChrRef{Char: string(s.Char), Title: s.Title})
			}
		}
	}
	for _, c := range t.Children(n) {
		e.Children = append(e.Children, Ref{Code: c.Code, Title: c.Title, Kind: c.Kind.String()})
	}
	return e
}

func (n Notes) empty() bool {
	return len(n.InclusionTerms)+len(n.Includes)+len(n.Excludes1)+len(n.Excludes2)+len(n.CodeFirst)+
		len(n.UseAdditionalCode)+len(n.CodeAlso)+len(n.Notes)+len(n.SevenChrNote) == 0
}

// Each calls fn for each kind of note that n has, with the kind's
// published name (e.g. "excludes1"), in the order a coder reads them.
func (n Notes) Each(fn func(kind string, notes []string)) {
	for _, k := range []struct {
		kind  string
		notes []string
	}{
		{"inclusionTerm", n.InclusionTerms}, {"includes", n.Includes}, {"excludes1", n.Excludes1},
		{"excludes2", n.Excludes2}, {"codeFirst", n.CodeFirst}, {"useAdditionalCode", n.UseAdditionalCode},
		{"codeAlso", n.CodeAlso}, {"notes", n.Notes}, {"sevenChrNote", n.SevenChrNote},
	} {
		if len(k.notes) > 0 {
			fn(k.kind, k.notes)
		}
	}
}

// Short returns the order file's short title for a code, or "".
func (o *Order) Short(code string) string {
	if o == nil {
		return ""
	}
	i, ok := o.find(code)
	if !ok {
		return ""
	}
	return o.Entries[i].Short
}

// find locates a code in the order file.
func (o *Order) find(code string) (int, bool) {
	c, err := ParseCode(code)
	if err != nil {
		return 0, false
	}
	if o.byCode == nil {
		o.Prepare()
	}
	i, ok := o.byCode[c.String()]
	return int(i), ok
}

// Prepare builds the order file's code map; readers call it, and code that
// decodes an Order from its compiled form must call it before use.
func (o *Order) Prepare() {
	o.byCode = make(map[string]int32, len(o.Entries))
	for i, e := range o.Entries {
		o.byCode[e.Code] = int32(i)
	}
}

// Lookup returns the entry for a code in the release: the Tabular List
// entry for ICD-10-CM. It fails when the release lacks the part needed.
func (r *Release) Lookup(code string) (Entry, error) {
	switch r.System {
	case ICD10CM:
		if r.Tabular == nil {
			return Entry{}, fmt.Errorf("look up %s: release %s has no Tabular List (parts: %s)", code, r.ID(), partList(r.Parts()))
		}
		e := r.Tabular.Lookup(code)
		e.Short = r.Order.Short(e.Code)
		return e, nil
	case ICD10PCS:
		if r.PCS == nil {
			return Entry{}, fmt.Errorf("look up %s: release %s has no PCS Tables (parts: %s)", code, r.ID(), partList(r.Parts()))
		}
		return lookupPCS(r.PCS, r.PCSDefs, code), nil
	}
	if r.Classes != nil {
		return r.Classes.Lookup(code, r.System.Classification()), nil
	}
	return Entry{}, fmt.Errorf("look up %s: release %s has no list of codes (parts: %s)", code, r.ID(), partList(r.Parts()))
}

// Validate validates a code against the release.
func (r *Release) Validate(code string) (Validation, error) {
	switch r.System {
	case ICD10CM:
		if r.Tabular == nil {
			return Validation{}, fmt.Errorf("validate %s: release %s has no Tabular List (parts: %s)", code, r.ID(), partList(r.Parts()))
		}
		return r.Tabular.Validate(code), nil
	case ICD10PCS:
		if r.PCS == nil {
			return Validation{}, fmt.Errorf("validate %s: release %s has no PCS Tables (parts: %s)", code, r.ID(), partList(r.Parts()))
		}
		return validatePCS(r.PCS, code), nil
	}
	if r.Classes != nil {
		return r.Classes.Validate(code, r.System.Classification()), nil
	}
	return Validation{}, fmt.Errorf("validate %s: release %s has no list of codes (parts: %s)", code, r.ID(), partList(r.Parts()))
}

func partList(parts []Part) string {
	if len(parts) == 0 {
		return "none"
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// Prepare builds the lookup structures of every part that has them; call
// it after decoding a Release from its compiled form.
func (r *Release) Prepare() {
	if r.Tabular != nil {
		r.Tabular.Prepare()
	}
	if r.Order != nil {
		r.Order.Prepare()
	}
	if r.PCS != nil {
		r.PCS.Prepare()
	}
	if r.Classes != nil {
		r.Classes.Prepare()
	}
}
