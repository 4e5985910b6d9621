package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// The classifications installed in the data directory of the class
// tests: two registered ones read as classes and a code list of the
// user's own.
var classFixtures = []struct {
	system, file string
	opts         catalog.ImportOptions
}{
	{"icd10uk", "icd10uk-sample.tsv", catalog.ImportOptions{Version: "t1"}},
	{"opcs4", "opcs4-sample.csv", catalog.ImportOptions{Version: "t1"}},
	{"local-dx", "local-dx-sample.csv", catalog.ImportOptions{Version: "1", Format: catalog.FormatFlat}},
}

// classEnv serves the fixture ICD-10-CM release beside the fixture
// classifications installed in a temporary data directory. With
// classCoders, every other classification is coded by the offline class
// coder over its release, as medcode serve does; builds counts how often
// one was built.
func classEnv(t *testing.T, classCoders bool) (e *env, builds *atomic.Int32) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range classFixtures {
		if _, err := catalog.Import(context.Background(), dir, f.system, []string{filepath.Join("testdata", f.file)}, f.opts); err != nil {
			t.Fatal(err)
		}
	}
	cm, err := testReleases(t).Release(context.Background(), codesys.ICD10CM)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := NewInstalled(dir, cm)
	if err != nil {
		t.Fatal(err)
	}
	builds = &atomic.Int32{}
	cfg := Config{Codes: codes}
	if classCoders {
		cfg.ClassReasoner = func(_ context.Context, rel *codesys.Release) (coding.Reasoner, error) {
			builds.Add(1)
			return coder.NewClassCoder(rel, nil)
		}
	}
	return newEnv(t, cfg), builds
}

const classNote = "Assessment: community acquired pneumonia; hypertension stable.\nProcedures: laparoscopic appendicectomy."

// send sends a request as e.do does and returns the answer's body.
func (e *env) send(who, method, path string, body any) (string, int) {
	e.t.Helper()
	var raw json.RawMessage
	status := e.do(who, method, path, body, &raw)
	return string(raw), status
}

// raw sends a request without a body.
func (e *env) raw(who, method, path string) (string, int) { return e.send(who, method, path, nil) }

// submitTo codes classNote into systems and returns the status and the
// document or error.
func (e *env) submitTo(systems ...string) (int, *store.Document, *errBody) {
	e.t.Helper()
	body, status := e.send("north/coder", "POST", "/v1/documents", map[string]any{"text": classNote, "systems": systems})
	var d store.Document
	var eb errBody
	json.Unmarshal([]byte(body), &d)
	json.Unmarshal([]byte(body), &eb)
	return status, &d, &eb
}

func TestCodeIntoInstalledClassifications(t *testing.T) {
	e, builds := classEnv(t, true)
	tests := []struct {
		name    string
		systems []string
		// want are code:system:kind triples that must be among the codes,
		// in any order; no code may be of another system.
		want []string
	}{
		{"ICD-10 UK by another spelling", []string{"ICD-10-UK"}, []string{"J18.9:icd10uk:diagnosis", "I10:icd10uk:diagnosis"}},
		{"OPCS-4 procedures", []string{"opcs4"}, []string{":opcs4:procedure"}},
		{"both, and ICD-10-CM beside them", []string{"icd10uk", "opcs4", "icd10cm"}, []string{"J18.9:icd10uk:diagnosis", ":opcs4:procedure", "J18.9:icd10cm:diagnosis"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, d, eb := e.submitTo(tt.systems...)
			if status != http.StatusCreated {
				t.Fatalf("status %d: %+v", status, eb.Error)
			}
			var got []string
			systems := map[codesys.System]bool{}
			for _, c := range d.Codes {
				got = append(got, fmt.Sprintf("%s:%s:%s", c.Code, c.System, c.Kind))
				systems[c.System] = true
			}
			for _, w := range tt.want {
				if !slices.ContainsFunc(got, func(g string) bool {
					return strings.HasSuffix(g, w) && strings.HasPrefix(g, strings.SplitN(w, ":", 2)[0])
				}) {
					t.Errorf("codes %v lack %s", got, w)
				}
			}
			for sys := range systems {
				name := string(sys)
				if !slices.ContainsFunc(tt.systems, func(s string) bool { n, _ := codesys.SystemName(s); return string(n) == name }) {
					t.Errorf("a code of %s, which was not asked for: %v", sys, got)
				}
			}
			for _, c := range d.Codes {
				if len(c.Warnings) > 0 {
					t.Errorf("%s %s: warnings %v: the code must validate against its release", c.System, c.Code, c.Warnings)
				}
			}
		})
	}
	if n := builds.Load(); n != 2 {
		t.Errorf("class coders built %d times, want 2 (one per classification, kept)", n)
	}
	var ready struct{ Releases []string }
	e.do("", "GET", "/readyz", nil, &ready)
	for _, id := range []string{"icd10cm-2021", "icd10uk-t1", "opcs4-t1"} {
		if !slices.Contains(ready.Releases, id) {
			t.Errorf("readyz releases %v lack %s", ready.Releases, id)
		}
	}
}

