package codesys

// PCSTables holds the ICD-10-PCS Tables: every valid seven-character code
// is built from one table's first three characters and one value of each of
// axes 4 to 7 from one of its rows.
type PCSTables struct {
	Version string
	Tables  []*PCSTable
}

// PCSTable is one table: a fixed section, body system and operation, and
// rows of valid values for the remaining four axes.
type PCSTable struct {
	Axes [3]PCSAxis // positions 1 to 3, one value each
	Rows []PCSRow
}

// PCSRow is one row of a table: each of axes 4 to 7 may take any of its
// values, and every combination is a valid code.
type PCSRow struct {
	Axes [4]PCSAxis // positions 4 to 7
}

// PCSAxis is one axis (character position) of a table or row, with its
// allowed values.
type PCSAxis struct {
	Pos        int    // 1 to 7
	Title      string // e.g. "Body Part"
	Values     []PCSValue
	Definition string // the operation's definition, on axis 3
}

// PCSValue is one value of an axis: a character and its label.
type PCSValue struct {
	Code  byte
	Label string
}

// PCSDefinitions holds the ICD-10-PCS Definitions: per section, the
// definitions of axis values (root operations, approaches, ...) and the body
// part and device keys.
type PCSDefinitions struct {
	Version string
}
