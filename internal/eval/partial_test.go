package eval

import (
	"testing"
)

// TestPartialGold: a predicted partial ICD-10-PCS code matches a partial
// gold code when they are equal; a complete code whose first characters
// are a partial gold code is wrong in the headline (exact) scores and
// right in PartialCredit, once per gold code and never when the partial
// code is predicted itself or the complete code is gold.
func TestPartialGold(t *testing.T) {
	tests := []struct {
		name        string
		gold, pred  []string
		exact       [3]int // TP, FP, FN
		credit      [3]int
		creditIsNil bool
	}{
		{"partial = partial", []string{"0DJD"}, []string{"0DJD"}, [3]int{1, 0, 0}, [3]int{1, 0, 0}, false},
		{"partial != other partial", []string{"0DJD"}, []string{"0DJ6"}, [3]int{0, 1, 1}, [3]int{0, 1, 1}, false},
		{"full begins partial gold", []string{"BW20"}, []string{"BW20ZZZ"}, [3]int{0, 1, 1}, [3]int{1, 0, 0}, false},
		{"full of another body part", []string{"BW20"}, []string{"BW21ZZZ"}, [3]int{0, 1, 1}, [3]int{0, 1, 1}, false},
		{"two full codes, one partial gold", []string{"BW20"}, []string{"BW20ZZZ", "BW201ZZ"}, [3]int{0, 2, 1}, [3]int{1, 0, 0}, false},
		{"partial predicted too", []string{"BW20"}, []string{"BW20", "BW20ZZZ"}, [3]int{1, 1, 0}, [3]int{1, 1, 0}, false},
		{"partial prediction, full gold", []string{"BW20ZZZ"}, []string{"BW20"}, [3]int{0, 1, 1}, [3]int{0, 1, 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs := []DocResult{{ID: "d", Gold: gold(pcs, tt.gold...), Predictions: preds(pcs, tt.pred...)}}
			s := Score(docs, ScoreOptions{})[0]
			if got := [3]int{s.Micro.TP, s.Micro.FP, s.Micro.FN}; got != tt.exact {
				t.Errorf("micro TP, FP, FN = %v, want %v", got, tt.exact)
			}
			if tt.creditIsNil {
				if s.PartialCredit != nil {
					t.Errorf("partial credit = %+v, want none (no partial gold)", s.PartialCredit)
				}
				return
			}
			if s.PartialCredit == nil {
				t.Fatal("partial credit missing")
			}
			if got := [3]int{s.PartialCredit.TP, s.PartialCredit.FP, s.PartialCredit.FN}; got != tt.credit {
				t.Errorf("partial credit TP, FP, FN = %v, want %v", got, tt.credit)
			}
		})
	}
}
