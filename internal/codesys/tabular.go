package codesys

import (
	"slices"
	"strings"
)

// Tabular is the ICD-10-CM Tabular List: chapters, blocks (the publisher's
// sections), categories, subcategories and codes, each with its
// instructional notes.
type Tabular struct {
	Version string
	// NotesFrom names the release whose Tabular List lent the notes,
	// chapters and blocks when the list was composed from an order file
	// (ComposeTabular), e.g. "icd10cm-2021"; it is empty for a list read
	// from the publisher's Tabular List.
	NotesFrom string
	// Composed is set on a list composed from an order file
	// (ComposeTabular) rather than read from the publisher's Tabular List.
	Composed bool
	// Nodes holds every node in document order; parents come before
	// children. Index 0 is the first chapter.
	Nodes []Node
	// byCode maps a code (with dot, upper case) or a chapter/block ID to
	// its index in Nodes. It is rebuilt on load and not serialized.
	byCode map[string]int32
	// sevenChrRules holds, per node, the restrictions on 7th characters
	// that the node's notes state in words; derived from the notes by
	// Prepare.
	sevenChrRules map[int32][]sevenChrRule
	// refProblems holds, per node of a composed list, the codes its
	// borrowed notes name that this list lacks (or has split).
	refProblems map[int32][]refProblem
	// problems holds, per node of a composed list, what ComposeTabular
	// could not compose faithfully.
	problems map[int32][]string
}

// Kind is the level of a Tabular List node.
type Kind uint8

// The levels of the Tabular List hierarchy.
const (
	KindChapter     Kind = iota + 1 // e.g. chapter 4, E00-E89
	KindBlock                       // a range of categories, e.g. E08-E13
	KindCategory                    // three characters, e.g. E11
	KindSubcategory                 // four to six characters with children
	KindCode                        // a node without children
)

// Node is one entry of the Tabular List.
type Node struct {
	// Code is the code with its dot ("E11.9"); for chapters the chapter
	// number ("4") and for blocks the range ("E08-E13").
	Code   string
	Kind   Kind
	Title  string
	Parent int32 // index in Tabular.Nodes, -1 for chapters
	// Children are indexes in Tabular.Nodes, in document order.
	Children []int32
	Notes    Notes
	// SevenChr are the 7th-character values defined on this node; they
	// apply to all its descendants.
	SevenChr []SevenChr
	// NotesFrom names the release whose Tabular List the node's notes (and
	// 7th characters, unless the order file gave its own) were taken
	// from, when they are not the release's own: see ComposeTabular.
	NotesFrom string
}

// Notes are the instructional notes attached to one node, as published.
type Notes struct {
	InclusionTerms    []string `json:"inclusionTerms,omitempty"`
	Includes          []string `json:"includes,omitempty"`
	Excludes1         []string `json:"excludes1,omitempty"`
	Excludes2         []string `json:"excludes2,omitempty"`
	CodeFirst         []string `json:"codeFirst,omitempty"`
	UseAdditionalCode []string `json:"useAdditionalCode,omitempty"`
	CodeAlso          []string `json:"codeAlso,omitempty"`
	Notes             []string `json:"notes,omitempty"`
	SevenChrNote      []string `json:"sevenChrNote,omitempty"`
}

// SevenChr is one 7th-character value: A for "initial encounter" and so on.
type SevenChr struct {
	Char  byte
	Title string
}

// Order is the ICD-10-CM order file: every code and header of the release
// with its official short and long titles.
type Order struct {
	Entries []OrderEntry
	byCode  map[string]int32 // built by Prepare, not serialized
}

// OrderEntry is one line of the order file.
type OrderEntry struct {
	Seq      int    // order number
	Code     string // code with dot, as displayed ("S52.521A")
	Billable bool   // valid for submission (HIPAA-covered transactions)
	Short    string // short title
	Long     string // long title
}

