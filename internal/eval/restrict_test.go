package eval

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// restrictRun runs two documents whose gold codes make the space {I10, E11.9,
// 0DTJ4ZZ}; the coder predicts, per document, the codes in the map.
func restrictRun(t *testing.T, space *LabelSpace, systems []codesys.System, form FormFunc) *Report {
	t.Helper()
	docs := []Document{
		{ID: "a", Text: "hypertension and diabetes", Gold: append(gold(cm, "I10"), gold(pcs, "0DTJ4ZZ")...)},
		{ID: "b", Text: "diabetes", Gold: gold(cm, "E11.9")},
	}
	predicted := map[string][]Prediction{
		// J45.909 is outside the space; E11.9 is inside (b's gold) but
		// wrong for a; 0DTJ0ZZ is a PCS code outside the space.
		"a": {{Code: "J45.909", System: cm}, {Code: "I10", System: cm}, {Code: "E11.9", System: cm}, {Code: "0DTJ0ZZ", System: pcs}},
		"b": {{Code: "E11.9", System: cm}, {Code: "J45.909", System: cm}, {Code: "J45.909", System: cm}},
	}
	c := CoderFunc(func(_ context.Context, d Document) (Result, error) {
		return Result{Predictions: slices.Clone(predicted[d.ID])}, nil
	})
	rep, err := Run(context.Background(), c, docs, Options{Dataset: "t", Split: "dev", Systems: systems, Restrict: space, Form: form})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func codesOf(ps []Prediction) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Code)
	}
	return out
}

