package eval

import (
	"cmp"
	"math/rand/v2"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// GroupCI is the micro score of one group of codes (a chapter, a
// frequency bucket) with 95% percentile bootstrap intervals over
// documents; the intervals are zero when the run had no resamples.
type GroupCI struct {
	Group string `json:"group"`
	// Codes is the number of distinct codes of the group in gold or
	// predictions.
	Codes int `json:"codes"`
	PRF
	PrecisionCI Interval `json:"precisionCI"`
	RecallCI    Interval `json:"recallCI"`
	F1CI        Interval `json:"f1CI"`
	HasCI       bool     `json:"hasCI"`
}

// groupScores scores the codes of the systems in sel by group, resampling
// documents for the intervals as Score does. order sorts the groups.
func groupScores(docs []DocResult, sel []codesys.System, group func(key) string, order func(a, b string) int, resamples int, seed uint64) []GroupCI {
	var g groupTally
	codes := map[string]map[key]bool{}
	perDoc := g.count(docs, sel, group, func(k key, name string) {
		if codes[name] == nil {
			codes[name] = map[key]bool{}
		}
		codes[name][k] = true
	})
	names := g.names
	sum := func(idx []int) [][3]int { return g.sum(perDoc, idx) }
	point := sum(allIndexes(len(docs)))
	out := make([]GroupCI, len(names))
	for j, g := range names {
		out[j] = GroupCI{Group: g, Codes: len(codes[g]), PRF: NewPRF(point[j][0], point[j][1], point[j][2])}
	}
	if resamples > 0 && len(docs) > 0 {
		rng := rand.New(rand.NewPCG(seed, 0x67726f757073)) // "groups"
		ps, rs, fs := make([][]float64, len(names)), make([][]float64, len(names)), make([][]float64, len(names))
		idx := make([]int, len(docs))
		for range resamples {
			for i := range idx {
				idx[i] = rng.IntN(len(docs))
			}
			for j, c := range sum(idx) {
				s := NewPRF(c[0], c[1], c[2])
				ps[j] = append(ps[j], s.Precision)
				rs[j] = append(rs[j], s.Recall)
				fs[j] = append(fs[j], s.F1)
			}
		}
		for j := range out {
			out[j].PrecisionCI, out[j].RecallCI, out[j].F1CI = percentile95(ps[j]), percentile95(rs[j]), percentile95(fs[j])
			out[j].HasCI = true
		}
	}
	slices.SortStableFunc(out, func(a, b GroupCI) int { return order(a.Group, b.Group) })
	return out
}

// groupTally counts the true positives, false positives and false
// negatives of each group of codes (a chapter, a frequency band) per
// document, from which per-group scores and their bootstrap resamples
// are summed. Groups are numbered in the order first seen, across every
// count of one tally, so that two runs' counts line up.
type groupTally struct {
	names []string
	index map[string]int
}

// count returns, per document of docs, the counts of each group (by its
// number) of the codes of the systems in sel; seen, when set, is told
// each code and its group.
func (g *groupTally) count(docs []DocResult, sel []codesys.System, group func(key) string, seen func(k key, name string)) []map[int][3]int {
	if g.index == nil {
		g.index = map[string]int{}
	}
	per := make([]map[int][3]int, len(docs))
	for i := range docs {
		per[i] = map[int][3]int{}
		for _, o := range statsFor(&docs[i], sel).codes {
			name := group(o.k)
			j, ok := g.index[name]
			if !ok {
				j = len(g.names)
				g.index[name] = j
				g.names = append(g.names, name)
			}
			if seen != nil {
				seen(o.k, name)
			}
			c := per[i][j]
			per[i][j] = [3]int{c[0] + o.tp, c[1] + o.fp, c[2] + o.fn}
		}
	}
	return per
}

// sum totals the counts per of the documents idx, one total per group.
func (g *groupTally) sum(per []map[int][3]int, idx []int) [][3]int {
	out := make([][3]int, len(g.names))
	for _, i := range idx {
		for j, c := range per[i] {
			out[j] = [3]int{out[j][0] + c[0], out[j][1] + c[1], out[j][2] + c[2]}
		}
	}
	return out
}

func percentile95(xs []float64) Interval {
	slices.Sort(xs)
	return Interval{Low: quantile(xs, 0.025), High: quantile(xs, 0.975)}
}

// chapterFunc returns the chapter of a code as the run's per-code table
// recorded it, or as the classification's sections give it when the run
// file predates that.
func chapterFunc(sc *Scores) func(key) string {
	m := make(map[key]string, len(sc.PerCode))
	for _, c := range sc.PerCode {
		if c.Chapter != "" {
			m[key{c.System, c.Code}] = c.Chapter
		}
	}
	return func(k key) string {
		if g, ok := m[k]; ok {
			return g
		}
		return Chapter(nil, k.sys, k.code)
	}
}

// The frequency buckets: how often a code is in the gold of the scored
// documents (documents that have it).
const (
	BucketOnce   = "seen once"
	BucketFew    = "2-5"
	BucketSome   = "6-20"
	BucketMany   = "more than 20"
	BucketNoGold = "never in gold"
)

// frequencyFunc returns the bucket of a code by its gold frequency in docs.
func frequencyFunc(docs []DocResult, sel []codesys.System) func(key) string {
	freq := map[key]int{}
	for _, d := range docs {
		for _, k := range goldKeys(d.Gold, sel) {
			freq[k]++
		}
	}
	return func(k key) string {
		switch n := freq[k]; {
		case n == 0:
			return BucketNoGold
		case n == 1:
			return BucketOnce
		case n <= 5:
			return BucketFew
		case n <= 20:
			return BucketSome
		}
		return BucketMany
	}
}

func bucketCompare(a, b string) int {
	rank := func(g string) int {
		return slices.Index([]string{BucketOnce, BucketFew, BucketSome, BucketMany, BucketNoGold}, g)
	}
	return cmp.Compare(rank(a), rank(b))
}

// FalsePositive is a predicted code that is not gold, with the coder's
// trail.
type FalsePositive struct {
	ScoredPrediction
	Chapter string
}

// worstFalsePositives returns the n wrong predictions the coder was most
// sure of.
func worstFalsePositives(docs []DocResult, sel []codesys.System, chapter func(key) string, n int) []FalsePositive {
	var out []FalsePositive
	for _, p := range ScoredPredictions(docs, sel) {
		if !p.Correct {
			sys := cmp.Or(p.Prediction.ScoredSystem, p.System)
			out = append(out, FalsePositive{ScoredPrediction: p, Chapter: chapter(key{sys, p.Code})})
		}
	}
	slices.SortStableFunc(out, func(a, b FalsePositive) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Raw, a.Raw))
	})
	return out[:min(n, len(out))]
}

