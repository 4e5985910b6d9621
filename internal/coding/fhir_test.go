package coding

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func TestFHIRBundle(t *testing.T) {
	note := "Acute appendicitis. Laparoscopic appendectomy."
	r := &Result{ID: "note 1", Codes: []Code{
		{Code: "K35.80", System: codesys.ICD10CM, Kind: Diagnosis, Title: "Unspecified acute appendicitis", Assertion: "affirmed", Confidence: 0.9,
			Evidence: []Evidence{{Start: 0, End: 18, Text: note[0:18], Section: "assessment"}},
			Trail:    []Step{{Kind: StepTabular, Detail: "Tabular: K35.80"}}},
		{Code: "0DTJ4ZZ", System: codesys.ICD10PCS, Kind: Procedure, Title: "Resection of Appendix, Percutaneous Endoscopic Approach", Confidence: 0.8,
			Evidence: []Evidence{{Start: 20, End: 45, Text: note[20:45]}}},
	}}
	b, err := json.Marshal(FHIRBundle(r))
	if err != nil {
		t.Fatal(err)
	}
	// Read it back as FHIR R4 JSON, with the fields a consumer needs.
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			FullURL  string `json:"fullUrl"`
			Resource struct {
				ResourceType string `json:"resourceType"`
				Status       string `json:"status"`
				Code         struct {
					Coding []struct{ System, Code string } `json:"coding"`
				} `json:"code"`
				VerificationStatus *struct {
					Coding []struct{ Code string } `json:"coding"`
				} `json:"verificationStatus"`
				Extension []struct {
					URL       string `json:"url"`
					Extension []struct {
						URL          string `json:"url"`
						ValueInteger *int   `json:"valueInteger"`
					} `json:"extension"`
				} `json:"extension"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	if bundle.ResourceType != "Bundle" || bundle.Type != "collection" || len(bundle.Entry) != 2 {
		t.Fatalf("bundle = %s", b)
	}
	cond, proc := bundle.Entry[0].Resource, bundle.Entry[1].Resource
	if cond.ResourceType != "Condition" || cond.Code.Coding[0].System != FHIRSystemICD10CM || cond.Code.Coding[0].Code != "K35.80" {
		t.Errorf("condition = %+v", cond)
	}
	if cond.VerificationStatus == nil || cond.VerificationStatus.Coding[0].Code != "confirmed" {
		t.Errorf("an affirmed diagnosis must be confirmed: %+v", cond.VerificationStatus)
	}
	if proc.ResourceType != "Procedure" || proc.Status != "completed" || proc.Code.Coding[0].System != FHIRSystemICD10PCS {
		t.Errorf("procedure = %+v", proc)
	}
	var spans int
	for _, ext := range cond.Extension {
		if ext.URL != FHIREvidenceURL {
			continue
		}
		spans++
		for _, sub := range ext.Extension {
			if sub.URL == "end" && (sub.ValueInteger == nil || *sub.ValueInteger != 18) {
				t.Errorf("evidence end = %v, want 18", sub.ValueInteger)
			}
		}
	}
	if spans != 1 {
		t.Errorf("condition has %d evidence extensions, want 1", spans)
	}
	uuid := regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, e := range bundle.Entry {
		if !uuid.MatchString(e.FullURL) {
			t.Errorf("fullUrl %q is not a urn:uuid with an RFC 4122 UUID", e.FullURL)
		}
	}
	if bundle.Entry[0].FullURL == bundle.Entry[1].FullURL {
		t.Error("two entries share a fullUrl")
	}
}

func TestParseSetting(t *testing.T) {
	for in, want := range map[string]Setting{"": Inpatient, "inpatient": Inpatient, "outpatient": Outpatient} {
		if got, err := ParseSetting(in); err != nil || got != want {
			t.Errorf("ParseSetting(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseSetting("emergency"); err == nil {
		t.Error("ParseSetting(emergency) succeeded")
	}
}

// TestFHIRAssertions: every assertion is written as its status elements,
// its extension and, where the elements cannot say it, a note, for a
// diagnosis and for a procedure.
func TestFHIRAssertions(t *testing.T) {
	tests := []struct {
		a                              Assertion
		verification, clinical, status string
		note                           string
	}{
		{Affirmed, "confirmed", "active", "completed", ""},
		{"", "confirmed", "active", "completed", ""},
		{Negated, "refuted", "", "not-done", ""},
		{Possible, "provisional", "", "unknown", ""},
		{Historical, "confirmed", "", "completed", "history"},
		{Resolved, "confirmed", "resolved", "completed", ""},
		{Family, "confirmed", "", "unknown", "family member"},
		{OtherPerson, "unconfirmed", "", "unknown", "someone other than the patient"},
		{Hypothetical, "unconfirmed", "", "unknown", "planned"},
	}
	if len(tests) != len(Assertions())+1 {
		t.Fatalf("%d cases for %d assertions and none", len(tests), len(Assertions()))
	}
	type coded struct {
		Coding []struct{ System, Code string } `json:"coding"`
	}
	for _, tt := range tests {
		t.Run(string(tt.a), func(t *testing.T) {
			r := &Result{ID: "n", Codes: []Code{
				{Code: "R50.9", System: codesys.ICD10CM, Kind: Diagnosis, Title: "Fever, unspecified", Assertion: tt.a,
					Trail: []Step{{Kind: StepTabular, Detail: "Tabular: R50.9"}}},
				{Code: "0DTJ4ZZ", System: codesys.ICD10PCS, Kind: Procedure, Title: "Resection of Appendix", Assertion: tt.a},
			}}
			b, err := json.Marshal(FHIRBundle(r))
			if err != nil {
				t.Fatal(err)
			}
			var bundle struct {
				Entry []struct {
					Resource struct {
						ResourceType       string                  `json:"resourceType"`
						Status             string                  `json:"status"`
						ClinicalStatus     *coded                  `json:"clinicalStatus"`
						VerificationStatus *coded                  `json:"verificationStatus"`
						Note               []struct{ Text string } `json:"note"`
						Extension          []struct {
							URL       string `json:"url"`
							ValueCode string `json:"valueCode"`
						} `json:"extension"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(b, &bundle); err != nil {
				t.Fatal(err)
			}
			cond, proc := bundle.Entry[0].Resource, bundle.Entry[1].Resource
			if cond.ResourceType != "Condition" || proc.ResourceType != "Procedure" {
				t.Fatalf("resources %s, %s", cond.ResourceType, proc.ResourceType)
			}
			if v := cond.VerificationStatus; v == nil || v.Coding[0].Code != tt.verification || v.Coding[0].System != FHIRVerificationSystem {
				t.Errorf("verificationStatus %+v, want %s", v, tt.verification)
			}
			clinical := ""
			if c := cond.ClinicalStatus; c != nil {
				clinical = c.Coding[0].Code
				if c.Coding[0].System != FHIRClinicalSystem {
					t.Errorf("clinicalStatus system %s", c.Coding[0].System)
				}
			}
			if clinical != tt.clinical {
				t.Errorf("clinicalStatus %q, want %q", clinical, tt.clinical)
			}
			if proc.Status != tt.status {
				t.Errorf("Procedure.status %q, want %q", proc.Status, tt.status)
			}
			for i, res := range []string{"Condition", "Procedure"} {
				r := bundle.Entry[i].Resource
				ext := ""
				for _, e := range r.Extension {
					if e.URL == FHIRAssertionURL {
						ext = e.ValueCode
					}
				}
				if ext != string(tt.a) {
					t.Errorf("%s: assertion extension %q, want %q", res, ext, tt.a)
				}
				hasNote := len(r.Note) > 0 && strings.HasPrefix(r.Note[0].Text, "assertion ")
				if hasNote != (tt.note != "") || hasNote && !strings.Contains(r.Note[0].Text, tt.note) {
					t.Errorf("%s: notes %+v, want the first to say %q", res, r.Note, tt.note)
				}
			}
			if n := cond.Note; len(n) == 0 || n[len(n)-1].Text != "tabular: Tabular: R50.9" {
				t.Errorf("Condition: the trail is not kept in the notes: %+v", n)
			}
		})
	}
}

