package coder

import (
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// TestAudit: the list-wide Verify rules applied to codes another reasoner
// chose. Unspecified heart failure and chronic kidney disease beside the
// specific codes of their categories are dropped with the reason; a
// manifestation code alone is dropped.
func TestAudit(t *testing.T) {
	c := realCoder(t)
	mk := func(code string, pos int) coding.Code {
		v := c.tab.Validate(code)
		if v.Status != codesys.Valid {
			t.Fatalf("%s: %s", code, v.Reason)
		}
		return coding.Code{Code: v.Code, System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: v.Title,
			Evidence: []coding.Evidence{{Start: pos, End: pos + 5, Text: "xxxxx"}}, Confidence: 0.8}
	}
	tests := []struct {
		codes   []string
		want    []string
		dropped []string
	}{
		{[]string{"I13.0", "I50.33", "N18.32", "I50.9", "N18.9"}, []string{"I13.0", "I50.33", "N18.32"}, []string{"I50.9", "N18.9"}},
		{[]string{"I13.0", "I50.33"}, []string{"I13.0", "I50.33"}, nil},
	}
	for _, tc := range tests {
		var in []coding.Code
		for i, code := range tc.codes {
			in = append(in, mk(code, 10*i))
		}
		kept, dropped := c.Audit(in)
		var got, gotDropped []string
		for _, k := range kept {
			got = append(got, k.Code)
		}
		for _, d := range dropped {
			gotDropped = append(gotDropped, d.Code)
			if d.Reason == "" {
				t.Errorf("%s dropped without a reason", d.Code)
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) || !slices.Equal(gotDropped, tc.dropped) {
			t.Errorf("Audit(%v) = %v, dropped %v; want %v, dropped %v", tc.codes, got, gotDropped, want, tc.dropped)
		}
	}
}
