package coder

import (
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// TestDrugColumn checks the column of the Table of Drugs and Chemicals
// each documented circumstance leads to (guideline I.C.19.e.5): a
// poisoning of unknown intent is accidental, undetermined only when so
// documented.
func TestDrugColumn(t *testing.T) {
	tests := []struct {
		kind, intent cueKind
		want         codesys.Column
	}{
		{cuePoisoning, 0, codesys.DrugPoisoningAccidental},
		{cuePoisoning, cueAccidental, codesys.DrugPoisoningAccidental},
		{cuePoisoning, cueSelfHarm, codesys.DrugPoisoningSelfHarm},
		{cuePoisoning, cueAssault, codesys.DrugPoisoningAssault},
		{cuePoisoning, cueUndetermined, codesys.DrugPoisoningUndetermined},
		{cueAdverse, cueSelfHarm, codesys.DrugAdverseEffect},
		{cueUnderdosing, 0, codesys.DrugUnderdosing},
	}
	for _, tt := range tests {
		if got := drugColumn(tt.kind, tt.intent); got != tt.want {
			t.Errorf("drugColumn(%d, %d) = %q, want %q", tt.kind, tt.intent, got, tt.want)
		}
	}
}

// TestDrugTable codes poisonings, adverse effects and underdosing through
// the Table of Drugs and Chemicals. The expected codes are the table's
// (Acetaminophen and Paracetamol T39.1X-, Amoxicillin T36.0X-, Insulin
// T38.3X-, Levothyroxine T38.1X-, Heroin T40.1X-) with the 7th character
// of an initial encounter, and the Index's for the conditions; first
// names the code sequenced first where the guideline orders them.
func TestDrugTable(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		want  []string
		not   []string
		first string
	}{
		{"accidental overdose", "Accidental overdose of acetaminophen.", []string{"T39.1X1A"}, nil, ""},
		{"intent unknown is accidental", "She was brought in after an overdose of acetaminophen.", []string{"T39.1X1A"}, []string{"T39.1X4"}, ""},
		{"British name, self-harm", "Intentional ingestion of 40 tablets of paracetamol.", []string{"T39.1X2A"}, []string{"T50.9"}, ""},
		{"undetermined only when documented", "Overdose of heroin, intent undetermined.", []string{"T40.1X4A"}, []string{"T40.1X1"}, ""},
		{"adverse effect after its manifestation", "Adverse reaction to amoxicillin with a rash.", []string{"R21", "T36.0X5A"}, nil, "R21"},
		{"condition due to a drug", "Hypoglycaemia due to insulin.", []string{"E16.0", "T38.3X5A"}, nil, "E16.0"},
		{"underdosing", "She took less than prescribed of her levothyroxine and her hypothyroidism worsened.",
			[]string{"E03.9", "T38.1X6A"}, nil, "E03.9"},
		{"poisoning before its manifestation", "Accidental overdose of acetaminophen with vomiting.", []string{"T39.1X1A", "R11.10"}, nil, "T39.1X1A"},
		{"a treatment is no code", "He takes metformin and lisinopril.", nil, []string{"T3", "T4", "T5"}, ""},
		{"part of a condition's name", "She has insulin-dependent diabetes.", nil, []string{"T38"}, ""},
		{"past poisoning", "History of overdose of heroin ten years ago.", nil, []string{"T40"}, ""},
		{"due to, with no condition", "Due to persistent high plasma levels, the dose was reduced.", nil, []string{"T45"}, ""},
	}
	c := realCoder(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Code(t.Context(), coding.Request{ID: tt.name, Text: tt.text, Setting: coding.Inpatient})
			if err != nil {
				t.Fatal(err)
			}
			checkCodes(t, res, tt.want, tt.not)
			if got := codesOf(res); tt.first != "" && (len(got) == 0 || got[0] != tt.first) {
				t.Errorf("want %s first; got %v", tt.first, got)
			}
			checkEvidence(t, tt.text, res)
		})
	}
}

// TestDrugTrail checks that the trail names the words read, the table's
// row and column, and the 7th character.
func TestDrugTrail(t *testing.T) {
	res := codeText(t, "Accidental overdose of acetaminophen.", coding.Inpatient)
	for _, cd := range res.Codes {
		if cd.Code != "T39.1X1A" {
			continue
		}
		var details []string
		for _, s := range cd.Trail {
			details = append(details, s.Detail)
		}
		for _, want := range []string{"overdose", "Acetaminophen", "Poisoning Accidental", "7th character A"} {
			if !slices.ContainsFunc(details, func(d string) bool { return strings.Contains(d, want) }) {
				t.Errorf("trail lacks %q: %q", want, details)
			}
		}
		return
	}
	t.Fatalf("T39.1X1A not coded; got %v", codesOf(res))
}
