package coder

import (
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// Audit applies the Verify rules that judge a list of codes as a whole to
// codes another reasoner chose (the LLM agent's): one code per code, the
// unspecified code beside a specific one, a code documenting less than
// another of its category, external causes only with an injury,
// Excludes1 pairs, manifestation codes never alone, and the sequencing
// of code first and use additional code. The assertion rules are not
// applied: the caller reads assertions itself. Codes of classifications
// other than ICD-10-CM are kept as they are, after the others. It
// returns the codes to report, in reporting order, and those dropped,
// each with its reason.
func (c *Coder) Audit(codes []coding.Code) (kept, dropped []coding.Code) {
	drop := func(x coding.Code, reason string) {
		x.Reason = reason
		dropped = append(dropped, x)
	}
	var cands []candidate
	var other []coding.Code
	for i, cd := range codes {
		if cd.System != codesys.ICD10CM || len(cd.Evidence) == 0 {
			other = append(other, cd)
			continue
		}
		// Each code its own sentence: the rules that pair codes
		// documented together must not pair what the caller did not.
		cands = append(cands, candidate{code: cd, pos: cd.Evidence[0].Start, words: len(cd.Evidence[0].Text), sent: -1 - i})
	}
	ms := merge(cands)
	ms = unspecifiedBeside(ms, drop)
	ms = c.unspecifiedNamed(ms, drop)
	ms = c.lessDocumented(ms, drop)
	ms = c.externalWithInjury(ms, drop)
	ms = c.excludes1(ms, drop)
	ms = c.manifestations(ms, drop)
	ms = c.sequence(ms)
	for _, m := range ms {
		kept = append(kept, m.code)
	}
	return append(kept, other...), dropped
}

// IsFamilyHistory reports whether code is a family history code (the
// group history-family of the rule packs): what a mention of a family
// member's condition is coded as.
func (c *Coder) IsFamilyHistory(code string) bool { return c.rules.isFamilyHistory(code) }
