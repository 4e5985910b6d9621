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
// does.
func TestAssertions(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit(testNote)
	doc := "/v1/documents/" + d.ID
	i := strings.Index(testNote, "hypertension")
	ev := []map[string]any{{"start": i, "end": i + len("hypertension")}}

	tests := []struct {
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
	}
	want := map[string]coding.Assertion{}
	for _, tt := range tests {
		body := map[string]any{"code": "I10", "evidence": ev}
		if tt.given != "" {
			body["assertion"] = tt.given
		}
		var added store.Code
		if code := e.do("north/coder", "POST", doc+"/codes", body, &added); code != 201 {
			t.Fatalf("add with assertion %q: %d", tt.given, code)
		}
		if added.Assertion != tt.want {
			t.Errorf("added with %q: assertion %q, want %q", tt.given, added.Assertion, tt.want)
		}
		want[added.ID] = tt.want
	}

	// Replacements: the first keeps the replaced code's assertion, the
	// second sets its own.
	var got store.Document
	e.do("north/coder", "GET", doc, nil, &got)
	var added []*store.Code
	for _, c := range got.Codes {
		if c.Origin == store.OriginCoder {
			added = append(added, c)
		}
	}
	for _, r := range []struct {
		from *store.Code
		body map[string]any
		want coding.Assertion
	}{
		{added[2], map[string]any{"action": "replace", "code": "J15.9"}, coding.Negated},
		{added[3], map[string]any{"action": "replace", "code": "J15.9", "assertion": "resolved"}, coding.Resolved},
	} {
		var out map[string]*store.Code
		if code := e.do("north/coder", "POST", doc+"/codes/"+r.from.ID+"/decision", r.body, &out); code != 200 {
			t.Fatalf("replace: %d", code)
		}
		if a := out["replacement"].Assertion; a != r.want {
			t.Errorf("replacement of a %q code with %v: assertion %q, want %q", r.from.Assertion, r.body, a, r.want)
		}
		delete(want, r.from.ID)
		want[out["replacement"].ID] = r.want
	}

	e.do("north/coder", "GET", doc, nil, &got)
	for _, c := range got.Codes {
		if c.Status == store.CodePending {
			if code := e.do("north/coder", "POST", doc+"/codes/"+c.ID+"/decision", map[string]any{"action": "accept"}, nil); code != 200 {
				t.Fatalf("accept %s: %d", c.Code, code)
			}
		}
	}
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
	seen := 0
	for _, en := range bundle.Entry {
		r := en.Resource
		a, ok := want[r.ID]
		if !ok {
			// An engine code: the test reasoner gives no assertion.
			if len(r.Extension) != 0 || r.VerificationStatus.Coding[0].Code != "confirmed" || r.ClinicalStatus.Coding[0].Code != "active" {
				t.Errorf("engine code %s without an assertion: %+v", r.ID, r)
			}
			continue
		}
		seen++
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
	}
	if seen != len(want) {
		t.Errorf("export has %d of the %d codes given an assertion", seen, len(want))
	}
}
