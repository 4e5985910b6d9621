package eval

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// All is the Scores.System of the scores over every system together.
const All = "all"

// Scores are the metrics of a run for one system, or for all together.
type Scores struct {
	// System is a codesys.System or All.
	System    string `json:"system"`
	Documents int    `json:"documents"`
	// GoldCodes and PredictedCodes count distinct (document, code) pairs.
	GoldCodes      int `json:"goldCodes"`
	PredictedCodes int `json:"predictedCodes"`
	// Micro averages every (document, code) decision; Macro averages the
	// per-code scores over MacroCodes codes, those present in gold or
	// prediction.
	Micro      PRF `json:"micro"`
	Macro      PRF `json:"macro"`
	MacroCodes int `json:"macroCodes"`
	// CategoryMicro and CategoryMacro are the same at three-character
	// category level.
	CategoryMicro PRF `json:"categoryMicro"`
	CategoryMacro PRF `json:"categoryMacro"`
	// ExactMatch is the share of documents whose predicted code set equals
	// the gold set.
	ExactMatch float64 `json:"exactMatch"`
	// MAP is the mean average precision of the ranked predictions over the
	// MAPDocuments documents that have gold codes, as CodiEsp-D and -P
	// scored.
	MAP          float64 `json:"map"`
	MAPDocuments int     `json:"mapDocuments"`
	// Evidence holds the span metrics over correctly predicted codes; nil
	// when the gold has no spans.
	Evidence *EvidenceScores `json:"evidence,omitempty"`
	// CodiEspX is the CodiEsp-X score: a predicted code counts only if its
	// evidence matches a gold reference. Nil when the gold has no spans.
	CodiEspX *PRF `json:"codiespX,omitempty"`
	// PartialCredit is the micro score when a complete ICD-10-PCS
	// prediction counts for a partial gold code it begins ("BW20ZZZ" for
	// CodiEsp's "BW20"); nil when the gold has no partial codes. Micro
	// compares codes exactly, as CodiEsp's own evaluation does.
	PartialCredit *PRF `json:"partialCredit,omitempty"`
	// Release says how many gold codes are missing from the active release.
	Release *ReleaseCheck `json:"release,omitempty"`
	// Calibration is the expected calibration error of the scores; nil
	// when nothing was predicted.
	Calibration *CalibrationError `json:"calibration,omitempty"`
	// CI holds bootstrap confidence intervals by metric name.
	CI map[string]Interval `json:"ci,omitempty"`
	// PerChapter, PerCode and PerCategory break the micro scores down by
	// chapter (or PCS section), code and three-character category.
	PerChapter  []GroupScore `json:"perChapter"`
	PerCode     []CodeScore  `json:"perCode"`
	PerCategory []CodeScore  `json:"perCategory"`
}

// EvidenceScores are span-level scores over the correctly predicted codes
// that have gold evidence.
type EvidenceScores struct {
	Codes int `json:"codes"`
	Exact PRF `json:"exact"`
	Token PRF `json:"token"`
}

// ReleaseCheck counts the gold codes that the active release does not
// have: misses no release-aware coder could avoid. Only the systems the
// release was checked for are counted.
type ReleaseCheck struct {
	// Gold is the number of gold (document, code) pairs checked.
	Gold int `json:"gold"`
	// Unknown is how many of them the release lacks.
	Unknown int `json:"unknown"`
	// UnknownCodes lists the distinct codes the release lacks.
	UnknownCodes []string `json:"unknownCodes,omitempty"`
	// RecallCeiling is the micro recall of a coder that finds every gold
	// code the release has.
	RecallCeiling float64 `json:"recallCeiling"`
}

// Interval is a confidence interval.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// GroupScore is the micro score of one chapter (or PCS section).
type GroupScore struct {
	Group string `json:"group"`
	Codes int    `json:"codes"`
	PRF
}

// CodeScore is the score of one code over all documents.
type CodeScore struct {
	Code   string         `json:"code"`
	System codesys.System `json:"system"`
	// Chapter is the group the code is reported under in PerChapter
	// (per-code rows only).
	Chapter string `json:"chapter,omitempty"`
	PRF
}

// ScoreOptions control scoring.
type ScoreOptions struct {
	// Systems to score separately; nil means every system in the gold.
	// Scores over all systems together always come first.
	Systems []codesys.System
	// Bootstrap is the number of bootstrap resamples for confidence
	// intervals; 0 computes none.
	Bootstrap int
	// Seed seeds the bootstrap so that intervals are reproducible.
	Seed uint64
	// Confidence is the interval's coverage; 0 means 0.95.
	Confidence float64
	// Chapters are the ICD-10-CM chapters per-chapter scores group codes
	// by; nil groups them all as "other icd10cm".
	Chapters *Chapters
}

// Score computes the metrics of a run from its documents.
// Documents the coder failed on are left out: they are reported apart
// (Report.FailedDocuments), not scored as documents with no codes.
func Score(docs []DocResult, opt ScoreOptions) []Scores {
	docs = slices.DeleteFunc(slices.Clone(docs), func(d DocResult) bool { return d.Failed })
	systems := opt.Systems
	if len(systems) == 0 {
		systems = goldSystems(docs)
	}
	var out []Scores
	if len(systems) != 1 {
		out = append(out, scoreSelection(docs, All, systems, opt))
	}
	for _, sys := range systems {
		out = append(out, scoreSelection(docs, string(sys), []codesys.System{sys}, opt))
	}
	return out
}

