package eval

import (
	"context"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// TestRunCategoryLevel: at category level, predictions of another
// classification of the gold's family are scored as the gold's
// classification, both cut to their categories.
func TestRunCategoryLevel(t *testing.T) {
	docs := []Document{{ID: "d1", Text: "x", Gold: []GoldCode{
		{Code: "I21.3", System: cm}, {Code: "I21.4", System: cm}, {Code: "E11.9", System: cm}, {Code: "J18.9", System: cm},
	}}}
	c := CoderFunc(func(context.Context, Document) (Result, error) {
		return Result{Predictions: []Prediction{
			{Code: "I21.9", System: codesys.WHOICD10}, {Code: "E11.9", System: codesys.WHOICD10}, {Code: "K35.8", System: codesys.WHOICD10},
		}}, nil
	})
	tests := []struct {
		name       string
		opt        Options
		tp, fp, fn int
	}{
		{"categories, scored as ICD-10-CM", Options{Level: LevelCategory, ScoreAs: map[codesys.System]codesys.System{codesys.WHOICD10: cm}}, 2, 1, 1},
		{"categories, not scored as ICD-10-CM", Options{Level: LevelCategory, Systems: []codesys.System{cm}}, 0, 0, 3},
		{"codes", Options{ScoreAs: map[codesys.System]codesys.System{codesys.WHOICD10: cm}, Systems: []codesys.System{cm}}, 0, 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.Dataset = "t"
			rep, err := Run(context.Background(), c, docs, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var s *Scores
			for i := range rep.Scores {
				if rep.Scores[i].System == string(cm) {
					s = &rep.Scores[i]
				}
			}
			if s == nil {
				t.Fatalf("no ICD-10-CM scores in %+v", rep.Scores)
			}
			if s.Micro.TP != tt.tp || s.Micro.FP != tt.fp || s.Micro.FN != tt.fn {
				t.Errorf("micro = %+v, want TP %d FP %d FN %d", s.Micro, tt.tp, tt.fp, tt.fn)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]Level{"": LevelCode, "code": LevelCode, "category": LevelCategory} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseLevel("chapter"); err == nil {
		t.Error("ParseLevel(chapter): no error")
	}
}
