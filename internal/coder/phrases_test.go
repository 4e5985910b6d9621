package coder

import (
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// TestPhrases codes one-sentence notes whose code a coder finds in the
// Alphabetic Index or the Table of Neoplasms (the expected codes come
// from the classification, not from the coder's output): each row is a
// way notes say a condition that the Tabular List's titles do not.
func TestPhrases(t *testing.T) {
	tests := []struct {
		text string
		want string
		not  []string // prefixes
	}{
		// Neoplasm, liver, Malignant Secondary.
		{"CT showed multiple liver metastases.", "C78.7", nil},
		{"Hepatic metastases were found.", "C78.7", nil},
		// Neoplasm, liver, Malignant Primary (not specified as primary or
		// secondary in the Tabular List).
		{"She was diagnosed with liver cancer.", "C22.9", nil},
		// The site belongs to the behaviour word nearer to it: a kidney
		// primary with bone metastases; a colon primary with liver
		// metastases (not a liver primary, not colon metastases).
		{"He presented bone metastases of clear cell renal cell carcinoma.", "C64.9", []string{"C79.0"}},
		{"He presented bone metastases of clear cell renal cell carcinoma.", "C79.51", nil},
		{"Colon adenocarcinoma with multiple liver metastases.", "C18.9", []string{"C22", "C78.5"}},
		{"Colon adenocarcinoma with multiple liver metastases.", "C78.7", nil},
		// "Presented with fever" is fever, not "fever presenting with
		// conditions classified elsewhere" (R50.81).
		{"She presented with fever and chills.", "R50.9", []string{"R50.81"}},
		// An unspecified infection is not coded beside the named one.
		{"Chronic hepatitis C virus infection.", "B18.2", []string{"B34.9", "B99"}},
		{"He had chronic myeloid leukemia.", "C92.10", []string{"C95"}},
		// A right inguinal hernia is unilateral (K40.9-), and the default
		// child is the one without complications, not specified as
		// recurrent; an incarcerated one is with obstruction (K40.3-).
		{"He had a direct right inguinal hernia.", "K40.90", []string{"K40.0", "K40.2"}},
		{"An incarcerated right inguinal hernia was found.", "K40.30", []string{"K40.0"}},
		// A secondary neoplasm of unspecified site is not coded beside one
		// of a named site.
		{"Metastatic disease was found: liver metastases.", "C78.7", []string{"C79.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			res := codeText(t, tt.text, coding.Inpatient)
			got := codesOf(res)
			if !slices.Contains(got, tt.want) {
				t.Errorf("%s not coded; got %v", tt.want, got)
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

func TestParseWordList(t *testing.T) {
	got := parseWordList("# a comment naming liver\ntumor mass\n  # indented comment\nlesion\n")
	if want := []string{"tumor", "mass", "lesion"}; !slices.Equal(got, want) {
		t.Errorf("parseWordList = %q, want %q", got, want)
	}
}

func TestSiteAlternatives(t *testing.T) {
	wd := testWording(t)
	phraseWords := wd.phraseWords
	tests := []struct {
		title string
		want  [][]string
	}{
		{"testis, testes", [][]string{phraseWords("testis"), phraseWords("testes")}},
		{"abdomen, abdominal", [][]string{phraseWords("abdomen"), phraseWords("abdominal")}},
		{"bile or biliary", [][]string{phraseWords("bile"), phraseWords("biliary")}},
		{"canaliculi, biliary", [][]string{phraseWords("canaliculi biliary")}},
		{"cystic (bile) duct (common)", [][]string{phraseWords("cystic duct")}},
		{"lung", [][]string{phraseWords("lung")}},
	}
	for _, tt := range tests {
		got := wd.siteAlternatives(tt.title)
		if !slices.EqualFunc(got, tt.want, slices.Equal[[]string]) {
			t.Errorf("siteAlternatives(%q) = %q, want %q", tt.title, got, tt.want)
		}
	}
}

// TestListItems: the items of a list are separate conditions; words of
// two items do not make a third ("pulmonary disease, hypertension" is not
// pulmonary hypertension), while a condition qualified after a comma is
// one condition.
func TestListItems(t *testing.T) {
	tests := []struct {
		text string
		want []string
		not  []string
	}{
		{"She has a history of obstructive pulmonary disease, hypertension and hypercholesterolemia.",
			[]string{"J44.9", "I10", "E78.00"}, []string{"I27"}},
		{"Chronic kidney disease, stage 3b.", []string{"N18.32"}, nil},
		{"Type 2 diabetes mellitus, with diabetic chronic kidney disease.", []string{"E11.22"}, []string{"E11.9"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			res := codeText(t, tt.text, coding.Inpatient)
			checkCodes(t, res, tt.want, tt.not)
		})
	}
}

// TestResolvedIsCoded: a condition documented as resolved was present
// during the encounter and is coded; one documented as absent is not.
func TestResolvedIsCoded(t *testing.T) {
	res := codeText(t, "Gross hematuria after catheterization. The hematuria subsided after bladder lavage.", coding.Inpatient)
	if !hasCode(res, "R31.0") {
		t.Errorf("resolved hematuria not coded: %v", codesOf(res))
	}
	res = codeText(t, "On the fifth day the fever disappeared.", coding.Inpatient)
	if !hasCode(res, "R50.9") || res.Codes[0].Assertion != "resolved" {
		t.Errorf("resolved fever: %+v", res.Codes)
	}
	res = codeText(t, "There was no fever.", coding.Inpatient)
	if hasCode(res, "R50") || !droppedFor(res, "R50.9", "negated") {
		t.Errorf("absent fever coded: %v", codesOf(res))
	}
}

// TestDeniedInsideMention: words after "without" or "no" inside what
// would be one mention are denied, not coded.
func TestDeniedInsideMention(t *testing.T) {
	res := codeText(t, "The endometrial stroma without malignancy was seen.", coding.Inpatient)
	if hasCode(res, "C") {
		t.Errorf("denied malignancy coded: %v", codesOf(res))
	}
}

// TestNeoplasmSiteNearBehaviour: a site of the Table of Neoplasms is read
// with the behaviour next to it, not with one named elsewhere in the
// sentence.
func TestNeoplasmSiteNearBehaviour(t *testing.T) {
	res := codeText(t, "Carcinoma, with multiple enlarged retroperitoneal nodes.", coding.Inpatient)
	if hasCode(res, "C48") {
		t.Errorf("retroperitoneum coded as the tumour's site: %v", codesOf(res))
	}
}

// TestWordsThatNameNoCondition: dosage schedules, acronyms read as
// words, phrases that name a test and a longer lay phrase read before the
// shorter one inside it.
func TestWordsThatNameNoCondition(t *testing.T) {
	tests := []struct {
		text string
		want []string
		not  []string
	}{
		// "(1-1-1)" is a schedule, not "type 1".
		{"Gliclazide (1-1-1) to control type 2 diabetes mellitus.", []string{"E11.9"}, []string{"E10"}},
		// "non-insulin dependent" is type 2, not the "insulin dependent"
		// inside it.
		{"Non-insulin dependent diabetes mellitus.", []string{"E11.9"}, []string{"E10"}},
		// The acronym PIN is not "pins".
		{"Two proximal Kirschner pins were placed.", nil, []string{"N42"}},
		{"Prostatic intraepithelial neoplasia (PIN) was found.", []string{"N42.31"}, nil},
		// A stress test is no stress; tumor markers are no tumor.
		{"Dobutamine stress echocardiography was normal.", nil, []string{"Z73"}},
		{"Liver and digestive tumor markers were normal.", nil, []string{"D49"}},
		// The recipient of a kidney graft is no donor.
		{"He received a kidney transplant from a cadaveric donor.", []string{"Z94.0"}, []string{"Z52"}},
		// A dye is no exposure to chemicals unless the note says exposure.
		{"The specimen was stained with a violet dye.", nil, []string{"Z77"}},
		// Laterality and "related" alone name no condition ("Other
		// mastoiditis and related conditions, bilateral").
		{"Alopecia related to 5-FU toxicity, bilateral.", nil, []string{"H70"}},
		// "hepatitis A" is not any hepatitis.
		{"Serology for hepatitis B and C was negative; autoimmune hepatitis.", []string{"K75.4"}, []string{"B15"}},
		// The General Surgery department is no generalized pain.
		{"He was admitted to General Surgery due to abdominal pain and diarrhea.", []string{"R10.9", "R19.7"}, []string{"R10.84"}},
		// The letter of "hepatitis A" names the kind: it must follow the
		// word, and "acute ... hepatitis" is not acute hepatitis A.
		{"Acute manifestations of hepatitis were seen.", nil, []string{"B15"}},
		{"He had acute hepatitis A.", []string{"B15.9"}, nil},
		{"Chronic hepatitis C virus infection, genotype 1b.", []string{"B18.2"}, []string{"B18.9", "B34"}},
		// A poor response to treatment is no slowness.
		{"Given the poor response to treatment, surgery was decided.", nil, []string{"R46"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			res := codeText(t, tt.text, coding.Inpatient)
			checkCodes(t, res, tt.want, tt.not)
		})
	}
}

// TestDeterministicRules codes sentences where several rules weigh
// overlapping mentions many times: the entries are visited in map order,
// and the result must not depend on it.
func TestDeterministicRules(t *testing.T) {
	for _, text := range []string{
		"Colon adenocarcinoma with multiple liver metastases and bone metastases of renal cell carcinoma.",
		"History of obstructive pulmonary disease, hypertension, type 2 diabetes mellitus, with diabetic chronic kidney disease.",
	} {
		first := codesOf(codeText(t, text, coding.Inpatient))
		for range 30 {
			if got := codesOf(codeText(t, text, coding.Inpatient)); !slices.Equal(got, first) {
				t.Fatalf("%q: codes differ between runs: %v and %v", text, first, got)
			}
		}
	}
}

// TestHistoryCodes: a condition that ends, documented as history, is
// reported with its personal history code (I.C.21.c.4); a chronic one is
// coded as present; a recent one stays the condition.
func TestHistoryCodes(t *testing.T) {
	tests := []struct {
		text string
		want []string
		not  []string
	}{
		{"Past medical history: stroke in 2010, hypertension.", []string{"Z86.73", "I10"}, []string{"I63"}},
		{"He has a history of pulmonary tuberculosis and renal lithiasis.", []string{"Z86.11", "Z87.442"}, []string{"A15", "A18", "N20"}},
		{"Acute myocardial infarction two days ago.", []string{"I21.9"}, []string{"I25.2"}},
		// A malignancy is history once excised with no disease left
		// (I.C.2.d), and still the condition while it has metastases.
		{"He has a history of gastrectomy for gastric adenocarcinoma four years ago.", []string{"Z85.028"}, []string{"C16"}},
		{"He has a history of prostate adenocarcinoma with multiple bone metastases.", []string{"C61", "C79.51"}, []string{"Z85"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			res := codeText(t, tt.text, coding.Inpatient)
			checkCodes(t, res, tt.want, tt.not)
			checkEvidence(t, tt.text, res)
		})
	}
}

// TestInclusionTrail: an inclusion term that needs a word of its code's
// title ("bilateral") is matched with it and quoted in the trail as the
// Tabular List publishes it.
func TestInclusionTrail(t *testing.T) {
	res := codeText(t, "Bilateral incarcerated inguinal hernia.", coding.Inpatient)
	checkCodes(t, res, []string{"K40.00"}, nil)
	for _, c := range res.Codes {
		if c.Code != "K40.00" {
			continue
		}
		want := `inclusion term of K40.0: "Incarcerated inguinal hernia (bilateral) without gangrene"`
		if !slices.ContainsFunc(c.Trail, func(s coding.Step) bool { return strings.Contains(s.Detail, want) }) {
			t.Errorf("trail lacks %s: %+v", want, c.Trail)
		}
	}
}
