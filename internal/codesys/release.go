// Package codesys models a release of a coding classification exactly as
// its publisher ships it: the ICD-10-CM Tabular List with every instructional
// note, the Alphabetic Index, the Neoplasm Table, the Table of Drugs and
// Chemicals and the External Cause Index, and the ICD-10-PCS tables, index
// and definitions. It reads the publisher's files, validates codes under the
// classification's conventions and looks codes up with the notes that apply
// to them.
//
// A release may be partial (a folder with only some of the publisher's
// files); Release.Parts says what it has and every method works with what is
// there.
package codesys

import (
	"fmt"
	"slices"
	"strings"
)

// System names a coding classification.
type System string

// The classifications medcode reads.
const (
	ICD10CM  System = "icd10cm"
	ICD10PCS System = "icd10pcs"
)

// Systems lists the classifications medcode can import, in display order.
var Systems = []System{ICD10CM, ICD10PCS}

// ParseSystem returns the System named s, accepting common spellings such as
// "ICD-10-CM".
func ParseSystem(s string) (System, error) {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(s))
	for _, sys := range Systems {
		if k == string(sys) {
			return sys, nil
		}
	}
	return "", fmt.Errorf("unknown coding system %q (known: %s)", s, joinSystems())
}

func joinSystems() string {
	names := make([]string, len(Systems))
	for i, s := range Systems {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Title returns the system's display name.
func (s System) Title() string { return s.Classification().Title }

// Part names one of the publisher's files a release may contain.
type Part string

// The parts of a release.
const (
	PartTabular        Part = "tabular"         // ICD-10-CM Tabular List
	PartOrder          Part = "order"           // ICD-10-CM order (codes) file
	PartIndex          Part = "index"           // ICD-10-CM Alphabetic Index
	PartExternal       Part = "eindex"          // ICD-10-CM External Cause Index
	PartNeoplasm       Part = "neoplasm"        // ICD-10-CM Table of Neoplasms
	PartDrug           Part = "drug"            // ICD-10-CM Table of Drugs and Chemicals
	PartPCSTables      Part = "pcs-tables"      // ICD-10-PCS Tables
	PartPCSIndex       Part = "pcs-index"       // ICD-10-PCS Index
	PartPCSDefinitions Part = "pcs-definitions" // ICD-10-PCS Definitions
)

// PartsOf lists the parts a complete release of sys has.
func PartsOf(sys System) []Part { return sys.Classification().Parts }

// Release is one release of one classification, such as ICD-10-CM FY2026.
// Fields for parts the release lacks are nil.
type Release struct {
	System System
	// Version is the release's fiscal year as the publisher writes it in
	// the files' <version> element, e.g. "2026".
	Version string
	// Source says where the release was imported from (a folder, archive
	// or URL), for provenance.
	Source string

	Tabular  *Tabular // ICD-10-CM Tabular List
	Order    *Order   // ICD-10-CM order file
	Index    *Index   // ICD-10-CM Alphabetic Index
	External *Index   // External Cause Index
	Neoplasm *Index   // Table of Neoplasms
	Drug     *Index   // Table of Drugs and Chemicals

	PCS      *PCSTables      // ICD-10-PCS Tables
	PCSIndex *Index          // ICD-10-PCS Index
	PCSDefs  *PCSDefinitions // ICD-10-PCS Definitions

	// Classes is the release of a classification read as a list of
	// classes (ClaML or a flat code list): every classification but
	// ICD-10-CM and ICD-10-PCS.
	Classes *Classes

	// Problems lists what composing the Tabular List from the order file
	// and another release's notes could not do faithfully (see
	// ComposeTabular); it is empty for a release with its own Tabular List.
	Problems []string
}

// ID returns the release's identifier, "system-version".
func (r *Release) ID() string { return string(r.System) + "-" + r.Version }

// CopyPart sets part p of r to that of src: an import of some parts
// of an installed version keeps the others of the installed release.
func (r *Release) CopyPart(src *Release, p Part) {
	switch p {
	case PartTabular:
		r.Tabular = src.Tabular
	case PartOrder:
		r.Order = src.Order
	case PartIndex:
		r.Index = src.Index
	case PartExternal:
		r.External = src.External
	case PartNeoplasm:
		r.Neoplasm = src.Neoplasm
	case PartDrug:
		r.Drug = src.Drug
	case PartPCSTables:
		r.PCS = src.PCS
	case PartPCSIndex:
		r.PCSIndex = src.PCSIndex
	case PartPCSDefinitions:
		r.PCSDefs = src.PCSDefs
	case PartClasses:
		r.Classes = src.Classes
	}
}

// Parts lists the parts the release has, in the order of PartsOf: the
// publisher's files it was imported from. A Tabular List composed from the
// order file (ComposeTabular) is not among them: Missing lists the Tabular
// List and Borrowed says whose notes the composed list carries.
func (r *Release) Parts() []Part {
	have := map[Part]bool{
		PartTabular:        r.Tabular != nil && !r.Tabular.Composed,
		PartOrder:          r.Order != nil,
		PartIndex:          r.Index != nil,
		PartExternal:       r.External != nil,
		PartNeoplasm:       r.Neoplasm != nil,
		PartDrug:           r.Drug != nil,
		PartPCSTables:      r.PCS != nil,
		PartPCSIndex:       r.PCSIndex != nil,
		PartPCSDefinitions: r.PCSDefs != nil,
		PartClasses:        r.Classes != nil,
	}
	var parts []Part
	for _, p := range PartsOf(r.System) {
		if have[p] {
			parts = append(parts, p)
		}
	}
	return parts
}

// Borrowed returns the ID of the release that lends part p its content,
// or "" when the part is the release's own or absent. The Tabular List of
// a release that ships only an order file is composed from that file and
// the notes of another release's Tabular List (ComposeTabular): that
// release is the one returned for PartTabular ("" when the list was
// composed without notes).
func (r *Release) Borrowed(p Part) string {
	if p == PartTabular && r.Tabular != nil {
		return r.Tabular.NotesFrom
	}
	return ""
}

// Missing lists the parts a complete release would have that r lacks.
func (r *Release) Missing() []Part {
	have := r.Parts()
	var missing []Part
	for _, p := range PartsOf(r.System) {
		if !slices.Contains(have, p) {
			missing = append(missing, p)
		}
	}
	return missing
}

// Indexes returns the release's index-shaped parts that are present, keyed
// by part, so that search and navigation can treat them alike.
func (r *Release) Indexes() map[Part]*Index {
	m := make(map[Part]*Index)
	for p, ix := range map[Part]*Index{
		PartIndex: r.Index, PartExternal: r.External, PartNeoplasm: r.Neoplasm,
		PartDrug: r.Drug, PartPCSIndex: r.PCSIndex,
	} {
		if ix != nil {
			m[p] = ix
		}
	}
	return m
}
