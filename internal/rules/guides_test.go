package rules

import (
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/guidelines"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const guidePack = `# pack: icd10cm/guidelines
# version: 1
# source: test
# rule id	section	section title	built-in summary
uncertain	II.H	Uncertain Diagnosis	Coded as if established.
gone	I.Z.9	Nowhere	A section no edition has.
renamed	I.B.5	Something else	Its title changed.
`

func TestGuidelinesCitations(t *testing.T) {
	p, err := Parse(PackGuidelines, "test.tsv", guidePack)
	if err != nil {
		t.Fatal(err)
	}
	set := &Set{packs: map[string]*Pack{PackGuidelines: p}}
	doc := &guidelines.Document{Year: "2031", Sections: []guidelines.Section{
		{ID: "II.H", Title: "Uncertain Diagnosis", Text: "If the diagnosis is qualified as probable, code it. More text follows."},
		{ID: "I.B.5", Title: "Conditions that are an integral part of a disease process", Text: "Signs are not coded."},
		{ID: "I.C.9.a.1", Title: "Hypertension with Heart Disease", Text: ""},
	}}
	tests := []struct {
		name, rule, section        string
		doc                        *guidelines.Document
		wantYear, wantQuote, wantF string
		wantNote                   string
	}{
		{name: "quoted", rule: "uncertain", doc: doc, wantYear: "2031", wantQuote: "If the diagnosis is qualified as probable, code it."},
		{name: "missing section", rule: "gone", doc: doc, wantF: "no section I.Z.9", wantNote: "built-in summary of I.Z.9"},
		{name: "retitled", rule: "renamed", doc: doc, wantF: "is titled", wantNote: "Its title changed."},
		{name: "none installed", rule: "uncertain", wantNote: "(no guidelines installed): Coded as if established."},
		{name: "unknown rule", rule: "nope", doc: doc, wantF: "unknown rule"},
		{name: "section of another pack", section: "I.C.9.a.1", doc: doc, wantYear: "2031", wantQuote: "Hypertension with Heart Disease"},
		{name: "section of another pack missing", section: "I.C.9.a.7", doc: doc, wantF: "no section I.C.9.a.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := set.Guidelines(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			c := g.Rule(tt.rule)
			if tt.section != "" {
				c = g.Section(tt.section, "summary")
			}
			if c.Year != tt.wantYear || c.Quote != tt.wantQuote {
				t.Errorf("cites %q %q, want %q %q", c.Year, c.Quote, tt.wantYear, tt.wantQuote)
			}
			if !strings.Contains(c.Flag, tt.wantF) || (tt.wantF == "") != (c.Flag == "") {
				t.Errorf("flag %q, want %q", c.Flag, tt.wantF)
			}
			if !strings.Contains(c.Note(), tt.wantNote) || (tt.wantNote == "") != (c.Note() == "") && tt.wantF == "" {
				t.Errorf("note %q, want %q", c.Note(), tt.wantNote)
			}
		})
	}
	g, err := set.Guidelines(doc)
	if err != nil {
		t.Fatal(err)
	}
	if ws := g.Warnings(); len(ws) != 2 || !strings.Contains(ws[0], "rule gone") || !strings.Contains(ws[1], "rule renamed") {
		t.Errorf("warnings %q, want the rules gone and renamed", ws)
	}
}

func TestQuote(t *testing.T) {
	long := strings.Repeat("word ", 60)
	tests := []struct{ text, want string }{
		{"One sentence. Two sentences.", "One sentence."},
		{"  spaced\n out   text ", "spaced out text"},
		{long, strings.TrimSpace(strings.Repeat("word ", 40)) + " …"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Quote(tt.text); got != tt.want {
			t.Errorf("Quote(%.20q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestGuidelinesPackFY2025 checks the embedded pack against the FY2025
// guidelines: every rule's section is there, under its title.
func TestGuidelinesPackFY2025(t *testing.T) {
	doc, err := guidelines.Import(shareddata.Path(t, "guidelines/cm-fy2025/fy-2025-icd-10-cm-coding-guidelines.layout.txt"), "2025")
	if err != nil {
		t.Fatal(err)
	}
	set, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := set.Guidelines(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range g.Warnings() {
		t.Error(w)
	}
	rs, err := set.GuidelineRules()
	if err != nil || len(rs) < 15 {
		t.Fatalf("%d rules, %v", len(rs), err)
	}
	for _, r := range rs {
		if c := g.Rule(r.ID); c.Year != "2025" || c.Quote == "" {
			t.Errorf("rule %s (%s) is not quoted: %+v", r.ID, r.Section, c)
		}
	}
}
