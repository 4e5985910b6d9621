package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
)

// calibrationRun is a dev run of 40 documents, each with gold I10: the
// coder predicts I10 at 0.9 and J18.9 at 0.6 (always wrong), and in the
// first 10 documents also the PCS code 0DTJ4ZZ (too few to fit).
func calibrationRun() *eval.Report {
	rep := &eval.Report{Meta: eval.Meta{Format: eval.FormatVersion, Dataset: "jsonl", Split: "dev", Coder: "offline",
		Systems: []codesys.System{codesys.ICD10CM, codesys.ICD10PCS}}}
	for i := range 40 {
		d := eval.DocResult{ID: fmt.Sprint(i), Gold: []eval.GoldCode{{Code: "I10", System: codesys.ICD10CM}},
			Predictions: []eval.Prediction{{Code: "I10", System: codesys.ICD10CM, Score: 0.9}, {Code: "J18.9", System: codesys.ICD10CM, Score: 0.6}}}
		if i < 10 {
			d.Predictions = append(d.Predictions, eval.Prediction{Code: "0DTJ4ZZ", System: codesys.ICD10PCS, Score: 0.7})
		}
		rep.Documents = append(rep.Documents, d)
	}
	return rep
}

func TestFitTable(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*eval.Report)
		err     string
		skipped int
	}{
		{"dev run", func(*eval.Report) {}, "", 1},
		{"test run refused", func(r *eval.Report) { r.Meta.Split = "test" }, "a test run", 0},
		{"restricted run refused", func(r *eval.Report) { r.Meta.Restriction = &eval.Restriction{Source: "gold"} }, "restricted", 0},
		{"too few everywhere", func(r *eval.Report) { r.Documents = r.Documents[:5] }, "no system has", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := calibrationRun()
			tt.edit(rep)
			tab, skipped, err := fitTable(rep, time.Unix(0, 0))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("fitTable error = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(skipped) != tt.skipped {
				t.Errorf("skipped = %v, want %d", skipped, tt.skipped)
			}
			c := tab.Systems[codesys.ICD10CM]
			if c == nil || c.Map(0.9) != 1 || c.Map(0.6) != 0 || tab.Coder != "offline" || tab.Systems[codesys.ICD10PCS] != nil {
				t.Errorf("table = %+v, want ICD-10-CM 0.9 -> 1 and 0.6 -> 0 for the offline coder, no PCS curve", tab)
			}
		})
	}
}
