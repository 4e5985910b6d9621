package assert

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note"
)

func TestClassify(t *testing.T) {
	c := New()
	p := note.NewParser()
	for _, tc := range []struct {
		text   string
		target string
		want   string // negation/temporality/experiencer
	}{
		{"He denies chest pain.", "chest pain", "negated/recent/patient"},
		{"No fever, chills or night sweats.", "night sweats", "negated/recent/patient"},
		{"Patient presents with chest pain.", "chest pain", "affirmed/recent/patient"},
		{"Pneumonia was ruled out.", "Pneumonia", "negated/recent/patient"},
		{"The lungs are clear without wheezes or rales.", "rales", "negated/recent/patient"},
		{"Lower extremity duplex negative for deep venous thrombosis.", "deep venous thrombosis", "negated/recent/patient"},
		// the scope ends at "but"
		{"No fever but has a productive cough.", "productive cough", "affirmed/recent/patient"},
		{"He has no rash; however, he reports joint pain.", "joint pain", "affirmed/recent/patient"},
		// pseudo-triggers
		{"No change in the size of the pleural effusion.", "pleural effusion", "affirmed/recent/patient"},
		{"Blood cultures grew gram negative rods.", "rods", "affirmed/recent/patient"},
		{"There is no increase in the pneumothorax.", "pneumothorax", "affirmed/recent/patient"},
		{"This is not only a case of anemia.", "anemia", "affirmed/recent/patient"},
		// uncertainty
		{"Findings are concerning for pneumonia.", "pneumonia", "possible/recent/patient"},
		{"Rule out myocardial infarction.", "myocardial infarction", "possible/recent/patient"},
		{"Pulmonary embolism cannot be excluded.", "Pulmonary embolism", "possible/recent/patient"},
		// history
		{"He has a history of myocardial infarction.", "myocardial infarction", "affirmed/historical/patient"},
		{"She is s/p cholecystectomy.", "cholecystectomy", "affirmed/historical/patient"},
		{"History of asthma who presents with wheezing.", "wheezing", "affirmed/recent/patient"},
		// once negated, when it was is moot: the negation trigger wins
		{"No history of stroke.", "stroke", "negated/recent/patient"},
		// hypothetical
		{"Return to the ED if you develop chest pain.", "chest pain", "affirmed/hypothetical/patient"},
		{"Call your doctor if you have shortness of breath.", "shortness of breath", "affirmed/hypothetical/patient"},
		// experiencer
		{"Mother had breast cancer.", "breast cancer", "affirmed/recent/family"},
		{"His father died of myocardial infarction at 58.", "myocardial infarction", "affirmed/recent/family"},
		{"Colon cancer in his brother.", "Colon cancer", "affirmed/recent/family"},
		{"His wife reports he has been confused.", "confused", "affirmed/recent/patient"},
		// sections
		{"FAMILY HISTORY:\nDiabetes and hypertension.", "hypertension", "affirmed/recent/family"},
		{"FAMILY HISTORY:\nNo colon cancer.", "colon cancer", "negated/recent/family"},
		{"PAST MEDICAL HISTORY:\n1. Hypertension.\n2. Gout.", "Gout", "affirmed/historical/patient"},
		{"PAST MEDICAL HISTORY: asthma\nHPI: wheezing for two days.", "wheezing", "affirmed/recent/patient"},
		// section boundaries end the scope
		{"ROS: No fever.\nASSESSMENT: Cellulitis.", "Cellulitis", "affirmed/recent/patient"},
		// the target's own words are not a trigger
		{"General: in no acute distress.", "acute distress", "negated/recent/patient"},
		{"No change in vision.", "change in vision", "negated/recent/patient"},
		// a negation ends where a new predication begins
		{"Allergies: without known drug allergies, with a history of hypertension, atrial fibrillation.", "drug allergies", "negated/recent/patient"},
		{"Allergies: without known drug allergies, with a history of hypertension, atrial fibrillation.", "hypertension", "affirmed/historical/patient"},
		{"Allergies: without known drug allergies, with a history of hypertension, atrial fibrillation.", "atrial fibrillation", "affirmed/historical/patient"},
		{"A 55-year-old man without known allergies diagnosed with gastric adenocarcinoma was admitted.", "gastric adenocarcinoma", "affirmed/recent/patient"},
		{"He was not diagnosed with diabetes.", "diabetes", "negated/recent/patient"},
		{"A woman with no previous history consulted for occasional episodes of dizziness.", "dizziness", "affirmed/recent/patient"},
		{"He had left renal colic without voiding syndrome and accompanied by hematuria.", "voiding syndrome", "negated/recent/patient"},
		{"He had left renal colic without voiding syndrome and accompanied by hematuria.", "hematuria", "affirmed/recent/patient"},
		{"The pain was not accompanied by fever.", "fever", "negated/recent/patient"},
		{"Denies chest pain or palpitations with a past medical history of syncope.", "syncope", "affirmed/historical/patient"},
		{"Possible pneumonia with known COPD.", "COPD", "affirmed/recent/patient"},
		{"Patient without fever, with cough and dyspnea.", "dyspnea", "affirmed/recent/patient"},
		{"Patient without fever, with cough and dyspnea.", "fever", "negated/recent/patient"},
		{"No fever and has a productive cough.", "productive cough", "affirmed/recent/patient"},
		// "free" after a condition negates it, but not in "free wall",
		// "free fluid", "free air"; "free of" negates what follows
		{"Hypokinesis of the left ventricular free wall.", "Hypokinesis", "affirmed/recent/patient"},
		{"Pneumoperitoneum with free air under the diaphragm.", "Pneumoperitoneum", "affirmed/recent/patient"},
		{"Ascites with free fluid in the pelvis.", "Ascites", "affirmed/recent/patient"},
		{"No free fluid.", "free fluid", "negated/recent/patient"},
		{"Chest pain free since discharge.", "Chest pain", "negated/recent/patient"},
		{"The patient is free of pain.", "pain", "negated/recent/patient"},
		// family members, for the family history codes
		{"Mother has type 2 diabetes.", "type 2 diabetes", "affirmed/recent/family"},
		{"Her father has a history of colon cancer.", "colon cancer", "affirmed/historical/family"},
		// uncertainty that is not a negation
		{"Pneumonia has not been ruled out.", "Pneumonia", "possible/recent/patient"},
		{"Pneumonia could not be excluded.", "Pneumonia", "possible/recent/patient"},
		{"The biopsy confirmed the suspicion of lymphoma.", "lymphoma", "affirmed/recent/patient"},
	} {
		n, err := p.Parse(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(tc.text, tc.target)
		if i < 0 {
			t.Fatalf("%q not in %q", tc.target, tc.text)
		}
		target := n.Text.Span(i, i+len(tc.target))
		a := c.Classify(n, target)
		if got := a.String(); got != tc.want {
			t.Errorf("Classify(%q in %q) = %s, want %s (cues %v)", tc.target, tc.text, got, tc.want, a.Cues)
		}
		for _, cu := range a.Cues {
			if tc.text[cu.Start:cu.End] != cu.Text {
				t.Errorf("cue span %+v does not match the text", cu)
			}
		}
		if b := c.Analyze(n).Classify(target); b.String() != a.String() {
			t.Errorf("Analyze.Classify(%q in %q) = %s, Classify = %s", tc.target, tc.text, b, a)
		}
	}
}

func TestParseRulesErrors(t *testing.T) {
	for _, bad := range []string{
		"negated sideways no",
		"blah forward no",
		"negated forward",
		"terminate nothing but",
		"family forward @nobody had",
		"@set a | b",
	} {
		if _, err := ParseRules(bad); err == nil {
			t.Errorf("ParseRules(%q): no error", bad)
		}
	}
}

func TestSetExpansion(t *testing.T) {
	r, err := ParseRules("@rel = mother | half sister\nfamily forward @rel's\n")
	if err != nil {
		t.Fatal(err)
	}
	c := NewWithRules(r, 0)
	n, _ := note.NewParser().Parse("Her half sister's lupus.")
	i := strings.Index(n.Text.String(), "lupus")
	if got := c.Classify(n, n.Text.Span(i, i+5)).Experiencer; got != Family {
		t.Errorf("experiencer = %v, want family", got)
	}
}

// cpuTime returns the CPU time the process has used, so that benchmarks
// can report it beside wall time: on a shared, loaded machine wall time
// overstates the cost of the work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func readSummary(b *testing.B) string {
	src, err := os.ReadFile("../testdata/discharge_summary.txt")
	if err != nil {
		b.Fatal(err)
	}
	return string(src)
}

