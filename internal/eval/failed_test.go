package eval

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRunFailedDocuments: a document the coder failed on is reported
// apart and left out of the scores, not scored as a document with no
// codes: one correct document and one failed give precision and recall 1
// over one document.
func TestRunFailedDocuments(t *testing.T) {
	docs := []Document{
		{ID: "ok", Text: "x", Gold: []GoldCode{{Code: "I10", System: cm}}},
		{ID: "bad", Text: "y", Gold: []GoldCode{{Code: "E11.9", System: cm}}},
	}
	c := CoderFunc(func(_ context.Context, d Document) (Result, error) {
		if d.ID == "bad" {
			return Result{Failed: true, Reasons: []string{"analyze: model call failed"}}, nil
		}
		return Result{Predictions: []Prediction{{Code: "I10", System: cm}}}, nil
	})
	rep, err := Run(context.Background(), c, docs, Options{Dataset: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.FailedDocuments(); len(f) != 1 || f[0].ID != "bad" || f[0].Reasons[0] != "analyze: model call failed" {
		t.Fatalf("failed documents = %+v", f)
	}
	s := rep.Scores[0]
	if s.GoldCodes != 1 || s.Micro.Recall != 1 || s.Micro.Precision != 1 {
		t.Errorf("scores = gold %d, P %.3f, R %.3f; want the failed document left out", s.GoldCodes, s.Micro.Precision, s.Micro.Recall)
	}
	var b bytes.Buffer
	if err := rep.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "FAILED: 1 of 2 documents could not be coded and are not scored: bad (analyze: model call failed)") {
		t.Errorf("table does not report the failure:\n%s", b.String())
	}
}
