package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const cm, pcs = codesys.ICD10CM, codesys.ICD10PCS

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func checkPRF(t *testing.T, what string, got PRF, p, r, f float64) {
	t.Helper()
	if !near(got.Precision, p) || !near(got.Recall, r) || !near(got.F1, f) {
		t.Errorf("%s = P %.6f R %.6f F1 %.6f, want P %.6f R %.6f F1 %.6f", what, got.Precision, got.Recall, got.F1, p, r, f)
	}
}

func gold(sys codesys.System, codes ...string) []GoldCode {
	var g []GoldCode
	for _, c := range codes {
		g = append(g, GoldCode{Code: c, System: sys})
	}
	return g
}

func preds(sys codesys.System, codes ...string) []Prediction {
	p := []Prediction{}
	for _, c := range codes {
		p = append(p, Prediction{Code: c, System: sys})
	}
	return p
}

func TestCanonCode(t *testing.T) {
	for _, tc := range []struct {
		sys      codesys.System
		in, want string
	}{
		{cm, "n28.89", "N28.89"},
		{cm, "N2889", "N28.89"},
		{cm, " n28.89 ", "N28.89"},
		{cm, "I10", "I10"},
		{cm, "i10.", "I10"},
		{cm, "s52.521a", "S52.521A"},
		{pcs, "0dtj0zz", "0DTJ0ZZ"},
		{pcs, "0DT.J0ZZ", "0DTJ0ZZ"},
		{pcs, "ct13", "CT13"},
	} {
		if got := CanonCode(tc.sys, tc.in); got != tc.want {
			t.Errorf("CanonCode(%s, %q) = %q, want %q", tc.sys, tc.in, got, tc.want)
		}
	}
}

func TestCategoryAndChapter(t *testing.T) {
	if got := Category(cm, "E11.65"); got != "E11" {
		t.Errorf("Category(E11.65) = %q", got)
	}
	if got := Category(pcs, "0DTJ0ZZ"); got != "0DT" {
		t.Errorf("Category(0DTJ0ZZ) = %q", got)
	}
	// Chapter boundaries as the ICD-10-CM Tabular List publishes them,
	// read from the release.
	chs := NewChapters(shareddata.Load(t, "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz", codesys.ReadTabular))
	for code, prefix := range map[string]string{
		"A41.9": "CM 1 ", "D49.9": "CM 2 ", "C4A.9": "CM 2 ", "D50.0": "CM 3 ", "E11.9": "CM 4 ",
		"H59.0": "CM 7 ", "H60.0": "CM 8 ", "I10": "CM 9 ", "O9A.1": "CM 15 ",
		"S52.521A": "CM 19 ", "T88.7": "CM 19 ", "U07.1": "CM 22 ", "W19": "CM 20 ", "Z79.4": "CM 21 ",
	} {
		if got := Chapter(chs, cm, code); !strings.HasPrefix(got, prefix) {
			t.Errorf("Chapter(%s) = %q, want prefix %q", code, got, prefix)
		}
	}
	if got := Chapter(nil, cm, "E11.9"); got != "other icd10cm" {
		t.Errorf("Chapter without chapters = %q, want other icd10cm", got)
	}
	if got := Chapter(chs, pcs, "BW03ZZZ"); got != "PCS B Imaging" {
		t.Errorf("Chapter(BW03ZZZ) = %q", got)
	}
}

func TestOffsets(t *testing.T) {
	// "ñ" and "í" are two bytes each in UTF-8.
	text := "niño ecografía"
	o := NewOffsets(text)
	if o.Chars() != 14 {
		t.Fatalf("Chars = %d, want 14", o.Chars())
	}
	sp, ok := o.ByteSpan(5, 14) // "ecografía" by characters
	if !ok || text[sp.Start:sp.End] != "ecografía" {
		t.Errorf("ByteSpan(5, 14) = %v %v (%q), want ecografía", sp, ok, text[sp.Start:sp.End])
	}
	if c := o.Char(sp.Start); c != 5 {
		t.Errorf("Char(%d) = %d, want 5", sp.Start, c)
	}
	if c := o.Char(len(text)); c != 14 {
		t.Errorf("Char(end) = %d, want 14", c)
	}
	if _, ok := o.ByteSpan(10, 15); ok {
		t.Error("ByteSpan past the end should fail")
	}
	if _, ok := o.ByteSpan(3, 3); ok {
		t.Error("empty ByteSpan should fail")
	}
}

