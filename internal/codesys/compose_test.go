package codesys

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// composeFixture composes the order-file fixture with the notes of the
// Tabular List fixture, both in the publisher's formats.
func composeFixture(t testing.TB) (*Tabular, []string, *Order) {
	t.Helper()
	order := readFixture(t, "testdata/compose/invented-order.txt", func(b []byte, name string) (*Order, error) {
		return ReadOrder(bytes.NewReader(b), name)
	})
	notes := readFixture(t, "testdata/compose/tabular_notes.xml", func(b []byte, name string) (*Tabular, error) {
		return ReadTabular(bytes.NewReader(b), name)
	})
	tab, problems := ComposeTabular(order, notes, "icd10cm-2021")
	return tab, problems, order
}

func readFixture[T any](t testing.TB, name string, read func([]byte, string) (T, error)) T {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	v, err := read(b, name)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestComposeValidate(t *testing.T) {
	tab, _, order := composeFixture(t)
	tests := []struct {
		code   string
		status Status
		title  string // the whole title, when valid
		reason string // substring of the reason, when not valid
	}{
		{"E11.36", Valid, "Second-kind sugar illness with sugar lens clouding", ""},
		{"E11", Header, "", "header"},
		// A seven-character code that is a code of its own, not a 7th
		// character: in the notes list, and new, ending in a digit.
		{"E11.3211", Valid, "Second-kind sugar illness with light background eye-ground disease with central swelling, right eye", ""},
		{"E11.3291", Valid, "Second-kind sugar illness with light background eye-ground disease without central swelling, right eye", ""},
		{"E11.329", Header, "", "header"},
		// Expanded since the notes list: now a header.
		{"E11.8", Header, "", "header"},
		{"E11.81", Valid, "Second-kind sugar illness with unspecified complications, first kind", ""},
		// Deleted since the notes list.
		{"E11.52", Invalid, "", "does not exist"},
		// New categories: in a block's range, and beyond every range.
		{"E12", Valid, "Hunger-related sugar illness", ""},
		{"E1A", Valid, "Sugar illness of a kind new in this release", ""},
		// 7th characters of the notes list (S52.52's own definition).
		{"S52.521A", Valid, "Buckle break of far end of right radius, first visit for closed break", ""},
		{"S52.521", Header, "", "requires a 7th character"},
		{"S52.521B", Invalid, "", "7th character"},
		// Placeholder X, 7th characters inherited from S52.
		{"S52.90XB", Valid, "Unnamed break of unspecified forearm, first visit for open break, lesser grade", ""},
		{"S52.90A", Invalid, "", "does not exist"},
		// The order file lists fewer 7th characters than the notes
		// define: its own apply.
		{"T36.0X1A", Valid, "Harm from mould-derived drugs, by accident, first visit", ""},
		{"T36.0X1S", Invalid, "", "7th character"},
		{"T36.01A", Invalid, "", ""},
		// A category the notes list lacks, 7th characters from the order
		// file alone.
		{"T3A.0XXA", Valid, "Harm from the first such drug, first visit", ""},
		{"T3A.0XXS", Valid, "Harm from the first such drug, late effect", ""},
		{"T3A.0XXD", Invalid, "", "7th character"},
		{"T3A.0", Header, "", "requires a 7th character"},
	}
	for _, tt := range tests {
		v := tab.Validate(tt.code)
		if v.Status != tt.status {
			t.Errorf("Validate(%q) = %s (%s), want %s", tt.code, v.Status, v.Reason, tt.status)
			continue
		}
		if tt.status == Valid && v.Title != tt.title {
			t.Errorf("Validate(%q).Title = %q, want %q", tt.code, v.Title, tt.title)
		}
		if !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("Validate(%q).Reason = %q, want it to contain %q", tt.code, v.Reason, tt.reason)
		}
	}
	checkAgainstOrder(t, tab, order)
}

