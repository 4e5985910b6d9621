package codesys

// Index is an alphabetic index in the publisher's ICD10CM.index or
// ICD10PCS.index form: the Alphabetic Index, the External Cause Index, the
// Table of Neoplasms, the Table of Drugs and Chemicals, or the ICD-10-PCS
// Index. Tables are indexes whose terms carry cells, one per column.
type Index struct {
	// Title is the index's title as published.
	Title string
	// Version is the <version> element of the file.
	Version string
	// Columns holds the column headings of a table (Neoplasm, Drug), in
	// column order starting at column 1; nil for a plain index.
	Columns []string
	// Terms are the main terms, in the publisher's order.
	Terms []*Term
}

// Term is a main term or a subterm of an index.
type Term struct {
	// Title is the term without its nonessential modifiers.
	Title string
	// Nemod holds the nonessential modifiers as published, in parentheses:
	// words that may be present or absent without changing the code.
	Nemod string
	// Code is the code the term leads to, if any; it may end in "-" when
	// the code is incomplete and the Tabular List must be consulted.
	Code string
	// Manif is a manifestation code shown in brackets after Code, which is
	// reported after it (E11.36 [H28]).
	Manif string
	// See, SeeAlso and SeeCondition are cross-references to other terms.
	See, SeeAlso string
	// Cells are the table cells of a Neoplasm or Drug table row.
	Cells []Cell
	// Terms are the subterms, in the publisher's order.
	Terms []*Term
}

// Cell is one cell of a table row: the code in a given column.
type Cell struct {
	Col  int    // 1-based column, as in the publisher's col attribute
	Code string // the code, possibly incomplete ("C79.8-"), or "--"
}
