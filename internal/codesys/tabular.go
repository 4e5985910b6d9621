package codesys

// Tabular is the ICD-10-CM Tabular List: chapters, blocks (the publisher's
// sections), categories, subcategories and codes, each with its
// instructional notes.
type Tabular struct {
	Version string
	// Nodes holds every node in document order; parents come before
	// children. Index 0 is the first chapter.
	Nodes []Node
	// byCode maps a code (with dot, upper case) or a chapter/block ID to
	// its index in Nodes. It is rebuilt on load and not serialized.
	byCode map[string]int32
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
}

// OrderEntry is one line of the order file.
type OrderEntry struct {
	Seq      int    // order number
	Code     string // code with dot, as displayed ("S52.521A")
	Billable bool   // valid for submission (HIPAA-covered transactions)
	Short    string // short title
	Long     string // long title
}
