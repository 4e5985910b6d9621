package coder

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	packs "github.com/medcode-dev/medcode/internal/rules"
)

// A classification of ICD-10-CM's family published as titles alone (WHO
// ICD-10, ICD-10 UK) lacks what a coder finds a condition by: its
// Alphabetic Index. ICD-10-CM's Index names the conditions of the
// categories the family shares, and a note's single words ("leukocytosis",
// "smoker", "pollakiuria") are its main terms. The class coder may read
// that Index as it reads the term table: each path's code at the nearest
// class the target classification has (its category when the target is
// less specific than ICD-10-CM there), from which Assign walks down the
// target's own hierarchy.

// ClassOptions configure a ClassCoder.
type ClassOptions struct {
	// Rules are the rule packs the coder reads; nil stands for the
	// embedded packs alone.
	Rules *packs.Set
	// Index, if set, is an ICD-10-CM release whose Alphabetic Index and
	// Table of Neoplasms the coder reads when the classification is of
	// ICD-10-CM's family and codes diagnoses; otherwise it is ignored.
	// Each path of the Index names the nearest class of its code.
	Index *codesys.Release
}

// indexable reports whether the coder may read ICD-10-CM's Index: the
// classification codes diagnoses and shares its categories with
// ICD-10-CM.
func (k *ClassCoder) indexable() bool {
	return !k.cls.Procedures && k.rel.System != codesys.ICD10CM &&
		k.cls.Family() == codesys.ICD10CM.Classification().Family()
}

// addIndex adds the paths of ix's Alphabetic Index and the rows of its
// Table of Neoplasms, each at the nearest class of its code. Codes left
// out are those whose class skip refuses, those of the lexicon-skip group
// of icd10cm/groups (external causes, special purposes, donors: the
// group's ranges are categories the family shares), and the reasons for
// an encounter, found as the ICD-10-CM coder finds them, by the titles of
// the classes above (icd10cm/encounter).
func (k *ClassCoder) addIndex(ix *codesys.Release, skip func(string) bool) error {
	if ix == nil || (ix.Index == nil && ix.Neoplasm == nil) || !k.indexable() {
		return nil
	}
	c := k.c
	for _, n := range []string{packGroups, packEncounter, packSuffixes, packOptional} {
		if _, _, err := packText(c.packs, n); err != nil {
			return err
		}
	}
	label, data := c.pack(packGroups)
	groups, err := parseGroups(label, data)
	if err != nil {
		return err
	}
	encounter := parseLines(c.pack(packEncounter))
	// titleNames reads the suffixes of condition words.
	c.suffixes = parseLines(c.pack(packSuffixes))
	optional := map[string]bool{}
	for _, w := range parseLines(c.pack(packOptional)) {
		optional[strings.ToLower(w)] = true
	}
	near := map[string]*codesys.Class{}
	nearest := func(code string) *codesys.Class {
		cl, ok := near[code]
		if !ok {
			cl = k.nearestClass(code)
			near[code] = cl
		}
		return cl
	}
	refused := func(code string) bool {
		cl := nearest(code)
		if cl == nil || skip(cl.Code) || groups.noLexis.Holds(code) {
			return true
		}
		for p := cl; ; p = &k.rel.Classes.Classes[p.Parent] {
			for _, e := range encounter {
				if len(p.Title) >= len(e) && strings.EqualFold(p.Title[:len(e)], e) {
					return true
				}
			}
			if p.Parent < 0 {
				return false
			}
		}
	}
	reading := &indexReading{
		skip: refused,
		// A single word names the nearest class when its title or a
		// suffix of the word says so, as the ICD-10-CM coder asks of
		// its Tabular List.
		agrees:   func(code, word string) bool { return c.titleNames(nearest(code).Code, word) },
		optional: optional,
		resolved: map[string][]*codesys.Term{},
	}
	from := len(c.lex.entries)
	if ix.Index != nil {
		c.lex.addIndex(ix.Index, ix.ID(), reading)
	}
	if ix.Neoplasm != nil {
		c.lex.addNeoplasmTable(ix.Neoplasm, ix.ID())
	}
	// The classification's own wording decides what its words name:
	// where a title or inclusion rubric has the words of a path, the
	// path is not read ("Congestive heart failure" is I50.0 in WHO
	// ICD-10, where ICD-10-CM's Index gives its unspecified code).
	own := map[string]bool{}
	for _, e := range c.lex.entries[:from] {
		if e.origin == fromTitle || e.origin == fromInclusion || e.origin == fromTerms {
			own[wordsKey(e.words)] = true
		}
	}
	kept := c.lex.entries[:from]
	for _, e := range c.lex.entries[from:] {
		if (e.origin == fromNeoplasm && refused(e.code)) || own[wordsKey(e.words)] {
			continue
		}
		cl := nearest(e.code)
		// The trail quotes the path with the code ICD-10-CM gives it.
		e.text = e.text + " → " + e.code
		e.code = cl.Code
		// A bracketed manifestation is ICD-10-CM's pairing; the
		// classification's own (a dagger's asterisk code) is not read
		// from its titles, so none is coded beside the path's code.
		e.manif = ""
		kept = append(kept, e)
	}
	c.lex.entries = kept
	c.releases = append(c.releases, ix.ID())
	return nil
}

// indexStep is the trail's line for an entry of ICD-10-CM's Index or
// Table of Neoplasms read for the classification: the path, the code
// ICD-10-CM gives it (in e.text) and the class it is read at.
func (k *ClassCoder) indexStep(e *entry) string {
	what := "Index"
	if e.origin == fromNeoplasm {
		what = "Neoplasm table"
	}
	return fmt.Sprintf("%s %s (read for %s): %s → class %s", what, e.release, k.rel.ID(), e.text, e.code)
}

// wordsKey is a map key of an entry's words.
func wordsKey(ws []uint32) string {
	b := make([]byte, 0, 4*len(ws))
	for _, w := range ws {
		b = binary.LittleEndian.AppendUint32(b, w)
	}
	return string(b)
}
