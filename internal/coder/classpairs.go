package coder

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/coding"
	packs "github.com/medcode-dev/medcode/internal/rules"
)

// packExclusions is the name, under a classification's scope, of the pack
// of its "cannot be coded with" pairs (icd10uk/exclusions and
// opcs4/exclusions, made by `medcode rules import` from the UK coding
// standards rule file).
const packExclusions = "exclusions"

// pairRule is one row of an exclusions pack: a code of codes is not coded
// with a code of with.
type pairRule struct {
	codes, with packs.Ranges
	// codesText and withText are the columns as the pack writes them.
	codesText, withText string
	// id is the source's rule id; line the pack's line.
	id   string
	line int
}

// loadPairs reads the exclusions pack of the coder's classification, when
// the set has one. As with every pack, a range the release cannot hold
// (a typo of the source such as "I14-15") is a warning and is not
// applied; the row's other ranges are.
func (k *ClassCoder) loadPairs() error {
	p := k.c.packs.Pack(string(k.rel.System) + "/" + packExclusions)
	if p == nil {
		return nil
	}
	k.pairsPack = p.Label()
	for _, r := range p.Rows {
		if len(r.Fields) != 4 {
			return fmt.Errorf("%s: want codes, the codes they are not coded with, a rule id and a source line", p.Where(r))
		}
		codes := k.fillerRanges(p, r, r.Fields[0])
		with := k.fillerRanges(p, r, r.Fields[1])
		if len(codes) == 0 || len(with) == 0 {
			continue
		}
		k.pairs = append(k.pairs, pairRule{codes: codes, with: with, codesText: r.Fields[0], withText: r.Fields[1],
			id: strings.TrimSpace(r.Fields[2]), line: r.Line})
	}
	return nil
}

// fillerRanges reads the ranges of a column of an exclusions pack, where
// a four-character code ending in the filler X (J22X) is the UK's way of
// writing a category without subdivisions: it stands for the category. A
// range that does not read is a warning.
func (k *ClassCoder) fillerRanges(p *packs.Pack, r packs.Row, s string) packs.Ranges {
	var out packs.Ranges
	for _, f := range strings.Fields(s) {
		rs, err := fillerRange(f)
		if err != nil {
			k.c.warnings = append(k.c.warnings, fmt.Sprintf("%s: %v (range not applied)", p.Where(r), err))
			continue
		}
		out = append(out, rs...)
	}
	return out
}

// fillerRange reads one range, taking the filler X off its ends.
func fillerRange(f string) (packs.Ranges, error) {
	lo, hi, isRange := strings.Cut(f, "-")
	s := unfilled(lo)
	if isRange {
		s += "-" + unfilled(hi)
	}
	return packs.ParseRanges(s)
}

// unfilled takes the filler X off a four-character code.
func unfilled(code string) string {
	if len(code) == 4 && (code[3] == 'X' || code[3] == 'x') {
		return code[:3]
	}
	return code
}

// cannotCodeWith keeps one code of each pair the classification's
// exclusions pack says is not coded together. A pair does not say which
// of its two codes stays: the pairs taken from exclusion notes send the
// condition to the second column ("I82 is not coded with I26": a
// pulmonary embolism is coded I26), the standards' pairs often keep the
// first ("J44.0 is not coded with J22": the combination code covers the
// infection). The note's evidence decides: the code documented more often
// (more evidence spans), then the one coded with more confidence (affirmed
// rather than uncertain or history, read from a fuller entry), then the
// one documented in more words; when the note documents both alike, the
// code of the rule's first column, which the standard is written for.
func (k *ClassCoder) cannotCodeWith(codes []merged, drop func(coding.Code, string)) []merged {
	if len(k.pairs) == 0 || len(codes) < 2 {
		return codes
	}
	gone := make([]bool, len(codes))
	for _, r := range k.pairs {
		for i := range codes {
			if gone[i] || !r.codes.Holds(codes[i].code.Code) {
				continue
			}
			for j := range codes {
				if j == i || gone[i] || gone[j] || !r.with.Holds(codes[j].code.Code) {
					continue
				}
				keep, lose, why := i, j, "the code the rule is written for, documented alike"
				if c, w := betterDocumented(codes[i], codes[j]); c != 0 {
					why = w
					if c < 0 {
						keep, lose = j, i
					}
				}
				gone[lose] = true
				rule := fmt.Sprintf("%s line %d (rule %s): %s is not coded with %s", k.pairsPack, r.line, r.id, r.codesText, r.withText)
				drop(codes[lose].code, fmt.Sprintf("cannot be coded with %s: %s; %s kept, %s",
					codes[keep].code.Code, rule, codes[keep].code.Code, why))
				codes[keep].code.Trail = append(codes[keep].code.Trail, coding.Step{Kind: coding.StepVerify, Ref: r.id,
					Detail: fmt.Sprintf("%s; %s not coded (%s kept: %s)", rule, codes[lose].code.Code, codes[keep].code.Code, why)})
			}
		}
	}
	out := codes[:0:0]
	for i, m := range codes {
		if !gone[i] {
			out = append(out, m)
		}
	}
	return out
}

// betterDocumented compares how a note documents two codes: positive when
// a is documented better, negative when b is, with the reason; 0 when
// alike.
func betterDocumented(a, b merged) (int, string) {
	if c := cmp.Compare(len(a.code.Evidence), len(b.code.Evidence)); c != 0 {
		return c, "documented more often"
	}
	if c := cmp.Compare(round2(a.code.Confidence), round2(b.code.Confidence)); c != 0 {
		return c, "coded with more confidence"
	}
	if c := cmp.Compare(a.words, b.words); c != 0 {
		return c, "documented in more words"
	}
	return 0, ""
}