// TestClassCoderBuiltOnce codes into a classification from many requests
// at once: the coder is built once, and every request is answered.
func TestClassCoderBuiltOnce(t *testing.T) {
	e, builds := classEnv(t, true)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() {
			statuses[i], _, _ = e.submitTo("opcs4")
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	if n := builds.Load(); n != 1 {
		t.Errorf("OPCS-4 coder built %d times, want 1", n)
	}
}

func TestSystemsRefused(t *testing.T) {
	withCoders, _ := classEnv(t, true)
	without, _ := classEnv(t, false)
	tests := []struct {
		name    string
		e       *env
		systems []string
		code    string
		// message must name the system and how to install it.
		message []string
	}{
		{"registered, not installed", withCoders, []string{"icd10uk", "who-icd10"}, "no_release", []string{"ICD-10 (WHO)", "medcode import --system who-icd10"}},
		{"neither registered nor installed", withCoders, []string{"snomed"}, "unknown_system", []string{`"snomed"`, "medcode import --system snomed"}},
		{"not a name", withCoders, []string{"no such!"}, "unknown_system", []string{"invalid classification name"}},
		{"installed, reasoner codes only ICD-10-CM/PCS", without, []string{"opcs4"}, "unsupported_system", []string{"OPCS-4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, eb := tt.e.submitTo(tt.systems...)
			if status != http.StatusUnprocessableEntity || eb.Error.Code != tt.code || !strings.HasPrefix(eb.Error.Field, "systems[") {
				t.Fatalf("status %d error %+v, want 422 %s on systems", status, eb.Error, tt.code)
			}
			for _, m := range tt.message {
				if !strings.Contains(eb.Error.Message, m) {
					t.Errorf("message %q does not say %q", eb.Error.Message, m)
				}
			}
		})
	}
	// Nothing refused was stored.
	for _, e := range []*env{withCoders, without} {
		if docs, _ := e.st.ListDocuments(context.Background(), "north", store.Filter{}); len(docs) != 0 {
			t.Errorf("%d documents stored by refused requests", len(docs))
		}
	}
}

// TestReviewOtherClassifications reviews codes of classifications read
// as classes: a replacement is validated in the replaced code's
// classification, codes of any installed classification may be added,
// looked up and searched, and the exports name each by its FHIR URI.
func TestReviewOtherClassifications(t *testing.T) {
	e, _ := classEnv(t, true)
	status, d, eb := e.submitTo("icd10uk", "opcs4")
	if status != http.StatusCreated {
		t.Fatalf("submit: %d %+v", status, eb.Error)
	}
	var proc, pn *store.Code
	for _, c := range d.Codes {
		switch {
		case c.System == codesys.OPCS4:
			proc = c
		case c.Code == "J18.9":
			pn = c
		}
	}
	if proc == nil || pn == nil {
		t.Fatalf("codes %+v lack an OPCS-4 code and J18.9", d.Codes)
	}
	doc := "/v1/documents/" + d.ID
	decide := func(id string, body map[string]any) (int, map[string]*store.Code, errBody) {
		raw, status := e.send("north/coder", "POST", doc+"/codes/"+id+"/decision", body)
		var out map[string]*store.Code
		var eb errBody
		json.Unmarshal([]byte(raw), &out)
		json.Unmarshal([]byte(raw), &eb)
		return status, out, eb
	}
	// J18.0 is no ICD-10-CM code in the fixture Tabular List: it is
	// validated as ICD-10 (UK), the replaced code's classification.
	if s, out, eb := decide(pn.ID, map[string]any{"action": "replace", "code": "J180", "reason": "bronchopneumonia on imaging"}); s != 200 || out["replacement"].Code != "J18.0" || out["replacement"].System != codesys.ICD10UK {
		t.Fatalf("replace in ICD-10 (UK): %d %+v %+v", s, out["replacement"], eb.Error)
	}
	if s, _, eb := decide(proc.ID, map[string]any{"action": "replace", "code": "H02", "reason": "x"}); s != 422 || eb.Error.Code != "code_not_reportable" {
		t.Fatalf("replace by an OPCS-4 category: %d %+v", s, eb.Error)
	}
	i := strings.Index(classNote, "hypertension")
	var added store.Code
	if s := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "LX1", "system": "local-dx",
		"evidence": []map[string]int{{"start": i, "end": i + len("hypertension")}}}, &added); s != 201 || added.System != "local-dx" || added.Title != "Sample local condition" {
		t.Fatalf("add a code of a list of one's own: %d %+v", s, added)
	}
	var cur store.Document
	e.do("north/coder", "GET", doc, nil, &cur)
	for _, c := range cur.Codes {
		if c.Status == store.CodePending {
			if s, _, eb := decide(c.ID, map[string]any{"action": "accept"}); s != 200 {
				t.Fatalf("accept %s: %d %+v", c.Code, s, eb.Error)
			}
		}
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				ResourceType string
				Code         struct {
					Coding []struct{ System, Code string }
				}
			}
		}
	}
	if s := e.do("north/coder", "GET", doc+"/export?format=fhir", nil, &bundle); s != 200 {
		t.Fatalf("export: %d", s)
	}
	wantURI := map[string]string{
		"J18.0":   "Condition http://hl7.org/fhir/sid/icd-10",
		"I10":     "Condition http://hl7.org/fhir/sid/icd-10",
		"LX1":     "Condition " + coding.FHIRLocalSystemBase + "local-dx",
		proc.Code: "Procedure http://fhir.hl7.org.uk/CodeSystem/OPCS-4",
	}
	seen := 0
	for _, en := range bundle.Entry {
		c := en.Resource.Code.Coding[0]
		if want, ok := wantURI[c.Code]; ok {
			seen++
			if got := en.Resource.ResourceType + " " + c.System; got != want {
				t.Errorf("%s exported as %s, want %s", c.Code, got, want)
			}
		}
	}
	if seen != len(wantURI) {
		t.Errorf("bundle has %d of the codes %v", seen, wantURI)
	}
	var claim struct {
		Procedure []struct {
			ProcedureCodeableConcept struct {
				Coding []struct{ System, Code string }
			}
		}
	}
	e.do("north/coder", "GET", doc+"/export?format=claim", nil, &claim)
	if len(claim.Procedure) != 1 || claim.Procedure[0].ProcedureCodeableConcept.Coding[0].System != "http://fhir.hl7.org.uk/CodeSystem/OPCS-4" {
		t.Errorf("claim procedures: %+v", claim.Procedure)
	}
}

