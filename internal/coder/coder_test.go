package coder

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

func codeText(t *testing.T, text string, setting coding.Setting) *coding.Result {
	t.Helper()
	res, err := realCoder(t).Code(context.Background(), coding.Request{ID: "t", Text: text, Setting: setting})
	if err != nil {
		t.Fatalf("code: %v", err)
	}
	return res
}

func codesOf(res *coding.Result) []string {
	var out []string
	for _, c := range res.Codes {
		out = append(out, c.Code)
	}
	return out
}

func hasCode(res *coding.Result, prefix string) bool {
	for _, c := range res.Codes {
		if strings.HasPrefix(c.Code, prefix) {
			return true
		}
	}
	return false
}

// checkCodes checks that every code of want is coded and that no code
// starting with a prefix of not is.
func checkCodes(t *testing.T, res *coding.Result, want, not []string) {
	t.Helper()
	got := codesOf(res)
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s not coded; got %v", w, got)
		}
	}
	for _, n := range not {
		if hasCode(res, n) {
			t.Errorf("%s* coded; got %v", n, got)
		}
	}
}

func droppedFor(res *coding.Result, code, reason string) bool {
	for _, c := range res.Dropped {
		if c.Code == code && strings.Contains(c.Reason, reason) {
			return true
		}
	}
	return false
}

// TestGoldenNotes codes the realistic notes of testdata, written for these
// tests, and checks the codes a coder assigns to them (decided from the
// notes and the guidelines, not from the coder's output): every code in
// the want list is reported, none in the not list is.
func TestGoldenNotes(t *testing.T) {
	tests := []struct {
		file    string
		setting coding.Setting
		want    []string
		not     []string // prefixes
		// first is the principal (inpatient) or first-listed
		// (outpatient) diagnosis, when the guidelines decide it.
		first string
	}{
		{"discharge.txt", coding.Inpatient,
			// heart failure, hypertension and CKD: I13.0 (I.C.9.a.3) with
			// I50.23 and N18.30; diabetes with CKD: E11.22; atrial
			// fibrillation; former smoker.
			[]string{"I50.23", "I13.0", "E11.22", "N18.30", "I48.91", "Z87.891"},
			// I10/I11/I12 are replaced by I13.0; E11.9 by E11.22; dyspnea and
			// edema are integral to heart failure; chest pain, fever, cough
			// are denied; breast cancer and MI are the parents'.
			[]string{"I10", "I11", "I12", "E11.9", "E10", "E13", "R06", "R60", "R07", "R50", "R05", "C50", "I21", "N18.4"},
			// admitted for heart failure, listed first among the
			// discharge diagnoses: the combination code that includes it,
			// which the heart failure code's "code first" note names.
			"I13.0"},
		{"ed.txt", coding.Outpatient,
			[]string{"S82.61XA", "J45.909", "M25.571"},
			// wheezing is excluded by asthma (Excludes1 at J45); a fall is
			// not "repeated falls"; the ankle fracture is coded once.
			[]string{"R06.2", "R29.6", "S82.89", "R52", "S06"},
			// the injury the visit is for, not the pain it explains
			"S82.61XA"},
		{"outpatient.txt", coding.Outpatient,
			// probable pneumonia is not coded in an outpatient setting: the
			// symptoms are (IV.H); family history of colon cancer is Z80.
			[]string{"R05", "R50.9", "I10"},
			[]string{"J18", "R07", "C18"}, ""},
		{"outpatient.txt", coding.Inpatient,
			// inpatient: the uncertain diagnosis is coded as if confirmed,
			// and its symptoms are integral to it.
			[]string{"J18.9", "I10"},
			[]string{"R05", "R50", "C18"}, "J18.9"},
		{"opreport.txt", coding.Inpatient,
			// the postoperative diagnosis: acute appendicitis with localized
			// peritonitis, not perforated (K35.30); laparoscopic appendectomy:
			// resection of the appendix, percutaneous endoscopic (0DTJ4ZZ).
			[]string{"K35.30", "0DTJ4ZZ"},
			[]string{"K35.80", "K35.32", "K65", "R10", "R11", "R50", "L02"}, "K35.30"},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+string(tt.setting), func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			res := codeText(t, text, tt.setting)
			checkCodes(t, res, tt.want, tt.not)
			checkEvidence(t, text, res)
			if tt.first != "" && (len(res.Codes) == 0 || res.Codes[0].Code != tt.first) {
				t.Errorf("first-listed code: got %v, want %s", codesOf(res), tt.first)
			}
		})
	}
}

