package eval

import (
	"cmp"
	"slices"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// CodiEspXTolerance is how many characters a predicted reference may extend
// beyond the gold reference on either side and still count, as in the
// official CodiEsp-X evaluation script.
const CodiEspXTolerance = 10

// EvidenceCounts are one document's evidence-level counts for one system.
// They are computed when the run is made, because they need the text, and
// stored in the run file so that reports and comparisons can be rebuilt
// from the file alone (which holds no document text).
type EvidenceCounts struct {
	// Codes is the number of correctly predicted codes that have gold
	// evidence: the codes the span metrics are computed over.
	Codes int `json:"codes"`
	// Exact span match over those codes: spans (trimmed of surrounding
	// spaces and punctuation) predicted, gold, and identical in both.
	ExactTP   int `json:"exactTP"`
	ExactPred int `json:"exactPred"`
	ExactGold int `json:"exactGold"`
	// Token overlap over those codes: words covered by predicted spans,
	// by gold spans, and by both.
	TokenTP   int `json:"tokenTP"`
	TokenPred int `json:"tokenPred"`
	TokenGold int `json:"tokenGold"`
	// CodiEsp-X: distinct predicted codes, distinct gold codes with
	// evidence, and predicted codes whose evidence matches a gold
	// reference.
	XTP   int `json:"xTP"`
	XPred int `json:"xPred"`
	XGold int `json:"xGold"`
}

func (e *EvidenceCounts) add(o EvidenceCounts) {
	e.Codes += o.Codes
	e.ExactTP += o.ExactTP
	e.ExactPred += o.ExactPred
	e.ExactGold += o.ExactGold
	e.TokenTP += o.TokenTP
	e.TokenPred += o.TokenPred
	e.TokenGold += o.TokenGold
	e.XTP += o.XTP
	e.XPred += o.XPred
	e.XGold += o.XGold
}

func (e *EvidenceCounts) exact() PRF {
	return NewPRF(e.ExactTP, e.ExactPred-e.ExactTP, e.ExactGold-e.ExactTP)
}

func (e *EvidenceCounts) token() PRF {
	return NewPRF(e.TokenTP, e.TokenPred-e.TokenTP, e.TokenGold-e.TokenTP)
}

func (e *EvidenceCounts) codiespX() PRF {
	return NewPRF(e.XTP, e.XPred-e.XTP, e.XGold-e.XTP)
}

// Evidence computes the evidence-level counts of one document per system.
// Gold codes without evidence take part in none of them; a document without
// any gold evidence gives nil.
func Evidence(text string, gold []GoldCode, preds []Prediction) map[codesys.System]EvidenceCounts {
	type goldEv struct {
		mentions []Mention
	}
	goldBy := make(map[key]*goldEv)
	hasEvidence := false
	for _, g := range gold {
		k := key{g.System, CanonCode(g.System, g.Code)}
		ge := goldBy[k]
		if ge == nil {
			ge = &goldEv{}
			goldBy[k] = ge
		}
		for _, m := range g.Evidence {
			if len(m) > 0 {
				ge.mentions = append(ge.mentions, m)
				hasEvidence = true
			}
		}
	}
	if !hasEvidence {
		return nil
	}
	predBy := make(map[key][]Span)
	var predOrder []key
	for _, p := range preds {
		sys := cmp.Or(p.ScoredSystem, p.System)
		if sys == "" {
			sys = GuessSystem(p.Code)
		}
		k := key{sys, CanonCode(sys, p.scoredCode())}
		if _, seen := predBy[k]; !seen {
			predOrder = append(predOrder, k)
			predBy[k] = []Span{}
		}
		predBy[k] = append(predBy[k], p.Evidence...)
	}
	words := wordSpans(text)
	off := NewOffsets(text)
	out := make(map[codesys.System]EvidenceCounts)
	for k, ge := range goldBy {
		if len(ge.mentions) == 0 {
			continue
		}
		c := out[k.sys]
		c.XGold++
		out[k.sys] = c
	}
	for _, k := range predOrder {
		ge := goldBy[k]
		if ge != nil && len(ge.mentions) == 0 {
			continue // gold without evidence: not part of the span metrics
		}
		c := out[k.sys]
		c.XPred++
		if ge != nil {
			ps := predBy[k]
			if codiespXMatch(off, ps, ge.mentions) {
				c.XTP++
			}
			c.Codes++
			var gs []Span
			for _, m := range ge.mentions {
				gs = append(gs, m...)
			}
			pt, gt := trimSpans(text, ps), trimSpans(text, gs)
			c.ExactPred += len(pt)
			c.ExactGold += len(gt)
			for _, s := range pt {
				if slices.Contains(gt, s) {
					c.ExactTP++
				}
			}
			pw, gw := coveredWords(words, ps), coveredWords(words, gs)
			c.TokenPred += len(pw)
			c.TokenGold += len(gw)
			for w := range pw {
				if gw[w] {
					c.TokenTP++
				}
			}
		}
		out[k.sys] = c
	}
	return out
}

// codiespXMatch reports whether any predicted reference contains a gold
// reference within the tolerance. As in the official script, a
// discontinuous gold reference runs from the start of its first span to the
// end of its last, and positions are characters; each predicted span is a
// reference, and so is the stretch from the first to the last of them.
func codiespXMatch(off *Offsets, pred []Span, gold []Mention) bool {
	if len(pred) == 0 {
		return false
	}
	refs := slices.Clone(pred)
	if len(pred) > 1 {
		h := pred[0]
		for _, s := range pred[1:] {
			h.Start, h.End = min(h.Start, s.Start), max(h.End, s.End)
		}
		refs = append(refs, h)
	}
	for _, m := range gold {
		gs, ge := off.Char(m[0].Start), off.Char(m[len(m)-1].End)
		for _, p := range refs {
			ps, pe := off.Char(p.Start), off.Char(p.End)
			if d := gs - ps; d < 0 || d > CodiEspXTolerance {
				continue
			}
			if d := pe - ge; d < 0 || d > CodiEspXTolerance {
				continue
			}
			return true
		}
	}
	return false
}

// trimSpans trims each span of surrounding white space and punctuation,
// drops spans left empty and duplicates, and returns them sorted.
func trimSpans(text string, spans []Span) []Span {
	var out []Span
	for _, s := range spans {
		s.Start, s.End = max(s.Start, 0), min(s.End, len(text))
		for s.Start < s.End {
			r, n := utf8.DecodeRuneInString(text[s.Start:])
			if !isTrimmable(r) {
				break
			}
			s.Start += n
		}
		for s.Start < s.End {
			r, n := utf8.DecodeLastRuneInString(text[:s.End])
			if !isTrimmable(r) {
				break
			}
			s.End -= n
		}
		if s.Start < s.End && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b Span) int { return a.Start - b.Start })
	return out
}

func isTrimmable(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsPunct(r)
}

func wordSpans(text string) []Span {
	var ws []Span
	textnorm.EachWord(text, func(w textnorm.Word) { ws = append(ws, Span{w.Start, w.End}) })
	return ws
}

// coveredWords returns the indexes of the words that overlap any span.
func coveredWords(words []Span, spans []Span) map[int]bool {
	m := make(map[int]bool)
	for _, s := range spans {
		i := sort.Search(len(words), func(i int) bool { return words[i].End > s.Start })
		for ; i < len(words) && words[i].Start < s.End; i++ {
			m[i] = true
		}
	}
	return m
}
