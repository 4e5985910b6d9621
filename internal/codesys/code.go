package codesys

import (
	"fmt"
	"strings"
)

// Code is an ICD-10-CM code in canonical form: upper case, with the dot
// after the third character when it has more than three ("S52.521A").
type Code string

// ParseCode checks the shape of an ICD-10-CM code and returns it in
// canonical form. It accepts lower case, a missing dot and surrounding
// spaces ("s52521a"). It checks only the shape; whether the code exists is
// for Tabular.Validate.
func ParseCode(s string) (Code, error) {
	raw := strings.ToUpper(strings.TrimSpace(s))
	compact := strings.Replace(raw, ".", "", 1)
	if strings.Contains(compact, ".") {
		return "", fmt.Errorf("code %q: more than one dot", s)
	}
	if dot := strings.IndexByte(raw, '.'); dot >= 0 && dot != 3 {
		return "", fmt.Errorf("code %q: the dot must follow the third character", s)
	}
	if len(compact) < 3 || len(compact) > 7 {
		return "", fmt.Errorf("code %q: ICD-10-CM codes have 3 to 7 characters, got %d", s, len(compact))
	}
	if c := compact[0]; c < 'A' || c > 'Z' {
		return "", fmt.Errorf("code %q: first character must be a letter", s)
	}
	if c := compact[1]; c < '0' || c > '9' {
		return "", fmt.Errorf("code %q: second character must be a digit", s)
	}
	for i := 2; i < len(compact); i++ {
		c := compact[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z') {
			return "", fmt.Errorf("code %q: character %d (%q) must be a letter or digit", s, i+1, c)
		}
	}
	if strings.HasSuffix(raw, ".") && len(compact) == 3 {
		return Code(compact), nil
	}
	if len(compact) == 3 {
		return Code(compact), nil
	}
	return Code(compact[:3] + "." + compact[3:]), nil
}

// String returns the code with its dot.
func (c Code) String() string { return string(c) }

// Compact returns the code without its dot, as in the order file.
func (c Code) Compact() string { return strings.Replace(string(c), ".", "", 1) }

// Category returns the three-character category of the code.
func (c Code) Category() string { return string(c[:3]) }
