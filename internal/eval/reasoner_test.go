package eval

import (
	"context"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

type fakeReasoner struct{ got coding.Request }

func (f *fakeReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	f.got = req
	return &coding.Result{
		Codes: []coding.Code{
			{Code: "I10", System: cm, Confidence: 0.9, Evidence: []coding.Evidence{{Start: 0, End: 12, Text: "hypertension"}}},
			{Code: "E66.9", System: cm, Confidence: 0.5},
		},
		Usage: coding.Usage{Calls: 3, InputTokens: 1200, CachedTokens: 800, OutputTokens: 90},
	}, nil
}

func TestFromReasoner(t *testing.T) {
	f := &fakeReasoner{}
	c := FromReasoner(f, coding.Outpatient, coding.Mentions, nil)
	res, err := c.Code(context.Background(), Document{ID: "n1", Text: "hypertension, obese"})
	if err != nil {
		t.Fatal(err)
	}
	if f.got.ID != "n1" || f.got.Text != "hypertension, obese" || f.got.Setting != coding.Outpatient || f.got.Scope != coding.Mentions {
		t.Errorf("request = %+v", f.got)
	}
	if len(res.Predictions) != 2 || res.Predictions[0].Code != "I10" || res.Predictions[0].Score != 0.9 ||
		res.Predictions[0].Evidence[0] != (Span{0, 12}) || res.Predictions[1].Evidence != nil {
		t.Errorf("predictions = %+v", res.Predictions)
	}
	if res.Usage != (Usage{Calls: 3, InputTokens: 1200, CachedTokens: 800, OutputTokens: 90}) {
		t.Errorf("usage = %+v", res.Usage)
	}
}