// An incomplete code is a Procedure whose code is text only, marked with
// the incomplete-code extension: no coding in the ICD-10-PCS system.
func TestFHIRIncomplete(t *testing.T) {
	r := &Result{ID: "n", Codes: []Code{{Code: "0DTJ", System: codesys.ICD10PCS, Kind: Procedure,
		Title: "Medical and Surgical, Gastrointestinal System, Resection, Appendix", Incomplete: true, Missing: "Approach"}}}
	b, err := json.Marshal(FHIRBundle(r))
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct {
			Resource struct {
				Code struct {
					Coding []any  `json:"coding"`
					Text   string `json:"text"`
				} `json:"code"`
				Extension []struct {
					URL       string `json:"url"`
					Extension []struct {
						URL         string `json:"url"`
						ValueString string `json:"valueString"`
					} `json:"extension"`
				} `json:"extension"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	res := bundle.Entry[0].Resource
	if len(res.Code.Coding) != 0 || !strings.Contains(res.Code.Text, "incomplete ICD-10-PCS code 0DTJ") || !strings.Contains(res.Code.Text, "not reportable") {
		t.Errorf("code = %+v, want text only, marked incomplete", res.Code)
	}
	var prefix string
	for _, ext := range res.Extension {
		if ext.URL == FHIRIncompleteURL {
			for _, sub := range ext.Extension {
				if sub.URL == "prefix" {
					prefix = sub.ValueString
				}
			}
		}
	}
	if prefix != "0DTJ" {
		t.Errorf("incomplete extension prefix = %q, want 0DTJ (%s)", prefix, b)
	}
}

func TestFHIRSystem(t *testing.T) {
	tests := []struct {
		sys  codesys.System
		want string
	}{
		{codesys.ICD10CM, FHIRSystemICD10CM},
		{codesys.ICD10PCS, FHIRSystemICD10PCS},
		{codesys.WHOICD10, "http://hl7.org/fhir/sid/icd-10"},
		{codesys.ICD10UK, "http://hl7.org/fhir/sid/icd-10"},
		{codesys.OPCS4, "http://fhir.hl7.org.uk/CodeSystem/OPCS-4"},
		{"local-proc", FHIRLocalSystemBase + "local-proc"},
	}
	for _, tt := range tests {
		if got := FHIRSystem(tt.sys); got != tt.want {
			t.Errorf("FHIRSystem(%s) = %q, want %q", tt.sys, got, tt.want)
		}
		// The bundle of a code of the system names it so.
		b, _ := json.Marshal(FHIRBundle(&Result{Codes: []Code{{Code: "X1", System: tt.sys, Kind: Diagnosis}}}))
		if !strings.Contains(string(b), `"system":"`+tt.want+`"`) {
			t.Errorf("%s: bundle %s does not name %s", tt.sys, b, tt.want)
		}
	}
}

// fhirExt is a FHIR extension read back from JSON.
type fhirExt struct {
	URL         string    `json:"url"`
	ValueString string    `json:"valueString"`
	Extension   []fhirExt `json:"extension"`
}

// TestFHIRGuidelineCitations: the guideline sections a code's trail
// applied are cited on its resource, once per section and edition, with
// their year and quote, and in its notes.
func TestFHIRGuidelineCitations(t *testing.T) {
	kidney := Step{Kind: StepGuideline, Detail: "combination code for hypertension with CKD", Ref: "I.C.9.a.2", Year: "2025", Quote: "Assign codes from the combination category …"}
	tests := []struct {
		name  string
		trail []Step
		want  []string // section|year|quote|rule of each citation
		notes []string // what the notes must contain
	}{
		{"none", []Step{{Kind: StepTabular, Detail: "Tabular: I12.9", Ref: "I12.9"}}, nil, nil},
		{"installed", []Step{{Kind: StepIndex, Detail: "Index: Hypertension > with > kidney"}, kidney},
			[]string{"I.C.9.a.2|2025|Assign codes from the combination category …|combination code for hypertension with CKD"},
			[]string{`guideline: combination code for hypertension with CKD (ICD-10-CM Official Guidelines FY2025, section I.C.9.a.2: "Assign codes from the combination category …")`}},
		{"cited twice, one edition", []Step{kidney, {Kind: StepGuideline, Detail: "again", Ref: "I.C.9.a.2", Year: "2025", Quote: "x"}},
			[]string{"I.C.9.a.2|2025|Assign codes from the combination category …|combination code for hypertension with CKD"}, nil},
		{"built-in summary", []Step{{Kind: StepGuideline, Detail: "built-in summary of II.H (no guidelines installed)", Ref: "II.H"}},
			[]string{"II.H|||built-in summary of II.H (no guidelines installed)"},
			[]string{"guideline: built-in summary of II.H (no guidelines installed)"}},
		{"two sections, trail order", []Step{{Kind: StepGuideline, Detail: "uncertain", Ref: "II.H", Year: "2025", Quote: "q"}, kidney},
			[]string{"II.H|2025|q|uncertain", "I.C.9.a.2|2025|Assign codes from the combination category …|combination code for hypertension with CKD"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Result{ID: "n", Codes: []Code{{Code: "I12.9", System: codesys.ICD10CM, Kind: Diagnosis, Title: "Hypertensive CKD", Trail: tt.trail}}}
			b, err := json.Marshal(FHIRBundle(r))
			if err != nil {
				t.Fatal(err)
			}
			var bundle struct {
				Entry []struct {
					Resource struct {
						Extension []fhirExt `json:"extension"`
						Note      []struct {
							Text string `json:"text"`
						} `json:"note"`
					} `json:"resource"`
				} `json:"entry"`
			}
			if err := json.Unmarshal(b, &bundle); err != nil || len(bundle.Entry) != 1 {
				t.Fatalf("bundle %s: %v", b, err)
			}
			res := bundle.Entry[0].Resource
			var got []string
			for _, e := range res.Extension {
				if e.URL != FHIRGuidelineURL {
					continue
				}
				f := map[string]string{}
				for _, s := range e.Extension {
					f[s.URL] = s.ValueString
				}
				got = append(got, f["section"]+"|"+f["year"]+"|"+f["quote"]+"|"+f["rule"])
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("citations\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, want := range tt.notes {
				found := false
				for _, n := range res.Note {
					found = found || n.Text == want
				}
				if !found {
					t.Errorf("no note %q in %+v", want, res.Note)
				}
			}
		})
	}
}
