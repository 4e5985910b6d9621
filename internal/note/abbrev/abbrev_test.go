package abbrev

import (
	"testing"

	"github.com/medcode-dev/medcode/internal/note"
)

func TestBuiltinTable(t *testing.T) {
	tab := Builtin()
	if tab.Len() < 300 {
		t.Errorf("built-in table has %d entries, want a few hundred", tab.Len())
	}
	for _, tc := range []struct {
		abbr      string
		expansion string
		ambiguous bool
	}{
		{"CHF", "congestive heart failure", false},
		{"COPD", "chronic obstructive pulmonary disease", false},
		{"HTN", "hypertension", false},
		{"T2DM", "type 2 diabetes mellitus", false},
		{"DM2", "type 2 diabetes mellitus", false},
		{"CKD", "chronic kidney disease", false},
		{"NSTEMI", "non-ST-elevation myocardial infarction", false},
		{"AFib", "atrial fibrillation", false},
		{"s/p", "status post", false},
		{"h/o", "history of", false},
		{"SOB", "shortness of breath", false},
		{"N/V", "nausea and vomiting", false},
		{"PE", "pulmonary embolism", true},
		{"MS", "multiple sclerosis", true},
		{"RA", "rheumatoid arthritis", true},
		{"CVA", "cerebrovascular accident", true},
	} {
		e, ok := tab.Lookup(tc.abbr)
		if !ok {
			t.Errorf("Lookup(%q): not found", tc.abbr)
			continue
		}
		if e.Expansions[0] != tc.expansion || e.Ambiguous != tc.ambiguous {
			t.Errorf("Lookup(%q) = %q ambiguous=%v, want %q ambiguous=%v", tc.abbr, e.Expansions[0], e.Ambiguous, tc.expansion, tc.ambiguous)
		}
	}
}

func TestFind(t *testing.T) {
	tab := Builtin()
	p := note.NewParser()
	for _, tc := range []struct {
		text string
		want []string // abbreviations as written, in order
	}{
		{"72 yo M with HTN, DM2 and CHF s/p CABG presents with SOB.", []string{"yo", "HTN", "DM2", "CHF", "s/p", "CABG", "SOB"}},
		{"Metoprolol 25 mg p.o. b.i.d. for AFib.", []string{"p.o.", "b.i.d.", "AFib"}},
		// ordinary words that are abbreviations only in upper case
		{"She was as well as can be, or so it seemed to all of us.", nil},
		{"TTE showed AS and MR.", []string{"TTE", "AS", "MR"}},
		// no match inside longer words
		{"CHFX and HTNs are not abbreviations here; chf is.", []string{"chf"}},
		{"Ça va: patient with COPD é", []string{"COPD"}},
	} {
		n, err := p.Parse(tc.text)
		if err != nil {
			t.Fatal(err)
		}
		got := tab.Find(n)
		var gotS []string
		for _, m := range got {
			if tc.text[m.Start:m.End] != m.Text {
				t.Errorf("%q: mention span [%d,%d) does not match its text %q", tc.text, m.Start, m.End, m.Text)
			}
			gotS = append(gotS, m.Text)
		}
		if len(gotS) != len(tc.want) {
			t.Errorf("Find(%q) = %q, want %q", tc.text, gotS, tc.want)
			continue
		}
		for i := range gotS {
			if gotS[i] != tc.want[i] {
				t.Errorf("Find(%q) = %q, want %q", tc.text, gotS, tc.want)
				break
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{"HTN\thypertension", "HTN\thypertension\tweird", "\tx\t"} {
		if _, err := Parse(bad + "\n"); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}