func TestRestrictGold(t *testing.T) {
	rep := restrictRun(t, GoldSpace(), nil, nil)
	a, b := rep.Documents[0], rep.Documents[1]
	// Outside the space: dropped, in the coder's order; inside: kept,
	// right or wrong.
	if got := codesOf(a.Predictions); !slices.Equal(got, []string{"I10", "E11.9"}) {
		t.Errorf("a kept %v, want I10 E11.9", got)
	}
	if got := codesOf(a.Dropped); !slices.Equal(got, []string{"J45.909", "0DTJ0ZZ"}) {
		t.Errorf("a dropped %v, want J45.909 0DTJ0ZZ", got)
	}
	if got := codesOf(b.Predictions); !slices.Equal(got, []string{"E11.9"}) {
		t.Errorf("b kept %v, want E11.9", got)
	}
	r := rep.Meta.Restriction
	// Distinct (document, code) pairs: a has 4, b has 2 (J45.909 twice);
	// dropped: a's J45.909 and 0DTJ0ZZ, b's J45.909.
	if r == nil || r.Source != RestrictGold || r.Codes != 3 || r.Predicted != 6 || r.Dropped != 3 {
		t.Fatalf("restriction = %+v, want gold, 3 codes, 3 of 6 dropped", r)
	}
	all := rep.Scores[0]
	if all.System != All || all.Micro.TP != 2 || all.Micro.FP != 1 || all.Micro.FN != 1 {
		t.Errorf("restricted = %+v, want TP 2 FP 1 FN 1", all.Micro)
	}
	un := rep.Unrestricted[0]
	if un.System != All || un.Micro.TP != 2 || un.Micro.FP != 4 || un.Micro.FN != 1 {
		t.Errorf("unrestricted = %+v, want TP 2 FP 4 FN 1", un.Micro)
	}
	if all.PredictedCodes != un.PredictedCodes-r.Dropped {
		t.Errorf("predicted %d restricted, %d unrestricted, %d dropped", all.PredictedCodes, un.PredictedCodes, r.Dropped)
	}

	var table, md, js bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"restricted to the gold codes of the scored documents (3 codes): 3 of 6 predicted codes", "all unrestricted"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteMarkdown(&md, MarkdownOptions{}); err != nil || !strings.Contains(md.String(), "## Without the restriction") {
		t.Errorf("markdown: %v\n%s", err, md.String())
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(&js, "run.json")
	if err != nil {
		t.Fatal(err)
	}
	if *back.Meta.Restriction != *r || len(back.Documents[0].Dropped) != 2 || back.Unrestricted[0].Micro != un.Micro {
		t.Errorf("run file lost the restriction: %+v", back.Meta.Restriction)
	}
}

// TestRestrictSystems: only the scored systems are restricted; a PCS
// prediction outside the space stays when only ICD-10-CM is scored.
func TestRestrictSystems(t *testing.T) {
	rep := restrictRun(t, GoldSpace(), []codesys.System{cm}, nil)
	if got := codesOf(rep.Documents[0].Predictions); !slices.Equal(got, []string{"I10", "E11.9", "0DTJ0ZZ"}) {
		t.Errorf("a kept %v, want I10 E11.9 0DTJ0ZZ", got)
	}
	if r := rep.Meta.Restriction; r.Codes != 2 || r.Predicted != 5 || r.Dropped != 2 {
		t.Errorf("restriction = %+v, want 2 codes, 2 of 5 dropped", r)
	}
}

func TestRestrictFile(t *testing.T) {
	space, err := ReadLabelSpace(strings.NewReader("# ICD-10-CM\nj45909 # asthma, no dot\n\nicd10pcs 0dtj0zz\n"), "space.txt")
	if err != nil {
		t.Fatal(err)
	}
	if space.Len() != 2 || !space.Contains(cm, "J45.909") || !space.Contains(pcs, "0DTJ0ZZ") || space.Contains(cm, "I10") {
		t.Fatalf("space: %d codes", space.Len())
	}
	rep := restrictRun(t, space, nil, nil)
	if got := codesOf(rep.Documents[0].Predictions); !slices.Equal(got, []string{"J45.909", "0DTJ0ZZ"}) {
		t.Errorf("a kept %v, want J45.909 0DTJ0ZZ", got)
	}
	if r := rep.Meta.Restriction; r.Source != "space.txt" || r.Dropped != 3 {
		t.Errorf("restriction = %+v", r)
	}
	// The space is compared in the dataset's form, as gold and
	// predictions are: J45.901 in the file covers J45.909 when both are
	// compared as J45.9.
	form := func(sys codesys.System, code string) string {
		if sys == cm && len(code) > 5 {
			return code[:5]
		}
		return code
	}
	space, err = ReadLabelSpace(strings.NewReader("J45.901\n"), "space.txt")
	if err != nil {
		t.Fatal(err)
	}
	rep = restrictRun(t, space, nil, nil)
	if got := codesOf(rep.Documents[1].Predictions); len(got) != 0 {
		t.Errorf("b kept %v without the form", got)
	}
	rep = restrictRun(t, space, nil, form)
	if got := codesOf(rep.Documents[1].Predictions); !slices.Equal(got, []string{"J45.909", "J45.909"}) {
		t.Errorf("b kept %v in form", got)
	}
}

func TestReadLabelSpaceErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"I10\nnot a code\n", "space.txt:2: "},
		{"I10\n\n# fine\nicd10cm 0DTJ0ZZ\n", "space.txt:4: "},
		{"I10\nicd10pcs 0DTI0ZZ\n", "space.txt:2: "},
		{"I10 E11.9 J45.909\n", "space.txt:1: 3 fields"},
		{"cpt 99-213\n", "space.txt:1: "},
		{"a/b 99213\n", "space.txt:1: \"a/b\" is not a system name"},
		{"# nothing\n\n", "no codes"},
	} {
		_, err := ReadLabelSpace(strings.NewReader(tc.in), "space.txt")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadLabelSpace(%q): err = %v, want %q", tc.in, err, tc.want)
		}
	}
	// Every bad line is named, not only the first.
	_, err := ReadLabelSpace(strings.NewReader("x!\nI10\ny!\n"), "s")
	if err == nil || !strings.Contains(err.Error(), "s:1: ") || !strings.Contains(err.Error(), "s:3: ") {
		t.Errorf("two bad lines: err = %v", err)
	}
	path := filepath.Join(t.TempDir(), "space.txt")
	if err := os.WriteFile(path, []byte("I10\ncpt 99213\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenLabelSpace(path)
	if err != nil || s.Source() != path || !s.Contains("cpt", "99213") {
		t.Errorf("OpenLabelSpace: %v", err)
	}
	if _, err := OpenLabelSpace(path + ".missing"); err == nil {
		t.Error("missing file: no error")
	}
}

// TestCompareRestriction: a restricted run does not compare with an
// unrestricted one.
func TestCompareRestriction(t *testing.T) {
	a := restrictRun(t, GoldSpace(), nil, nil)
	b := restrictRun(t, nil, nil, nil)
	if _, err := Compare(a, b, 10, 1); err == nil || !strings.Contains(err.Error(), "restricted") {
		t.Errorf("compare restricted with unrestricted: err = %v", err)
	}
	if _, err := Compare(a, a, 10, 1); err != nil {
		t.Errorf("compare restricted with itself: %v", err)
	}
}

func FuzzReadLabelSpace(f *testing.F) {
	f.Add("I10\n# comment\nicd10pcs 0DTJ4ZZ # x\ncpt 99213\n")
	f.Add("E11.9\n\n  j45909  \n")
	f.Fuzz(func(t *testing.T, s string) {
		space, err := ReadLabelSpace(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		if space.Len() == 0 {
			t.Fatal("a space without codes read without error")
		}
		for k := range space.codes {
			if k.code == "" || k.code != CanonCode(k.sys, k.code) || !space.Contains(k.sys, k.code) {
				t.Fatalf("code %+v not canonical", k)
			}
		}
	})
}
