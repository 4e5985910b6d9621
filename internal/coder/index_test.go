package coder

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// TestIndexLed codes notes whose codes a coder finds by following the
// Alphabetic Index (the expected codes are the Index's and the Tabular
// List's, not the coder's output): lead term, subterms, defaults.
func TestIndexLed(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		setting coding.Setting
		want    []string
		not     []string // prefixes
	}{
		{"eponym", "She was admitted with Ludwig's angina.", coding.Inpatient, []string{"K12.2"}, nil},
		// Ecchymosis: a word that names a condition leads to its main
		// term's code although the Tabular title says otherwise
		// ("Hemorrhage, not elsewhere classified"); a general word does
		// not ("Swelling" R60.9 is edema).
		{"condition word", "Ecchymosis was noted.", coding.Inpatient, []string{"R58"}, nil},
		{"general word", "There was swelling.", coding.Inpatient, nil, []string{"R60"}},
		// Abuse, drug, cocaine: the default is uncomplicated (F14.10),
		// not the unspecified cocaine-induced disorder.
		{"default child", "History of cocaine abuse, still using.", coding.Inpatient, []string{"F14.10"}, []string{"F14.19"}},
		// Failure, heart, systolic, acute on chronic: one code for the
		// condition documented twice.
		{"acute on chronic", "Chronic systolic heart failure. She was admitted for acute on chronic systolic heart failure.",
			coding.Inpatient, []string{"I50.23"}, []string{"I50.22", "I50.9"}},
		// History, personal, malignant neoplasm, breast.
		{"history of cancer", "History of breast cancer status post mastectomy.", coding.Inpatient, []string{"Z85.3"}, []string{"Z85.82", "C50"}},
		// Sepsis, Escherichia coli; Infection, urinary tract.
		{"sepsis due to", "Sepsis due to E. coli UTI.", coding.Inpatient, []string{"A41.51", "N39.0"}, []string{"A41.9"}},
		// The connectives of the Index link two conditions documented
		// together (I.A.15): Anemia > in (due to) (with) > chronic kidney
		// disease; Pneumonia > staphylococcal > aureus; Hypertension >
		// heart > with > heart failure; Cardiomyopathy > alcoholic.
		// The Tabular notes of the combination ask for the condition the
		// phrase names inside it: D63.1 code first N18.-, I11.0 use
		// additional code for the type of heart failure (I50.-).
		{"in", "Anemia in chronic kidney disease.", coding.Inpatient, []string{"D63.1", "N18.9"}, []string{"D64"}},
		{"due to an organism", "Pneumonia due to Staphylococcus aureus.", coding.Inpatient, []string{"J15.211"}, []string{"J18", "B95"}},
		{"with", "Hypertensive heart disease with heart failure.", coding.Inpatient, []string{"I11.0", "I50.9"}, []string{"I10"}},
		{"due to a substance", "Cardiomyopathy due to alcohol.", coding.Inpatient, []string{"I42.6"}, []string{"I42.9"}},
		// Pneumonia > in > Streptococcus > pneumoniae: the organism's
		// name says "pneumoniae", and the pneumonia named before it is
		// the same condition, not J18.9 beside J13.
		{"main term beside its linked subterm", "Pneumonia due to Streptococcus pneumoniae.", coding.Inpatient, []string{"J13"}, []string{"J18"}},
		// History, family, diabetes mellitus.
		{"family history", "Mother has type 2 diabetes.", coding.Outpatient, []string{"Z83.3"}, []string{"E11"}},
		// Tabular: Z80.0 includes "Conditions classifiable to C15-C26".
		{"family history by the Tabular List", "Her father had colon cancer.", coding.Inpatient, []string{"Z80.0"}, []string{"Z80.9", "C18"}},
		// Fracture, radius, lower end; External Cause Index: Fall, from,
		// ladder.
		{"injury with its external cause", "Closed fracture of the right distal radius after a fall from a ladder.",
			coding.Inpatient, []string{"S52.501A", "W11.XXXA"}, nil},
		// Anesthesia, anesthetic R20.0 is loss of sensation; in a note the
		// word is the procedure. The External Cause Index's "Accident"
		// needs the kind of accident.
		{"procedure word", "The wound was closed under local anesthesia.", coding.Inpatient, nil, []string{"R20"}},
		{"anesthesia of the skin", "Anesthesia of the skin of the left hand.", coding.Inpatient, []string{"R20.0"}, nil},
		// Beside an injury, so that an external cause read from the word
		// would be kept: the patient's, and with the injury it caused.
		{"accident alone", "He fractured his left wrist in an accident.", coding.Inpatient, []string{"S62.92XA"}, []string{"X58"}},
		// Tabular: T78 Adverse effects, NEC has no unspecified child;
		// "Anaphylactic shock, unspecified" leaves the shock unspecified.
		{"no default child", "She had adverse effects.", coding.Inpatient, nil, []string{"T78"}},
		// Pain > kidney takes words of one clause; Mass > lung is not one
		// word of what "BMI" stands for.
		{"clause break", "The pain improved, but renal function worsened.", coding.Inpatient, nil, []string{"N23"}},
		{"part of an abbreviation", "Normal pulmonary examination and a BMI of 30.", coding.Inpatient, nil, []string{"R91"}},
		// A word of no entry between a condition's words is most often a
		// verb: the tumour is no neoplasm of the kidney. "And" between
		// the words joins two conditions, unless the Index links them
		// by "with" (Vomiting > with nausea).
		{"verb between", "The tumor pressed on the renal vein.", coding.Inpatient, nil, []string{"D49.51"}},
		// Tabular: S71.112 "Laceration without foreign body, left thigh":
		// what "without" names absent ends at the comma.
		{"side after without", "Laceration of the left thigh.", coding.Inpatient, []string{"S71.112A"}, []string{"S71.119"}},
		{"and linked by with", "She had nausea and vomiting.", coding.Inpatient, []string{"R11.2"}, nil},
		// Tabular: Pain in right knee beside a condition of the right knee.
		{"pain of the diagnosed joint", "Right knee pain. Assessment: primary osteoarthritis of the right knee.",
			coding.Outpatient, []string{"M17.11"}, []string{"M25.561"}},
		// A consent discussion names what could happen, not what has.
		{"risks discussed", "We discussed the risks of surgery including infection and bleeding.", coding.Outpatient,
			nil, []string{"B99", "R58"}},
		// A malignancy removed is personal history (I.C.2.d).
		{"status post removal", "Status post basal cell carcinoma removal.", coding.Outpatient, []string{"Z85.828"}, []string{"C44"}},
		{"verb, not condition", "I have stressed the importance of exercise.", coding.Outpatient, nil, []string{"F43"}},
		{"alcohol use is not dependence", "She was encouraged to cease alcohol consumption.", coding.Outpatient, nil, []string{"F10.2"}},
		// The side chooses the child although the site all the children
		// share is not written; one side named is unilateral.
		{"side without the site", "Right medial epicondylitis.", coding.Outpatient, []string{"M77.01"}, []string{"M77.00"}},
		{"both sides", "Bilateral carpal tunnel syndrome.", coding.Outpatient, []string{"G56.03"}, []string{"G56.00"}},
		{"one side is unilateral", "Right hip osteoarthritis.", coding.Outpatient, []string{"M16.11"}, []string{"M16.9"}},
		// PCP is a primary care provider more often than phencyclidine.
		{"ambiguous abbreviation", "He will contact his PCP next week.", coding.Outpatient, nil, []string{"F16"}},
		{"vaccine", "Recommend shingles vaccine at the next visit.", coding.Outpatient, nil, []string{"B02"}},
		// The sign's site is one part of "right ankle and joints of right
		// foot"; the injury's code carries a 7th character.
		{"pain of the injured joint", "Right ankle pain. Assessment: right ankle sprain.",
			coding.Outpatient, []string{"S93.401A"}, []string{"M25.571"}},
		// Alternatives are two conditions, not one linked to the other
		// (Anemia, due to, hemorrhage).
		{"alternatives", "We will check for anemia or GI bleed.", coding.Inpatient, nil, []string{"D50.0"}},
		// Eponyms and external causes that share a word of ordinary English.
		{"pronoun, not eponym", "His disease began two years ago.", coding.Inpatient, nil, []string{"A79"}},
		{"anatomy, not cyst", "MRI showed calcification of the basal ganglia.", coding.Inpatient, nil, []string{"M67.4"}},
		// The history says how the injury the assessment treats happened.
		{"external cause told in the history", "CHIEF COMPLAINT\n\nRight ankle pain.\n\nHISTORY OF PRESENT ILLNESS\n\nThe pain began when she slipped on ice.\n\nASSESSMENT\n\nRight ankle sprain.\n",
			coding.Outpatient, []string{"S93.401A", "W00.0XXA"}, nil},
		// "Other tear ..., right knee" and "Unspecified tear ..., right
		// knee" are documented alike: the tear's kind is unspecified.
		{"tie goes to unspecified", "Right knee meniscus tear.", coding.Outpatient, []string{"S83.206A"}, []string{"S83.203A"}},
		// A cataract ends only by its extraction.
		{"cataract removed", "Status post cataract surgery.", coding.Outpatient, []string{"Z98.49"}, []string{"H26"}},
		// No code for both knees: one for each (guideline I.B.13).
		{"both sides, no bilateral code", "Bilateral knee pain.", coding.Outpatient,
			[]string{"M25.561", "M25.562"}, []string{"M25.569"}},
		// Hernia, intervertebral cartilage or disc - see Displacement,
		// intervertebral disc, lumbar region; not Hernia, lumbar.
		{"disc hernia", "MRI showed a lumbar disc hernia L4-L5.", coding.Inpatient, []string{"M51.26"}, []string{"K45"}},
		{"lumbar puncture", "A lumbar puncture was performed.", coding.Inpatient, nil, []string{"S31"}},
	}
	c := realCoder(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Code(t.Context(), coding.Request{ID: tt.name, Text: tt.text, Setting: tt.setting})
			if err != nil {
				t.Fatal(err)
			}
			got := codesOf(res)
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s not coded; got %v", w, got)
				}
			}
			for _, n := range tt.not {
				if hasCode(res, n) {
					t.Errorf("%s* coded; got %v", n, got)
				}
			}
			checkEvidence(t, tt.text, res)
		})
	}
}

