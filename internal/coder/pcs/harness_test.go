package pcs

import (
	"bytes"
	"context"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// harnessCoder adapts the PCS coder to the evaluation harness: every code
// in the coder's order (score = confidence); with incomplete unset, the
// complete codes only.
func harnessCoder(c *Coder, incomplete bool) eval.Coder {
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
			if cd.Incomplete && !incomplete {
				continue
			}
			pr := eval.Prediction{Code: cd.Code, System: codesys.ICD10PCS, Score: cd.Confidence}
			for _, e := range cd.Evidence {
				pr.Evidence = append(pr.Evidence, eval.Span{Start: e.Start, End: e.End})
			}
			out.Predictions = append(out.Predictions, pr)
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
	for _, incomplete := range []bool{false, true} {
		rep, err := eval.Run(context.Background(), harnessCoder(c, incomplete), docs, eval.Options{
			Dataset: "codiesp", Split: "dev", Language: codiesp.English, Coder: "offline-pcs",
			Systems: []codesys.System{codesys.ICD10PCS}, Form: codiesp.Form, FormName: codiesp.FormName,
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := rep.WriteTable(&buf); err != nil {
			t.Fatal(err)
		}
		t.Logf("incomplete codes: %v\n%s", incomplete, buf.String())
	}
}
