package server

import (
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// TestAssertions: a coder gives any assertion to an added or replacement
// code (an older spelling too), a replacement keeps the replaced code's by
// default, and the FHIR export writes each as the result's own bundle
// does. Each code is added to a note of its own whose engine codes are
// rejected, since a document holds a code once.
func TestAssertions(t *testing.T) {
	e := newEnv(t, Config{})
	i := strings.Index(testNote, "hypertension")
	ev := []map[string]any{{"start": i, "end": i + len("hypertension")}}

	// added submits the note, rejects its engine codes, and adds I10 with
	// the assertion given.
	added := func(given string) (doc string, c store.Code) {
		t.Helper()
		d := e.submit(testNote)
		doc = "/v1/documents/" + d.ID
		for _, ec := range d.Codes {
			if code := e.do("north/coder", "POST", doc+"/codes/"+ec.ID+"/decision", map[string]any{"action": "reject", "reason": "test"}, nil); code != 200 {
				t.Fatalf("reject %s: %d", ec.Code, code)
			}
		}
		body := map[string]any{"code": "I10", "evidence": ev}
		if given != "" {
			body["assertion"] = given
		}
		if code := e.do("north/coder", "POST", doc+"/codes", body, &c); code != 201 {
			t.Fatalf("add with assertion %q: %d", given, code)
		}
		return doc, c
	}
	// exported checks the FHIR resource of code id in the document's
	// export.
	exported := func(doc, id string, a coding.Assertion) {
		t.Helper()
		type coded struct {
			Coding []struct{ System, Code string }
		}
		var bundle struct {
			Entry []struct {
				Resource struct {
					ID                 string
					VerificationStatus *coded
					ClinicalStatus     *coded
					Extension          []struct{ URL, ValueCode string }
					Note               []struct{ Text string }
				}
			}
		}
		if code := e.do("north/coder", "GET", doc+"/export?format=fhir", nil, &bundle); code != 200 {
			t.Fatalf("export: %d", code)
		}
		for _, en := range bundle.Entry {
			r := en.Resource
			if r.ID != id {
				continue
			}
			st := a.FHIR()
			if r.VerificationStatus.Coding[0].Code != st.Verification || r.VerificationStatus.Coding[0].System != coding.FHIRVerificationSystem {
				t.Errorf("%s (%s): verificationStatus %+v, want %s", r.ID, a, r.VerificationStatus, st.Verification)
			}
			clinical := ""
			if r.ClinicalStatus != nil {
				clinical = r.ClinicalStatus.Coding[0].Code
			}
			if clinical != st.Clinical {
				t.Errorf("%s (%s): clinicalStatus %q, want %q", r.ID, a, clinical, st.Clinical)
			}
			if len(r.Extension) != 1 || r.Extension[0].URL != coding.FHIRAssertionURL || r.Extension[0].ValueCode != string(a) {
				t.Errorf("%s (%s): extensions %+v", r.ID, a, r.Extension)
			}
			if hasNote := len(r.Note) > 0 && r.Note[0].Text == st.Note; hasNote != (st.Note != "") {
				t.Errorf("%s (%s): notes %+v, want first %q", r.ID, a, r.Note, st.Note)
			}
			return
		}
		t.Errorf("export of %s lacks code %s (%s)", doc, id, a)
	}

	for _, tt := range []struct {
		given string
		want  coding.Assertion
	}{
		{"", coding.Affirmed},
		{"affirmed", coding.Affirmed},
		{"negated", coding.Negated},
		{"possible", coding.Possible},
		{"historical", coding.Historical},
		{"resolved", coding.Resolved},
		{"family", coding.Family},
		{"other person", coding.OtherPerson},
		{"hypothetical", coding.Hypothetical},
		{"other", coding.OtherPerson},
	} {
		doc, c := added(tt.given)
		if c.Assertion != tt.want {
			t.Errorf("added with %q: assertion %q, want %q", tt.given, c.Assertion, tt.want)
		}
		exported(doc, c.ID, tt.want)
	}

	// Replacements: the first keeps the replaced code's assertion, the
	// second sets its own.
	for _, r := range []struct {
		given string
		body  map[string]any
		want  coding.Assertion
	}{
		{"negated", map[string]any{"action": "replace", "code": "J15.9"}, coding.Negated},
		{"possible", map[string]any{"action": "replace", "code": "J15.9", "assertion": "resolved"}, coding.Resolved},
	} {
		doc, from := added(r.given)
		var out map[string]*store.Code
		if code := e.do("north/coder", "POST", doc+"/codes/"+from.ID+"/decision", r.body, &out); code != 200 {
			t.Fatalf("replace: %d", code)
		}
		if a := out["replacement"].Assertion; a != r.want {
			t.Errorf("replacement of a %q code with %v: assertion %q, want %q", from.Assertion, r.body, a, r.want)
		}
		exported(doc, out["replacement"].ID, r.want)
	}
}