// checkEvidence checks what every result must satisfy: evidence quotes
// the note exactly, codes are valid in the release, trails are present.
func checkEvidence(t *testing.T, text string, res *coding.Result) {
	t.Helper()
	c := realCoder(t)
	for _, cd := range append(slices.Clone(res.Codes), res.Dropped...) {
		if len(cd.Evidence) == 0 {
			t.Errorf("%s: no evidence", cd.Code)
		}
		for _, e := range cd.Evidence {
			if e.Start < 0 || e.End > len(text) || e.Start >= e.End || text[e.Start:e.End] != e.Text {
				t.Errorf("%s: evidence %d-%d %q does not quote the note", cd.Code, e.Start, e.End, e.Text)
			}
		}
	}
	for _, cd := range res.Codes {
		if cd.System == codesys.ICD10PCS {
			// A procedure code is complete, or marked incomplete (the
			// characters the note documents, not reportable).
			if cd.Kind != coding.Procedure || len(cd.Code) != 7 && (!cd.Incomplete || len(cd.Code) >= 7) {
				t.Errorf("%s: not a complete procedure code, nor one marked incomplete", cd.Code)
			}
			continue
		}
		if v := c.tab.Validate(cd.Code); v.Status != codesys.Valid {
			t.Errorf("%s: not a valid code: %s", cd.Code, v.Reason)
		}
		if len(cd.Trail) == 0 || cd.Title == "" || cd.Kind != coding.Diagnosis || cd.Confidence <= 0 || cd.Confidence > 1 {
			t.Errorf("%s: incomplete code %+v", cd.Code, cd)
		}
	}
}

// cand builds a Verify candidate for a code, as Locate would.
func cand(t *testing.T, code string, pos, words int, a assert.Assertion) candidate {
	t.Helper()
	c := realCoder(t)
	v := c.tab.Validate(code)
	if v.Status != codesys.Valid {
		t.Fatalf("%s: %s", code, v.Reason)
	}
	text := strings.Repeat("x", words)
	return candidate{
		code: coding.Code{Code: v.Code, System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: v.Title,
			Evidence: []coding.Evidence{{Start: pos, End: pos + words, Text: text}}, Assertion: assertionName(a),
			Trail: []coding.Step{{Kind: coding.StepMention, Detail: "test"}}, Confidence: 0.8},
		assertion: a, pos: pos, words: words,
	}
}

