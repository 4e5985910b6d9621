package pcs

import (
	_ "embed"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"

	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

//go:embed terms.tsv
var builtinTerms string

// kind is what a matched phrase documents.
type kind uint8

const (
	kindProc      kind = iota // a procedure: root operation, Index term or code
	kindApproach              // an approach value
	kindDevice                // a device value
	kindContrast              // an imaging contrast value
	kindQualifier             // a qualifier value
	kindAnat                  // an anatomical site, as words of the tables
	kindPrefer                // a root operation to prefer among alternatives
	kindBlock                 // an Index main term not matched alone
	kindUse                   // an Index "use" term: a body part or device value
	kindDefault               // a default value of an axis for a root operation or type
	kindSuffix                // a word ending that marks an Index main term as a procedure name
	kindAllow                 // an Index main term matched though it has no procedure ending
	kindPlanned               // a procedure planned or considered, not done
	kindRefused               // a procedure refused or not done
)

var kindNames = map[string]kind{
	"proc": kindProc, "approach": kindApproach, "device": kindDevice, "contrast": kindContrast,
	"qualifier": kindQualifier, "anat": kindAnat, "prefer": kindPrefer, "block": kindBlock,
	"default": kindDefault, "suffix": kindSuffix, "allow": kindAllow,
	"planned": kindPlanned, "refused": kindRefused,
}

// entry is one meaning of a phrase.
type entry struct {
	kind kind
	// target is, by kind: an Index reference or code (proc), a value
	// label (approach, device, contrast, qualifier, use), site words
	// (anat) or a root operation (prefer).
	target string
	// term is the Index main term a proc entry came from, if any.
	term indexTerm
	// path is the Index path a proc entry's target resolves to.
	path     []*codesys.Term
	diagnose bool // proc: the qualifier is Diagnostic
	source   string
}

// indexTerm is an Index main term matched directly in the note.
type indexTerm struct {
	title string
	ok    bool
}

// lexEntry is one line of the term table.
type lexEntry struct {
	kind    kind
	phrases []string
	target  string
	flags   []string
	line    int
}

// parseTerms reads the term table format described in terms.tsv.
func parseTerms(data string) ([]lexEntry, error) {
	var out []lexEntry
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		k, ok := kindNames[f[0]]
		if !ok {
			return nil, fmt.Errorf("term table line %d: unknown kind %q", i+1, f[0])
		}
		if len(f) < 2 || (k != kindBlock && k != kindSuffix && k != kindAllow && k != kindPlanned && k != kindRefused && len(f) < 3) || (k == kindDefault && len(f) != 4) {
			return nil, fmt.Errorf("term table line %d: want kind, phrases and target", i+1)
		}
		e := lexEntry{kind: k, line: i + 1}
		for p := range strings.SplitSeq(f[1], "|") {
			if p = strings.TrimSpace(p); p != "" {
				e.phrases = append(e.phrases, p)
			}
		}
		if len(e.phrases) == 0 {
			return nil, fmt.Errorf("term table line %d: no phrase", i+1)
		}
		if len(f) > 2 {
			e.target = strings.TrimSpace(f[2])
		}
		if k == kindDefault {
			e.flags = []string{strings.TrimSpace(f[3])}
		} else if len(f) > 3 {
			for fl := range strings.SplitSeq(f[3], ",") {
				switch fl = strings.TrimSpace(fl); fl {
				case "diagnostic":
					e.flags = append(e.flags, fl)
				case "":
				default:
					return nil, fmt.Errorf("term table line %d: unknown flag %q", i+1, fl)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// phraseKey returns the stems of the words of a phrase, the form the
// matcher compares with note tokens.
func phraseKey(p string) []string {
	return textnorm.Stems(p)
}

// trie matches phrases, as sequences of stems, against note tokens.
type trie struct {
	next    map[string]*trie
	entries []entry
}

func (t *trie) add(key []string, e entry) {
	n := t
	for _, k := range key {
		if n.next == nil {
			n.next = make(map[string]*trie)
		}
		c := n.next[k]
		if c == nil {
			c = &trie{}
			n.next[k] = c
		}
		n = c
	}
	for _, old := range n.entries {
		if old.kind == e.kind && old.target == e.target {
			return
		}
	}
	n.entries = append(n.entries, e)
}

// match is a phrase found in a sentence: tokens [first, end) of the note.
type match struct {
	note.Span
	first, end int
	entries    []entry
}

// skipTok reports whether a token is ignored inside phrases: hyphens and
// slashes join words ("x-ray", "abdomino-pelvic") without being words.
func skipTok(t *note.Token) bool {
	return t.Kind == note.Punct && (t.Norm == "-" || t.Norm == "/")
}

// scan finds the longest phrase starting at each word of toks (the
// tokens of one sentence, whose first token is note token base), left to
// right; a match hides the shorter phrases inside it.
func (t *trie) scan(src string, toks []note.Token, base int, out []match) []match {
	for i := 0; i < len(toks); {
		if toks[i].Kind == note.Punct || toks[i].Kind == note.Placeholder {
			i++
			continue
		}
		n, bestEnd := t, -1
		var best *trie
		for j := i; j < len(toks); j++ {
			tk := &toks[j]
			if skipTok(tk) {
				continue
			}
			if tk.Kind == note.Punct || tk.Kind == note.Placeholder {
				break
			}
			c := n.next[tk.Stem]
			if c == nil {
				break
			}
			n = c
			if len(n.entries) > 0 {
				best, bestEnd = n, j+1
			}
		}
		if best == nil {
			i++
			continue
		}
		s := note.Span{Start: toks[i].Start, End: toks[bestEnd-1].End}
		s.Text = src[s.Start:s.End]
		out = append(out, match{Span: s, first: base + i, end: base + bestEnd, entries: best.entries})
		i = bestEnd
	}
	return out
}
