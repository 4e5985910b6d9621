package baseline

import (
	"compress/gzip"
	"context"
	"os"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

func codes(t *testing.T, c *Coder, text string) ([]string, eval.Result) {
	t.Helper()
	res, err := c.Code(context.Background(), eval.Document{ID: "t", Text: text})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range res.Predictions {
		out = append(out, p.Code)
	}
	return out, res
}

func TestCoder(t *testing.T) {
	c := New([]Term{
		{"I10", codesys.ICD10CM, "Essential (primary) hypertension"},
		{"E66.9", codesys.ICD10CM, "Obesity, unspecified"},
		{"E11.9", codesys.ICD10CM, "Type 2 diabetes mellitus without complications"},
		{"E11.9", codesys.ICD10CM, "Type 2 diabetes mellitus"},
		{"E11.65", codesys.ICD10CM, "Type 2 diabetes mellitus with hyperglycemia"},
		{"J18.9", codesys.ICD10CM, "Pneumonia, unspecified organism"},
	})
	text := "OBESITY. Type 2 diabetes mellitus with hyperglycemia; essential hypertension. Obesity again."
	got, res := codes(t, c, text)
	// Longest match wins: E11.65, not E11.9. Order of first mention.
	if want := []string{"E66.9", "E11.65", "I10"}; !slices.Equal(got, want) {
		t.Fatalf("codes = %v, want %v", got, want)
	}
	ob := res.Predictions[0]
	if ob.Score != 2 || len(ob.Evidence) != 2 || text[ob.Evidence[1].Start:ob.Evidence[1].End] != "Obesity" {
		t.Errorf("E66.9 = %+v", ob)
	}
	if e := res.Predictions[2].Evidence[0]; text[e.Start:e.End] != "essential hypertension" {
		t.Errorf("I10 evidence = %q", text[e.Start:e.End])
	}
	// "pneumonia organism" is the title without "unspecified"; plain
	// "pneumonia" is not a title here and must not match.
	if got, _ := codes(t, c, "pneumonia"); len(got) != 0 {
		t.Errorf("pneumonia matched %v", got)
	}
	if got, _ := codes(t, c, ""); len(got) != 0 {
		t.Errorf("empty text matched %v", got)
	}
}

func TestTabularTerms(t *testing.T) {
	f, err := os.Open(shareddata.Path(t, "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := codesys.ReadTabular(zr, f.Name())
	if err != nil {
		t.Fatal(err)
	}
	terms := TabularTerms(tab)
	has := func(code string) bool {
		return slices.ContainsFunc(terms, func(x Term) bool { return x.Code == code })
	}
	// I10 and E66.9 are reportable leaves; E11 is a category with
	// children and S52.521 needs a 7th character.
	for code, want := range map[string]bool{"I10": true, "E66.9": true, "E11": false, "S52.521": false} {
		if has(code) != want {
			t.Errorf("terms include %s: %v, want %v", code, !want, want)
		}
	}
	got, _ := codes(t, New(terms), "Patient with essential hypertension and obesity.")
	if !slices.Contains(got, "I10") || !slices.Contains(got, "E66.9") {
		t.Errorf("codes = %v, want I10 and E66.9 among them", got)
	}
}