// codeDocs is the hand-computed example of TestCodeMetrics.
func codeDocs() []DocResult {
	return []DocResult{
		// TP I10, E11.9; FP J18.9; FN N39.0. Ranked: hit, hit, miss.
		{ID: "d1", Gold: gold(cm, "E11.9", "I10", "N39.0"), Predictions: preds(cm, "I10", "E11.9", "J18.9")},
		// Empty predictions: FN E11.9.
		{ID: "d2", Gold: gold(cm, "E11.9"), Predictions: preds(cm)},
		// Duplicates in different case and with or without dot: TP I10 once.
		{ID: "d3", Gold: gold(cm, "i10", "I10"), Predictions: preds(cm, "i10", "I10.", "I10")},
		// Wrong code, right category: FP E11.9, FN E11.65; category TP E11.
		{ID: "d4", Gold: gold(cm, "e11.65"), Predictions: preds(cm, "E119")},
	}
}

func TestCodeMetrics(t *testing.T) {
	chs := NewChapters(shareddata.Load(t, "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz", codesys.ReadTabular))
	sc := Score(codeDocs(), ScoreOptions{Chapters: chs})
	if len(sc) != 1 || sc[0].System != string(cm) {
		t.Fatalf("Score gave %d score sets (%v), want one for icd10cm", len(sc), sc)
	}
	s := sc[0]
	// Micro: TP 3, FP 2, FN 3.
	checkPRF(t, "micro", s.Micro, 3.0/5, 3.0/6, 6.0/11)
	if s.Micro.TP != 3 || s.Micro.FP != 2 || s.Micro.FN != 3 || s.GoldCodes != 6 || s.PredictedCodes != 5 {
		t.Errorf("micro counts = %+v gold %d pred %d", s.Micro, s.GoldCodes, s.PredictedCodes)
	}
	// Macro over E11.9 (P 1/2 R 1/2 F1 1/2), I10 (1 1 1), N39.0, J18.9,
	// E11.65 (all 0).
	checkPRF(t, "macro", s.Macro, 1.5/5, 1.5/5, 1.5/5)
	if s.MacroCodes != 5 {
		t.Errorf("MacroCodes = %d, want 5", s.MacroCodes)
	}
	// Categories: TP E11 (d1, d4), I10 (d1, d3); FP J18; FN N39, E11 (d2).
	checkPRF(t, "category micro", s.CategoryMicro, 4.0/5, 4.0/6, 8.0/11)
	// Category macro over E11 (P 1, R 2/3, F1 0.8), I10 (1 1 1), J18 and
	// N39 (0 0 0); F1 is the mean of the per-category F1.
	checkPRF(t, "category macro", s.CategoryMacro, 2.0/4, (2.0/3+1)/4, 1.8/4)
	if !near(s.ExactMatch, 1.0/4) {
		t.Errorf("ExactMatch = %v, want 0.25", s.ExactMatch)
	}
	// AP: d1 (1/1 + 2/2)/3, d2 0, d3 1, d4 0.
	if want := (2.0/3 + 1) / 4; !near(s.MAP, want) || s.MAPDocuments != 4 {
		t.Errorf("MAP = %v over %d, want %v over 4", s.MAP, s.MAPDocuments, want)
	}
	byCode := map[string]CodeScore{}
	for _, c := range s.PerCode {
		byCode[c.Code] = c
	}
	if c := byCode["E11.9"]; c.TP != 1 || c.FP != 1 || c.FN != 1 {
		t.Errorf("per-code E11.9 = %+v", c)
	}
	byCat := map[string]CodeScore{}
	for _, c := range s.PerCategory {
		byCat[c.Code] = c
	}
	if c := byCat["E11"]; c.TP != 2 || c.FP != 0 || c.FN != 1 {
		t.Errorf("per-category E11 = %+v, want TP 2 FN 1", c)
	}
	if len(s.PerChapter) != 4 { // chapters 4, 9, 10 and 14
		t.Errorf("PerChapter = %+v, want 4 chapters", s.PerChapter)
	}
	for _, g := range s.PerChapter {
		if strings.HasPrefix(g.Group, "CM 4 ") && (g.TP != 1 || g.FP != 1 || g.FN != 2 || g.Codes != 2) {
			t.Errorf("chapter 4 = %+v, want TP 1 FP 1 FN 2 over 2 codes", g)
		}
	}
	if s.Evidence != nil || s.CodiEspX != nil {
		t.Error("no gold spans, yet evidence scores")
	}
}

