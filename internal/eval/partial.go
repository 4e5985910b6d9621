package eval

import (
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// pcsComplete is the length of a complete ICD-10-PCS code; a gold code
// with fewer characters is a partial code, as CodiEsp annotates
// procedures the documentation does not complete ("0DJD", "BW20").
const pcsComplete = 7

// partialCredit returns the micro scores of the selection when a complete
// ICD-10-PCS prediction counts for a partial gold code it begins: the
// procedure coded right at the level the annotators found documented,
// with axes beyond it the gold does not judge. A prediction counts so
// only when it is not itself gold and the partial gold code is not
// predicted as such; each partial gold code is credited once. The
// headline scores compare codes exactly (as CodiEsp's own evaluation
// does); this is the second reading. It returns nil when the gold of the
// selection has no partial ICD-10-PCS code.
func partialCredit(docs []DocResult, sel []codesys.System) *PRF {
	var tp, fp, fn int
	partial := false
	for i := range docs {
		gold := goldKeys(docs[i].Gold, sel)
		pred := predKeys(docs[i].Predictions, sel)
		credited := make([]key, 0, len(pred))
		for _, k := range pred {
			if g, ok := partialGold(k, gold); ok && !slices.Contains(pred, g) {
				k = g
			}
			if !slices.Contains(credited, k) {
				credited = append(credited, k)
			}
		}
		for _, g := range gold {
			if g.sys == codesys.ICD10PCS && len(g.code) < pcsComplete {
				partial = true
			}
		}
		out, _ := outcomes(credited, gold)
		for _, o := range out {
			tp, fp, fn = tp+o.tp, fp+o.fp, fn+o.fn
		}
	}
	if !partial {
		return nil
	}
	p := NewPRF(tp, fp, fn)
	return &p
}

// partialGold returns the partial ICD-10-PCS gold code that the complete
// predicted code k begins, when k is not gold itself.
func partialGold(k key, gold []key) (key, bool) {
	if k.sys != codesys.ICD10PCS || len(k.code) != pcsComplete || slices.Contains(gold, k) {
		return key{}, false
	}
	for _, g := range gold {
		if g.sys == codesys.ICD10PCS && len(g.code) < pcsComplete && strings.HasPrefix(k.code, g.code) {
			return g, true
		}
	}
	return key{}, false
}
