package codesys

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The FY2021 files are read once per test binary: they are large and every
// test only reads them.
var fy2021 = struct {
	once  sync.Once
	tab   *Tabular
	order *Order
	err   error
}{}

func loadFY2021(tb testing.TB) (*Tabular, *Order) {
	tb.Helper()
	const tabPath = "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"
	const orderPath = "icd10cm/fy2021-jan2021/icd10cm-order-Jan-2021.txt.gz"
	fy2021.once.Do(func() {
		fy2021.tab, fy2021.err = ReadTabular(bytes.NewReader(shareddata.ReadGz(tb, tabPath)), tabPath)
		if fy2021.err != nil {
			return
		}
		fy2021.order, fy2021.err = ReadOrder(bytes.NewReader(shareddata.ReadGz(tb, orderPath)), orderPath)
	})
	if fy2021.err != nil {
		tb.Fatal(fy2021.err)
	}
	return fy2021.tab, fy2021.order
}

// TestTabularMatchesOrderFile checks the Tabular List model against the
// publisher's own list of codes: every line of the order file must validate
// with the same billable flag and the same long title, and every code the
// model generates must be in the order file.
func TestTabularMatchesOrderFile(t *testing.T) {
	tab, order := loadFY2021(t)
	if got, want := len(order.Entries), 95358; got != want {
		t.Fatalf("order file entries = %d, want %d (PROVENANCE.md)", got, want)
	}
	inOrder := make(map[string]bool, len(order.Entries))
	var bad int
	for _, e := range order.Entries {
		inOrder[e.Code] = true
		v := tab.Validate(e.Code)
		wantStatus := Header
		if e.Billable {
			wantStatus = Valid
		}
		if v.Status != wantStatus || stripAccents(v.Title) != e.Long {
			if bad++; bad <= 20 {
				t.Errorf("%s: status %s title %q; order file says billable=%v title %q (%s)", e.Code, v.Status, v.Title, e.Billable, e.Long, v.Reason)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d order-file codes disagree with the Tabular List", bad, len(order.Entries))
	}
	generated := 0
	tab.Codes(func(code, title string) bool {
		generated++
		if !inOrder[code] {
			t.Errorf("tabular generates %s %q, not in the order file", code, title)
		}
		return true
	})
	billable := 0
	for _, e := range order.Entries {
		if e.Billable {
			billable++
		}
	}
	if generated != billable {
		t.Errorf("tabular generates %d billable codes, order file has %d", generated, billable)
	}
}

// stripAccents removes combining marks: the order file is plain ASCII
// while the Tabular List spells names such as Sjögren with their accents.
func stripAccents(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestTabularStructure(t *testing.T) {
	tab, _ := loadFY2021(t)
	chapters := 0
	diags := 0
	for _, n := range tab.Nodes {
		switch n.Kind {
		case KindChapter:
			chapters++
		case KindCategory, KindSubcategory, KindCode:
			diags++
		}
	}
	if chapters != 22 || diags != 45017 {
		t.Errorf("chapters = %d, diag nodes = %d; want 22 and 45017 (PROVENANCE.md)", chapters, diags)
	}
	if tab.Version != "2021" {
		t.Errorf("version = %q, want 2021", tab.Version)
	}
}

func TestValidate(t *testing.T) {
	tab, _ := loadFY2021(t)
	tests := []struct {
		code   string
		status Status
		title  string // substring of the title, when valid
		reason string // substring of the reason, when not valid
	}{
		{"E11.9", Valid, "Type 2 diabetes mellitus without complications", ""},
		{"e119", Valid, "Type 2 diabetes mellitus without complications", ""},
		{"I10", Valid, "Essential (primary) hypertension", ""},
		{"E11", Header, "", "header"},
		{"E11.3", Header, "", "header"},
		{"S52.521A", Valid, "Torus fracture of lower end of right radius, initial encounter for closed fracture", ""},
		{"S52.521", Header, "", "7th character"},
		{"S52.521Z", Invalid, "", "7th character"},
		{"T36.0X1A", Valid, "Poisoning by penicillins, accidental (unintentional), initial encounter", ""},
		{"T36.01A", Invalid, "", ""},
		{"S01.00XA", Valid, "Unspecified open wound of scalp, initial encounter", ""},
		{"S01.00A", Invalid, "", ""},
		{"S06.1X7A", Valid, "death due to brain injury prior to regaining consciousness, initial encounter", ""},
		{"S06.1X7D", Invalid, "", "do not apply"},
		{"E08.3211", Valid, "right eye", ""},
		{"E11.99", Invalid, "does not exist", ""},
		{"U99.9", Invalid, "", "not in this release"},
		{"E1", Invalid, "", "3 to 7 characters"},
		{"119", Invalid, "", "first character"},
		{"E11.9.1", Invalid, "", "dot"},
		{"", Invalid, "", "characters"},
	}
	for _, tt := range tests {
		v := tab.Validate(tt.code)
		if v.Status != tt.status {
			t.Errorf("Validate(%q).Status = %s (%s), want %s", tt.code, v.Status, v.Reason, tt.status)
			continue
		}
		if tt.status == Valid && !strings.Contains(v.Title, tt.title) {
			t.Errorf("Validate(%q).Title = %q, want it to contain %q", tt.code, v.Title, tt.title)
		}
		if tt.reason != "" && !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("Validate(%q).Reason = %q, want it to contain %q", tt.code, v.Reason, tt.reason)
		}
	}
}

func TestReadTabularBadInput(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"empty", "", "no <ICD10CM.tabular> root"},
		{"wrong root", `<?xml version="1.0"?><ICD10CM.index><version>2026</version></ICD10CM.index>`, "root element is <ICD10CM.index>"},
		{"truncated", "<ICD10CM.tabular><version>2021</version><chapter><name>1</name><desc>x", "line 1"},
		{"no chapters", "<ICD10CM.tabular><version>2021</version></ICD10CM.tabular>", "no <chapter>"},
		{"bad code", "<ICD10CM.tabular><chapter><name>1</name><section id=\"A00-A09\"><diag><name>A0!</name></diag></section></chapter></ICD10CM.tabular>", "A0!"},
	}
	for _, tt := range tests {
		_, err := ReadTabular(strings.NewReader(tt.xml), "test.xml")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "test.xml") {
			t.Errorf("%s: err = %v, want it to name test.xml and contain %q", tt.name, err, tt.want)
		}
	}
}

