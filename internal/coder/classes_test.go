package coder

import (
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// readFlat reads a flat code list with the columns recognized by their
// headers.
func readFlat(r io.Reader, name string) (*codesys.Classes, error) {
	return codesys.ReadFlat(r, name, codesys.FlatOptions{})
}

// fixtureCoder builds the class coder of a fixture of testdata/classes.
func fixtureCoder(t *testing.T, sys codesys.System, file string, read func(io.Reader, string) (*codesys.Classes, error)) *ClassCoder {
	t.Helper()
	f, err := os.Open("testdata/classes/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cls, err := read(f, file)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewClassCoder(&codesys.Release{System: sys, Version: "test", Classes: cls}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// want is a code a test expects, with the text of its first evidence span.
type want struct{ code, evidence string }

// checkCodes compares the codes of a result with want, in any order, and
// checks that each names the system and kind and has a trail through the
// classes.
func checkClassCodes(t *testing.T, res *coding.Result, sys codesys.System, kind coding.Kind, wants []want) {
	t.Helper()
	var got []want
	for _, c := range res.Codes {
		if c.System != sys || c.Kind != kind {
			t.Errorf("%s: system %s kind %s, want %s %s", c.Code, c.System, c.Kind, sys, kind)
		}
		if len(c.Evidence) == 0 {
			t.Errorf("%s: no evidence", c.Code)
			continue
		}
		if !slices.ContainsFunc(c.Trail, func(s coding.Step) bool { return strings.HasPrefix(s.Detail, "Classes "+string(sys)+"-test: ") }) {
			t.Errorf("%s: trail names no class: %v", c.Code, c.Trail)
		}
		got = append(got, want{c.Code, c.Evidence[0].Text})
	}
	sortWants := func(ws []want) {
		slices.SortFunc(ws, func(a, b want) int { return strings.Compare(a.code, b.code) })
	}
	sortWants(got)
	sortWants(wants)
	if !slices.Equal(got, wants) {
		t.Errorf("codes = %v, want %v", got, wants)
	}
}

func TestClassCoderProcedures(t *testing.T) {
	k := fixtureCoder(t, codesys.OPCS4, "procedures.tsv", readFlat)
	tests := []struct {
		name, text string
		want       []want
		dropped    []string
	}{
		{"named by their classical names",
			"Operation: laparoscopic appendicectomy. Postoperative colonoscopy was normal. Total hip replacement on the left.",
			[]want{{"H02.9", "appendicectomy"}, {"H22.9", "colonoscopy"}, {"W39.9", "Total hip replacement"}}, nil},
		{"a child the note documents",
			"Revision of the total hip replacement.",
			[]want{{"W39.3", "Revision of the total hip replacement"}}, nil},
		{"a site code is never coded alone",
			"The colon was mobilised.", nil, nil},
		{"not done, planned or past is not coded",
			"No colonoscopy was performed. We will consider an appendicectomy. History of total hip replacement.",
			nil, []string{"H22.9", "H02.9", "W39.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := k.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			checkClassCodes(t, res, codesys.OPCS4, coding.Procedure, tt.want)
			var dropped []string
			for _, d := range res.Dropped {
				dropped = append(dropped, d.Code)
			}
			if !slices.Equal(dropped, tt.dropped) {
				t.Errorf("dropped = %v, want %v", dropped, tt.dropped)
			}
		})
	}
}

func TestClassCoderDiagnoses(t *testing.T) {
	k := fixtureCoder(t, codesys.WHOICD10, "diagnoses.claml.xml", codesys.ReadClaML)
	tests := []struct {
		name, text string
		want       []want
		dropped    map[string]string // code -> part of the reason
	}{
		{"the unspecified child by default",
			"Admitted with an acute myocardial infarction.",
			[]want{{"I21.9", "acute myocardial infarction"}}, nil},
		{"the child whose words the sentence has",
			"ECG: acute transmural myocardial infarction of the anterior wall.",
			[]want{{"I21.0", "acute transmural myocardial infarction of the anterior wall"}}, nil},
		{"an inclusion rubric",
			"Chest film: infective lung consolidation.",
			[]want{{"J18.9", "infective lung consolidation"}}, nil},
		{"British titles read in American spelling",
			"Hemoptysis since Monday.",
			[]want{{"R04.2", "Hemoptysis"}}, nil},
		{"assertions",
			"No pneumonia. Her mother had an acute myocardial infarction. Acute pain.",
			[]want{{"R52.0", "Acute pain"}},
			map[string]string{"J18.9": "negated", "I21.9": "family"}},
		{"an exclusion rubric keeps one of the pair",
			"Acute pain. Chest pain on exertion.",
			[]want{{"R07.4", "Chest pain"}},
			map[string]string{"R52.0": "exclusion at R52"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := k.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			checkClassCodes(t, res, codesys.WHOICD10, coding.Diagnosis, tt.want)
			got := map[string]string{}
			for _, d := range res.Dropped {
				got[d.Code] = d.Reason
			}
			for code, reason := range tt.dropped {
				if !strings.Contains(got[code], reason) {
					t.Errorf("dropped %s: reason %q, want one saying %q", code, got[code], reason)
				}
			}
			if len(got) != len(tt.dropped) {
				t.Errorf("dropped %v, want %d codes", got, len(tt.dropped))
			}
		})
	}
}

func TestClassCoderSystems(t *testing.T) {
	k := fixtureCoder(t, codesys.OPCS4, "procedures.tsv", readFlat)
	res, err := k.Code(context.Background(), coding.Request{Text: "Colonoscopy.", Systems: []codesys.System{codesys.ICD10CM}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Codes) != 0 {
		t.Errorf("coded %v for a request that leaves OPCS-4 out", res.Codes)
	}
	j := Join(Member{Reasoner: k, Systems: []codesys.System{codesys.OPCS4}},
		Member{Reasoner: fixtureCoder(t, codesys.WHOICD10, "diagnoses.claml.xml", codesys.ReadClaML), Systems: []codesys.System{codesys.WHOICD10}})
	res, err = j.Code(context.Background(), coding.Request{Text: "Colonoscopy for acute myocardial infarction."})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Codes {
		got = append(got, string(c.System)+":"+c.Code)
	}
	if want := []string{"opcs4:H22.9", "who-icd10:I21.9"}; !slices.Equal(got, want) {
		t.Errorf("joined codes = %v, want %v", got, want)
	}
	if want := []string{"opcs4-test", "who-icd10-test"}; !slices.Equal(res.Releases, want) {
		t.Errorf("releases = %v, want %v", res.Releases, want)
	}
}

// TestClassCoderSharedReleases codes a note written for the test into
// the OPCS-4, ICD-10 (UK) and WHO ICD-10 releases of the shared data.
func TestClassCoderSharedReleases(t *testing.T) {
	const note = `Discharge summary
Diagnoses: acute appendicitis; type 2 diabetes mellitus; acute myocardial infarction.
Procedures: laparoscopic appendicectomy; colonoscopy; primary total hip replacement.`
	tests := []struct {
		sys  codesys.System
		file string
		read func(io.Reader, string) (*codesys.Classes, error)
		want []want
	}{
		{codesys.OPCS4, "opcs4/ukbiobank-coding240/OPCS4.coding240.tsv.gz", readFlat,
			[]want{{"H02.9", "appendicectomy"}, {"H22.9", "colonoscopy"}, {"W39.1", "primary total hip replacement"}}},
		{codesys.ICD10UK, "icd10uk/ukbiobank-coding19/ICD10.coding19.tsv.gz", readFlat,
			[]want{{"K35.9", "acute appendicitis"}, {"E11.9", "type 2 diabetes"}, {"I21.9", "acute myocardial infarction"}}},
		{codesys.WHOICD10, "who-icd10/2019-claml-titles/icd10-2019-titles.claml.xml.gz", codesys.ReadClaML,
			[]want{{"K35.8", "acute appendicitis"}, {"E11.9", "type 2 diabetes"}, {"I21.9", "acute myocardial infarction"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.sys), func(t *testing.T) {
			cls := shareddata.Load(t, tt.file, tt.read)
			k, err := NewClassCoder(&codesys.Release{System: tt.sys, Version: "test", Classes: cls}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := k.Code(context.Background(), coding.Request{ID: "t", Text: note})
			if err != nil {
				t.Fatal(err)
			}
			kind := coding.Diagnosis
			if tt.sys.Classification().Procedures {
				kind = coding.Procedure
			}
			checkClassCodes(t, res, tt.sys, kind, tt.want)
		})
	}
}
