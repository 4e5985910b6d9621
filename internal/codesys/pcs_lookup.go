package codesys

import (
	"fmt"
)

// validatePCS maps a PCS table check onto the common Validation: a code
// that is a valid prefix of a table row is a header (it needs more
// characters), anything else that fails is invalid.
func validatePCS(t *PCSTables, code string) Validation {
	c := t.Validate(code)
	v := Validation{Input: code, Code: c.Code, Title: c.Description, Reason: c.Reason}
	switch {
	case c.Valid():
		v.Status = Valid
	case c.Problem == PCSIncomplete:
		v.Status = Header
		if len(c.Axes) > 0 {
			v.Title = c.Axes[len(c.Axes)-1].Label
		}
	default:
		v.Status = Invalid
	}
	return v
}

// lookupPCS returns the entry for a full or partial ICD-10-PCS code: each
// character with its axis and label, the definitions of the values from the
// Definitions part when the release has it, and, for a partial code, the
// values the next character may take.
func lookupPCS(t *PCSTables, defs *PCSDefinitions, code string) Entry {
	c := t.Validate(code)
	e := Entry{Validation: validatePCS(t, code)}
	e.Kind = "code"
	if e.Status == Header {
		e.Kind = "partial code"
	}
	prefix := ""
	for i, ax := range c.Axes {
		prefix += string(ax.Value)
		e.Axes = append(e.Axes, AxisRef{Pos: ax.Pos, Title: ax.Title, Value: string(ax.Value), Label: ax.Label})
		if i < 3 && (i < len(c.Axes)-1 || e.Status != Header) {
			e.Hierarchy = append(e.Hierarchy, Ref{Code: prefix, Title: ax.Label, Kind: ax.Title})
		}
		var n Notes
		if ax.Definition != "" {
			n.Notes = append(n.Notes, fmt.Sprintf("%s: %s", ax.Label, ax.Definition))
		}
		if defs != nil && len(c.Axes) > 0 {
			if d := defs.Lookup(c.Axes[0].Value, ax.Pos, ax.Label); d != nil {
				if d.Definition != "" && ax.Definition == "" {
					n.Notes = append(n.Notes, fmt.Sprintf("%s: %s", ax.Label, d.Definition))
				}
				if d.Explanation != "" {
					n.Notes = append(n.Notes, d.Explanation)
				}
				n.Includes = append(n.Includes, d.Includes...)
			}
		}
		if !n.empty() {
			e.Notes = append(e.Notes, SourcedNotes{From: fmt.Sprintf("character %d (%s)", ax.Pos, ax.Title), FromTitle: ax.Label, Notes: n})
		}
	}
	if c.Problem == PCSIncomplete {
		for _, nv := range c.Next {
			e.Children = append(e.Children, Ref{Code: c.Code + string(nv.Code), Title: nv.Label, Kind: c.NextTitle})
		}
	}
	return e
}
