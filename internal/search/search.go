// Package search finds codes in a codesys.Release the way a coder reads
// the classification: a query's words are looked up in the Alphabetic Index
// (main term, then subterms, with nonessential modifiers optional), the
// External Cause Index, the Table of Neoplasms and the Table of Drugs and
// Chemicals (per column), the ICD-10-PCS Index, and the titles and
// inclusion terms of the Tabular List.
//
// Words match by folded form, by English stem, by expansion of a small
// table of clinical abbreviations and, for longer words, with one or two
// typing errors. Word order is free. Hits are ranked so that entries
// covering every query word, with the fewest words the query did not ask
// for, and matching the main term (the condition) come first; docs/search.md
// describes the scoring.
//
// A Searcher is built once per release (New) and is safe for concurrent
// use.
package search

import (
	"fmt"
	"strings"
	"sync"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Source says which part of a release a hit comes from.
type Source uint8

// The sources a Searcher indexes, in the order hits from otherwise equal
// entries are listed.
const (
	SourceIndex     Source = iota + 1 // ICD-10-CM Alphabetic Index
	SourceExternal                    // ICD-10-CM External Cause Index
	SourceNeoplasm                    // Table of Neoplasms (Hit.Column says which column)
	SourceDrug                        // Table of Drugs and Chemicals (Hit.Column says which column)
	SourceTabular                     // title of a Tabular List code
	SourceInclusion                   // inclusion term of a Tabular List code
	SourcePCSIndex                    // ICD-10-PCS Index
	numSources
)

var sourceNames = [...]string{
	SourceIndex:     "index",
	SourceExternal:  "external cause index",
	SourceNeoplasm:  "neoplasm table",
	SourceDrug:      "drug table",
	SourceTabular:   "tabular title",
	SourceInclusion: "inclusion term",
	SourcePCSIndex:  "PCS index",
}

// String returns the source's display name, such as "inclusion term".
func (s Source) String() string {
	if s > 0 && s < numSources {
		return sourceNames[s]
	}
	return fmt.Sprintf("Source(%d)", uint8(s))
}

// MarshalText returns the source's display name, so that JSON shows
// "inclusion term" rather than a number.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a source name as ParseSource does.
func (s *Source) UnmarshalText(b []byte) error {
	src, err := ParseSource(string(b))
	if err != nil {
		return err
	}
	*s = src
	return nil
}

// Sources lists every source, in display order.
var Sources = []Source{SourceIndex, SourceExternal, SourceNeoplasm, SourceDrug, SourceTabular, SourceInclusion, SourcePCSIndex}

// IndexSources are the index-shaped sources a coder looks up first.
var IndexSources = []Source{SourceIndex, SourceExternal, SourceNeoplasm, SourceDrug, SourcePCSIndex}

// TabularSources are the Tabular List sources: code titles and inclusion
// terms.
var TabularSources = []Source{SourceTabular, SourceInclusion}

// ParseSource returns the source named s: its display name or a short form
// ("index", "eindex", "external", "neoplasm", "drug", "tabular",
// "inclusion", "pcs-index").
func ParseSource(s string) (Source, error) {
	k := strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(s))
	for src := Source(1); src < numSources; src++ {
		if k == strings.ReplaceAll(strings.ToLower(src.String()), " ", "") {
			return src, nil
		}
	}
	switch k {
	case "eindex", "external", "externalcause":
		return SourceExternal, nil
	case "neoplasm", "neoplasms":
		return SourceNeoplasm, nil
	case "drug", "drugs":
		return SourceDrug, nil
	case "tabular", "title":
		return SourceTabular, nil
	case "inclusion", "inclusions":
		return SourceInclusion, nil
	case "pcs", "pcsindex":
		return SourcePCSIndex, nil
	}
	return 0, fmt.Errorf("unknown search source %q", s)
}

// Options tunes one search.
type Options struct {
	// Limit is the maximum number of hits; 0 means DefaultLimit.
	Limit int
	// Sources restricts the search to these sources; empty means all.
	Sources []Source
	// FollowSee adds, after a hit that is only a see reference, the
	// entry the reference points to (when it is found in the same index),
	// with Hit.Via set to the referring path.
	FollowSee bool
}

// DefaultLimit is the number of hits returned when Options.Limit is 0.
const DefaultLimit = 20

