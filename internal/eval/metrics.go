package eval

import (
	"cmp"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// PRF is precision, recall and F1 with the counts they come from (the
// counts are zero for macro averages, which have none).
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	TP        int     `json:"tp,omitempty"`
	FP        int     `json:"fp,omitempty"`
	FN        int     `json:"fn,omitempty"`
}

// NewPRF computes precision, recall and F1 from counts. A ratio whose
// denominator is zero is 0: no predictions give precision 0, no gold
// gives recall 0, and F1 is 2TP/(2TP+FP+FN).
func NewPRF(tp, fp, fn int) PRF {
	return PRF{
		Precision: ratio(tp, tp+fp),
		Recall:    ratio(tp, tp+fn),
		F1:        ratio(2*tp, 2*tp+fp+fn),
		TP:        tp, FP: fp, FN: fn,
	}
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// key identifies a code within a document: the same characters may be an
// ICD-10-CM category and a partial ICD-10-PCS code.
type key struct {
	sys  codesys.System
	code string
}

func (k key) less(o key) int {
	return cmp.Or(cmp.Compare(k.sys, o.sys), cmp.Compare(k.code, o.code))
}

// outcome is one code's contribution in one document: exactly one of tp,
// fp and fn is 1.
type outcome struct {
	k          key
	tp, fp, fn int
}

// docStats holds what one document contributes to every metric of one
// selection of systems, so that bootstrap resampling only sums.
type docStats struct {
	codes, cats []outcome
	exact       bool
	ap          float64
	hasGold     bool
	ev          EvidenceCounts
}

// GuessSystem names the system of a prediction that did not say: a code of
// ICD-10-CM shape is ICD-10-CM, any other ICD-10-PCS.
func GuessSystem(code string) codesys.System {
	if _, err := codesys.ParseCode(code); err == nil {
		return codesys.ICD10CM
	}
	return codesys.ICD10PCS
}

// goldKeys returns the document's distinct gold codes of the systems in
// sel (all systems when sel is nil), in canonical form.
func goldKeys(gold []GoldCode, sel []codesys.System) []key {
	var ks []key
	for _, g := range gold {
		if sel != nil && !slices.Contains(sel, g.System) {
			continue
		}
		k := key{g.System, CanonCode(g.System, g.Code)}
		if k.code != "" && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return ks
}

// predKeys returns the document's distinct predicted codes in sel, in the
// coder's order (a repeated code keeps its first rank).
func predKeys(preds []Prediction, sel []codesys.System) []key {
	var ks []key
	for _, p := range preds {
		sys := cmp.Or(p.ScoredSystem, p.System)
		if sys == "" {
			sys = GuessSystem(p.Code)
		}
		if sel != nil && !slices.Contains(sel, sys) {
			continue
		}
		k := key{sys, CanonCode(sys, p.scoredCode())}
		if k.code != "" && !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	return ks
}

func categoryKeys(ks []key) []key {
	var out []key
	for _, k := range ks {
		c := key{k.sys, Category(k.sys, k.code)}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// outcomes compares a document's predicted and gold code sets.
func outcomes(pred, gold []key) (out []outcome, exact bool) {
	for _, k := range gold {
		if slices.Contains(pred, k) {
			out = append(out, outcome{k: k, tp: 1})
		} else {
			out = append(out, outcome{k: k, fn: 1})
		}
	}
	for _, k := range pred {
		if !slices.Contains(gold, k) {
			out = append(out, outcome{k: k, fp: 1})
		}
	}
	return out, len(out) == len(gold) && len(gold) == len(pred)
}

// averagePrecision is the average precision of a ranked list against a
// gold set, as trec_eval computes it: the mean over gold codes of the
// precision at the rank where each is found, 0 for those never found.
func averagePrecision(ranked, gold []key) float64 {
	if len(gold) == 0 {
		return 0
	}
	hits, sum := 0, 0.0
	for i, k := range ranked {
		if slices.Contains(gold, k) {
			hits++
			sum += float64(hits) / float64(i+1)
		}
	}
	return sum / float64(len(gold))
}

func statsFor(d *DocResult, sel []codesys.System) docStats {
	gold := goldKeys(d.Gold, sel)
	pred := predKeys(d.Predictions, sel)
	var s docStats
	s.codes, s.exact = outcomes(pred, gold)
	s.cats, _ = outcomes(categoryKeys(pred), categoryKeys(gold))
	s.hasGold = len(gold) > 0
	s.ap = averagePrecision(pred, gold)
	for sys, c := range d.Evidence {
		if sel == nil || slices.Contains(sel, sys) {
			s.ev.add(c)
		}
	}
	return s
}

// summary is the set of headline metrics for a sample of documents.
type summary struct {
	micro, macro       PRF
	macroCodes         int
	catMicro, catMacro PRF
	emr, mAP           float64
	mapDocs            int
	ev                 EvidenceCounts
}

// Metric names for confidence intervals and comparisons.
const (
	MetricMicroP     = "micro_precision"
	MetricMicroR     = "micro_recall"
	MetricMicroF1    = "micro_f1"
	MetricMacroF1    = "macro_f1"
	MetricCatMicroF1 = "category_micro_f1"
	MetricCatMacroF1 = "category_macro_f1"
	MetricExactMatch = "exact_match"
	MetricMAP        = "map"
	MetricEvExactF1  = "evidence_exact_f1"
	MetricEvTokenF1  = "evidence_token_f1"
	MetricCodiEspXF1 = "codiesp_x_f1"
)

// Metrics lists the metric names in report order.
var Metrics = []string{
	MetricMicroP, MetricMicroR, MetricMicroF1, MetricMacroF1,
	MetricCatMicroF1, MetricCatMacroF1, MetricExactMatch, MetricMAP,
	MetricEvExactF1, MetricEvTokenF1, MetricCodiEspXF1,
}

func (s *summary) get(name string) float64 {
	switch name {
	case MetricMicroP:
		return s.micro.Precision
	case MetricMicroR:
		return s.micro.Recall
	case MetricMicroF1:
		return s.micro.F1
	case MetricMacroF1:
		return s.macro.F1
	case MetricCatMicroF1:
		return s.catMicro.F1
	case MetricCatMacroF1:
		return s.catMacro.F1
	case MetricExactMatch:
		return s.emr
	case MetricMAP:
		return s.mAP
	case MetricEvExactF1:
		return s.ev.exact().F1
	case MetricEvTokenF1:
		return s.ev.token().F1
	case MetricCodiEspXF1:
		return s.ev.codiespX().F1
	}
	return 0
}

// applies reports whether a metric has any data behind it in s.
func (s *summary) applies(name string) bool {
	switch name {
	case MetricEvExactF1, MetricEvTokenF1:
		return s.ev.Codes > 0
	case MetricCodiEspXF1:
		return s.ev.XGold > 0
	case MetricMAP:
		return s.mapDocs > 0
	}
	return true
}

// counts sums code outcomes per code.
func counts(stats []docStats, idx []int, cats bool) map[key]*[3]int {
	m := make(map[key]*[3]int)
	for _, i := range idx {
		list := stats[i].codes
		if cats {
			list = stats[i].cats
		}
		for _, o := range list {
			c := m[o.k]
			if c == nil {
				c = new([3]int)
				m[o.k] = c
			}
			c[0] += o.tp
			c[1] += o.fp
			c[2] += o.fn
		}
	}
	return m
}

// microMacro computes micro averages over all code decisions and macro
// averages over the codes present in gold or prediction (the corrected
// definition of Edin et al. 2023: codes absent from both are left out).
func microMacro(m map[key]*[3]int) (micro, macro PRF, n int) {
	var tp, fp, fn int
	ps, rs, fs := make([]float64, 0, len(m)), make([]float64, 0, len(m)), make([]float64, 0, len(m))
	for _, c := range m {
		tp, fp, fn = tp+c[0], fp+c[1], fn+c[2]
		p := NewPRF(c[0], c[1], c[2])
		ps, rs, fs = append(ps, p.Precision), append(rs, p.Recall), append(fs, p.F1)
	}
	if n = len(m); n > 0 {
		macro = PRF{Precision: mean(ps), Recall: mean(rs), F1: mean(fs)}
	}
	return NewPRF(tp, fp, fn), macro, n
}

// mean is the mean of xs, summed in sorted order: the map a macro average
// is read from gives its values in any order, and floating-point sums of
// one set in two orders may differ in the last bit, which a paired
// bootstrap of two identical runs would count as a difference.
func mean(xs []float64) float64 {
	slices.Sort(xs)
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func aggregate(stats []docStats, idx []int) summary {
	var s summary
	s.micro, s.macro, s.macroCodes = microMacro(counts(stats, idx, false))
	s.catMicro, s.catMacro, _ = microMacro(counts(stats, idx, true))
	exact := 0
	for _, i := range idx {
		d := &stats[i]
		if d.exact {
			exact++
		}
		if d.hasGold {
			s.mAP += d.ap
			s.mapDocs++
		}
		s.ev.add(d.ev)
	}
	s.emr = ratio(exact, len(idx))
	if s.mapDocs > 0 {
		s.mAP /= float64(s.mapDocs)
	}
	return s
}

func allIndexes(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[key]*[3]int) []key {
	ks := make([]key, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, key.less)
	return ks
}
