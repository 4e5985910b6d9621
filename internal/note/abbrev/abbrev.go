// Package abbrev recognizes common clinical abbreviations in notes and
// gives their expansions. The table is the rule pack en/abbreviations
// (internal/rules), the one abbreviation table of English that the coder
// and search share; abbreviations with more than one common sense are
// marked ambiguous so that later stages demand context before using them.
//
// Expansion never changes offsets: a Mention points at the abbreviation as
// written in the note, and carries the expansions beside it.
package abbrev

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/rules"
)

// Pack is the rule pack holding the abbreviation table of English.
const Pack = "en/abbreviations"

// Entry is one abbreviation of the table.
type Entry struct {
	// Abbr is the abbreviation as listed ("HTN", "s/p", "b.i.d.").
	Abbr string
	// Expansions are its senses, the most common first.
	Expansions []string
	// Ambiguous marks abbreviations with several common senses ("PE",
	// "MS", "RA") or one easily confused with ordinary text.
	Ambiguous bool
	// CaseSensitive entries match only as written: their lower-case form
	// is an ordinary word ("AS", "OR", "ALL").
	CaseSensitive bool
}

// Mention is an abbreviation found in a note.
type Mention struct {
	note.Span
	Entry *Entry
}

// Table is a set of abbreviations. It is safe for concurrent use.
type Table struct {
	entries []*Entry
	byFirst map[string][]*Entry // by the folded first token, longest first
}

// Builtin returns the table of the embedded rule packs.
func Builtin() *Table {
	set, err := rules.Default()
	if err == nil {
		var t *Table
		if t, err = Load(set); err == nil {
			return t
		}
	}
	panic("abbrev: built-in table: " + err.Error())
}

// Load returns the table of the pack en/abbreviations of set, so that a
// pack given with --rules replaces the built-in table.
func Load(set *rules.Set) (*Table, error) {
	p := set.Pack(Pack)
	if p == nil {
		return nil, fmt.Errorf("abbreviations: no rule pack %s", Pack)
	}
	t, err := parse(p.Rows)
	if err != nil {
		return nil, fmt.Errorf("%s %w", p.Label(), err)
	}
	return t, nil
}

// Parse reads a table in the format of the pack en/abbreviations: lines
// of abbreviation, expansions separated by "; ", and flags ("ambiguous",
// "case"), tab-separated; lines starting with # are comments.
func Parse(text string) (*Table, error) {
	var rows []rules.Row
	no := 0
	for line := range strings.Lines(text) {
		no++
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rows = append(rows, rules.Row{Line: no, Text: line, Fields: strings.Split(line, "\t")})
	}
	t, err := parse(rows)
	if err != nil {
		return nil, fmt.Errorf("abbreviation table %w", err)
	}
	return t, nil
}

// parse reads the rows of a table; an error names the row's line.
func parse(rows []rules.Row) (*Table, error) {
	t := &Table{byFirst: map[string][]*Entry{}}
	for _, r := range rows {
		f, lineNo := r.Fields, r.Line
		if len(f) != 3 || f[0] == "" || f[1] == "" {
			return nil, fmt.Errorf("line %d: want abbreviation, expansions and flags separated by tabs", lineNo)
		}
		e := &Entry{Abbr: f[0], Expansions: strings.Split(f[1], "; ")}
		if f[2] != "" {
			for flag := range strings.SplitSeq(f[2], ",") {
				switch flag {
				case "ambiguous":
					e.Ambiguous = true
				case "case":
					e.CaseSensitive = true
				default:
					return nil, fmt.Errorf("line %d: unknown flag %q", lineNo, flag)
				}
			}
		}
		toks := note.Tokenize(e.Abbr, 0, len(e.Abbr))
		if len(toks) == 0 {
			return nil, fmt.Errorf("line %d: %q has no characters to match", lineNo, e.Abbr)
		}
		t.entries = append(t.entries, e)
		t.byFirst[toks[0].Norm] = append(t.byFirst[toks[0].Norm], e)
	}
	for _, es := range t.byFirst {
		slices.SortStableFunc(es, func(a, b *Entry) int { return len(b.Abbr) - len(a.Abbr) })
	}
	return t, nil
}

// Len returns the number of entries.
func (t *Table) Len() int { return len(t.entries) }

// Lookup returns the entry for s written exactly as an abbreviation, the
// entry whose case matches s best when several differ only in case.
func (t *Table) Lookup(s string) (*Entry, bool) {
	toks := note.Tokenize(s, 0, len(s))
	if len(toks) == 0 {
		return nil, false
	}
	var best *Entry
	for _, e := range t.byFirst[toks[0].Norm] {
		switch {
		case e.Abbr == s:
			return e, true
		case !e.CaseSensitive && best == nil && strings.EqualFold(e.Abbr, s):
			best = e
		}
	}
	return best, best != nil
}

// Find returns the abbreviations mentioned in n, in text order.
func (t *Table) Find(n *note.Note) []Mention {
	src := n.Text.String()
	var out []Mention
	next := 0 // mentions do not overlap
	for _, tok := range n.Tokens {
		if tok.Start < next || tok.Kind == note.Placeholder {
			continue
		}
		if e := t.matchAt(src, tok.Start, tok.Norm); e != nil {
			end := tok.Start + len(e.Abbr)
			out = append(out, Mention{Span: n.Text.Span(tok.Start, end), Entry: e})
			next = end
		}
	}
	return out
}

// matchAt returns the longest entry written at src[i:], standing alone.
func (t *Table) matchAt(src string, i int, first string) *Entry {
	var found *Entry
	for _, e := range t.byFirst[first] {
		if found != nil && len(e.Abbr) < len(found.Abbr) {
			break
		}
		end := i + len(e.Abbr)
		if end > len(src) {
			continue
		}
		w := src[i:end]
		if e.CaseSensitive && w != e.Abbr || !strings.EqualFold(w, e.Abbr) {
			continue
		}
		if !standsAlone(src, i, end) {
			continue
		}
		if found == nil || w == e.Abbr { // prefer the exact-case entry
			found = e
		}
	}
	return found
}

// standsAlone reports whether src[start:end] is not part of a longer word.
func standsAlone(src string, start, end int) bool {
	if start > 0 {
		r, _ := utf8.DecodeLastRuneInString(src[:start])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	if end < len(src) {
		r, _ := utf8.DecodeRuneInString(src[end:])
		last, _ := utf8.DecodeLastRuneInString(src[start:end])
		if (unicode.IsLetter(last) || unicode.IsDigit(last)) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
		// "p.o" inside "p.o." is not "p.o" followed by a word
		if r == '.' && end+1 < len(src) && last != '.' {
			next, _ := utf8.DecodeRuneInString(src[end+1:])
			if unicode.IsLetter(next) {
				return false
			}
		}
	}
	return true
}

// Entries returns the table's entries in table order. The entries are
// shared: callers must not modify them.
func (t *Table) Entries() []*Entry { return slices.Clone(t.entries) }
