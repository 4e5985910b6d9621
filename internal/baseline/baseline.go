// Package baseline is the simplest honest coder: it assigns a code wherever
// the document contains, word for word after case and accent folding, one
// of the code's names (its Tabular List title or an inclusion term). It
// exists so that the evaluation harness measures something real before the
// offline coder does, and as the floor every coder must beat.
package baseline

import (
	"context"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// Term is a phrase that names a code.
type Term struct {
	Code   string
	System codesys.System
	Text   string
}

type target struct {
	code string
	sys  codesys.System
}

// Coder matches terms in text. It is safe for concurrent use.
type Coder struct {
	phrases map[string][]target // folded words joined by one space
	maxLen  int                 // longest phrase in words
}

// New returns a coder for the given terms. Each term also matches without
// its parenthesized nonessential words ("Essential (primary) hypertension"
// matches "essential hypertension") and without the word "unspecified",
// since an unqualified mention is coded to the unspecified code.
func New(terms []Term) *Coder {
	c := &Coder{phrases: make(map[string][]target)}
	for _, t := range terms {
		tg := target{eval.CanonCode(t.System, t.Code), t.System}
		for _, v := range variants(t.Text) {
			words := strings.Fields(v)
			if len(words) == 0 {
				continue
			}
			k := strings.Join(words, " ")
			if !containsTarget(c.phrases[k], tg) {
				c.phrases[k] = append(c.phrases[k], tg)
			}
			c.maxLen = max(c.maxLen, len(words))
		}
	}
	return c
}

func containsTarget(ts []target, t target) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

// variants returns the folded word sequences a term matches.
func variants(text string) []string {
	full := normWords(text)
	bare := normWords(dropParens(text))
	var out []string
	for _, v := range []string{full, bare} {
		out = append(out, v)
		if nv := strings.Join(removeWord(strings.Fields(v), "unspecified"), " "); nv != v && nv != "" {
			out = append(out, nv)
		}
	}
	return out
}

func normWords(s string) string {
	var ws []string
	textnorm.EachWord(s, func(w textnorm.Word) { ws = append(ws, w.Norm) })
	return strings.Join(ws, " ")
}

func dropParens(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '[':
			depth++
		case (r == ')' || r == ']') && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func removeWord(ws []string, w string) []string {
	var out []string
	for _, x := range ws {
		if x != w {
			out = append(out, x)
		}
	}
	return out
}

// Code finds the leftmost longest phrase at each word and assigns its
// codes, in order of first mention, with every mention as evidence and the
// number of mentions as score.
func (c *Coder) Code(ctx context.Context, doc eval.Document) (eval.Result, error) {
	words := textnorm.Words(doc.Text)
	var order []target
	found := make(map[target]*eval.Prediction)
	for i := 0; i < len(words); {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return eval.Result{}, err
			}
		}
		n, ts := c.longest(words[i:])
		if n == 0 {
			i++
			continue
		}
		sp := eval.Span{Start: words[i].Start, End: words[i+n-1].End}
		for _, t := range ts {
			p := found[t]
			if p == nil {
				p = &eval.Prediction{Code: t.code, System: t.sys}
				found[t] = p
				order = append(order, t)
			}
			p.Score++
			p.Evidence = append(p.Evidence, sp)
		}
		i += n
	}
	res := eval.Result{Predictions: make([]eval.Prediction, 0, len(order))}
	for _, t := range order {
		res.Predictions = append(res.Predictions, *found[t])
	}
	return res, nil
}

func (c *Coder) longest(ws []textnorm.Word) (int, []target) {
	var b strings.Builder
	bestN, best := 0, []target(nil)
	for n := 1; n <= c.maxLen && n <= len(ws); n++ {
		if n > 1 {
			b.WriteByte(' ')
		}
		b.WriteString(ws[n-1].Norm)
		if ts, ok := c.phrases[b.String()]; ok {
			bestN, best = n, ts
		}
	}
	return bestN, best
}

// TabularTerms returns the titles and inclusion terms of the ICD-10-CM
// codes that can be reported as they stand: leaf codes that need no 7th
// character. Codes that need one are left out, because their titles name
// no encounter and a text match could not choose it.
func TabularTerms(t *codesys.Tabular) []Term {
	var terms []Term
	for i := range t.Nodes {
		n := &t.Nodes[i]
		if n.Kind < codesys.KindCategory || len(n.Children) > 0 {
			continue
		}
		if sc, _ := t.SevenChrFor(n); len(sc) > 0 {
			continue
		}
		terms = append(terms, Term{Code: n.Code, System: codesys.ICD10CM, Text: n.Title})
		for _, inc := range n.Notes.InclusionTerms {
			terms = append(terms, Term{Code: n.Code, System: codesys.ICD10CM, Text: inc})
		}
	}
	return terms
}