// checkAgainstOrder checks a composed list against the order file it was
// composed from: every line validates with the order file's billable flag
// and long title, and the list generates no other code.
func checkAgainstOrder(t *testing.T, tab *Tabular, order *Order) {
	t.Helper()
	billable := map[string]bool{}
	bad := 0
	for _, e := range order.Entries {
		v := tab.Validate(e.Code)
		want := Header
		if e.Billable {
			want = Valid
			billable[e.Code] = true
		}
		if v.Status != want || v.Title != e.Long {
			if bad++; bad <= 20 {
				t.Errorf("%s: %s %q (%s); the order file says billable=%v %q", e.Code, v.Status, v.Title, v.Reason, e.Billable, e.Long)
			}
		}
	}
	generated := 0
	tab.Codes(func(code, title string) bool {
		generated++
		if !billable[code] {
			t.Errorf("the composed list generates %s %q, not a valid code of the order file", code, title)
		}
		return true
	})
	if generated != len(billable) {
		t.Errorf("the composed list generates %d codes, the order file has %d valid codes", generated, len(billable))
	}
}

func TestComposeStructure(t *testing.T) {
	tab, problems, _ := composeFixture(t)
	tests := []struct {
		code      string
		hierarchy string // codes from the chapter down
		kind      Kind
		notesFrom string
	}{
		{"E11.36", "4 E08-E13 E11 E11.3", KindCode, "icd10cm-2021"},
		{"E11.3291", "4 E08-E13 E11 E11.3 E11.32 E11.329", KindCode, ""},
		{"E11.8", "4 E08-E13 E11", KindSubcategory, "icd10cm-2021"},
		{"E12", "4 E08-E13", KindCategory, ""},
		{"E1A", "4 E08-E13", KindCategory, ""},
		{"S52.521", "19 S50-S59 S52 S52.5 S52.52", KindCode, "icd10cm-2021"},
		{"T3A.0", "19 T36-T50 T3A", KindCode, ""},
	}
	for _, tt := range tests {
		n := tab.Node(tt.code)
		if n == nil {
			t.Errorf("%s: no node", tt.code)
			continue
		}
		var h []string
		for _, a := range tab.Ancestors(n) {
			h = append(h, a.Code)
		}
		if got := strings.Join(h, " "); got != tt.hierarchy || n.Kind != tt.kind || n.NotesFrom != tt.notesFrom {
			t.Errorf("%s: hierarchy %q, kind %s, notes from %q; want %q, %s, %q", tt.code, got, n.Kind, n.NotesFrom, tt.hierarchy, tt.kind, tt.notesFrom)
		}
	}
	// Parents come before their children, and a node's children follow it
	// in the order of the order file.
	for i, n := range tab.Nodes {
		if n.Parent >= int32(i) {
			t.Errorf("node %d %s: parent %d after it", i, n.Code, n.Parent)
		}
		if !slices.IsSorted(n.Children) {
			t.Errorf("%s: children out of order %v", n.Code, n.Children)
		}
	}
	if tab.NotesFrom != "icd10cm-2021" {
		t.Errorf("NotesFrom = %q", tab.NotesFrom)
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "E1A") || !strings.Contains(problems[0], "E08-E13") {
		t.Errorf("problems = %q, want one: E1A placed in E08-E13 by its range", problems)
	}
}