// Prepare builds the lookup structures that are not serialized. Readers
// call it; code that decodes a Tabular from its compiled form must call it
// before use.
func (t *Tabular) Prepare() {
	t.byCode = make(map[string]int32, len(t.Nodes))
	for i := range t.Nodes {
		n := &t.Nodes[i]
		key := n.Code
		if n.Kind == KindChapter {
			key = "chapter " + n.Code
		}
		t.byCode[key] = int32(i)
	}
	t.sevenChrRules = make(map[int32][]sevenChrRule)
	for i := range t.Nodes {
		n := &t.Nodes[i]
		for _, text := range slices.Concat(n.Notes.SevenChrNote, n.Notes.Notes) {
			if r, ok := parseSevenChrRule(text); ok {
				t.sevenChrRules[int32(i)] = append(t.sevenChrRules[int32(i)], r)
			}
		}
	}
}

// Node returns the Tabular List node for a code as written in the list
// (with dot, any case), or nil. Chapters are found as "chapter 4", blocks by
// their range ("E08-E13").
func (t *Tabular) Node(code string) *Node {
	i, ok := t.index(code)
	if !ok {
		return nil
	}
	return &t.Nodes[i]
}

func (t *Tabular) index(code string) (int32, bool) {
	key := strings.ToUpper(strings.TrimSpace(code))
	if strings.HasPrefix(key, "CHAPTER ") {
		key = "chapter " + strings.TrimSpace(key[len("CHAPTER "):])
	} else if c, err := ParseCode(key); err == nil {
		key = c.String()
	}
	i, ok := t.byCode[key]
	return i, ok
}

// Ancestors returns the node's ancestors from the chapter down to its
// parent.
func (t *Tabular) Ancestors(n *Node) []*Node {
	var out []*Node
	for p := n.Parent; p >= 0; p = t.Nodes[p].Parent {
		out = append(out, &t.Nodes[p])
	}
	slices.Reverse(out)
	return out
}

// Children returns the node's children in list order.
func (t *Tabular) Children(n *Node) []*Node {
	out := make([]*Node, len(n.Children))
	for i, c := range n.Children {
		out[i] = &t.Nodes[c]
	}
	return out
}

// Chapter returns the chapter a node belongs to.
func (t *Tabular) Chapter(n *Node) *Node {
	for n.Parent >= 0 {
		n = &t.Nodes[n.Parent]
	}
	return n
}

// SevenChrFor returns the 7th-character values that apply to n, and the
// node that defines them: the nearest of n and its ancestors with a
// sevenChrDef, because the convention is that a definition on a category or
// subcategory applies to every code below it.
//
// A code of seven characters has no room for a 7th character: none applies
// to it.
func (t *Tabular) SevenChrFor(n *Node) ([]SevenChr, *Node) {
	if n.Kind >= KindCategory && len(n.Code) == 8 {
		return nil, nil
	}
	for {
		if len(n.SevenChr) > 0 {
			return n.SevenChr, n
		}
		if n.Parent < 0 {
			return nil, nil
		}
		n = &t.Nodes[n.Parent]
	}
}

// Codes calls fn for every full code of the list, in list order: each leaf
// node, or, where 7th characters apply, each leaf padded with the
// placeholder X and each allowed 7th character. It stops when fn returns
// false.
func (t *Tabular) Codes(fn func(code, title string) bool) {
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind < KindCategory || len(n.Children) > 0 {
			continue
		}
		sc, _ := t.SevenChrFor(n)
		if len(sc) == 0 {
			if !fn(n.Code, n.Title) {
				return
			}
			continue
		}
		base := PadX(n.Code)
		for _, s := range sc {
			if _, ok := t.sevenChrAllowed(n, base, s.Char); !ok {
				continue
			}
			if !fn(base+string(s.Char), n.Title+", "+s.Title) {
				return
			}
		}
	}
}

// PadX pads a code with the placeholder X to six characters (without the
// dot), ready for a 7th character: PadX("T36.0") is "T36.0X", PadX("S01")
// is "S01.XXX".
func PadX(code string) string {
	n := len(strings.Replace(code, ".", "", 1))
	if !strings.Contains(code, ".") {
		code += "."
	}
	for ; n < 6; n++ {
		code += "X"
	}
	return code
}
