package eval

import (
	"context"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// FromReasoner adapts a coding.Reasoner (the offline coder, the LLM agent)
// to the Coder the harness runs. Each document becomes a request in the
// given setting, scope and systems (nil: every system the reasoner has);
// each code becomes a prediction in reporting order, with its confidence
// as score and its evidence spans.
func FromReasoner(r coding.Reasoner, setting coding.Setting, scope coding.Scope, systems []codesys.System) Coder {
	return CoderFunc(func(ctx context.Context, doc Document) (Result, error) {
		res, err := r.Code(ctx, coding.Request{ID: doc.ID, Text: doc.Text, Setting: setting, Scope: scope, Systems: systems})
		if err != nil || res == nil {
			return Result{}, err
		}
		out := Result{
			Predictions: make([]Prediction, 0, len(res.Codes)),
			Usage: Usage{Calls: res.Usage.Calls, InputTokens: res.Usage.InputTokens, CachedTokens: res.Usage.CachedTokens,
				OutputTokens: res.Usage.OutputTokens, Cost: res.Usage.Cost},
			Failed: res.Failed(), Reasons: res.Reasons,
		}
		for _, c := range res.Codes {
			out.Predictions = append(out.Predictions, fromCode(c))
		}
		for _, c := range res.Dropped {
			out.Rejected = append(out.Rejected, fromCode(c))
		}
		return out, nil
	})
}

// fromCode turns a reasoner's code into a prediction. Mention steps quote
// the note, which a run file never holds, so the trail keeps the others.
func fromCode(c coding.Code) Prediction {
	p := Prediction{Code: c.Code, System: c.System, Score: c.Confidence, RawScore: c.RawConfidence, Reason: c.Reason}
	for _, e := range c.Evidence {
		p.Evidence = append(p.Evidence, Span{Start: e.Start, End: e.End})
	}
	for _, s := range c.Trail {
		if s.Kind != coding.StepMention {
			p.Trail = append(p.Trail, s)
		}
	}
	return p
}
