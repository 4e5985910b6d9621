package server

import (
	"context"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/store"
)

// Conflict kinds: two codes an Excludes1 note keeps apart, and a code
// listed before the etiology its "code first" note asks to come first.
const (
	conflictExcludes1 = "excludes1"
	conflictCodeFirst = "codeFirst"
)

// conflict is a pair of codes of one document that the installed
// release's instructional notes say are not reported as they stand.
type conflict struct {
	Kind string `json:"kind"`
	// Code is the code whose note speaks, With the code it names.
	Code string `json:"code"`
	With string `json:"with"`
	// At is the node of the note, and Note its text.
	At   string `json:"at"`
	Note string `json:"note"`
}

// noteRef matches a code or a code range cited in an instructional note
// ("(E10.-)", "(I10-I16)", "E11.9"), as the offline coder's verify step
// reads them.
var noteRef = codesys.NoteCodeRef()

// noteCovers reports whether a note cites code, alone or in a range.
func noteCovers(note, code string) bool {
	cc := strings.Replace(code, ".", "", 1)
	for _, m := range noteRef.FindAllStringSubmatch(note, -1) {
		lo := strings.Replace(m[1], ".", "", 1)
		if m[2] == "" {
			if strings.HasPrefix(cc, lo) {
				return true
			}
			continue
		}
		hi := strings.Replace(m[2], ".", "", 1)
		if cc[:min(len(cc), len(lo))] >= lo && cc[:min(len(cc), len(hi))] <= hi {
			return true
		}
	}
	return false
}

// conflicts returns the conflicts among codes, in reporting order, read
// from the ICD-10-CM release the server validates against. Chapter notes
// are left out, as the coder's verify step leaves them: they speak of the
// chapter as a whole, not of the codes in it. Codes of other
// classifications have no such notes. A code the release cannot look up
// contributes none: the codes were validated when they were added.
func (s *Server) conflicts(ctx context.Context, codes []*store.Code) []conflict {
	var out []conflict
	seen := map[[2]string]bool{}
	for i, a := range codes {
		if a.System != codesys.ICD10CM {
			continue
		}
		e, err := s.cfg.Codes.Lookup(ctx, a.System, a.Code)
		if err != nil {
			continue
		}
		chapters := map[string]bool{}
		for _, h := range e.Hierarchy {
			if h.Kind == "chapter" {
				chapters[h.Code] = true
			}
		}
		for _, n := range e.Notes {
			if chapters[n.From] {
				continue
			}
			for j, b := range codes {
				if j == i || b.System != codesys.ICD10CM {
					continue
				}
				for _, t := range n.Excludes1 {
					pair := [2]string{min(a.Code, b.Code), max(a.Code, b.Code)}
					if !seen[pair] && noteCovers(t, b.Code) {
						seen[pair] = true
						out = append(out, conflict{Kind: conflictExcludes1, Code: a.Code, With: b.Code, At: n.From, Note: t})
					}
				}
				// Only a code listed before its etiology conflicts: the
				// note asks for the etiology first.
				for _, t := range n.CodeFirst {
					if j > i && noteCovers(t, b.Code) {
						out = append(out, conflict{Kind: conflictCodeFirst, Code: a.Code, With: b.Code, At: n.From, Note: t})
						break
					}
				}
			}
		}
	}
	return out
}

// String says what is in conflict, for a warning or an error message.
func (c conflict) String() string {
	if c.Kind == conflictCodeFirst {
		return fmt.Sprintf("%s is listed before %s, which its code-first note at %s asks to be listed first: %q", c.Code, c.With, c.At, c.Note)
	}
	return fmt.Sprintf("%s and %s are not reported together: Excludes1 at %s: %q", c.Code, c.With, c.At, c.Note)
}

// exported returns the codes of a document that an export reports:
// accepted codes, replacements and added codes, in reporting order, each
// code once. A replaced or rejected code is never reported, and the first
// of two copies of one code keeps its place, so the first-listed
// (principal) diagnosis stays first.
func exported(d *store.Document) []*store.Code {
	type key struct {
		system codesys.System
		code   string
	}
	seen := map[key]bool{}
	var out []*store.Code
	for _, c := range d.Codes {
		k := key{c.System, strings.ToUpper(c.Code)}
		if c.Status != store.CodeAccepted || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, c)
	}
	return out
}