func TestComposeLookup(t *testing.T) {
	tab, _, _ := composeFixture(t)
	tests := []struct {
		code string
		// labels of the notes, as "from: label"
		labels []string
		// substrings of the problems, in order
		problems []string
		sevenChr string
	}{
		{
			code:   "E11.36",
			labels: []string{"E11.36: notes from ICD-10-CM 2021 Tabular List", "E11: notes from ICD-10-CM 2021 Tabular List", "4: notes from ICD-10-CM 2021 Tabular List"},
			// E11's Excludes1 names E11.52, deleted since; Z79.4 is in
			// neither list and E10.- is a header: not problems of the
			// composition.
			problems: []string{"names E11.52, which this release lacks"},
		},
		{
			code:     "E11.9",
			labels:   []string{"E11.9: notes from ICD-10-CM 2021 Tabular List", "E11: notes from ICD-10-CM 2021 Tabular List", "4: notes from ICD-10-CM 2021 Tabular List"},
			problems: []string{"names E11.8, a code there that has more specific codes", "names E11.52"},
		},
		{
			// New: no notes of its own, the inherited ones labelled.
			code:     "E11.3291",
			labels:   []string{"E11: notes from ICD-10-CM 2021 Tabular List", "4: notes from ICD-10-CM 2021 Tabular List"},
			problems: []string{"names E11.52"},
		},
		{code: "E1A", labels: []string{"4: notes from ICD-10-CM 2021 Tabular List"}, problems: []string{"category E1A is in no block"}},
		{code: "T36.0X1", sevenChr: "AD"},
		{code: "T3A.0", sevenChr: "AS"},
		{code: "S52.521", sevenChr: "ADS", labels: []string{"S52: notes from ICD-10-CM 2021 Tabular List", "19: notes from ICD-10-CM 2021 Tabular List"}},
	}
	for _, tt := range tests {
		e := tab.Lookup(tt.code)
		var labels []string
		for _, sn := range e.Notes {
			labels = append(labels, sn.From+": "+sn.Label)
			if sn.NotesFrom != "icd10cm-2021" {
				t.Errorf("%s: notes of %s from %q", tt.code, sn.From, sn.NotesFrom)
			}
		}
		if tt.labels != nil && !slices.Equal(labels, tt.labels) {
			t.Errorf("%s: notes %q, want %q", tt.code, labels, tt.labels)
		}
		if len(e.Problems) != len(tt.problems) {
			t.Errorf("%s: problems %q, want %d", tt.code, e.Problems, len(tt.problems))
		} else {
			for i, p := range tt.problems {
				if !strings.Contains(e.Problems[i], p) {
					t.Errorf("%s: problem %q, want it to contain %q", tt.code, e.Problems[i], p)
				}
			}
		}
		var sc string
		for _, s := range e.SevenChr {
			sc += s.Char
		}
		if sc != tt.sevenChr {
			t.Errorf("%s: 7th characters %q, want %q", tt.code, sc, tt.sevenChr)
		}
	}
}

func TestComposeWithoutNotes(t *testing.T) {
	order := readFixture(t, "testdata/compose/invented-order.txt", func(b []byte, name string) (*Order, error) {
		return ReadOrder(bytes.NewReader(b), name)
	})
	tab, problems := ComposeTabular(order, nil, "")
	if len(problems) != 0 || tab.NotesFrom != "" {
		t.Errorf("problems %q, notes from %q; want none", problems, tab.NotesFrom)
	}
	for _, n := range tab.Nodes {
		if n.Kind < KindCategory || n.NotesFrom != "" || !n.Notes.empty() {
			t.Errorf("%s: kind %s, notes %+v from %q", n.Code, n.Kind, n.Notes, n.NotesFrom)
		}
	}
	// Without notes, every 7-character code ending in a letter is a 7th
	// character, and the order file defines them all.
	for code, want := range map[string]Status{"S52.521A": Valid, "S52.521": Header, "S52.90XB": Valid, "E11.3291": Valid, "T36.0X1S": Invalid} {
		if v := tab.Validate(code); v.Status != want {
			t.Errorf("Validate(%s) = %s (%s), want %s", code, v.Status, v.Reason, want)
		}
	}
	checkAgainstOrder(t, tab, order)
}

