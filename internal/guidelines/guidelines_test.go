package guidelines

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func parseFixture(t *testing.T) *Document {
	t.Helper()
	f, err := os.Open("testdata/outline.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestParseOutline(t *testing.T) {
	d := parseFixture(t)
	// The section numbers are those a coder cites for the fixture's
	// outline, written by hand from its headings.
	tests := []struct {
		id, title, textHas string
	}{
		{"I", "Conventions and general rules", "imitate the outline"},
		{"I.A", "Conventions", ""},
		{"I.A.1", "Index and list", "confirm the code in the list"},
		{"I.A.2.a", "When a seventh character is needed", "Fill the empty positions"},
		{"I.A.2.b", "Other uses", "stand inside a code"},
		{"I.B.1", "Signs and symptoms", "routinely part"},
		{"I.C.4", "Chapter 4: Glands and metabolism (E00-E89)", "combination codes"},
		{"I.C.9", "Chapter 9: Circulatory system (I00-I99)", ""},
		{"I.C.9.a", "Raised blood pressure", "assumes a link"},
		{"I.C.9.a.1", "Raised pressure with heart disease", "combination code"},
		{"I.C.9.a.2", "Raised pressure with kidney disease", "chronic kidney disease"},
		{"I.C.9.a.2.(a)", "Stage five", "additional code"},
		{"I.C.9.a.2.(b)", "End stage", "end stage only"},
		{"I.C.9.a.2.(b).(i)", "Dialysis status", "dialysis is documented"},
		{"I.C.9.a.2.(b).(ii)", "Transplant status", ""},
		{"I.C.9.a.3", "Raised pressure with both", "all three"},
		{"I.C.9.b", "Heart attack", "four weeks"},
		{"II.H", "Uncertain diagnoses", "as if it existed"},
		{"III.A", "Previous conditions", ""},
		{"IV.H", "Uncertain diagnoses", "outpatient care"},
	}
	for _, tt := range tests {
		s := d.Section(tt.id)
		if s == nil {
			t.Errorf("section %s missing; have %v", tt.id, ids(d))
			continue
		}
		if s.Title != tt.title {
			t.Errorf("section %s title = %q, want %q", tt.id, s.Title, tt.title)
		}
		if !strings.Contains(s.Text, tt.textHas) {
			t.Errorf("section %s text = %q, want it to contain %q", tt.id, s.Text, tt.textHas)
		}
	}
	for _, s := range d.Sections {
		if strings.Contains(s.Text, "Page ") || strings.Contains(s.Text, "....") {
			t.Errorf("section %s kept a footer or contents line: %q", s.ID, s.Text)
		}
	}
	// Body text must not leak into the next section.
	if s := d.Section("I.C.9.a.2.(a)"); s != nil && strings.Contains(s.Text, "end stage") {
		t.Errorf("I.C.9.a.2.(a) swallowed its sibling: %q", s.Text)
	}
}

func ids(d *Document) []string {
	var out []string
	for _, s := range d.Sections {
		out = append(out, s.ID)
	}
	return out
}

func TestParseSequenceGuard(t *testing.T) {
	// "c." cannot follow "a." directly under a numbered heading... but a
	// short gap is tolerated; "m." far out of sequence is body text, as
	// is "2." where no "1." was opened at that level.
	text := `Section I. Rules
A. First
1. One
a. Alpha
Body of alpha.
m. Not a heading because it is far out of sequence.
2) Not a heading either: no 1) came before.
c. Gamma after a lost b
`
	d, err := Parse(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	got := ids(d)
	want := []string{"I", "I.A", "I.A.1", "I.A.1.a", "I.A.1.c"}
	if !slices.Equal(got, want) {
		t.Fatalf("sections = %v, want %v", got, want)
	}
	if a := d.Section("I.A.1.a"); !strings.Contains(a.Text, "m. Not a heading") || !strings.Contains(a.Text, "2) Not a heading") {
		t.Errorf("out-of-sequence lines should stay body text: %q", a.Text)
	}
}

func TestParseNotGuidelines(t *testing.T) {
	if _, err := Parse(strings.NewReader("Discharge summary\nPatient is well.\n")); err == nil {
		t.Fatal("Parse of a text with no Section heading: want an error")
	}
}

func TestSearch(t *testing.T) {
	d := parseFixture(t)
	tests := []struct{ q, want string }{
		{"raised pressure with chronic kidney disease", "I.C.9.a.2"},
		{"uncertain diagnosis outpatient", "IV.H"},
		{"seventh character needed", "I.A.2.a"},
		{"dialysis", "I.C.9.a.2.(b).(i)"},
	}
	for _, tt := range tests {
		hits := d.Search(tt.q, 3)
		if len(hits) == 0 {
			t.Errorf("Search(%q): no hits", tt.q)
			continue
		}
		if hits[0].ID != tt.want {
			t.Errorf("Search(%q) = %v, want %s first", tt.q, hits, tt.want)
		}
	}
}

func TestInstallLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, ""); err == nil || !strings.Contains(err.Error(), ErrNotInstalled.Error()) {
		t.Fatalf("Load from empty dir: err = %v, want ErrNotInstalled", err)
	}
	d, err := Import("testdata/outline.txt", "2099")
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(dir, d); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Year != "2099" || len(got.Sections) != len(d.Sections) || got.Section("I.C.9.a.2") == nil {
		t.Fatalf("loaded %s with %d sections, want 2099 with %d", got.Year, len(got.Sections), len(d.Sections))
	}
	if _, err := Import("testdata/outline.txt", "25"); err == nil {
		t.Error("Import with a two-digit year: want an error")
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("testdata/outline.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("Section I.\n(i) x\n(h) y\n")
	f.Add("Section IV. x\nA. y\n1. z\na. w\n1) v\n(a) u\n(i) t\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, sec := range d.Sections {
			if sec.ID == "" {
				t.Fatalf("section with empty ID in %q", s)
			}
		}
		d.Search(s, 5)
	})
}

func TestParentChildren(t *testing.T) {
	d := parseFixture(t)
	tests := []struct {
		id       string
		parent   string
		children []string
	}{
		{"I", "", []string{"I.A", "I.B", "I.C"}},
		{"I.C.9.a.2", "I.C.9.a", []string{"I.C.9.a.2.(a)", "I.C.9.a.2.(b)"}},
		{"I.C.9.a.2.(b)", "I.C.9.a.2", []string{"I.C.9.a.2.(b).(i)", "I.C.9.a.2.(b).(ii)"}},
		{"I.C.9.a.2.(b).(ii)", "I.C.9.a.2.(b)", nil},
		{"no such section", "", nil},
	}
	for _, tt := range tests {
		if got := d.Parent(tt.id); got != tt.parent {
			t.Errorf("Parent(%q) = %q, want %q", tt.id, got, tt.parent)
		}
		if got := d.Children(tt.id); !slices.Equal(got, tt.children) {
			t.Errorf("Children(%q) = %v, want %v", tt.id, got, tt.children)
		}
	}
}