// FalseNegative is a gold code the coder missed, over every document that
// has it, with what the coder said when it considered and rejected it.
type FalseNegative struct {
	Code    string
	System  codesys.System
	Chapter string
	// Missed is the number of documents whose gold has the code and whose
	// predictions lack it; Gold the number whose gold has it.
	Missed, Gold int
	// Documents names up to three documents it was missed in.
	Documents []string
	// Rejected are the coder's rejections of the code, with reasons and
	// trails (up to three).
	Rejected []RejectedCode
}

// RejectedCode is a rejection of a missed gold code in one document.
type RejectedCode struct {
	Document string
	Prediction
}

// worstFalseNegatives returns the n gold codes missed most often.
func worstFalseNegatives(docs []DocResult, sel []codesys.System, chapter func(key) string, n int) []FalseNegative {
	byKey := map[key]*FalseNegative{}
	var order []key
	for _, d := range docs {
		pred := map[key]bool{}
		for _, k := range predKeys(d.Predictions, sel) {
			pred[k] = true
		}
		rejected := map[key]Prediction{}
		for _, r := range d.Rejected {
			if ks := predKeys([]Prediction{r}, sel); len(ks) == 1 {
				rejected[ks[0]] = r
			}
		}
		for _, k := range goldKeys(d.Gold, sel) {
			fn := byKey[k]
			if fn == nil {
				fn = &FalseNegative{Code: k.code, System: k.sys, Chapter: chapter(k)}
				byKey[k] = fn
				order = append(order, k)
			}
			fn.Gold++
			if pred[k] {
				continue
			}
			fn.Missed++
			if len(fn.Documents) < 3 {
				fn.Documents = append(fn.Documents, d.ID)
			}
			if r, ok := rejected[k]; ok && len(fn.Rejected) < 3 {
				fn.Rejected = append(fn.Rejected, RejectedCode{Document: d.ID, Prediction: r})
			}
		}
	}
	var out []FalseNegative
	for _, k := range order {
		if fn := byKey[k]; fn.Missed > 0 {
			out = append(out, *fn)
		}
	}
	slices.SortStableFunc(out, func(a, b FalseNegative) int {
		return cmp.Or(cmp.Compare(b.Missed, a.Missed), cmp.Compare(a.Code, b.Code))
	})
	return out[:min(n, len(out))]
}
