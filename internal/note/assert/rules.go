package assert

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/note"
)

// Kind is what a trigger phrase signals.
type Kind uint8

// The kinds of trigger.
const (
	// KindNegated marks the condition as absent ("no", "denies", "ruled out").
	KindNegated Kind = iota
	// KindPossible marks the condition as uncertain ("possible", "rule out").
	KindPossible
	// KindHistorical marks the condition as past ("history of", "s/p").
	KindHistorical
	// KindHypothetical marks the condition as one that may come about
	// ("return if", "risk of").
	KindHypothetical
	// KindFamily attributes the condition to a family member.
	KindFamily
	// KindOther attributes the condition to someone else who is not family.
	KindOther
	// KindResolved is a negation that says the condition went away
	// ("resolved", "subsided", "no longer"), not that it was absent: the
	// condition is negated now, and was present before.
	KindResolved
	// KindSuspected marks the condition as uncertain and under work-up
	// ("suspected", "concern for", "rule out", "was considered"): it is
	// possible, and a later negative result rules it out (KindRuledOut).
	KindSuspected
	// KindPseudo is a phrase that contains a trigger but is not one ("no
	// change", "gram negative"); it only blocks the shorter triggers inside.
	KindPseudo
	// KindTerminate ends the scope of the triggers that reach it ("but").
	KindTerminate
	// KindRuledOut is a negative result ("was ruled out", "showed no", "no
	// evidence of"): after a suspected condition, in the same sentence or
	// the next, it rules that condition out.
	KindRuledOut
	numKinds
)

var kindNames = [numKinds]string{"negated", "possible", "historical", "hypothetical", "family", "other", "resolved", "suspected", "pseudo", "terminate", "ruledout"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

func parseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// Direction says which side of a trigger it modifies.
type Direction uint8

// Directions.
const (
	Forward Direction = iota + 1
	Backward
	Both
)

func (d Direction) String() string {
	switch d {
	case Forward:
		return "forward"
	case Backward:
		return "backward"
	case Both:
		return "both"
	}
	return "none"
}

// rule is one line of the trigger list.
type rule struct {
	kind  Kind
	dir   Direction
	stops [numKinds]bool // for KindTerminate: the kinds whose scope it ends
}

// phrase is a trigger phrase with every rule that uses it.
type phrase struct {
	words []string // folded token forms, hyphens left out
	text  string
	rules []rule
}

// Rules is a compiled trigger list.
type Rules struct {
	root trieNode
}

// trieNode is a node of the word trie of trigger phrases.
type trieNode struct {
	next   map[string]*trieNode
	phrase *phrase // the phrase ending here, if any
}

func (t *trieNode) add(p *phrase) *phrase {
	n := t
	for _, w := range p.words {
		if n.next == nil {
			n.next = map[string]*trieNode{}
		}
		c := n.next[w]
		if c == nil {
			c = &trieNode{}
			n.next[w] = c
		}
		n = c
	}
	if n.phrase == nil {
		n.phrase = p
	}
	return n.phrase
}

//go:embed triggers.txt
var builtinTriggers string

// ParseRules compiles a trigger list in the format of the built-in list
// (see triggers.txt): lines "KIND DIRECTION PHRASE", "@set = a | b", and
// comments starting with #.
func ParseRules(text string) (*Rules, error) {
	sets := map[string][]string{}
	r := &Rules{}
	tok := note.NewTokenizer()
	lineNo := 0
	for line := range strings.Lines(text) {
		lineNo++
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "@") {
			name, alts, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("trigger list line %d: set definition without '='", lineNo)
			}
			var list []string
			for a := range strings.SplitSeq(alts, "|") {
				if a = strings.TrimSpace(a); a != "" {
					list = append(list, a)
				}
			}
			sets[strings.TrimSpace(name)] = list
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("trigger list line %d: want KIND DIRECTION PHRASE, got %q", lineNo, line)
		}
		kind, ok := parseKind(f[0])
		if !ok {
			return nil, fmt.Errorf("trigger list line %d: unknown kind %q", lineNo, f[0])
		}
		ru := rule{kind: kind}
		switch {
		case kind == KindTerminate:
			ru.dir = Both
			for s := range strings.SplitSeq(f[1], ",") {
				if s == "all" {
					for k := range ru.stops {
						ru.stops[k] = true
					}
					continue
				}
				k, ok := parseKind(s)
				if !ok {
					return nil, fmt.Errorf("trigger list line %d: unknown kind %q in terminator", lineNo, s)
				}
				ru.stops[k] = true
				switch k {
				case KindNegated:
					// A resolution is a negation: what ends one ends both.
					ru.stops[KindResolved] = true
				case KindPossible:
					// A suspicion is an uncertainty: likewise.
					ru.stops[KindSuspected] = true
				}
			}
		case kind == KindPseudo || kind == KindRuledOut:
			ru.dir = Both
		default:
			switch f[1] {
			case "forward":
				ru.dir = Forward
			case "backward":
				ru.dir = Backward
			case "both":
				ru.dir = Both
			default:
				return nil, fmt.Errorf("trigger list line %d: unknown direction %q", lineNo, f[1])
			}
		}
		texts, err := expand(f[2:], sets)
		if err != nil {
			return nil, fmt.Errorf("trigger list line %d: %w", lineNo, err)
		}
		for _, t := range texts {
			words := phraseWords(tok, t)
			if len(words) == 0 {
				return nil, fmt.Errorf("trigger list line %d: phrase %q has no words", lineNo, t)
			}
			p := r.root.add(&phrase{words: words, text: t})
			if !slices.Contains(p.rules, ru) {
				p.rules = append(p.rules, ru)
			}
		}
	}
	return r, nil
}

// expand replaces each @set word by every phrase of the set.
func expand(words []string, sets map[string][]string) ([]string, error) {
	out := []string{""}
	for _, w := range words {
		alts := []string{w}
		if strings.HasPrefix(w, "@") {
			// "@relative's": the set name, then a suffix for every phrase
			n := 1
			for n < len(w) && ('a' <= w[n] && w[n] <= 'z' || w[n] == '_') {
				n++
			}
			set, ok := sets[w[:n]]
			if !ok {
				return nil, fmt.Errorf("undefined set %s", w[:n])
			}
			alts = make([]string, len(set))
			for i, a := range set {
				alts[i] = a + w[n:]
			}
		}
		next := make([]string, 0, len(out)*len(alts))
		for _, o := range out {
			for _, a := range alts {
				next = append(next, strings.TrimSpace(o+" "+a))
			}
		}
		out = next
	}
	return out, nil
}

// phraseWords returns the folded token forms a phrase matches, leaving out
// hyphens so that "x-ray" and "x ray" meet.
func phraseWords(tok *note.Tokenizer, s string) []string {
	var words []string
	for _, t := range tok.Tokenize(s) {
		if skippable(&t) {
			continue
		}
		words = append(words, t.Norm)
	}
	return words
}

// skippable reports whether a token is ignored when matching phrases.
func skippable(t *note.Token) bool {
	return t.Kind == note.Punct && (t.Norm == "-" || t.Norm == "\"" || t.Norm == "'")
}