// TestVerifyRules checks each rule of the Verify stage on candidates where
// the rule decides the outcome: without the rule the outcome differs.
func TestVerifyRules(t *testing.T) {
	c := realCoder(t)
	affirmed := assert.Assertion{}
	tests := []struct {
		name    string
		setting coding.Setting
		cands   []candidate
		want    []string // codes, in reporting order
		dropped []string // codes, with a reason containing why
		why     string
	}{
		{"excludes1: asthma excludes wheezing NOS", coding.Inpatient,
			[]candidate{cand(t, "R06.2", 0, 1, affirmed), cand(t, "J45.909", 10, 1, affirmed)},
			[]string{"J45.909"}, []string{"R06.2"}, "Excludes1"},
		{"manifestation without etiology: J17 alone", coding.Inpatient,
			[]candidate{cand(t, "J17", 0, 3, affirmed)},
			nil, []string{"J17"}, "manifestation"},
		{"manifestation with its etiology: A78 then J17", coding.Inpatient,
			[]candidate{cand(t, "J17", 0, 3, affirmed), cand(t, "A78", 20, 2, affirmed)},
			[]string{"A78", "J17"}, nil, ""},
		{"code first / use additional: E11.22 before N18.30", coding.Inpatient,
			[]candidate{cand(t, "N18.30", 0, 4, affirmed), cand(t, "E11.22", 30, 7, affirmed)},
			[]string{"E11.22", "N18.30"}, nil, ""},
		{"integral symptom: fever with pneumonia", coding.Inpatient,
			[]candidate{cand(t, "R50.9", 0, 1, affirmed), cand(t, "J18.9", 10, 1, affirmed)},
			[]string{"J18.9"}, []string{"R50.9"}, "integral"},
		{"integral by site: right knee pain beside osteoarthritis of the right knee", coding.Outpatient,
			[]candidate{cand(t, "M25.561", 0, 3, affirmed), cand(t, "M17.11", 20, 3, affirmed)},
			[]string{"M17.11"}, []string{"M25.561"}, "integral to M17.11"},
		{"pain of another site than the diagnosis: kept", coding.Outpatient,
			[]candidate{cand(t, "M17.12", 0, 3, affirmed), cand(t, "M25.561", 20, 3, affirmed)},
			[]string{"M17.12", "M25.561"}, nil, ""},
		{"counseling in the care of a coded condition", coding.Outpatient,
			[]candidate{cand(t, "E11.9", 0, 3, affirmed), cand(t, "Z71.9", 20, 1, affirmed)},
			[]string{"E11.9"}, []string{"Z71.9"}, "I.C.21.c.10"},
		{"elevated reading beside hypertension", coding.Outpatient,
			[]candidate{cand(t, "R03.0", 0, 3, affirmed), cand(t, "I10", 20, 1, affirmed)},
			[]string{"I10"}, []string{"R03.0"}, "no formal diagnosis of hypertension"},
		{"category's unspecified code beside a deeper one", coding.Outpatient,
			[]candidate{cand(t, "I50.9", 0, 2, affirmed), cand(t, "I50.30", 20, 3, affirmed)},
			[]string{"I50.30"}, []string{"I50.9"}, "more specific I50.30"},
		{"unspecified fall beside the fall described", coding.Outpatient,
			[]candidate{cand(t, "S93.401A", 0, 3, affirmed), cand(t, "W19.XXXA", 20, 1, affirmed), cand(t, "W01.0XXA", 30, 3, affirmed)},
			[]string{"S93.401A", "W01.0XXA"}, []string{"W19.XXXA"}, "unspecified fall beside the specific W01.0XXA"},
		// "or unspecified chronic kidney disease" is an aspect of I13.0,
		// not the code left unspecified: the deeper I13.10 does not replace it.
		{"unspecified aspect, not an unspecified code", coding.Inpatient,
			[]candidate{cand(t, "I13.0", 0, 3, affirmed), cand(t, "I13.10", 20, 5, affirmed)},
			[]string{"I13.0"}, []string{"I13.10"}, "I13.0"},
		{"negated", coding.Inpatient,
			[]candidate{cand(t, "R07.9", 0, 2, assert.Assertion{Negation: assert.Negated})},
			nil, []string{"R07.9"}, "negated"},
		// The family member's colon cancer becomes the family history code
		// whose inclusion term names its range (Tabular: Z80.0, conditions
		// classifiable to C15-C26), one code with the Z80.0 documented
		// beside it.
		{"family member's disease, but family history code kept", coding.Inpatient,
			[]candidate{cand(t, "C18.9", 0, 2, assert.Assertion{Experiencer: assert.Family}),
				cand(t, "Z80.0", 10, 4, assert.Assertion{Experiencer: assert.Family})},
			[]string{"Z80.0"}, nil, ""},
		{"someone else's disease", coding.Inpatient,
			[]candidate{cand(t, "C18.9", 0, 2, assert.Assertion{Experiencer: assert.Other})},
			nil, []string{"C18.9"}, "someone else's"},
		{"uncertain, inpatient: coded", coding.Inpatient,
			[]candidate{cand(t, "J18.9", 0, 1, assert.Assertion{Negation: assert.Possible})},
			[]string{"J18.9"}, nil, ""},
		{"uncertain, outpatient: not coded", coding.Outpatient,
			[]candidate{cand(t, "J18.9", 0, 1, assert.Assertion{Negation: assert.Possible})},
			nil, []string{"J18.9"}, "outpatient"},
		{"hypertension with heart failure: I11.0", coding.Inpatient,
			[]candidate{cand(t, "I10", 0, 1, affirmed), cand(t, "I50.9", 10, 2, affirmed)},
			[]string{"I11.0", "I50.9"}, []string{"I10"}, "I.C.9.a.1"},
		{"hypertension with CKD: I12.9", coding.Inpatient,
			[]candidate{cand(t, "I10", 0, 1, affirmed), cand(t, "N18.9", 10, 3, affirmed)},
			[]string{"I12.9", "N18.9"}, []string{"I10"}, "I.C.9.a.2"},
		{"hypertension with heart failure and CKD: I13.0", coding.Inpatient,
			[]candidate{cand(t, "I10", 0, 1, affirmed), cand(t, "I50.22", 10, 3, affirmed), cand(t, "N18.30", 20, 4, affirmed)},
			[]string{"I13.0", "I50.22", "N18.30"}, []string{"I10"}, "combined"},
		{"diabetes with CKD and polyneuropathy: E11.22 and E11.42", coding.Inpatient,
			[]candidate{cand(t, "E11.9", 0, 3, affirmed), cand(t, "N18.9", 10, 3, affirmed), cand(t, "G62.9", 20, 1, affirmed)},
			[]string{"E11.22", "E11.42", "N18.9"}, []string{"E11.9", "G62.9"}, "I.A.15"},
		{"unspecified beside specific: K35.80 with K35.30", coding.Inpatient,
			[]candidate{cand(t, "K35.80", 0, 2, affirmed), cand(t, "K35.30", 10, 5, affirmed)},
			[]string{"K35.30"}, []string{"K35.80"}, "unspecified"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			codes, dropped := c.verify(tt.cands, tt.setting, coding.Reportable)
			var got []string
			for _, cd := range codes {
				got = append(got, cd.Code)
			}
			if tt.want == nil {
				tt.want = []string{}
			}
			if got == nil {
				got = []string{}
			}
			// Reporting order matters only where a rule sets it.
			if !slices.Equal(got, tt.want) {
				gs, ws := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(tt.want))
				if !slices.Equal(gs, ws) || strings.Contains(tt.name, "before") || strings.Contains(tt.name, "then") {
					t.Errorf("codes = %v, want %v", got, tt.want)
				}
			}
			for _, d := range tt.dropped {
				found := false
				for _, x := range dropped {
					if x.Code == d && strings.Contains(x.Reason, tt.why) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s not dropped for %q; dropped %+v", d, tt.why, dropped)
				}
			}
		})
	}
}

