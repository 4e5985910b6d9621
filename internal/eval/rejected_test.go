package eval

import (
	"context"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

type resultReasoner coding.Result

func (r *resultReasoner) Code(context.Context, coding.Request) (*coding.Result, error) {
	res := coding.Result(*r)
	return &res, nil
}

// TestRunKeepsTrailsAndRejectedGold: a run file keeps each prediction's
// trail without the steps that quote the note, its raw score, and of the
// codes the coder rejected only those that are missed gold codes.
func TestRunKeepsTrailsAndRejectedGold(t *testing.T) {
	raw := 0.9
	r := &resultReasoner{
		Codes: []coding.Code{{Code: "I10", System: codesys.ICD10CM, Confidence: 0.6, RawConfidence: &raw, Trail: []coding.Step{
			{Kind: coding.StepMention, Detail: `Mention "high blood pressure"`},
			{Kind: coding.StepIndex, Detail: "Index: Hypertension → I10"},
		}}},
		Dropped: []coding.Code{
			{Code: "R51.9", System: codesys.ICD10CM, Reason: "integral to G43.909"}, // a missed gold code
			{Code: "R05.9", System: codesys.ICD10CM, Reason: "negated"},             // not gold
			{Code: "I10", System: codesys.ICD10CM, Reason: "duplicate"},             // gold, but found
		},
	}
	docs := []Document{{ID: "d", Text: "high blood pressure, headache", Gold: []GoldCode{
		{Code: "I10", System: codesys.ICD10CM}, {Code: "R51.9", System: codesys.ICD10CM}}}}
	rep, err := Run(context.Background(), FromReasoner(r, coding.Inpatient, coding.Reportable, nil), docs, Options{Dataset: "t", Split: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	d := rep.Documents[0]
	p := d.Predictions[0]
	if len(p.Trail) != 1 || p.Trail[0].Kind != coding.StepIndex {
		t.Errorf("trail = %+v, want the index step only", p.Trail)
	}
	if p.Score != 0.6 || p.RawScore == nil || *p.RawScore != 0.9 {
		t.Errorf("score %v, raw %v; want 0.6 and 0.9", p.Score, p.RawScore)
	}
	var rejected []string
	for _, x := range d.Rejected {
		rejected = append(rejected, x.Code+": "+x.Reason)
	}
	if want := []string{"R51.9: integral to G43.909"}; !slices.Equal(rejected, want) {
		t.Errorf("rejected gold = %v, want %v", rejected, want)
	}
	if c := rep.Scores[0].Calibration; c == nil || !c.Calibrated || c.Predictions != 1 {
		t.Errorf("calibration = %+v, want one calibrated prediction", c)
	}
}
