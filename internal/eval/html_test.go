package eval

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// htmlRun is a small scored run: I10 in the gold of 8 documents, E11.9 of
// 3, K35.80 of 1; the coder finds I10 everywhere, E11.9 once, predicts
// J18.9 (never gold) twice with a trail, and rejected K35.80 with a
// reason.
func htmlRun(t *testing.T) *Report {
	t.Helper()
	var docs []DocResult
	for i := range 8 {
		d := DocResult{ID: fmt.Sprintf("doc-%d", i), Seconds: 0.001 * float64(i+1),
			Gold:        []GoldCode{{Code: "I10", System: codesys.ICD10CM}},
			Predictions: []Prediction{{Code: "I10", System: codesys.ICD10CM, Score: 0.9}}}
		if i < 3 {
			d.Gold = append(d.Gold, GoldCode{Code: "E11.9", System: codesys.ICD10CM})
		}
		if i == 0 {
			d.Predictions = append(d.Predictions, Prediction{Code: "E11.9", System: codesys.ICD10CM, Score: 0.6})
		}
		if i < 2 {
			d.Predictions = append(d.Predictions, Prediction{Code: "J18.9", System: codesys.ICD10CM, Score: 0.95 - 0.1*float64(i),
				Trail: []coding.Step{{Kind: coding.StepIndex, Detail: "Index: Pneumonia → J18.9"}}})
		}
		if i == 7 {
			d.Gold = append(d.Gold, GoldCode{Code: "K35.80", System: codesys.ICD10CM})
			d.Rejected = []Prediction{{Code: "K35.80", System: codesys.ICD10CM, Reason: "documented as ruled out"}}
		}
		docs = append(docs, d)
	}
	rep := &Report{Meta: Meta{Format: FormatVersion, Dataset: "jsonl", Split: "dev", Coder: "offline",
		Systems: []codesys.System{codesys.ICD10CM}, Documents: len(docs), Bootstrap: 50, Seed: 1}, Documents: docs}
	rep.Scores = Score(docs, ScoreOptions{Systems: rep.Meta.Systems, Bootstrap: 50, Seed: 1})
	rep.Cost = cost(docs, 0, 0)
	return rep
}

func TestWriteHTML(t *testing.T) {
	var b bytes.Buffer
	if err := htmlRun(t).WriteHTML(&b, HTMLOptions{}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"<!DOCTYPE html>", "By chapter", "By code frequency", "precision and recall by minimum score",
		"reliability", "Time to code one document",
		"Index: Pneumonia → J18.9", // the false positive's trail
		"documented as ruled out",  // why the missed gold code was missed
		"best F1",                  // the threshold that maximises F1 is marked
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n < 5 {
		t.Errorf("the report has %d charts, want at least 5 (chapters, frequency, threshold, reliability, latency)", n)
	}
	if strings.Contains(page, "<?xml") {
		t.Error("an XML prolog was left inside the HTML page")
	}
	// Self-contained: nothing is fetched, nothing runs.
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:|//)|url\(\s*["']?(https?:|//)|@import|<script|<link`)
	if m := external.FindString(page); m != "" {
		t.Errorf("the report refers to something outside it: %q", m)
	}
}

func TestGroupScoresByFrequency(t *testing.T) {
	rep := htmlRun(t)
	sel := []codesys.System{codesys.ICD10CM}
	got := groupScores(rep.Documents, sel, frequencyFunc(rep.Documents, sel), bucketCompare, 0, 1)
	want := []struct {
		group      string
		codes      int
		tp, fp, fn int
	}{
		{BucketOnce, 1, 0, 0, 1},   // K35.80
		{BucketFew, 1, 1, 0, 2},    // E11.9, 3 documents
		{BucketSome, 1, 8, 0, 0},   // I10, 8 documents
		{BucketNoGold, 1, 0, 2, 0}, // J18.9
	}
	if len(got) != len(want) {
		t.Fatalf("groups = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Group != w.group || g.Codes != w.codes || g.TP != w.tp || g.FP != w.fp || g.FN != w.fn || g.HasCI {
			t.Errorf("group %d = %+v, want %+v", i, g, w)
		}
	}
	withCI := groupScores(rep.Documents, sel, frequencyFunc(rep.Documents, sel), bucketCompare, 200, 1)
	for _, g := range withCI {
		if !g.HasCI || g.F1CI.Low > g.F1+1e-9 || g.F1CI.High < g.F1-1e-9 {
			t.Errorf("group %s: F1 %.3f outside its interval %+v", g.Group, g.F1, g.F1CI)
		}
	}
}

func TestWorstErrors(t *testing.T) {
	rep := htmlRun(t)
	sel := []codesys.System{codesys.ICD10CM}
	ch := chapterFunc(&rep.Scores[0])
	fps := worstFalsePositives(rep.Documents, sel, ch, 1)
	if len(fps) != 1 || fps[0].Code != "J18.9" || fps[0].Score != 0.95 {
		t.Errorf("worst false positive = %+v, want J18.9 at 0.95", fps)
	}
	fns := worstFalseNegatives(rep.Documents, sel, ch, 10)
	if len(fns) != 2 || fns[0].Code != "E11.9" || fns[0].Missed != 2 || fns[0].Gold != 3 ||
		fns[1].Code != "K35.80" || len(fns[1].Rejected) != 1 {
		t.Errorf("false negatives = %+v, want E11.9 missed 2 of 3, then K35.80 with its rejection", fns)
	}
}

func TestCompareChaptersHTML(t *testing.T) {
	a := htmlRun(t)
	b := htmlRun(t)
	// B stops predicting J18.9: precision rises in chapter 10, nothing
	// else moves.
	for i := range b.Documents {
		d := &b.Documents[i]
		d.Predictions = slices.DeleteFunc(slices.Clone(d.Predictions), func(p Prediction) bool { return p.Code == "J18.9" })
	}
	b.Scores = Score(b.Documents, ScoreOptions{Systems: b.Meta.Systems})
	c, err := Compare(a, b, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := CompareChapters(a, b, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	moved := map[string]float64{}
	for _, g := range groups {
		if g.DeltaP != 0 || g.DeltaR != 0 || g.DeltaF1 != 0 {
			moved[g.Group] = g.DeltaP
		}
		if g.PF1 <= 0 || g.PF1 > 1 {
			t.Errorf("%s: p-value %v outside (0, 1]", g.Group, g.PF1)
		}
	}
	// Without the Tabular List's chapters every ICD-10-CM code is one
	// group.
	if len(moved) != 1 || moved["other icd10cm"] <= 0 {
		t.Errorf("groups that moved = %v, want only other icd10cm, precision up", moved)
	}
	var buf bytes.Buffer
	if err := c.WriteHTML(&buf, groups); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<svg", "micro_precision", "F1 by chapter", "other icd10cm"} {
		if !strings.Contains(page, want) {
			t.Errorf("the comparison lacks %q", want)
		}
	}
	b.Documents = b.Documents[1:]
	if _, err := CompareChapters(a, b, 10, 1); err == nil {
		t.Error("CompareChapters paired runs of different documents")
	}
}