// Hit is one entry found by a search.
type Hit struct {
	// Code is the code the entry leads to, as published: it may be
	// incomplete ("S52.52-", "C34.9-") when the Tabular List must be
	// consulted for more characters. In the ICD-10-PCS Index it may be a
	// partial code or table ("0UT9", "0DT") to complete in the tables.
	// Empty for a pure cross-reference.
	Code string `json:"code,omitempty"`
	// Manif is the manifestation code published in brackets after Code
	// in the Alphabetic Index, to be reported after it.
	Manif string `json:"manif,omitempty"`
	// Title is the Tabular List title of Code (or of its nearest
	// ancestor present), when the release has a Tabular List.
	Title string `json:"title,omitempty"`
	// Path is the entry as a coder reads it: main term, subterm, ...; for
	// a tabular title or inclusion term, the one text.
	Path []string `json:"path"`
	// Nemod holds, aligned with Path, the nonessential modifiers of each
	// level as published ("(acute) (chronic)"), or "".
	Nemod []string `json:"nemod,omitempty"`
	// Source is the part of the release the entry is in, and Column the
	// heading of the table column the code is in (for SourceNeoplasm and
	// SourceDrug).
	Source Source `json:"source"`
	Column string `json:"column,omitempty"`
	// See and SeeAlso are the entry's cross-references, as published
	// ("Accident, transport, car occupant"); SeeCat a reference to a
	// Tabular List category or subcategory ("T71", "T75.0").
	See     string `json:"see,omitempty"`
	SeeAlso string `json:"seeAlso,omitempty"`
	SeeCat  string `json:"seeCat,omitempty"`
	// Use is, in the ICD-10-PCS Index, the value to use in the tables
	// ("Esophagus, Lower"), with its table if given.
	Use string `json:"use,omitempty"`
	// Via is, for an entry reached by following a see reference, the
	// path of the referring entry.
	Via []string `json:"via,omitempty"`
	// Score orders hits: higher is better. Scores compare only within one
	// search.
	Score float64 `json:"score"`
	// Matched lists the entry's words that matched the query, folded, and
	// Missing the query words (as typed, folded) that no word of the entry
	// matched.
	Matched, Missing []string
}

// String formats the hit on one line, as `medcode search` prints it.
func (h Hit) String() string {
	var b strings.Builder
	for i, p := range h.Path {
		if i > 0 {
			b.WriteString(" > ")
		}
		b.WriteString(p)
		if i < len(h.Nemod) && h.Nemod[i] != "" {
			b.WriteString(" ")
			b.WriteString(h.Nemod[i])
		}
	}
	if h.Column != "" {
		fmt.Fprintf(&b, " [%s]", h.Column)
	}
	if h.Code != "" {
		b.WriteString(" ")
		b.WriteString(h.Code)
		if h.Manif != "" {
			fmt.Fprintf(&b, " [%s]", h.Manif)
		}
	}
	if h.See != "" {
		fmt.Fprintf(&b, " - see %s", h.See)
	}
	if h.SeeAlso != "" {
		fmt.Fprintf(&b, " - see also %s", h.SeeAlso)
	}
	if h.SeeCat != "" {
		fmt.Fprintf(&b, " - see %s", h.SeeCat)
	}
	if h.Use != "" {
		fmt.Fprintf(&b, " - use %s", h.Use)
	}
	return b.String()
}

// Searcher searches one release. It is immutable after New and safe for
// concurrent use.
type Searcher struct {
	rel *codesys.Release
	// tab is the Tabular List searched: the release's own, or for a
	// classification read as classes, the classes seen as one.
	tab  *codesys.Tabular
	voc  vocab
	typo typoIndex

	// nodes are the terms of every index, for reconstructing paths.
	nodes     []pathNode
	mainTerms [numSources][]int32 // node ids of each index's main terms
	// entries are the searchable items; tokens holds their words.
	entries []entry
	tokens  []token
	// postings[postStart[s]:postStart[s+1]] lists, for stem s, the
	// entries containing it, as entry<<2 | flags.
	postStart []uint32
	postings  []uint32

	indexes [numSources]*codesys.Index
	// abbrevs are the abbreviations and query words (expansions), by
	// folded word.
	abbrevs map[string][]expansion

	scratch sync.Pool
}

// Len returns the number of searchable entries.
func (s *Searcher) Len() int { return len(s.entries) }

// Vocabulary returns the number of distinct folded words indexed.
func (s *Searcher) Vocabulary() int { return len(s.voc.words) }
