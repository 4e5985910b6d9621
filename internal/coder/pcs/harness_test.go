package pcs

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// harnessCoder adapts the PCS coder to the evaluation harness: complete
// codes first (score = confidence), then, when partial is set, each
// query's partial code cut to four characters, the form CodiEsp's
// annotators gave incomplete codes (score below every complete code).
func harnessCoder(c *Coder, partial bool) eval.Coder {
	p := note.NewParser()
	cls := assert.New()
	return eval.CoderFunc(func(ctx context.Context, doc eval.Document) (eval.Result, error) {
		n, err := p.Parse(doc.Text)
		if err != nil {
			return eval.Result{}, err
		}
		r, err := c.Code(ctx, n, cls.Analyze(n))
		if err != nil {
			return eval.Result{}, err
		}
		var out eval.Result
		for _, cd := range r.Codes {
			pr := eval.Prediction{Code: cd.Code, System: codesys.ICD10PCS, Score: cd.Confidence}
			for _, e := range cd.Evidence {
				pr.Evidence = append(pr.Evidence, eval.Span{Start: e.Start, End: e.End})
			}
			out.Predictions = append(out.Predictions, pr)
		}
		if partial {
			var seen []string
			for _, q := range r.Queries {
				if len(q.Partial) < 4 || slices.Contains(seen, q.Partial[:4]) {
					continue
				}
				seen = append(seen, q.Partial[:4])
				pr := eval.Prediction{Code: q.Partial[:4], System: codesys.ICD10PCS, Score: 0.3}
				for _, e := range q.Evidence {
					pr.Evidence = append(pr.Evidence, eval.Span{Start: e.Start, End: e.End})
				}
				out.Predictions = append(out.Predictions, pr)
			}
		}
		return out, nil
	})
}

// TestHarnessCodiEspDev scores CodiEsp-P dev (English) with the
// evaluation harness (internal/eval), procedures only, and logs its table:
// the numbers in docs/benchmarks.md.
func TestHarnessCodiEspDev(t *testing.T) {
	dir := shareddata.Path(t, codiespDir)
	docs, err := codiesp.Load(dir, "dev", codiesp.English)
	if err != nil {
		t.Fatal(err)
	}
	c := testCoder(t)
	for _, partial := range []bool{false, true} {
		rep, err := eval.Run(context.Background(), harnessCoder(c, partial), docs, eval.Options{
			Dataset: "codiesp", Split: "dev", Language: codiesp.English, Coder: "offline-pcs",
			Systems: []codesys.System{codesys.ICD10PCS},
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := rep.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
		t.Logf("partial codes scored as 4 characters: %v\n%s", partial, buf.String())
	}
}