// TestIndexTrail checks that a code found through the Index quotes the
// path followed, then the Tabular List check.
func TestIndexTrail(t *testing.T) {
	res := codeText(t, "Type 2 diabetes with diabetic cataract.", coding.Inpatient)
	for _, cd := range res.Codes {
		if cd.Code != "E11.36" {
			continue
		}
		var kinds []string
		var index string
		for _, s := range cd.Trail {
			kinds = append(kinds, string(s.Kind))
			if s.Kind == coding.StepIndex {
				index = s.Detail
			}
		}
		if !strings.Contains(index, "Diabetes, diabetic > type 2 > with > cataract") {
			t.Errorf("E11.36 trail does not quote the Index path: %q", index)
		}
		if i, j := slices.Index(kinds, string(coding.StepIndex)), slices.Index(kinds, string(coding.StepTabular)); i < 0 || j < i {
			t.Errorf("trail kinds %v: want the Index step before the Tabular check", kinds)
		}
		return
	}
	t.Fatalf("E11.36 not coded; got %v", codesOf(res))
}

// TestOutpatientAddressed checks guideline IV.J: an outpatient visit with
// an assessment codes the conditions the assessment addresses; an
// inpatient note codes every documented condition.
func TestOutpatientAddressed(t *testing.T) {
	text := "PAST MEDICAL HISTORY\nGastroesophageal reflux disease.\n\nASSESSMENT AND PLAN\n1. Type 2 diabetes mellitus. Continue metformin.\n"
	out := codeText(t, text, coding.Outpatient)
	if !hasCode(out, "E11") {
		t.Errorf("outpatient: assessed diabetes not coded; got %v", codesOf(out))
	}
	if hasCode(out, "K21") {
		t.Errorf("outpatient: reflux named only in the history coded; got %v", codesOf(out))
	}
	if !droppedFor(out, "K21.9", "IV.J") {
		t.Errorf("outpatient: K21.9 not dropped under IV.J; dropped %v", out.Dropped)
	}
	in := codeText(t, text, coding.Inpatient)
	if !hasCode(in, "E11") || !hasCode(in, "K21") {
		t.Errorf("inpatient: want both conditions; got %v", codesOf(in))
	}
}

