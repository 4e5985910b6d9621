package eval

import (
	"math"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func f64(v float64) *float64 { return &v }

// calDocs: one document, gold I10 and E11.9; predicted I10 (0.9, right),
// J18.9 (0.9, wrong), E11.9 (0.35, right), R51 (0.3, wrong), and I10 again
// (counted once).
func calDocs(raw bool) []DocResult {
	preds := []Prediction{
		{Code: "I10", System: codesys.ICD10CM, Score: 0.9},
		{Code: "J18.9", System: codesys.ICD10CM, Score: 0.9},
		{Code: "E11.9", System: codesys.ICD10CM, Score: 0.35},
		{Code: "R51", System: codesys.ICD10CM, Score: 0.3},
		{Code: "I10", System: codesys.ICD10CM, Score: 0.1},
	}
	if raw {
		for i := range preds {
			preds[i].RawScore = f64(1)
		}
	}
	return []DocResult{{ID: "d1", Gold: []GoldCode{{Code: "I10", System: codesys.ICD10CM}, {Code: "E11.9", System: codesys.ICD10CM}}, Predictions: preds}}
}

func TestCalibrationError(t *testing.T) {
	tests := []struct {
		name    string
		raw     bool
		ece     float64
		rawECE  float64
		calibed bool
	}{
		// Bin 0.9: mean 0.9, precision 0.5; bin 0.3: mean 0.325,
		// precision 0.5. ECE = 0.5*0.4 + 0.5*0.175.
		{"own scores", false, 0.2875, 0, false},
		// Every raw score 1 (last bin), precision 0.5: raw ECE 0.5.
		{"calibrated", true, 0.2875, 0.5, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := calibrationError(calDocs(tt.raw), nil)
			if c == nil || c.Predictions != 4 || math.Abs(c.ECE-tt.ece) > 1e-9 || math.Abs(c.RawECE-tt.rawECE) > 1e-9 || c.Calibrated != tt.calibed {
				t.Errorf("calibrationError = %+v, want 4 predictions, ECE %v, raw %v, calibrated %v", c, tt.ece, tt.rawECE, tt.calibed)
			}
		})
	}
	if c := calibrationError(nil, nil); c != nil {
		t.Errorf("calibrationError of nothing = %+v, want nil", c)
	}
}

func TestThresholdCurve(t *testing.T) {
	preds := ScoredPredictions(calDocs(false), nil)
	curve := ThresholdCurve(preds, 2)
	want := []struct {
		t          float64
		kept, tp   int
		precision  float64
		recall, f1 float64
	}{
		{0.9, 2, 1, 0.5, 0.5, 0.5},
		{0.35, 3, 2, 2.0 / 3, 1, 0.8},
		{0.3, 4, 2, 0.5, 1, 2.0 / 3},
	}
	if len(curve) != len(want) {
		t.Fatalf("curve has %d points, want %d: %+v", len(curve), len(want), curve)
	}
	for i, w := range want {
		p := curve[i]
		if p.Threshold != w.t || p.Kept != w.kept || p.TP != w.tp || math.Abs(p.Precision-w.precision) > 1e-9 ||
			math.Abs(p.Recall-w.recall) > 1e-9 || math.Abs(p.F1-w.f1) > 1e-9 {
			t.Errorf("point %d = %+v, want %+v", i, p, w)
		}
	}
	best, ok := BestThreshold(curve)
	if !ok || best.Threshold != 0.35 {
		t.Errorf("BestThreshold = %+v, want threshold 0.35", best)
	}
}