func TestAllEmpty(t *testing.T) {
	docs := []DocResult{{ID: "a", Gold: gold(cm, "I10"), Predictions: preds(cm)}, {ID: "b", Predictions: preds(cm, "I10")}}
	s := Score(docs, ScoreOptions{Systems: []codesys.System{cm}, Bootstrap: 50})[0]
	checkPRF(t, "micro", s.Micro, 0, 0, 0)
	checkPRF(t, "macro", s.Macro, 0, 0, 0)
	if s.MAPDocuments != 1 || s.MAP != 0 {
		t.Errorf("MAP = %v over %d, want 0 over 1", s.MAP, s.MAPDocuments)
	}
	rep := &Report{Meta: Meta{Format: FormatVersion}, Scores: []Scores{s}, Documents: docs}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatalf("WriteJSON: %v", err) // NaN would fail here
	}
}

func TestSystemsScoredApart(t *testing.T) {
	// "B02.0" (zoster encephalitis) and the partial PCS code "B020" are the
	// same characters without the dot; they must not match each other.
	docs := []DocResult{{
		ID:          "d",
		Gold:        append(gold(cm, "B02.0"), gold(pcs, "0DTJ0ZZ")...),
		Predictions: append(preds(pcs, "B020"), Prediction{Code: "0dtj0zz"}), // system left out: guessed
	}}
	sc := Score(docs, ScoreOptions{})
	if len(sc) != 3 || sc[0].System != All || sc[1].System != string(cm) || sc[2].System != string(pcs) {
		t.Fatalf("systems = %v", sc)
	}
	checkPRF(t, "all", sc[0].Micro, 0.5, 0.5, 0.5)
	checkPRF(t, "cm", sc[1].Micro, 0, 0, 0)
	checkPRF(t, "pcs", sc[2].Micro, 0.5, 1, 2.0/3)
	// Scoring only ICD-10-CM ignores the procedure predictions.
	only := Score(docs, ScoreOptions{Systems: []codesys.System{cm}})
	if len(only) != 1 || only[0].PredictedCodes != 0 || only[0].GoldCodes != 1 {
		t.Errorf("CM only = %+v", only)
	}
}

func span(text, sub string) Span {
	i := strings.Index(text, sub)
	if i < 0 {
		panic(sub)
	}
	return Span{i, i + len(sub)}
}

func TestEvidenceMetrics(t *testing.T) {
	text := "Patient has type 2 diabetes. Hypertension, stable."
	g := []GoldCode{
		{Code: "E11.9", System: cm, Evidence: []Mention{{span(text, "type 2 diabetes")}}},
		{Code: "I10", System: cm, Evidence: []Mention{{span(text, "Hypertension")}}},
		{Code: "Z79.4", System: cm, Evidence: []Mention{{span(text, "stable")}}},
	}
	p := []Prediction{
		// Partial evidence, overlapping itself: one token of three.
		{Code: "E11.9", System: cm, Evidence: []Span{span(text, "diabetes"), span(text, "diabetes.")}},
		// Evidence with a trailing comma: exact after trimming.
		{Code: "I10", System: cm, Evidence: []Span{span(text, "Hypertension,")}},
		// Wrong code: not part of span metrics, a CodiEsp-X false positive.
		{Code: "R03.0", System: cm, Evidence: []Span{span(text, "stable")}},
	}
	ev := Evidence(text, g, p)[cm]
	want := EvidenceCounts{Codes: 2, ExactTP: 1, ExactPred: 2, ExactGold: 2, TokenTP: 2, TokenPred: 2, TokenGold: 4, XTP: 1, XPred: 3, XGold: 3}
	if ev != want {
		t.Errorf("Evidence = %+v\nwant       %+v", ev, want)
	}
	s := Score([]DocResult{{ID: "d", Gold: g, Predictions: p, Evidence: Evidence(text, g, p)}}, ScoreOptions{})[0]
	checkPRF(t, "exact", s.Evidence.Exact, 0.5, 0.5, 0.5)
	checkPRF(t, "token", s.Evidence.Token, 1, 0.5, 2.0/3)
	checkPRF(t, "codiesp-x", *s.CodiEspX, 1.0/3, 1.0/3, 1.0/3)
}