// TestNoteRules checks the assertion rules on notes: the words of the note
// decide.
func TestNoteRules(t *testing.T) {
	res := codeText(t, "Patient denies chest pain. Family history of breast cancer. Her mother had colon cancer.", coding.Inpatient)
	if hasCode(res, "R07") || hasCode(res, "C50") || hasCode(res, "C18") {
		t.Errorf("negated or family conditions coded: %v", codesOf(res))
	}
	if !hasCode(res, "Z80.3") {
		t.Errorf("family history of breast cancer (Z80.3) not coded: %v", codesOf(res))
	}
	if !droppedFor(res, "R07.9", "negated") {
		t.Errorf("chest pain not dropped as negated: %+v", res.Dropped)
	}
}

// TestRobustness: notes that are empty, huge, in another language or only
// headers are coded without error and without nonsense.
func TestRobustness(t *testing.T) {
	var big strings.Builder
	b, err := os.ReadFile(filepath.Join("testdata", "discharge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for big.Len() < 1<<20 {
		big.Write(b)
		big.WriteString("\n")
	}
	tests := []struct {
		name, text string
		max        int
	}{
		{"empty", "", 0},
		{"whitespace", " \n\n\t ", 0},
		{"headers only", "HISTORY OF PRESENT ILLNESS:\n\nPAST MEDICAL HISTORY:\n\nASSESSMENT AND PLAN:\n", 0},
		{"spanish", "Paciente de 45 años que acude por dolor torácico y disnea de esfuerzo. Antecedentes: sin interés. Exploración física normal. Se solicita analítica.", 2},
		{"1 MB", big.String(), 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := codeText(t, tt.text, coding.Inpatient)
			if len(res.Codes) > tt.max {
				t.Errorf("%d codes, want at most %d: %v", len(res.Codes), tt.max, codesOf(res))
			}
			checkEvidence(t, tt.text, res)
		})
	}
	if _, err := realCoder(t).Code(context.Background(), coding.Request{Text: "bad \xff utf-8"}); err == nil {
		t.Error("invalid UTF-8: no error")
	}
}

// TestDeterminism: the same note gives the same result, byte for byte,
// also when coded concurrently.
func TestDeterminism(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "discharge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	enc := func() []byte {
		res := codeText(t, string(b), coding.Inpatient)
		res.Usage = coding.Usage{}
		out, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := enc()
	done := make(chan []byte, 8)
	for range 8 {
		go func() { done <- enc() }()
	}
	for range 8 {
		if got := <-done; !bytes.Equal(got, first) {
			t.Fatalf("results differ:\n%s\n%s", first, got)
		}
	}
}

func TestNewRequiresTabular(t *testing.T) {
	if _, err := New(Reference{CM: &codesys.Release{System: codesys.ICD10CM}}, Options{}); err == nil {
		t.Error("New without a Tabular List: no error")
	}
}
