package codesys

import (
	"fmt"
	"strings"
)

// Status is the outcome of validating a code.
type Status string

// The outcomes of validation.
const (
	// Valid: the code exists and may be reported (billable).
	Valid Status = "valid"
	// Header: the code exists in the classification but has more specific
	// codes below it, or needs a 7th character, so it may not be reported.
	Header Status = "header"
	// Invalid: the code does not exist in the release.
	Invalid Status = "invalid"
)

// Validation is the result of validating one code against a release.
type Validation struct {
	// Input is the code as given.
	Input string `json:"input"`
	// Code is the canonical form of the code, when its shape was valid.
	Code   string `json:"code,omitempty"`
	Status Status `json:"status"`
	// Title is the code's full title; for codes with a 7th character it is
	// composed from the base code's title and the 7th character's meaning.
	Title string `json:"title,omitempty"`
	// Reason says why a code is a header or invalid.
	Reason string `json:"reason,omitempty"`
	// Base is the Tabular List node the code rests on: the code itself, or
	// for a code with a 7th character the node it extends.
	Base *Node `json:"-"`
}

// Billable reports whether the code may be reported.
func (v Validation) Billable() bool { return v.Status == Valid }

// Validate checks an ICD-10-CM code against the Tabular List under the
// classification's conventions: a code is valid when it is a node with no
// children and no 7th character applies, or when it extends such a node,
// padded with the placeholder X to six characters, by a 7th character
// defined for it.
func (t *Tabular) Validate(input string) Validation {
	v := Validation{Input: input}
	code, err := ParseCode(input)
	if err != nil {
		v.Status, v.Reason = Invalid, err.Error()
		return v
	}
	v.Code = code.String()
	if n := t.Node(v.Code); n != nil {
		v.Base, v.Title = n, n.Title
		sc, from := t.SevenChrFor(n)
		switch {
		case len(n.Children) > 0:
			v.Status, v.Reason = Header, fmt.Sprintf("%s is a header: use one of its %d more specific codes", v.Code, countLeaves(t, n))
		case len(sc) > 0:
			v.Status, v.Reason = Header, fmt.Sprintf("%s requires a 7th character (%s, defined at %s): e.g. %s", v.Code, sevenChrList(sc), from.Code, PadX(v.Code)+string(sc[0].Char))
		default:
			v.Status = Valid
		}
		return v
	}
	compact := code.Compact()
	if len(compact) == 7 {
		return t.validateSeventh(v, compact)
	}
	v.Status, v.Reason = Invalid, t.missingReason(compact)
	return v
}

// validateSeventh validates a seven-character code that is not itself a
// node: its first six characters must be a leaf node, possibly padded with
// X, and its last must be a 7th character defined for that node.
func (t *Tabular) validateSeventh(v Validation, compact string) Validation {
	six := compact[:6]
	base := strings.TrimRight(six, "X")
	var n *Node
	for k := len(six); k >= len(base) && k >= 3; k-- {
		if n = t.Node(six[:k]); n != nil {
			base = six[:k]
			break
		}
	}
	if n == nil {
		v.Status, v.Reason = Invalid, t.missingReason(six)
		return v
	}
	if strings.Trim(six[len(base):], "X") != "" {
		v.Status, v.Reason = Invalid, fmt.Sprintf("%s is not in the Tabular List under %s", v.Code, n.Code)
		return v
	}
	if len(n.Children) > 0 {
		v.Status, v.Reason = Invalid, fmt.Sprintf("%s is a header with more specific codes below it: a 7th character cannot be added to it", n.Code)
		return v
	}
	sc, from := t.SevenChrFor(n)
	if len(sc) == 0 {
		v.Status, v.Reason = Invalid, fmt.Sprintf("no 7th character applies to %s", n.Code)
		return v
	}
	if want := PadX(n.Code); want != v.Code[:len(want)] {
		v.Status, v.Reason = Invalid, fmt.Sprintf("placeholder X missing: %s needs the form %s", v.Code, want+"?")
		return v
	}
	c := compact[6]
	if note, ok := t.sevenChrAllowed(n, v.Code, c); !ok {
		v.Status, v.Reason = Invalid, fmt.Sprintf("7th character %q does not apply to %s: %s", c, n.Code, note)
		return v
	}
	for _, s := range sc {
		if s.Char == c {
			v.Status, v.Base, v.Title = Valid, n, n.Title+", "+s.Title
			return v
		}
	}
	v.Status, v.Reason = Invalid, fmt.Sprintf("7th character %q is not defined for %s (allowed at %s: %s)", c, n.Code, from.Code, sevenChrList(sc))
	return v
}

// missingReason explains an unknown code by its nearest existing ancestor.
func (t *Tabular) missingReason(compact string) string {
	for k := len(compact) - 1; k >= 3; k-- {
		if n := t.Node(compact[:k]); n != nil {
			return fmt.Sprintf("%s does not exist: %s %q has no such code", Code(compact[:3]+"."+compact[3:]), n.Code, n.Title)
		}
	}
	if len(compact) > 3 {
		compact = compact[:3] + "." + compact[3:]
	}
	return fmt.Sprintf("%s does not exist: category %s is not in this release", compact, compact[:3])
}

func sevenChrList(sc []SevenChr) string {
	chars := make([]string, len(sc))
	for i, s := range sc {
		chars[i] = string(s.Char)
	}
	return strings.Join(chars, ", ")
}

func countLeaves(t *Tabular, n *Node) int {
	if len(n.Children) == 0 {
		return 1
	}
	total := 0
	for _, c := range n.Children {
		total += countLeaves(t, &t.Nodes[c])
	}
	return total
}