func TestCodiEspXDiscontinuousAndCharacters(t *testing.T) {
	// Ten two-byte characters and a space before the gold reference: a
	// prediction starting there is 11 characters early (too far), one
	// starting at the second ñ is 10 characters early (allowed) but 19
	// bytes early.
	text := "ññññññññññ ecografía renal y luego derecha fin"
	first, last := span(text, "ecografía renal"), span(text, "derecha")
	gold := []Mention{{first, last}} // discontinuous: hull runs from first to last
	for _, tc := range []struct {
		name string
		pred []Span
		want bool
	}{
		{"hull exactly", []Span{{first.Start, last.End}}, true},
		{"pieces", []Span{first, last}, true}, // their hull matches
		{"first piece only", []Span{first}, false},
		{"10 chars early", []Span{{2, last.End}}, true},
		{"11 chars early", []Span{{0, last.End}}, false},
		{"11 chars late", []Span{{first.Start, last.End + len(" fin")}}, true},
		{"starts inside", []Span{{first.Start + 1, last.End}}, false},
		{"none", nil, false},
	} {
		if got := codiespXMatch(NewOffsets(text), tc.pred, gold); got != tc.want {
			t.Errorf("%s: match = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestReleaseCheck(t *testing.T) {
	known := CatalogFunc(func(sys codesys.System, code string) bool { return code == "I10" })
	docs := []Document{{ID: "d", Gold: append(gold(cm, "I10", "E11.9", "e119"), gold(pcs, "0DTJ0ZZ")...)}}
	rep, err := Run(context.Background(), CoderFunc(func(ctx context.Context, d Document) (Result, error) {
		return Result{}, nil
	}), docs, Options{Catalog: known, ReleaseName: "icd10cm-2026", ReleaseSystems: []codesys.System{cm}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Scores) != 3 {
		t.Fatalf("scores for %d selections, want all, icd10cm, icd10pcs", len(rep.Scores))
	}
	for _, s := range rep.Scores[:2] {
		rc := s.Release
		if rc == nil || rc.Gold != 2 || rc.Unknown != 1 || len(rc.UnknownCodes) != 1 || rc.UnknownCodes[0] != "E11.9" || !near(rc.RecallCeiling, 0.5) {
			t.Errorf("%s: release check = %+v", s.System, rc)
		}
	}
	if rc := rep.Scores[2].Release; rc != nil {
		t.Errorf("procedures were not checked, yet %+v", rc)
	}
}

func TestRun(t *testing.T) {
	docs := []Document{
		{ID: "a", Text: "hypertension", Gold: gold(cm, "I10")},
		{ID: "b", Text: "nothing", Gold: gold(cm, "E11.9")},
	}
	coder := CoderFunc(func(ctx context.Context, d Document) (Result, error) {
		if strings.Contains(d.Text, "hypertension") {
			return Result{Predictions: preds(cm, "I10"), Usage: Usage{Calls: 2, InputTokens: 100, CachedTokens: 40, OutputTokens: 10, Cost: 0.25}}, nil
		}
		return Result{}, nil
	})
	var calls []int
	rep, err := Run(context.Background(), coder, docs, Options{Dataset: "test", Split: "dev", Bootstrap: 20, Seed: 1,
		Progress: func(done, total int) { calls = append(calls, done) }})
	if err != nil {
		t.Fatal(err)
	}
	checkPRF(t, "micro", rep.Scores[0].Micro, 1, 0.5, 2.0/3)
	if len(calls) != 2 || calls[1] != 2 {
		t.Errorf("progress calls = %v", calls)
	}
	if rep.Cost.CallsPerNote != 1 || rep.Cost.InputTokensPerNote != 50 || rep.Cost.CachedTokensPerNote != 20 || rep.Cost.PeakMemory <= 0 {
		t.Errorf("cost = %+v", rep.Cost)
	}
	if rep.Cost.Usage != (Usage{Calls: 2, InputTokens: 100, CachedTokens: 40, OutputTokens: 10, Cost: 0.25}) {
		t.Errorf("run usage = %+v, want the sum over documents", rep.Cost.Usage)
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&buf, "run.json")
	if err != nil {
		t.Fatal(err)
	}
	again := Score(back.Documents, ScoreOptions{Bootstrap: 20, Seed: 1})
	if again[0].Micro != rep.Scores[0].Micro || again[0].CI[MetricMicroF1] != rep.Scores[0].CI[MetricMicroF1] {
		t.Errorf("rescored from file: %+v, want %+v", again[0], rep.Scores[0])
	}
	var table, md bytes.Buffer
	if err := rep.WriteTable(&table); err != nil || !strings.Contains(table.String(), "scored split: dev") {
		t.Errorf("table: %v\n%s", err, table.String())
	}
	if err := rep.WriteMarkdown(&md, MarkdownOptions{}); err != nil || !strings.Contains(md.String(), "| icd10cm | micro_f1 | 0.6667 |") {
		t.Errorf("markdown: %v\n%s", err, md.String())
	}

	_, err = Run(context.Background(), CoderFunc(func(context.Context, Document) (Result, error) {
		return Result{Predictions: []Prediction{{Code: "I10", System: cm, Evidence: []Span{{5, 20}}}}}, nil
	}), docs, Options{})
	if err == nil || !strings.Contains(err.Error(), "outside the text") {
		t.Errorf("span past the end: err = %v", err)
	}

	boom := errors.New("boom")
	_, err = Run(context.Background(), CoderFunc(func(context.Context, Document) (Result, error) { return Result{}, boom }), docs, Options{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "document a") {
		t.Errorf("coder error = %v", err)
	}
}

func manyDocs(n int, predict func(i int) []Prediction) []DocResult {
	docs := make([]DocResult, n)
	for i := range docs {
		docs[i] = DocResult{ID: string(rune('a'+i%26)) + strings.Repeat("x", i/26), Gold: gold(cm, "I10", "E11.9"), Predictions: predict(i)}
	}
	return docs
}

func TestBootstrap(t *testing.T) {
	docs := manyDocs(40, func(i int) []Prediction {
		if i%3 == 0 {
			return preds(cm, "I10")
		}
		return preds(cm, "I10", "E11.9", "J18.9")
	})
	a := Score(docs, ScoreOptions{Bootstrap: 200, Seed: 7})[0]
	b := Score(docs, ScoreOptions{Bootstrap: 200, Seed: 7})[0]
	iv := a.CI[MetricMicroF1]
	if iv != b.CI[MetricMicroF1] {
		t.Errorf("same seed, different intervals: %v and %v", iv, b.CI[MetricMicroF1])
	}
	if !(iv.Low <= a.Micro.F1 && a.Micro.F1 <= iv.High) || iv.Low == iv.High {
		t.Errorf("micro F1 %v, interval %v", a.Micro.F1, iv)
	}
	// Identical documents: every resample is the same.
	same := manyDocs(10, func(int) []Prediction { return preds(cm, "I10") })
	s := Score(same, ScoreOptions{Bootstrap: 50, Seed: 1})[0]
	if iv := s.CI[MetricMicroF1]; !near(iv.Low, 2.0/3) || !near(iv.High, 2.0/3) {
		t.Errorf("constant interval = %v, want 2/3", iv)
	}
	if _, ok := s.CI[MetricEvTokenF1]; ok {
		t.Error("interval for evidence metric without gold evidence")
	}
}

func TestCompare(t *testing.T) {
	none := manyDocs(30, func(int) []Prediction { return preds(cm) })
	all := manyDocs(30, func(int) []Prediction { return preds(cm, "I10", "E11.9") })
	a := &Report{Meta: Meta{Dataset: "x", Systems: []codesys.System{cm}}, Documents: none}
	b := &Report{Meta: Meta{Dataset: "x", Systems: []codesys.System{cm}}, Documents: all}
	c, err := Compare(a, b, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Rows {
		if r.Metric == MetricMicroF1 && (r.Delta != 1 || r.P > 0.01) {
			t.Errorf("none vs all: %+v", r)
		}
	}
	c, err = Compare(a, a, 200, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range c.Rows {
		if r.Delta != 0 || r.P != 1 {
			t.Errorf("run vs itself: %+v", r)
		}
	}
	var buf bytes.Buffer
	if err := c.WriteTable(&buf); err != nil || !strings.Contains(buf.String(), "micro_f1") {
		t.Errorf("table: %v\n%s", err, buf.String())
	}
	short := &Report{Meta: a.Meta, Documents: none[:29]}
	if _, err := Compare(a, short, 10, 1); err == nil {
		t.Error("compare of different document sets succeeded")
	}
}

// TestCost: speed from the per-document times (hand-computed: five notes
// of 1 to 5 seconds), usage summed and per note.
func TestCost(t *testing.T) {
	var docs []DocResult
	for i := 1; i <= 5; i++ {
		docs = append(docs, DocResult{ID: fmt.Sprint(i), Seconds: float64(i), Usage: Usage{Calls: i, InputTokens: 100 * i, Cost: 0.01}})
	}
	c := cost(docs, 20*time.Second, 1<<20)
	if !near(c.NotesPerSecond, 5.0/15) || !near(c.P50, 3) || !near(c.P95, 4.8) {
		t.Errorf("notes/s %v p50 %v p95 %v, want 1/3, 3, 4.8", c.NotesPerSecond, c.P50, c.P95)
	}
	if c.Seconds != 20 || c.PeakMemory != 1<<20 || c.Usage.Calls != 15 || c.Usage.InputTokens != 1500 || !near(c.Usage.Cost, 0.05) ||
		!near(c.CallsPerNote, 3) || !near(c.InputTokensPerNote, 300) {
		t.Errorf("cost = %+v", c)
	}
	if c := cost(nil, time.Second, 0); c.NotesPerSecond != 0 || c.P50 != 0 {
		t.Errorf("no documents: %+v", c)
	}
}

// TestEvidenceDiscontinuousAndOverlapping: exact and token overlap with a
// discontinuous gold mention (two pieces) and overlapping gold mentions of
// one code, hand-computed.
func TestEvidenceDiscontinuousAndOverlapping(t *testing.T) {
	text := "Fracture of the left distal radius after a fall; radius fracture healing."
	g := []GoldCode{
		// One discontinuous mention ("Fracture" ... "distal radius") and
		// one overlapping the second mention's words.
		{Code: "S52.5", System: cm, Evidence: []Mention{
			{span(text, "Fracture"), span(text, "distal radius")},
			{span(text, "radius fracture")},
			{span(text, "radius fracture healing")},
		}},
	}
	p := []Prediction{
		// "Fracture" is exact; "left distal radius" covers two of its
		// words that are gold; "fracture healing" overlaps the third.
		{Code: "S52.5", System: cm, Evidence: []Span{span(text, "Fracture"), span(text, "left distal radius"), span(text, "fracture healing")}},
	}
	ev := Evidence(text, g, p)[cm]
	// Gold spans (trimmed, distinct): Fracture, distal radius, radius
	// fracture, radius fracture healing = 4; predicted 3; exact: Fracture.
	// Gold words: Fracture, distal, radius, radius(2nd), fracture(2nd),
	// healing = 6; predicted words: Fracture, left, distal, radius,
	// fracture(2nd), healing = 6; shared: 5. CodiEsp-X: no predicted
	// reference contains a gold one (the hull of the discontinuous
	// mention ends at "radius"; "fracture healing" starts after "radius
	// fracture healing" does), so no match.
	want := EvidenceCounts{Codes: 1, ExactTP: 1, ExactPred: 3, ExactGold: 4, TokenTP: 5, TokenPred: 6, TokenGold: 6, XTP: 0, XPred: 1, XGold: 1}
	if ev != want {
		t.Errorf("Evidence = %+v\nwant       %+v", ev, want)
	}
}

// TestMacroOrderFree: a macro average is the same to the last bit however
// the map it is read from orders its codes, so that a paired bootstrap of
// two identical runs finds no difference.
func TestMacroOrderFree(t *testing.T) {
	m := map[key]*[3]int{}
	for i := range 500 {
		m[key{"icd10cm", fmt.Sprintf("C%03d", i)}] = &[3]int{i % 7, i % 5, i % 3}
	}
	_, first, _ := microMacro(m)
	for range 50 {
		if _, got, _ := microMacro(m); got != first {
			t.Fatalf("macro %+v, then %+v: the order of the map changed it", first, got)
		}
	}
}
