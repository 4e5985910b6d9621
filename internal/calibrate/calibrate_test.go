package calibrate

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

func pts(spec ...any) []Point {
	var out []Point
	for i := 0; i < len(spec); i += 3 {
		score, right, wrong := spec[i].(float64), spec[i+1].(int), spec[i+2].(int)
		for range right {
			out = append(out, Point{score, true})
		}
		for range wrong {
			out = append(out, Point{score, false})
		}
	}
	return out
}

func TestFit(t *testing.T) {
	tests := []struct {
		name   string
		points []Point
		scores []float64
		values []float64
	}{
		{"already monotone", pts(0.5, 1, 3, 0.9, 3, 1), []float64{0.5, 0.9}, []float64{0.25, 0.75}},
		// 0.6 is right less often than 0.5: the two pool into one block
		// spanning both scores.
		{"violators pooled", pts(0.5, 3, 1, 0.6, 1, 3, 0.9, 4, 0), []float64{0.5, 0.6, 0.9}, []float64{0.5, 0.5, 1}},
		{"pooling cascades", pts(0.2, 1, 1, 0.4, 2, 0, 0.6, 0, 4), []float64{0.2, 0.6}, []float64{0.375, 0.375}},
		{"one level", pts(0.72, 3, 7), []float64{0.72}, []float64{0.3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Fit(tt.points)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Scores, tt.scores) || !close(c.Values, tt.values) {
				t.Errorf("Fit = %v -> %v, want %v -> %v", c.Scores, c.Values, tt.scores, tt.values)
			}
			if c.Predictions != len(tt.points) {
				t.Errorf("Predictions = %d, want %d", c.Predictions, len(tt.points))
			}
		})
	}
	if _, err := Fit(nil); err == nil {
		t.Error("Fit(nil) gave no error")
	}
}

func close(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Abs(x-y) < 1e-9 })
}

func TestCurveMap(t *testing.T) {
	c := &Curve{Scores: []float64{0.5, 0.6, 0.9}, Values: []float64{0.2, 0.4, 0.8}}
	tests := []struct{ raw, want float64 }{
		{0.1, 0.2}, {0.5, 0.2}, {0.55, 0.3}, {0.6, 0.4}, {0.75, 0.6}, {0.9, 0.8}, {1, 0.8},
	}
	for _, tt := range tests {
		if got := c.Map(tt.raw); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Map(%v) = %v, want %v", tt.raw, got, tt.want)
		}
	}
}

type fixed []coding.Code

func (f fixed) Code(context.Context, coding.Request) (*coding.Result, error) {
	return &coding.Result{Codes: slices.Clone(f)}, nil
}

func TestReasoner(t *testing.T) {
	codes := fixed{
		{Code: "I10", System: codesys.ICD10CM, Confidence: 0.9},
		{Code: "R51", System: codesys.ICD10CM, Confidence: 0.5},
		{Code: "0DTJ4ZZ", System: codesys.ICD10PCS, Confidence: 0.5},
	}
	table := &Table{Systems: map[codesys.System]*Curve{codesys.ICD10CM: {Scores: []float64{0.5, 0.9}, Values: []float64{0.1, 0.7}}}}
	tests := []struct {
		name     string
		table    *Table
		min      float64
		kept     []string
		conf     []float64
		dropped  []string
		withRaws int
	}{
		{"nothing", nil, 0, []string{"I10", "R51", "0DTJ4ZZ"}, []float64{0.9, 0.5, 0.5}, nil, 0},
		{"min only", nil, 0.6, []string{"I10"}, []float64{0.9}, []string{"R51", "0DTJ4ZZ"}, 0},
		{"table only", table, 0, []string{"I10", "R51", "0DTJ4ZZ"}, []float64{0.7, 0.1, 0.5}, nil, 2},
		// The dial reads calibrated scores: R51 falls below 0.4 only
		// after calibration, the PCS code (no curve) stays at 0.5.
		{"table then min", table, 0.4, []string{"I10", "0DTJ4ZZ"}, []float64{0.7, 0.5}, []string{"R51"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Wrap(codes, tt.table, tt.min)
			if tt.table == nil && tt.min == 0 {
				if _, ok := r.(fixed); !ok {
					t.Fatalf("Wrap without table or minimum wrapped the reasoner: %T", r)
				}
			}
			res, err := r.Code(context.Background(), coding.Request{})
			if err != nil {
				t.Fatal(err)
			}
			var kept, dropped []string
			var conf []float64
			raws := 0
			for _, c := range res.Codes {
				kept = append(kept, c.Code)
				conf = append(conf, c.Confidence)
				if c.RawConfidence != nil {
					raws++
				}
			}
			for _, c := range res.Dropped {
				dropped = append(dropped, c.Code)
				if c.Reason == "" {
					t.Errorf("dropped %s without a reason", c.Code)
				}
			}
			if !slices.Equal(kept, tt.kept) || !close(conf, tt.conf) || !slices.Equal(dropped, tt.dropped) || raws != tt.withRaws {
				t.Errorf("kept %v %v, dropped %v, %d raw scores; want %v %v, %v, %d", kept, conf, dropped, raws, tt.kept, tt.conf, tt.dropped, tt.withRaws)
			}
		})
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if tab, err := Load(dir); tab != nil || err != nil {
		t.Fatalf("Load of an empty directory = %v, %v", tab, err)
	}
	want := &Table{Format: FormatVersion, Method: MethodIsotonic, Coder: "offline", Source: "codiesp train",
		Systems: map[codesys.System]*Curve{codesys.ICD10CM: {Scores: []float64{0.5}, Values: []float64{0.4}, Predictions: 40}}}
	if err := Save(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Coder != "offline" || got.Systems[codesys.ICD10CM].Map(0.7) != 0.4 {
		t.Errorf("Load = %+v", got)
	}
	for _, tt := range []struct {
		coder string
		want  bool
	}{{"offline", true}, {"baseline", false}, {"offline:who-icd10", false}} {
		if got.AppliesTo(tt.coder) != tt.want {
			t.Errorf("AppliesTo(%q) = %v, want %v", tt.coder, !tt.want, tt.want)
		}
	}
}