// TestScopes codes one note in both scopes. The expected codes are the
// Index's (Fever R50.9; Pneumonia J18.9; Hypertension I10; Disease,
// kidney, chronic N18.9; Hypertension, kidney, with chronic kidney
// disease I12.9, with the stage code its use-additional note asks for)
// and the guidelines' (I.B.5 integral symptoms, I.C.9.a.2 the presumed
// link, assertions): the reportable set leaves out the fever of the
// pneumonia and the absent cough and forms the combination code;
// the mentions scope codes every mention on its own, the absent one with
// its assertion.
func TestScopes(t *testing.T) {
	text := "Fever due to pneumonia. No cough. History of hypertension. She has chronic kidney disease."
	code := func(scope coding.Scope) *coding.Result {
		t.Helper()
		res, err := realCoder(t).Code(context.Background(), coding.Request{ID: "t", Text: text, Setting: coding.Inpatient, Scope: scope})
		if err != nil {
			t.Fatalf("code %s: %v", scope, err)
		}
		return res
	}
	rep := code(coding.Reportable)
	for _, c := range []string{"J18.9", "I12.9", "N18.9"} {
		if !hasCode(rep, c) {
			t.Errorf("reportable: %s missing; got %v", c, codesOf(rep))
		}
	}
	for _, c := range []string{"R50", "R05", "I10"} {
		if hasCode(rep, c) {
			t.Errorf("reportable: %s coded; got %v", c, codesOf(rep))
		}
	}
	if rep.Scope != "" {
		t.Errorf("reportable: result scope %q, want it left empty", rep.Scope)
	}
	men := code(coding.Mentions)
	for _, c := range []string{"J18.9", "R50.9", "R05", "I10", "N18.9"} {
		if !hasCode(men, c) {
			t.Errorf("mentions: %s missing; got %v", c, codesOf(men))
		}
	}
	if hasCode(men, "I12") {
		t.Errorf("mentions: combination code formed across mentions; got %v", codesOf(men))
	}
	for _, c := range men.Codes {
		if strings.HasPrefix(c.Code, "R05") && (c.Assertion != coding.Negated || c.Confidence >= 0.75) {
			t.Errorf("mentions: the absent cough is %s with confidence %.2f; want negated, ranked low", c.Assertion, c.Confidence)
		}
	}
	if men.Scope != coding.Mentions {
		t.Errorf("mentions: result scope %q", men.Scope)
	}
	// Failure, heart, systolic, chronic and acute on chronic: the
	// reportable set keeps the code that says more, the mentions both.
	hf := "Chronic systolic heart failure. She was admitted for acute on chronic systolic heart failure."
	for _, tt := range []struct {
		scope coding.Scope
		want  []string
	}{{coding.Reportable, []string{"I50.23"}}, {coding.Mentions, []string{"I50.22", "I50.23"}}} {
		res, err := realCoder(t).Code(context.Background(), coding.Request{Text: hf, Scope: tt.scope})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range codesOf(res) {
			if strings.HasPrefix(c, "I50") {
				got = append(got, c)
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: heart failure codes %v, want %v", tt.scope, got, tt.want)
		}
	}
	if _, err := realCoder(t).Code(context.Background(), coding.Request{Text: text, Scope: "everything"}); err == nil {
		t.Error("an unknown scope was accepted")
	}
}