func TestParenCodes(t *testing.T) {
	tests := []struct {
		note string
		want string // code/header pairs
	}{
		{"first-kind sugar illness (E10.-)", "E10.-"},
		{"neonatal diabetes mellitus (P70.2)", "P70.2"},
		{"hypertensive diseases (I10-I16)", "I10- I16-"},
		{"conditions in (S52.521A) and (T36.0X1)", "S52.521A T36.0X1"},
		{"vitamin B12 deficiency anemia (D51.-)", "D51.-"},
		{"deficiency of vitamin B12 (see D51)", "D51"},
		{"(AB12) (E1) no codes", ""},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range parenCodes(tt.note) {
			s := r.code
			if r.header {
				s += map[bool]string{true: ".-", false: "-"}[strings.Contains(tt.note, r.code+".-")]
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("parenCodes(%q) = %q, want %q", tt.note, got, tt.want)
		}
	}
}

// The FY2025 order file is read once per test binary.
var fy2025 = struct {
	once  sync.Once
	order *Order
	err   error
}{}

func loadFY2025Order(tb testing.TB) *Order {
	tb.Helper()
	const p = "icd10cm/fy2025-apr2025/icd10cm_order_2025.txt.gz"
	fy2025.once.Do(func() {
		fy2025.order, fy2025.err = ReadOrder(bytes.NewReader(shareddata.ReadGz(tb, p)), p)
	})
	if fy2025.err != nil {
		tb.Fatal(fy2025.err)
	}
	return fy2025.order
}

// TestComposeFY2025 composes the FY2025 Tabular List from its order file
// and the notes of the FY2021 Tabular List, and checks it against the
// order file line by line.
func TestComposeFY2025(t *testing.T) {
	notes, _ := loadFY2021(t)
	order := loadFY2025Order(t)
	tab, problems := ComposeTabular(order, notes, "icd10cm-2021")
	checkAgainstOrder(t, tab, order)
	// Three categories added since FY2021 (I1A, I5A, J4A) lie beyond the
	// ranges of the FY2021 blocks; the others fall inside one.
	if len(problems) != 3 {
		t.Errorf("problems = %q, want the three categories placed by range", problems)
	}
	rel := &Release{System: ICD10CM, Version: "2025", Tabular: tab, Order: order}
	tests := []struct {
		code      string
		status    Status
		notesFrom string // label of the code's own notes; "-" for none
		inherited string // an inherited note's source node, with its label
	}{
		{"E11.36", Valid, "-", "E11"},
		{"S52.521A", Valid, "-", "S52"},
		{"T36.0X1A", Valid, "-", "T36"},
		{"S06.1X7D", Invalid, "", ""},
		// New in FY2022 to FY2025: valid, no notes of their own.
		{"U09.9", Valid, "-", ""},
		{"I1A.0", Valid, "-", ""},
		{"D48.110", Valid, "-", "D48"},
		{"J44.1", Valid, "notes from ICD-10-CM 2021 Tabular List", "J44"},
	}
	for _, tt := range tests {
		e, err := rel.Lookup(tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if e.Status != tt.status {
			t.Errorf("%s: %s (%s), want %s", tt.code, e.Status, e.Reason, tt.status)
			continue
		}
		own, inherited := "-", ""
		for _, sn := range e.Notes {
			if !sn.Inherited {
				own = sn.Label
			} else if sn.From == tt.inherited {
				inherited = sn.From
				if sn.Label != "notes from ICD-10-CM 2021 Tabular List" {
					t.Errorf("%s: notes of %s labelled %q", tt.code, sn.From, sn.Label)
				}
			}
		}
		if tt.status == Valid && (own != tt.notesFrom || inherited != tt.inherited) {
			t.Errorf("%s: own notes %q, inherited from %q; want %q and %q", tt.code, own, inherited, tt.notesFrom, tt.inherited)
		}
	}
	if e, _ := rel.Lookup("U09.9"); slices.ContainsFunc(e.Notes, func(sn SourcedNotes) bool { return sn.From == "U09.9" || sn.From == "U09" }) {
		t.Errorf("U09.9, new since FY2021, has borrowed notes of its own: %+v", e.Notes)
	}
}