// BenchmarkDischargeSummary sections, splits, tokenizes and classifies
// every content word of a 20 KB discharge summary as if it were a
// condition, with a parser that has read notes before (the batch case).
func BenchmarkDischargeSummary(b *testing.B) {
	benchmarkPipeline(b, note.NewParser(), false)
}

// BenchmarkDischargeSummaryCold is BenchmarkDischargeSummary with a new
// parser for every note, so that every word is stemmed afresh.
func BenchmarkDischargeSummaryCold(b *testing.B) {
	benchmarkPipeline(b, nil, true)
}

func benchmarkPipeline(b *testing.B, p *note.Parser, cold bool) {
	text := readSummary(b)
	c := New()
	b.SetBytes(int64(len(text)))
	targets := 0
	cpu0 := cpuTime()
	for b.Loop() {
		if cold {
			p = note.NewParser()
		}
		n, err := p.Parse(text)
		if err != nil {
			b.Fatal(err)
		}
		a := c.Analyze(n)
		targets = 0
		for _, t := range n.Tokens {
			if t.Kind == note.Word && len(t.Norm) > 3 {
				a.Classify(t.Span)
				targets++
			}
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(targets), "targets/op")
}

// BenchmarkNew is compiling the built-in trigger list, which every
// command that codes a note does once at start-up.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New()
	}
}

