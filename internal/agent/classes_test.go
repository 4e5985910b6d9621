package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// Two small classifications read as classes that share a code, as ICD-10
// and OPCS-4 do (H02.9 is an eyelid disorder in one, an excision of the
// appendix in the other).
const (
	ukList = "coding\tmeaning\tnode_id\tparent_id\tselectable\n" +
		"Chapter_X\tChapter_X Diseases of the respiratory system\t10\t0\tN\n" +
		"J18\tJ18 Pneumonia, organism unspecified\t100\t10\tN\n" +
		"J180\tJ18.0 Bronchopneumonia, unspecified\t101\t100\tY\n" +
		"J189\tJ18.9 Pneumonia, unspecified\t102\t100\tY\n" +
		"Chapter_VII\tChapter_VII Diseases of the eye and adnexa\t20\t0\tN\n" +
		"H02\tH02 Other disorders of eyelid\t200\t20\tN\n" +
		"H029\tH02.9 Disorder of eyelid, unspecified\t201\t200\tY\n"
	opcsList = "code,title,parent\n" +
		"Chapter H,Chapter H - Lower digestive tract,\n" +
		"H02,Other excision of appendix,Chapter H\n" +
		"H02.8,Other specified other excision of appendix,H02\n" +
		"H02.9,Unspecified other excision of appendix,H02\n"
)

func classRelease(t testing.TB, sys codesys.System, list string) *codesys.Release {
	t.Helper()
	cls, err := codesys.ReadFlat(strings.NewReader(list), string(sys), codesys.FlatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &codesys.Release{System: sys, Version: "t1", Classes: cls}
}

const classesNote = "Assessment: community acquired pneumonia.\nProcedures: laparoscopic appendicectomy.\n"

// TestCodeIntoClasses codes a note into ICD-10 (UK) and OPCS-4, read as
// classes: the index search reads their class titles, lookup_code shows a
// class with its rubrics, the index tools and the ICD-10-CM guidelines are
// not offered, every code is validated against its classification (a
// code both have needs its system), and every quote against the note.
func TestCodeIntoClasses(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			pn := code{Code: "J18.9", Finding: "F1", Evidence: []string{"community acquired pneumonia"}}
			type sysCode struct {
				code
				System string `json:"system"`
			}
			appx := sysCode{code{Code: "H02.9", Finding: "F2", Evidence: []string{"laparoscopic appendicectomy"}}, "opcs4"}
			submitSys := func(codes ...any) step {
				return step{calls: []fcall{{"submit_codes", js(map[string]any{"codes": codes})}}}
			}
			script := []step{
				{calls: []fcall{{"submit_findings", js(map[string]any{"findings": []map[string]any{
					{"id": "F1", "description": "pneumonia", "kind": "condition", "quotes": []string{"community acquired pneumonia"}, "assertion": "affirmed", "relevant": true},
					{"id": "F2", "description": "appendicectomy", "kind": "procedure", "quotes": []string{"laparoscopic appendicectomy"}, "assertion": "affirmed", "relevant": true},
				}})}}},
				{calls: []fcall{{"search_index", `{"query":"pneumonia"}`}}},
				{calls: []fcall{{"submit_candidates", js(map[string]any{"candidates": []map[string]any{
					{"finding": "F1", "code": "J18", "index_path": "Pneumonia, organism unspecified"},
					{"finding": "F2", "code": "H02", "index_path": "Other excision of appendix"},
				}})}}},
				{calls: []fcall{{"lookup_code", `{"code":"H02","system":"opcs4"}`}}},
				// H02.9 without its system is a code of both; J99.9 of
				// neither; the quote is not the note's.
				submitSys(pn, code{Code: "H02.9", Finding: "F2", Evidence: []string{"laparoscopic appendicectomy"}},
					code{Code: "J99.9", Finding: "F1", Evidence: []string{"pneumonia"}}),
				submitSys(pn, appx),
				submitSys(pn, appx),
			}
			f := newFake(t, p, script...)
			cfg := Config{Provider: f.provider, Model: "fake-model", BaseURL: f.baseURL(), Retries: 1, RequestTimeout: 5 * time.Second}
			rels := []*codesys.Release{classRelease(t, codesys.ICD10UK, ukList), classRelease(t, codesys.OPCS4, opcsList)}
			a, err := New(cfg, Resources{Releases: rels})
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Code(context.Background(), coding.Request{ID: "c1", Text: classesNote, Systems: []codesys.System{codesys.ICD10UK, codesys.OPCS4}})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := ReadTranscript(res)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range res.Codes {
				got = append(got, fmt.Sprintf("%s:%s:%s", c.Code, c.System, c.Kind))
				for _, e := range c.Evidence {
					if classesNote[e.Start:e.End] != e.Text {
						t.Errorf("%s evidence %+v is not the note's text", c.Code, e)
					}
				}
			}
			if want := []string{"J18.9:icd10uk:diagnosis", "H02.9:opcs4:procedure"}; !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v (problems %v)", got, want, tr.Problems)
			}
			if !slices.Equal(res.Releases, []string{"icd10uk-t1", "opcs4-t1"}) {
				t.Errorf("releases = %v", res.Releases)
			}
			if !hasProblem(tr, "H02.9 is a code of icd10uk, opcs4: give its system") || !hasProblem(tr, "rejected J99.9") {
				t.Errorf("problems = %v", tr.Problems)
			}
			// The index search read the class titles, labelled with
			// their classification.
			if m := f.lastMessages(2); !strings.Contains(m, `\"code\":\"J18.9\"`) || !strings.Contains(m, `\"system\":\"icd10uk\"`) {
				t.Errorf("search_index result: %s", m)
			}
			// lookup_code showed the OPCS-4 class with its subclasses.
			if m := f.lastMessages(4); !strings.Contains(m, "H02.9 Unspecified other excision of appendix") || !strings.Contains(m, `\"status\":\"header\"`) {
				t.Errorf("lookup_code result: %s", m)
			}
			// The stage input says how the tools read these
			// classifications; the tools that need an index or the
			// ICD-10-CM guidelines are not offered.
			if in := tr.Stages[1].Input; !strings.Contains(in, "ICD-10 (UK) (icd10uk), OPCS-4 (opcs4): read as a list of classes") {
				t.Errorf("locate input: %s", in)
			}
			for i := range f.bodies {
				for _, name := range toolNames(f.bodies[i]) {
					if slices.Contains([]string{"get_index_entry", "neoplasm_table", "drug_table", "search_guidelines"}, name) {
						t.Errorf("request %d offers %s", i, name)
					}
				}
			}
		})
	}
}

