package codesys

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// PartClasses is the part of a release read as a list of classes (see
// Classes): a ClaML file or a flat code list. It is the one part of every
// classification other than ICD-10-CM and ICD-10-PCS.
const PartClasses Part = "classes"

// Classification describes a classification medcode knows by name: what it
// is called, how its codes look, the parts a release of it has and how FHIR
// names it. Everything medcode needs to tell classifications apart is here,
// so that a classification is added by describing it, not by new branches
// in the commands.
type Classification struct {
	System System
	// Title is the display name, such as "ICD-10-CM".
	Title string
	// FHIR is the code system URI a FHIR Coding uses for the codes, or ""
	// when none is defined.
	FHIR string
	// Code matches the shape of a code written without its dot (chapters
	// and blocks excepted); nil accepts any code.
	Code *regexp.Regexp
	// Example is a code of the classification, for messages.
	Example string
	// Parts are the parts a complete release has.
	Parts []Part
	// Registered is false for a classification the user named on import
	// (a local code list), which medcode knows only by that name.
	Registered bool
	// Procedures says the classification's codes name interventions
	// (OPCS-4, ICD-10-PCS), not diagnoses.
	Procedures bool
	// Base is the classification this one is a modification of, whose
	// categories and codes it keeps (ICD-10-CM and ICD-10 UK modify WHO
	// ICD-10), or "" for none: knowledge keyed to the codes of one
	// applies to the others of its family at the codes they share.
	Base System
}

// Family returns the classification at the root of c's modifications:
// two classifications of one family share their categories.
func (c Classification) Family() System {
	if c.Base != "" {
		return c.Base
	}
	return c.System
}

// CodePart returns the part that lists the classification's codes: the
// part lookup and validation need.
func (c Classification) CodePart() Part {
	switch c.System {
	case ICD10CM:
		return PartTabular
	case ICD10PCS:
		return PartPCSTables
	}
	return PartClasses
}

// ReadsClasses reports whether releases of the classification are read as
// a list of classes (ClaML or a flat list) rather than from the ICD-10-CM
// or ICD-10-PCS publisher's files.
func (c Classification) ReadsClasses() bool { return slices.Contains(c.Parts, PartClasses) }

// Shape patterns of codes written without their dot.
var (
	icd10Shape = regexp.MustCompile(`^[A-Z][0-9]{2}[0-9A-Z]{0,3}$`)
	opcs4Shape = regexp.MustCompile(`^[A-Z][0-9]{2}[0-9]{0,2}$`)
)

// Classifications lists the classifications medcode knows by name, in
// display order.
func Classifications() []Classification {
	classes := []Part{PartClasses}
	return []Classification{
		{System: ICD10CM, Title: "ICD-10-CM", FHIR: "http://hl7.org/fhir/sid/icd-10-cm", Example: "E11.9",
			Parts: []Part{PartTabular, PartOrder, PartIndex, PartExternal, PartNeoplasm, PartDrug}, Registered: true, Base: WHOICD10},
		{System: ICD10PCS, Title: "ICD-10-PCS", FHIR: "http://www.cms.gov/Medicare/Coding/ICD10", Example: "0DTJ4ZZ",
			Parts: []Part{PartPCSTables, PartPCSIndex, PartPCSDefinitions}, Registered: true, Procedures: true},
		{System: WHOICD10, Title: "ICD-10 (WHO)", FHIR: "http://hl7.org/fhir/sid/icd-10", Code: icd10Shape, Example: "J18.9",
			Parts: classes, Registered: true},
		{System: ICD10UK, Title: "ICD-10 (UK)", FHIR: "http://hl7.org/fhir/sid/icd-10", Code: icd10Shape, Example: "M80.00",
			Parts: classes, Registered: true, Base: WHOICD10},
		{System: OPCS4, Title: "OPCS-4", FHIR: "http://fhir.hl7.org.uk/CodeSystem/OPCS-4", Code: opcs4Shape, Example: "W37.1",
			Parts: classes, Registered: true, Procedures: true},
	}
}

// The classifications read as lists of classes that medcode knows by name.
// Any other name may be given to a code list on import.
const (
	WHOICD10 System = "who-icd10"
	ICD10UK  System = "icd10uk"
	OPCS4    System = "opcs4"
)

// Classification returns the description of s: the registered one, or for
// a name given on import, a classification known only by that name whose
// releases are lists of classes.
func (s System) Classification() Classification {
	for _, c := range Classifications() {
		if c.System == s {
			return c
		}
	}
	return Classification{System: s, Title: string(s), Parts: []Part{PartClasses}}
}

// foldName reduces a classification name to the form names are compared
// in: lower case, without '-', '_' and spaces ("ICD-10-CM" is "icd10cm").
func foldName(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.TrimSpace(s)))
}

// KnownSystem returns the registered classification named s, accepting
// common spellings such as "ICD-10-UK" or "WHO ICD-10".
func KnownSystem(s string) (System, error) {
	k := foldName(s)
	for _, c := range Classifications() {
		if k == foldName(string(c.System)) {
			return c.System, nil
		}
	}
	names := make([]string, 0, 8)
	for _, c := range Classifications() {
		names = append(names, string(c.System))
	}
	return "", fmt.Errorf("unknown coding system %q (known: %s)", s, strings.Join(names, ", "))
}

// validName restricts the names of classifications the user names on
// import: they become directory names in the data directory.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// SystemName returns the classification named s: a registered one by any
// of its spellings, else s in lower case when it is a valid name for a
// code list of the user's own (a letter, then up to 39 letters, digits, '-'
// or '_').
func SystemName(s string) (System, error) {
	if sys, err := KnownSystem(s); err == nil {
		return sys, nil
	}
	name := strings.ToLower(strings.TrimSpace(s))
	if !validName.MatchString(name) {
		return "", fmt.Errorf("invalid classification name %q: a letter, then up to 39 letters, digits, '-' or '_'", s)
	}
	return System(name), nil
}