func TestReadOrderBadInput(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"empty", "", "no entries"},
		{"short line", "00001 A00", "line 1: expected fixed-width"},
		{"bad flag", "00001 A00     7 Cholera", "billable flag"},
		{"bad code", "00001 1A0     0 Cholera", "first character"},
	}
	for _, tt := range tests {
		_, err := ReadOrder(strings.NewReader(tt.text), "order.txt")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestLookupNotes(t *testing.T) {
	tab, order := loadFY2021(t)
	rel := &Release{System: ICD10CM, Version: "2021", Tabular: tab, Order: order}
	tests := []struct {
		code      string
		hierarchy []string // codes from chapter down
		// notes that must apply, as kind + from + substring
		notes    [][3]string
		sevenChr string // allowed 7th characters, in order
	}{
		{
			code:      "E11.36",
			hierarchy: []string{"4", "E08-E13", "E11", "E11.3"},
			notes: [][3]string{
				{"useAdditionalCode", "E11", "insulin"},
				{"excludes1", "E11", "diabetes mellitus due to underlying condition"},
			},
		},
		{
			code:      "S52.521A",
			hierarchy: []string{"19", "S50-S59", "S52", "S52.5", "S52.52", "S52.521"},
			notes: [][3]string{
				{"excludes1", "S52", "traumatic amputation of forearm"},
				{"excludes2", "S52", "fracture at wrist and hand level"},
				{"useAdditionalCode", "19", "retained foreign body"},
			},
		},
		{
			code:     "S06.1X7",
			sevenChr: "A",
			notes:    [][3]string{{"notes", "S06", "do not apply"}, {"sevenChrNote", "S06", "7th character"}},
		},
		{code: "S52.521", sevenChr: "ADGKPS"}, // torus fractures are closed
		{code: "S52.531", sevenChr: "ABCDEFGHJKMNPQRS"},
	}
	for _, tt := range tests {
		e, err := rel.Lookup(tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if tt.hierarchy != nil {
			var got []string
			for _, h := range e.Hierarchy {
				got = append(got, h.Code)
			}
			if strings.Join(got, " ") != strings.Join(tt.hierarchy, " ") {
				t.Errorf("%s hierarchy = %v, want %v", tt.code, got, tt.hierarchy)
			}
		}
		for _, want := range tt.notes {
			found := false
			for _, sn := range e.Notes {
				if sn.From != want[1] {
					continue
				}
				sn.Notes.Each(func(kind string, notes []string) {
					for _, n := range notes {
						if kind == want[0] && strings.Contains(n, want[2]) {
							found = true
						}
					}
				})
			}
			if !found {
				t.Errorf("%s: no %s note from %s containing %q; notes: %+v", tt.code, want[0], want[1], want[2], e.Notes)
			}
		}
		if tt.sevenChr != "" {
			var got string
			for _, s := range e.SevenChr {
				got += s.Char
			}
			if got != tt.sevenChr {
				t.Errorf("%s 7th characters = %q, want %q", tt.code, got, tt.sevenChr)
			}
		}
	}
}