// toolNames lists the tools a request offered, in either wire format.
func toolNames(body map[string]any) []string {
	var out []string
	tools, _ := body["tools"].([]any)
	for _, t := range tools {
		m, _ := t.(map[string]any)
		if fn, ok := m["function"].(map[string]any); ok {
			m = fn
		}
		if n, ok := m["name"].(string); ok {
			out = append(out, n)
		}
	}
	return out
}

// TestSystemOf tells codes apart by the releases and the registry.
func TestSystemOf(t *testing.T) {
	rels := append(slices.Clone(testReleases(t)), classRelease(t, codesys.ICD10UK, ukList), classRelease(t, codesys.OPCS4, opcsList))
	a := &Agent{rels: rels}
	all := []codesys.System{codesys.ICD10CM, codesys.ICD10PCS, codesys.ICD10UK, codesys.OPCS4}
	if got := a.Systems(); !slices.Equal(got, all) {
		t.Fatalf("Systems() = %v, want %v", got, all)
	}
	tests := []struct {
		code, named string
		systems     []codesys.System
		want        codesys.System
		err         string
	}{
		{"E11.9", "", all, codesys.ICD10CM, ""},
		{"0DTJ4ZZ", "", all, codesys.ICD10PCS, ""},
		{"H02.8", "", []codesys.System{codesys.ICD10PCS, codesys.ICD10UK, codesys.OPCS4}, codesys.OPCS4, ""},
		// A header of ICD-10-CM is a code of it too.
		{"H02.8", "", all, "", "icd10cm, opcs4"},
		{"H02.9", "", []codesys.System{codesys.ICD10UK, codesys.OPCS4}, "", "give its system"},
		{"H02.9", "OPCS-4", []codesys.System{codesys.ICD10UK, codesys.OPCS4}, codesys.OPCS4, ""},
		{"J18.9", "", all, "", "icd10cm, icd10uk"},
		{"J18.9", "icd10uk", all, codesys.ICD10UK, ""},
		{"J18.9", "who-icd10", all, "", "not a classification this note is coded into"},
		// Codes of none: the classification whose shape they have.
		{"E11.99", "", all, codesys.ICD10CM, ""},
		{"0DTJ4Z", "", all, codesys.ICD10PCS, ""},
		{"Z99.99", "", []codesys.System{codesys.ICD10UK, codesys.OPCS4}, codesys.ICD10UK, ""},
		{"H02.99", "", []codesys.System{codesys.ICD10CM, codesys.OPCS4}, codesys.ICD10CM, ""},
	}
	for _, tt := range tests {
		t.Run(tt.code+"/"+tt.named, func(t *testing.T) {
			s := &session{a: a, systems: tt.systems}
			got, err := s.systemOf(tt.code, tt.named)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("systemOf = %s, %v; want an error with %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("systemOf = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