// goldSystems lists the systems of the gold codes, known systems first.
func goldSystems(docs []DocResult) []codesys.System {
	var found []codesys.System
	for _, d := range docs {
		for _, g := range d.Gold {
			if !slices.Contains(found, g.System) {
				found = append(found, g.System)
			}
		}
	}
	rank := func(s codesys.System) int {
		if i := slices.Index(codesys.Systems, s); i >= 0 {
			return i
		}
		return len(codesys.Systems)
	}
	slices.SortStableFunc(found, func(a, b codesys.System) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	return found
}

// scoreSelection scores the codes of the systems in sel under the given
// name. sel is never nil here: "all" means the systems being scored, not
// every system a coder may have predicted.
func scoreSelection(docs []DocResult, name string, sel []codesys.System, opt ScoreOptions) Scores {
	stats := make([]docStats, len(docs))
	for i := range docs {
		stats[i] = statsFor(&docs[i], sel)
	}
	idx := allIndexes(len(docs))
	s := aggregate(stats, idx)
	sc := Scores{
		System:         name,
		Documents:      len(docs),
		GoldCodes:      s.micro.TP + s.micro.FN,
		PredictedCodes: s.micro.TP + s.micro.FP,
		Micro:          s.micro,
		Macro:          s.macro,
		MacroCodes:     s.macroCodes,
		CategoryMicro:  s.catMicro,
		CategoryMacro:  s.catMacro,
		ExactMatch:     s.emr,
		MAP:            s.mAP,
		MAPDocuments:   s.mapDocs,
	}
	if s.ev.Codes > 0 || s.ev.XGold > 0 {
		sc.Evidence = &EvidenceScores{Codes: s.ev.Codes, Exact: s.ev.exact(), Token: s.ev.token()}
		x := s.ev.codiespX()
		sc.CodiEspX = &x
	}
	sc.PartialCredit = partialCredit(docs, sel)
	sc.Release = releaseCheck(docs, sel)
	sc.Calibration = calibrationError(docs, sel)
	per := counts(stats, idx, false)
	groups := make(map[string]*[4]int) // TP, FP, FN, codes
	var groupNames []string
	for _, k := range sortedKeys(per) {
		c := per[k]
		g := Chapter(opt.Chapters, k.sys, k.code)
		sc.PerCode = append(sc.PerCode, CodeScore{Code: k.code, System: k.sys, Chapter: g, PRF: NewPRF(c[0], c[1], c[2])})
		if groups[g] == nil {
			groups[g] = new([4]int)
			groupNames = append(groupNames, g)
		}
		groups[g][0] += c[0]
		groups[g][1] += c[1]
		groups[g][2] += c[2]
		groups[g][3]++
	}
	cats := counts(stats, idx, true)
	for _, k := range sortedKeys(cats) {
		c := cats[k]
		sc.PerCategory = append(sc.PerCategory, CodeScore{Code: k.code, System: k.sys, PRF: NewPRF(c[0], c[1], c[2])})
	}
	slices.SortFunc(groupNames, chapterOrder)
	for _, g := range groupNames {
		c := groups[g]
		sc.PerChapter = append(sc.PerChapter, GroupScore{Group: g, Codes: c[3], PRF: NewPRF(c[0], c[1], c[2])})
	}
	if opt.Bootstrap > 0 && len(docs) > 0 {
		sc.CI = bootstrapCI(stats, &s, opt)
	}
	return sc
}

// chapterOrder sorts groups as the classification does: ICD-10-CM
// chapters by number, then PCS sections, then the rest.
func chapterOrder(a, b string) int {
	na, nb := chapterNum(a), chapterNum(b)
	if na != nb {
		return na - nb
	}
	return strings.Compare(a, b)
}

func chapterNum(g string) int {
	if len(g) > 3 && g[:3] == "CM " {
		n := 0
		for _, c := range g[3:] {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	if len(g) > 4 && g[:4] == "PCS " {
		return 100
	}
	return 200
}

func releaseCheck(docs []DocResult, sel []codesys.System) *ReleaseCheck {
	checked := false
	rc := &ReleaseCheck{}
	seen := make(map[string]bool)
	for _, d := range docs {
		for _, k := range goldKeys(d.Gold, sel) {
			if !slices.Contains(d.ReleaseChecked, k.sys) {
				continue
			}
			checked = true
			rc.Gold++
			if slices.Contains(d.Unknown, k.code) {
				rc.Unknown++
				if !seen[k.code] {
					seen[k.code] = true
					rc.UnknownCodes = append(rc.UnknownCodes, k.code)
				}
			}
		}
	}
	if !checked {
		return nil
	}
	slices.Sort(rc.UnknownCodes)
	rc.RecallCeiling = ratio(rc.Gold-rc.Unknown, rc.Gold)
	return rc
}

// bootstrapCI resamples documents with replacement and returns percentile
// intervals for every metric that applies.
func bootstrapCI(stats []docStats, point *summary, opt ScoreOptions) map[string]Interval {
	conf := opt.Confidence
	if conf <= 0 || conf >= 1 {
		conf = 0.95
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x6d6564636f6465)) // "medcode"
	n := len(stats)
	samples := make(map[string][]float64)
	idx := make([]int, n)
	for range opt.Bootstrap {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		s := aggregate(stats, idx)
		for _, m := range Metrics {
			if point.applies(m) {
				samples[m] = append(samples[m], s.get(m))
			}
		}
	}
	out := make(map[string]Interval)
	for m, xs := range samples {
		slices.Sort(xs)
		out[m] = Interval{Low: quantile(xs, (1-conf)/2), High: quantile(xs, 1-(1-conf)/2)}
	}
	return out
}

// quantile returns the q-quantile of sorted xs by linear interpolation.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	pos := q * float64(len(xs)-1)
	i := int(pos)
	if i+1 >= len(xs) {
		return xs[len(xs)-1]
	}
	f := pos - float64(i)
	return xs[i]*(1-f) + xs[i+1]*f
}