func TestLookupAndSearchOtherClassifications(t *testing.T) {
	e, _ := classEnv(t, true)
	tests := []struct {
		path   string
		status int
		want   string // in the body
	}{
		{"/v1/codes/opcs4/H011", 200, `"title":"Emergency excision of abnormal appendix and drainage"`},
		{"/v1/codes/ICD-10-UK/J18", 200, `"status":"header"`},
		{"/v1/codes/local-dx/LX2", 200, `"title":"Another local condition"`},
		{"/v1/codes/opcs4/H03.9", 404, `"code":"unknown_code"`},
		{"/v1/codes/who-icd10/A00", 404, `"code":"no_release"`},
		{"/v1/codes/snomed/123", 404, `"code":"unknown_system"`},
		{"/v1/search?system=icd10uk&q=pneumonia", 200, `"code":"J18`},
		{"/v1/search?system=opcs4&q=excision+of+appendix", 200, `"code":"H0`},
		{"/v1/search?system=who-icd10&q=pneumonia", 404, `"code":"no_release"`},
		{"/v1/systems", 200, `"system":"opcs4","title":"OPCS-4","release":"opcs4-t1","kind":"procedure","fhir":"http://fhir.hl7.org.uk/CodeSystem/OPCS-4","coding":true,"classes":true`},
		{"/v1/systems", 200, `"system":"local-dx","title":"local-dx","release":"local-dx-1","kind":"diagnosis","fhir":"` + coding.FHIRLocalSystemBase + `local-dx","coding":true`},
		{"/v1/systems", 200, `{"system":"icd10cm","title":"ICD-10-CM","release":"icd10cm-2021"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			body, status := e.raw("north/coder", "GET", tt.path)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%d %s\nwant %d with %s", status, body, tt.status, tt.want)
			}
		})
	}
}