// BenchmarkParse is the text model alone: sections, sentences, tokens.
func BenchmarkParse(b *testing.B) {
	text := readSummary(b)
	p := note.NewParser()
	b.SetBytes(int64(len(text)))
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := p.Parse(text); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// TestResolved: a negation that says the condition went away is a
// negation, marked resolved; one that says it was absent is not; and a
// terminator of negations ends a resolution's scope too.
func TestResolved(t *testing.T) {
	c := New()
	p := note.NewParser()
	for _, tc := range []struct {
		text, target string
		negated      bool
		resolved     bool
	}{
		{"On the fifth day the fever resolved.", "fever", true, true},
		{"The hematuria subsided after lavage.", "hematuria", true, true},
		{"Chest pain is no longer present.", "Chest pain", true, true},
		{"There was no fever.", "fever", true, false},
		{"He reports headache, but the fever resolved.", "headache", false, false},
	} {
		n, err := p.Parse(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(tc.text, tc.target)
		a := c.Classify(n, n.Text.Span(i, i+len(tc.target)))
		if (a.Negation == Negated) != tc.negated || a.Resolved != tc.resolved {
			t.Errorf("%q in %q: %s resolved=%v, want negated=%v resolved=%v", tc.target, tc.text, a, a.Resolved, tc.negated, tc.resolved)
		}
	}
}

// TestRuledOut: an uncertain condition is ruled out (negated) by a negative
// result about it, and a suspected one by a negative result of its
// work-up in the same sentence or the first clause of the next one; other
// negative results, hedged results and results elsewhere leave it
// possible.
func TestRuledOut(t *testing.T) {
	c := New()
	p := note.NewParser()
	for _, tc := range []struct {
		text, target string
		want         Negation
		cue          string // the ruling-out cue, if any
	}{
		{"Possible pneumonia was considered. The chest x-ray showed no infiltrate and antibiotics were not started.", "pneumonia", Negated, "showed no"},
		{"Pneumonia was considered but the chest x-ray showed no infiltrate.", "Pneumonia", Negated, "showed no"},
		{"Concern for pulmonary embolism. CT angiogram was negative.", "pulmonary embolism", Negated, "was negative"},
		{"Rule out myocardial infarction. Troponins were negative.", "myocardial infarction", Negated, "were negative"},
		{"Suspected appendicitis. This was ruled out by ultrasound.", "appendicitis", Negated, "This was ruled out"},
		{"Pneumonia was suspected but ruled out.", "Pneumonia", Negated, "but ruled out"},
		{"Possible pneumonia was ruled out.", "pneumonia", Negated, "was ruled out"},
		// no result yet, or a positive one
		{"Rule out myocardial infarction. Will check troponins.", "myocardial infarction", Possible, ""},
		{"Suspected pneumonia. Chest x-ray showed a right lower lobe infiltrate.", "pneumonia", Possible, ""},
		// a hedged finding or a differential is not under a work-up a
		// single result can end
		{"Possible atelectasis. No evidence of pneumothorax.", "atelectasis", Possible, ""},
		{"The differential includes pneumonia. Blood cultures were negative.", "pneumonia", Possible, ""},
		// a result that is itself hypothetical
		{"Suspected pneumonia. If the chest x-ray shows no infiltrate, antibiotics will be stopped.", "pneumonia", Possible, ""},
		// an exclusion of another named condition
		{"Suspected piebaldism. Eye lesions were ruled out.", "piebaldism", Possible, ""},
		// beyond the first clause of the next sentence, or in another section
		{"Suspicion of myelitis. Blood tests were normal; the EEG showed no abnormalities.", "myelitis", Possible, ""},
		{"Suspected pneumonia.\nHPI: CT showed no bleed.", "pneumonia", Possible, ""},
	} {
		n, err := p.Parse(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(tc.text, tc.target)
		target := n.Text.Span(i, i+len(tc.target))
		for name, a := range map[string]Assertion{"Classify": c.Classify(n, target), "Analyze": c.Analyze(n).Classify(target)} {
			if a.Negation != tc.want || a.RuledOut != (tc.cue != "") {
				t.Errorf("%s(%q in %q) = %s ruledOut=%v, want %s (cues %v)", name, tc.target, tc.text, a, a.RuledOut, tc.want, a.Cues)
				continue
			}
			if tc.cue == "" {
				continue
			}
			found := false
			for _, cu := range a.Cues {
				if cu.Kind == KindRuledOut && cu.Text == tc.cue && tc.text[cu.Start:cu.End] == cu.Text {
					found = true
				}
			}
			if !found {
				t.Errorf("%s(%q in %q): no ruled-out cue %q in %v", name, tc.target, tc.text, tc.cue, a.Cues)
			}
		}
	}
}

// TestCoding: each classification reports the assertion its first
// applicable part decides, and the ConText triple written as a string
// (as results held it before) reads as the same assertion.
func TestCoding(t *testing.T) {
	tests := []struct {
		a    Assertion
		want coding.Assertion
	}{
		{Assertion{}, coding.Affirmed},
		{Assertion{Negation: Negated}, coding.Negated},
		{Assertion{Negation: Negated, RuledOut: true}, coding.Negated},
		{Assertion{Negation: Negated, Resolved: true}, coding.Resolved},
		{Assertion{Negation: Possible}, coding.Possible},
		{Assertion{Temporality: Historical}, coding.Historical},
		{Assertion{Temporality: Hypothetical}, coding.Hypothetical},
		{Assertion{Experiencer: Family}, coding.Family},
		{Assertion{Experiencer: Other}, coding.OtherPerson},
		{Assertion{Negation: Negated, Temporality: Historical}, coding.Negated},
		{Assertion{Negation: Possible, Temporality: Hypothetical}, coding.Possible},
		{Assertion{Negation: Negated, Experiencer: Family}, coding.Family},
		{Assertion{Temporality: Historical, Experiencer: Other}, coding.OtherPerson},
	}
	for _, tt := range tests {
		if got := tt.a.Coding(); got != tt.want {
			t.Errorf("%v (resolved %v): %q, want %q", tt.a, tt.a.Resolved, got, tt.want)
		}
	}
	for n := Affirmed; n <= Possible; n++ {
		for tm := Recent; tm <= Hypothetical; tm++ {
			for e := Patient; e <= Other; e++ {
				a := Assertion{Negation: n, Temporality: tm, Experiencer: e}
				got, err := coding.ParseAssertion(a.String())
				if err != nil || got != a.Coding() {
					t.Errorf("%v read as %q, %v; want %q", a, got, err, a.Coding())
				}
			}
		}
	}
}
