package eval

import (
	"cmp"
	"math"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// CalibrationBins is the number of equal-width score bins of the expected
// calibration error and the reliability diagram.
const CalibrationBins = 10

// CalibrationError is the expected calibration error (ECE) of a run's
// scores: over CalibrationBins equal-width bins of the score, the mean of
// |observed precision - mean score| weighted by the share of predictions
// in the bin. A coder whose score-0.8 codes are right 80% of the time has
// ECE 0.
type CalibrationError struct {
	Bins        int     `json:"bins"`
	Predictions int     `json:"predictions"`
	ECE         float64 `json:"ece"`
	// RawECE is the ECE of the coder's own scores when the run's scores
	// were mapped through a calibration table (Calibrated).
	RawECE     float64 `json:"rawEce,omitempty"`
	Calibrated bool    `json:"calibrated,omitempty"`
}

// ScoredPrediction is one distinct (document, code) prediction of a
// scored system, with whether it is right.
type ScoredPrediction struct {
	Document string `json:"document"`
	// System is the coder's classification of the code (a calibration
	// is per system of the coder, not of the gold it is scored as).
	System codesys.System `json:"system"`
	Code   string         `json:"code"`
	// Score is the score as reported; Raw the coder's own, before any
	// calibration.
	Score   float64 `json:"score"`
	Raw     float64 `json:"raw"`
	Correct bool    `json:"correct"`
	// Prediction is the prediction as the run file holds it.
	Prediction *Prediction `json:"-"`
}

// ScoredPredictions returns the distinct predictions of the systems in sel
// (nil: every system) over docs, each once per document as scoring counts
// it, with whether it matches a gold code.
func ScoredPredictions(docs []DocResult, sel []codesys.System) []ScoredPrediction {
	var out []ScoredPrediction
	for i := range docs {
		d := &docs[i]
		gold := make(map[key]bool)
		for _, k := range goldKeys(d.Gold, sel) {
			gold[k] = true
		}
		seen := make(map[key]bool)
		for j := range d.Predictions {
			p := &d.Predictions[j]
			ks := predKeys(d.Predictions[j:j+1], sel)
			if len(ks) == 0 || seen[ks[0]] {
				continue
			}
			seen[ks[0]] = true
			out = append(out, ScoredPrediction{
				Document: d.ID, System: cmp.Or(p.System, GuessSystem(p.Code)), Code: ks[0].code,
				Score: p.Score, Raw: p.rawScore(), Correct: gold[ks[0]], Prediction: p,
			})
		}
	}
	return out
}

// ReliabilityBin is one score bin of a reliability diagram.
type ReliabilityBin struct {
	Low, High float64
	Count     int
	// MeanScore is the mean score of the bin's predictions; Precision the
	// share of them that are right.
	MeanScore float64
	Precision float64
}

// Reliability bins predictions by score into CalibrationBins equal-width
// bins over [0, 1]; raw selects the coder's own scores. A score of
// exactly 1 falls into the last bin; scores outside [0, 1] are clamped.
func Reliability(preds []ScoredPrediction, raw bool) []ReliabilityBin {
	bins := make([]ReliabilityBin, CalibrationBins)
	sum := make([]float64, CalibrationBins)
	right := make([]int, CalibrationBins)
	for i := range bins {
		bins[i].Low = float64(i) / CalibrationBins
		bins[i].High = float64(i+1) / CalibrationBins
	}
	for _, p := range preds {
		s := p.Score
		if raw {
			s = p.Raw
		}
		s = min(max(s, 0), 1)
		b := min(int(s*CalibrationBins), CalibrationBins-1)
		bins[b].Count++
		sum[b] += s
		if p.Correct {
			right[b]++
		}
	}
	for i := range bins {
		if n := bins[i].Count; n > 0 {
			bins[i].MeanScore = sum[i] / float64(n)
			bins[i].Precision = float64(right[i]) / float64(n)
		}
	}
	return bins
}

// ECE returns the expected calibration error of the binned predictions.
func ECE(bins []ReliabilityBin) float64 {
	n := 0
	for _, b := range bins {
		n += b.Count
	}
	if n == 0 {
		return 0
	}
	var e float64
	for _, b := range bins {
		e += float64(b.Count) / float64(n) * math.Abs(b.Precision-b.MeanScore)
	}
	return e
}

func calibrationError(docs []DocResult, sel []codesys.System) *CalibrationError {
	preds := ScoredPredictions(docs, sel)
	if len(preds) == 0 {
		return nil
	}
	ce := &CalibrationError{Bins: CalibrationBins, Predictions: len(preds), ECE: ECE(Reliability(preds, false))}
	if slices.ContainsFunc(preds, func(p ScoredPrediction) bool { return p.Prediction.RawScore != nil }) {
		ce.Calibrated = true
		ce.RawECE = ECE(Reliability(preds, true))
	}
	return ce
}

// ThresholdPoint is the micro score of the predictions whose score is at
// least Threshold.
type ThresholdPoint struct {
	Threshold float64 `json:"threshold"`
	Kept      int     `json:"kept"`
	PRF
}

// ThresholdCurve returns the micro precision, recall and F1 of keeping
// only the predictions scored at least t, for every distinct score t,
// highest first; gold is the number of gold (document, code) pairs. It is
// what --min-score t would give on these documents.
func ThresholdCurve(preds []ScoredPrediction, gold int) []ThresholdPoint {
	sorted := slices.Clone(preds)
	slices.SortStableFunc(sorted, func(a, b ScoredPrediction) int { return cmp.Compare(b.Score, a.Score) })
	var out []ThresholdPoint
	tp := 0
	for i, p := range sorted {
		if p.Correct {
			tp++
		}
		if i+1 < len(sorted) && sorted[i+1].Score == p.Score {
			continue
		}
		kept := i + 1
		out = append(out, ThresholdPoint{Threshold: p.Score, Kept: kept, PRF: NewPRF(tp, kept-tp, gold-tp)})
	}
	return out
}

// BestThreshold returns the point of the curve with the highest F1 (the
// highest threshold among equals), and false for an empty curve.
func BestThreshold(curve []ThresholdPoint) (ThresholdPoint, bool) {
	if len(curve) == 0 {
		return ThresholdPoint{}, false
	}
	best := curve[0]
	for _, p := range curve[1:] {
		if p.F1 > best.F1 {
			best = p
		}
	}
	return best, true
}
