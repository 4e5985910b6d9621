package coder

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// TestIndexReferences codes with an Alphabetic Index written for the test
// (testdata/index_refs.xml) that has what the shared FY2025 index lacks:
// a bracketed manifestation code, "see category" and "see subcategory";
// and a "see also" from a main term without subterms to one with them. The
// Tabular List is the shared FY2021 one.
func TestIndexReferences(t *testing.T) {
	realCoder(t)
	f, err := os.Open("testdata/index_refs.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := codesys.ReadIndex(f, "testdata/index_refs.xml")
	if err != nil {
		t.Fatalf("testdata/index_refs.xml: %v", err)
	}
	c, err := New(Reference{CM: testRef.CM, Tables: &codesys.Release{System: codesys.ICD10CM, Version: "2099", Index: ix}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		text  string
		want  []string // in the order coded
		not   []string
		trail string // a step of the first code's trail
	}{
		{"paired manifestation, etiology first", "Amyloid heart disease.", []string{"E85.4", "I43"}, nil, "E85.4 [I43]"},
		{"see category", "Accidental hypothermia.", []string{"T68.XXXA"}, nil, "see category T68"},
		{"see subcategory", "Lightning stroke.", []string{"T75.00XA"}, nil, "see subcategory T75.0"},
		{"see also followed", "Staphylococcal consolidation.", []string{"J15.20"}, []string{"R91"}, "Consolidation (see also Pneumonia) > staphylococcal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Code(t.Context(), coding.Request{ID: tt.name, Text: tt.text, Setting: coding.Inpatient})
			if err != nil {
				t.Fatal(err)
			}
			got := codesOf(res)
			var order []string
			for _, g := range got {
				if slices.Contains(tt.want, g) {
					order = append(order, g)
				}
			}
			if !slices.Equal(order, tt.want) {
				t.Errorf("want %v in this order; got %v", tt.want, got)
			}
			checkCodes(t, res, nil, tt.not)
			if len(res.Codes) > 0 && !slices.ContainsFunc(res.Codes[0].Trail, func(s coding.Step) bool { return strings.Contains(s.Detail, tt.trail) }) {
				t.Errorf("%s trail lacks %q: %v", res.Codes[0].Code, tt.trail, res.Codes[0].Trail)
			}
		})
	}
}
