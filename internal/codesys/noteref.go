package codesys

import "regexp"

// The codes and code ranges an ICD-10-CM instructional note cites:
// "(E10.-)", "(I10-I16)", "E11.9", "(N18.1-N18.6)". The two patterns
// differ in how they read a dash between two codes written without dots.
var (
	noteCodeRef = regexp.MustCompile(`\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:\.?-)?(?:\s*-\s*([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:\.?-)?)?`)
	noteRange   = regexp.MustCompile(`\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:(?:\.?-)?\s*-\s*([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:\.?-)?|\.?-)?`)
)

// NoteCodeRef returns the pattern of a code or range a note cites, with a
// dash code tried first: "I10-I16" reads as the dash code I10- followed by
// I16, the reading for the rules that drop a code for another (Excludes1),
// since a range's note often qualifies it ("somnolence, stupor and coma in
// diabetes (E08-E13)"). Submatch 1 is the code or the range's first code,
// 2 the range's last.
func NoteCodeRef() *regexp.Regexp { return noteCodeRef }

// NoteRange returns the pattern of NoteCodeRef with a range tried before
// a dash code, so that "T36-T50" is the range: the reading for the rules
// that add a code a note asks for.
func NoteRange() *regexp.Regexp { return noteRange }
