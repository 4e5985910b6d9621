package eval

import (
	"context"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// TestRunForm: with a dataset form, gold and predictions are compared in
// it, the prediction keeps its code and records the compared form, and
// gold codes the form makes equal are merged.
func TestRunForm(t *testing.T) {
	docs := []Document{{ID: "d1", Text: "x", Gold: []GoldCode{
		{Code: "t14.90", System: cm}, {Code: "T14.91", System: cm}, {Code: "E11.9", System: cm},
	}}}
	c := CoderFunc(func(context.Context, Document) (Result, error) {
		return Result{Predictions: []Prediction{{Code: "T14.90XA", System: cm}, {Code: "I10", System: cm}}}, nil
	})
	form := func(sys codesys.System, code string) string {
		if strings.HasPrefix(code, "T") {
			return code[:5]
		}
		return code
	}
	rep, err := Run(context.Background(), c, docs, Options{Dataset: "t", Form: form, FormName: "test form"})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Documents[0]
	if d.Predictions[0].Code != "T14.90XA" || d.Predictions[0].Scored != "T14.9" || d.Predictions[1].Scored != "" {
		t.Errorf("predictions = %+v", d.Predictions)
	}
	if len(d.Gold) != 2 {
		t.Errorf("gold = %+v, want T14.9 once and E11.9", d.Gold)
	}
	s := rep.Scores[0]
	if s.Micro.TP != 1 || s.Micro.FP != 1 || s.Micro.FN != 1 {
		t.Errorf("micro = %+v, want TP 1 FP 1 FN 1", s.Micro)
	}
	if rep.Meta.CodeForm != "test form" {
		t.Errorf("meta code form = %q", rep.Meta.CodeForm)
	}
	// Without the form, nothing matches.
	rep, err = Run(context.Background(), c, docs, Options{Dataset: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if s := rep.Scores[0]; s.Micro.TP != 0 {
		t.Errorf("without form: micro = %+v, want TP 0", s.Micro)
	}
}
