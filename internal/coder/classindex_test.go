package coder

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// fixtureIndex reads testdata/classes/index.xml, an Alphabetic Index
// written for the test, as an ICD-10-CM release.
func fixtureIndex(t *testing.T) *codesys.Release {
	t.Helper()
	f, err := os.Open("testdata/classes/index.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := codesys.ReadIndex(f, "testdata/classes/index.xml")
	if err != nil {
		t.Fatal(err)
	}
	return &codesys.Release{System: codesys.ICD10CM, Version: "2099", Index: ix}
}

// classCoderWith builds the class coder of a fixture of testdata/classes
// that reads ix.
func classCoderWith(t *testing.T, sys codesys.System, file string, ix *codesys.Release) *ClassCoder {
	t.Helper()
	read := readFlat
	if strings.HasSuffix(file, ".xml") {
		read = codesys.ReadClaML
	}
	base := fixtureCoder(t, sys, file, read)
	k, err := NewClassCoderWith(base.rel, ClassOptions{Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestClassCoderReadsIndex(t *testing.T) {
	ix := fixtureIndex(t)
	with := classCoderWith(t, codesys.WHOICD10, "diagnoses.claml.xml", ix)
	without := classCoderWith(t, codesys.WHOICD10, "diagnoses.claml.xml", nil)
	tests := []struct {
		name, text string
		want       []want
		// withoutIndex are the codes the coder gives without the Index.
		withoutIndex []string
		trail        string // a step of the first code's trail
	}{
		{"a path at the class of its code",
			"ECG: anterior wall transmural myocardial infarction.",
			[]want{{"I21.0", "anterior wall transmural myocardial infarction"}}, nil,
			"Index icd10cm-2099 (read for who-icd10-test): Infarct, infarction > myocardium, myocardial > transmural > anterior wall → I21.09 → class I21.0"},
		{"a code the classification lacks is read at its category, and Assign walks down",
			"Chest film: lobar pneumonia.",
			[]want{{"J18.9", "lobar pneumonia"}}, []string{"J18.9"},
			"→ J18.1 → class J18"},
		{"a single word the class title names",
			"Bronchopneumonia on admission.",
			[]want{{"J18.0", "Bronchopneumonia"}}, []string{"J18.0"}, ""},
		{"a single word the class title does not name is not read",
			"Dropsy of both legs.", nil, nil, ""},
		{"a code without a class is not read",
			"Admitted for a medical examination.", nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := with.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			checkClassCodes(t, res, codesys.WHOICD10, coding.Diagnosis, tt.want)
			if tt.trail != "" && len(res.Codes) > 0 && !slices.ContainsFunc(res.Codes[0].Trail, func(s coding.Step) bool {
				return strings.Contains(s.Detail, tt.trail)
			}) {
				t.Errorf("trail %v has no step with %q", res.Codes[0].Trail, tt.trail)
			}
			res, err = without.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range res.Codes {
				got = append(got, c.Code)
			}
			if !slices.Equal(got, tt.withoutIndex) {
				t.Errorf("without the Index: %v, want %v", got, tt.withoutIndex)
			}
		})
	}
	if got, want := with.Releases(), []string{"who-icd10-test", "icd10cm-2099"}; !slices.Equal(got, want) {
		t.Errorf("releases = %v, want %v", got, want)
	}
}

// TestClassCoderIndexIgnored: a classification of procedures, or one
// outside ICD-10-CM's family, does not read ICD-10-CM's Index.
func TestClassCoderIndexIgnored(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		sys  codesys.System
		file string
	}{
		{codesys.OPCS4, "procedures.tsv"},
		{"local-dx", "diagnoses.claml.xml"},
	}
	for _, tt := range tests {
		t.Run(string(tt.sys), func(t *testing.T) {
			k := classCoderWith(t, tt.sys, tt.file, ix)
			if got := k.Releases(); len(got) != 1 {
				t.Errorf("releases = %v, want the classification's alone", got)
			}
		})
	}
}

// TestClassCoderSharedIndex codes a note written for the test into the
// shared WHO ICD-10 titles with the shared FY2025 Alphabetic Index: the
// single words of notes that WHO's titles lack.
func TestClassCoderSharedIndex(t *testing.T) {
	realCoder(t)
	cls := shareddata.Load(t, "who-icd10/2019-claml-titles/icd10-2019-titles.claml.xml.gz", codesys.ReadClaML)
	k, err := NewClassCoderWith(&codesys.Release{System: codesys.WHOICD10, Version: "test", Classes: cls}, ClassOptions{Index: testRef.Tables})
	if err != nil {
		t.Fatal(err)
	}
	const note = `Diagnoses: leukocytosis; pollakiuria; congestive heart failure.
Fall from a ladder.`
	res, err := k.Code(context.Background(), coding.Request{ID: "t", Text: note})
	if err != nil {
		t.Fatal(err)
	}
	checkClassCodes(t, res, codesys.WHOICD10, coding.Diagnosis, []want{
		{"D72.8", "leukocytosis"}, {"R35", "pollakiuria"}, {"I50.0", "congestive heart failure"},
	})
}
