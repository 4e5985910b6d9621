package coder

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	packs "github.com/medcode-dev/medcode/internal/rules"
)

// pairsCoder builds the class coder of a flat-list fixture of
// testdata/classes with the rule packs of testdata/rules, or the embedded
// packs alone when withPack is false.
func pairsCoder(t *testing.T, sys codesys.System, file string, withPack bool) *ClassCoder {
	t.Helper()
	f, err := os.Open("testdata/classes/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cls, err := readFlat(f, file)
	if err != nil {
		t.Fatal(err)
	}
	set, err := packs.Default()
	if withPack {
		set, err = packs.Load("testdata/rules")
	}
	if err != nil {
		t.Fatal(err)
	}
	if withPack && set.Pack(string(sys)+"/exclusions") == nil {
		t.Fatalf("testdata/rules has no %s/exclusions pack", sys)
	}
	k, err := NewClassCoderWith(&codesys.Release{System: sys, Version: "test", Classes: cls}, ClassOptions{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestClassCoderCannotCodeWith(t *testing.T) {
	tests := []struct {
		name string
		sys  codesys.System
		file string
		text string
		// want are the codes kept with the pack; without it, want and
		// the dropped codes are all coded.
		want []string
		// dropped are the codes the pack drops, with a part of the reason.
		dropped map[string]string
		// trail is a part of a kept code's trail naming the rule.
		trail string
	}{
		{"a combination code and the residual code it covers, written with the filler X: the code documented in more words",
			codesys.ICD10UK, "uk-diagnoses.tsv",
			"COPD with acute lower respiratory infection. Acute lower respiratory infection treated with amoxicillin.",
			[]string{"J44.0"}, map[string]string{"J22": "test-1"}, "J44.0 kept: documented in more words"},
		{"documented as often: the code coded with more confidence",
			codesys.ICD10UK, "uk-diagnoses.tsv",
			"Acute lower respiratory infection. Pneumonia is possible.",
			[]string{"J22"}, map[string]string{"J18.9": "J18 is not coded with J22; J22 kept, coded with more confidence"}, "test-2"},
		{"the code documented more often is kept",
			codesys.ICD10UK, "uk-diagnoses.tsv",
			"Pneumonia on admission. The pneumonia settled. Acute lower respiratory infection.",
			[]string{"J18.9"}, map[string]string{"J22": "J18.9 kept, documented more often"}, "test-2"},
		{"a pair the note does not document both of",
			codesys.ICD10UK, "uk-diagnoses.tsv",
			"Chronic obstructive pulmonary disease. Acute lower respiratory infection.",
			[]string{"J22", "J44.9"}, nil, ""},
		{"procedures: a therapeutic endoscopy and the diagnostic one",
			codesys.OPCS4, "uk-procedures.tsv",
			"Colonoscopy. Fibreoptic endoscopic snare resection of a lesion of the colon.",
			[]string{"H20.1"}, map[string]string{"H22.9": "test-3"}, "H22.9 not coded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			with := pairsCoder(t, tt.sys, tt.file, true)
			res, err := with.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultCodes(res.Codes); !slices.Equal(got, sorted(tt.want)) {
				t.Errorf("codes = %v, want %v", got, tt.want)
			}
			got := map[string]string{}
			for _, d := range res.Dropped {
				got[d.Code] = d.Reason
			}
			for code, reason := range tt.dropped {
				if !strings.Contains(got[code], reason) || !strings.Contains(got[code], "exclusions.tsv line") {
					t.Errorf("dropped %s: reason %q, want one citing the pack's line and saying %q", code, got[code], reason)
				}
			}
			if len(got) != len(tt.dropped) {
				t.Errorf("dropped %v, want %d codes", got, len(tt.dropped))
			}
			if tt.trail != "" && !slices.ContainsFunc(res.Codes, func(c coding.Code) bool {
				return slices.ContainsFunc(c.Trail, func(s coding.Step) bool { return strings.Contains(s.Detail, tt.trail) })
			}) {
				t.Errorf("no kept code's trail says %q: %v", tt.trail, res.Codes)
			}
			// Without the pack, both codes of the pair are coded.
			without := pairsCoder(t, tt.sys, tt.file, false)
			res, err = without.Code(context.Background(), coding.Request{ID: "t", Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			all := slices.Clone(tt.want)
			for code := range tt.dropped {
				all = append(all, code)
			}
			if got := resultCodes(res.Codes); !slices.Equal(got, sorted(all)) {
				t.Errorf("without the pack: codes = %v, want %v", got, sorted(all))
			}
		})
	}
}

// TestFillerRanges: the UK's four-character form of an undivided
// category stands for the category, in a range as alone.
func TestFillerRanges(t *testing.T) {
	tests := []struct {
		ranges string
		holds  []string
		not    []string
	}{
		{"J22X", []string{"J22"}, []string{"J21", "J23"}},
		{"F03X-F05", []string{"F03", "F04", "F05.1"}, []string{"F02.9", "F06"}},
		{"J12-J18 I10", []string{"J18.9", "I10"}, []string{"J11", "I11"}},
	}
	for _, tt := range tests {
		var rs packs.Ranges
		for _, f := range strings.Fields(tt.ranges) {
			r, err := fillerRange(f)
			if err != nil {
				t.Fatalf("%q: %v", f, err)
			}
			rs = append(rs, r...)
		}
		for _, c := range tt.holds {
			if !rs.Holds(c) {
				t.Errorf("%q does not hold %s", tt.ranges, c)
			}
		}
		for _, c := range tt.not {
			if rs.Holds(c) {
				t.Errorf("%q holds %s", tt.ranges, c)
			}
		}
	}
}

// resultCodes returns the codes of a result, sorted.
func resultCodes(cs []coding.Code) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Code)
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestClassCoderPairsTypo: a range of the source that does not read is a
// warning naming the pack's line, and the row's other ranges apply.
func TestClassCoderPairsTypo(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/icd10uk", 0o755); err != nil {
		t.Fatal(err)
	}
	pack := "# pack: icd10uk/exclusions\n# version: 1\n# source: written for the test\n" +
		"J440\tJ22X I14-15\ttypo\t7\n"
	if err := os.WriteFile(dir+"/icd10uk/exclusions.tsv", []byte(pack), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := packs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("testdata/classes/uk-diagnoses.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cls, err := readFlat(f, "uk-diagnoses.tsv")
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewClassCoderWith(&codesys.Release{System: codesys.ICD10UK, Version: "test", Classes: cls}, ClassOptions{Rules: set})
	if err != nil {
		t.Fatal(err)
	}
	if w := k.Warnings(); len(w) != 1 || !strings.Contains(w[0], "exclusions.tsv line 4") || !strings.Contains(w[0], "I14-15") {
		t.Errorf("warnings = %q, want one naming line 4 and its range", w)
	}
	res, err := k.Code(context.Background(), coding.Request{ID: "t",
		Text: "COPD with acute lower respiratory infection. Acute lower respiratory infection treated with amoxicillin."})
	if err != nil {
		t.Fatal(err)
	}
	if got := resultCodes(res.Codes); !slices.Equal(got, []string{"J44.0"}) {
		t.Errorf("codes = %v, want [J44.0]", got)
	}
}

// TestBetterDocumented: which code of a pair is kept, from the evidence
// alone.
func TestBetterDocumented(t *testing.T) {
	code := func(c string, spans int, conf float64, words int) merged {
		return merged{code: coding.Code{Code: c, Confidence: conf, Evidence: make([]coding.Evidence, spans)}, words: words}
	}
	rs, err := packs.ParseRanges("J18")
	if err != nil {
		t.Fatal(err)
	}
	with, err := packs.ParseRanges("J22")
	if err != nil {
		t.Fatal(err)
	}
	k := &ClassCoder{pairs: []pairRule{{codes: rs, with: with, codesText: "J18", withText: "J22", id: "r", line: 3}}, pairsPack: "p"}
	tests := []struct {
		name       string
		first, snd merged // a code of the rule's first column and one of its second
		kept, why  string
	}{
		{"more evidence spans", code("J18.9", 1, 0.9, 3), code("J22", 2, 0.7, 1), "J22", "documented more often"},
		{"more confidence", code("J18.9", 1, 0.7, 3), code("J22", 1, 0.8, 1), "J22", "coded with more confidence"},
		{"confidence equal once rounded", code("J18.9", 1, 0.801, 1), code("J22", 1, 0.799, 3), "J22", "documented in more words"},
		{"alike: the rule's first column", code("J18.9", 1, 0.8, 2), code("J22", 1, 0.8, 2), "J18.9", "the code the rule is written for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]merged{{tt.first, tt.snd}, {tt.snd, tt.first}} {
				var dropped []coding.Code
				out := k.cannotCodeWith(slices.Clone(order), func(c coding.Code, reason string) {
					c.Reason = reason
					dropped = append(dropped, c)
				})
				if len(out) != 1 || out[0].code.Code != tt.kept {
					t.Fatalf("kept %v, want %s", out, tt.kept)
				}
				if len(dropped) != 1 || !strings.Contains(dropped[0].Reason, "p line 3 (rule r)") || !strings.Contains(dropped[0].Reason, tt.why) {
					t.Errorf("dropped %v, want one citing p line 3 and saying %q", dropped, tt.why)
				}
			}
		})
	}
}
