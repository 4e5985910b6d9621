package assert

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// TestEvaluateDevSet runs the classifier on the physician-annotated
// NegEx/ConText dev set and guards against regressions. The floors sit a
// little below the scores measured when the triggers were written
// (negation F1 0.976, temporality accuracy 0.91, experiencer 0.998).
func TestEvaluateDevSet(t *testing.T) {
	path := shareddata.Path(t, "eval/context/annotations-dev.tsv")
	rep, err := EvaluateFile(context.Background(), New(), path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	if rep.Rows != 1600 {
		t.Errorf("rows = %d, want 1600", rep.Rows)
	}
	if f1 := rep.Negation.Class("negated").F1; f1 < 0.96 {
		t.Errorf("negation F1 = %.3f, below the floor 0.96", f1)
	}
	if acc := rep.Temporality.Accuracy; acc < 0.89 {
		t.Errorf("temporality accuracy = %.3f, below the floor 0.89", acc)
	}
	if acc := rep.Experiencer.Accuracy; acc < 0.99 {
		t.Errorf("experiencer accuracy = %.3f, below the floor 0.99", acc)
	}
}

func TestEvaluateTSV(t *testing.T) {
	// rows written for this test, in the layout of the ConText test set
	tsv := "n\tcondition\tsentence\tnegation\ttemporality\texperiencer\n" +
		"1\tchest pain\tHe denies CHEST PAIN.\tNegated\tRecent\tPatient\n" +
		"2\tasthma\tShe has a history of ASTHMA.\tAffirmed\tHistorical\tPatient\n" +
		"3\tbreast cancer\tHer mother had BREAST CANCER.\tAffirmed\tRecent\tFamily member\n" +
		"4\tfever\tCall if FEVER develops.\tAffirmed\tNot particular\tPatient\n" +
		"5\tcough\tCOUGH for three days.\tAffirmed\tRecent\tPatient\n"
	rep, err := EvaluateTSV(context.Background(), New(), strings.NewReader(tsv))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 5 || rep.Negation.Accuracy != 1 || rep.Temporality.Accuracy != 1 || rep.Experiencer.Accuracy != 1 {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Errorf("report:\n%s", buf.String())
	}
	if c := rep.Negation.Class("negated"); c.Support != 1 || c.Precision != 1 || c.Recall != 1 {
		t.Errorf("negated class = %+v", c)
	}
	for _, bad := range []string{
		"h\n1\tx\ty\n",
		"h\n1\tx\tX.\tMaybe\tRecent\tPatient\n",
	} {
		if _, err := EvaluateTSV(context.Background(), New(), strings.NewReader(bad)); err == nil {
			t.Errorf("EvaluateTSV(%q): no error", bad)
		}
	}
}
