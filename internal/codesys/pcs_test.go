package codesys

import (
	"bytes"
	"encoding/gob"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

const (
	pcsTables2025 = "icd10pcs/fy2025/icd10pcs_tables_2025.xml.gz"
	pcsTables2026 = "icd10pcs/fy2026/icd10pcs_tables_2026.xml.gz"
	pcsDefs2025   = "icd10pcs/fy2025/icd10pcs_definitions_2025.xml.gz"
	pcsDefs2026   = "icd10pcs/fy2026/icd10pcs_definitions_2026.xml.gz"
)

// The real files are parsed once per test binary; tests must not modify
// what they get.
var (
	pcsTablesCache sync.Map // rel -> func() (*PCSTables, error)
	pcsDefsCache   sync.Map
)

func realPCSTables(tb testing.TB, rel string) *PCSTables {
	tb.Helper()
	data := shareddata.ReadGz(tb, rel)
	f, _ := pcsTablesCache.LoadOrStore(rel, sync.OnceValues(func() (*PCSTables, error) {
		return ReadPCSTables(bytes.NewReader(data), rel)
	}))
	t, err := f.(func() (*PCSTables, error))()
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func realPCSDefs(tb testing.TB, rel string) *PCSDefinitions {
	tb.Helper()
	data := shareddata.ReadGz(tb, rel)
	f, _ := pcsDefsCache.LoadOrStore(rel, sync.OnceValues(func() (*PCSDefinitions, error) {
		return ReadPCSDefinitions(bytes.NewReader(data), rel)
	}))
	d, err := f.(func() (*PCSDefinitions, error))()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile("testdata/pcs/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func fixtureTables(tb testing.TB) *PCSTables {
	tb.Helper()
	t, err := ReadPCSTables(bytes.NewReader(fixture(tb, "tables.xml")), "tables.xml")
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestReadPCSTablesReal(t *testing.T) {
	for _, tc := range []struct {
		rel, version string
		tables       int // per PROVENANCE.md, counted with grep
		rows         int // <pcsRow> elements, counted with grep
	}{
		{pcsTables2025, "2025", 908, 2661},
		{pcsTables2026, "2026", 914, 2733},
	} {
		t.Run(tc.version, func(t *testing.T) {
			pt := realPCSTables(t, tc.rel)
			if pt.Version != tc.version || !strings.Contains(pt.Title, "ICD-10-PCS Tables") {
				t.Errorf("version %q title %q", pt.Version, pt.Title)
			}
			if len(pt.Tables) != tc.tables {
				t.Errorf("%d tables, want %d", len(pt.Tables), tc.tables)
			}
			rows, declared := 0, 0
			for _, tab := range pt.Tables {
				rows += len(tab.Rows)
				for _, r := range tab.Rows {
					declared += r.Codes
				}
			}
			if rows != tc.rows {
				t.Errorf("%d rows, want %d", rows, tc.rows)
			}
			n := pt.NumCodes()
			if n != declared {
				t.Errorf("NumCodes %d, sum of codes attributes %d", n, declared)
			}
			// CMS publishes about 78,000-79,000 codes for FY2025/FY2026.
			if n < 70000 || n > 80000 {
				t.Errorf("NumCodes %d outside 70,000-80,000", n)
			}
			t.Logf("FY%s: %d tables, %d rows, %d codes", tc.version, len(pt.Tables), rows, n)

			// EachCode yields every code once, in increasing order, and
			// every one validates.
			count, prev := 0, ""
			pt.EachCode(func(code string) bool {
				count++
				if code <= prev {
					t.Fatalf("EachCode: %q after %q", code, prev)
				}
				prev = code
				if !pt.IsValid(code) {
					t.Fatalf("EachCode yielded %q, IsValid false", code)
				}
				if count%97 == 0 {
					if c := pt.Validate(code); !c.Valid() || len(c.Axes) != 7 {
						t.Fatalf("Validate(%q) = %v %s", code, c.Problem, c.Reason)
					}
				}
				return true
			})
			if count != n {
				t.Errorf("EachCode yielded %d codes, NumCodes %d", count, n)
			}

			// 17 sections: 0-9, B, C, D, F, G, H, X.
			var sections []byte
			for _, tab := range pt.WithPrefix("") {
				if c := tab.Section().Code; !slices.Contains(sections, c) {
					sections = append(sections, c)
				}
			}
			if string(sections) != "0123456789BCDFGHX" {
				t.Errorf("sections %q", sections)
			}
		})
	}
}

func TestPCSEachCodeStops(t *testing.T) {
	pt := fixtureTables(t)
	var got []string
	pt.EachCode(func(c string) bool {
		got = append(got, c)
		return len(got) < 3
	})
	// In code order, 0DT sorts first; its codes start with stomach 0DT6.
	want := []string{"0DT60ZZ", "0DT64ZZ", "0DT68ZZ"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestPCSValidateReal(t *testing.T) {
	pt := realPCSTables(t, pcsTables2025)
	for _, tc := range []struct {
		code    string
		problem PCSProblem
		pos     int
		desc    string // for valid codes
		reason  string // substring of Reason
	}{
		// Laparoscopic appendectomy.
		{code: "0DTJ4ZZ", desc: "Medical and Surgical, Gastrointestinal System, Resection, Appendix, Percutaneous Endoscopic, No Device, No Qualifier"},
		{code: "0dtj4zz", desc: "Medical and Surgical, Gastrointestinal System, Resection, Appendix, Percutaneous Endoscopic, No Device, No Qualifier"},
		{code: "0DT.J4Z Z", desc: "Medical and Surgical, Gastrointestinal System, Resection, Appendix, Percutaneous Endoscopic, No Device, No Qualifier"},
		// Hand-assisted laparoscopic appendectomy.
		{code: "0DTJ4ZG", desc: "Medical and Surgical, Gastrointestinal System, Resection, Appendix, Percutaneous Endoscopic, No Device, Hand-Assisted"},
		// PTCA of one coronary artery with stent, percutaneous.
		{code: "02703DZ", desc: "Medical and Surgical, Heart and Great Vessels, Dilation, Coronary Artery, One Artery, Percutaneous, Intraluminal Device, No Qualifier"},
		// Total hip replacement, right, metal, cemented.
		{code: "0SR9019", desc: "Medical and Surgical, Lower Joints, Replacement, Hip Joint, Right, Open, Synthetic Substitute, Metal, Cemented"},
		// Ventriculonasopharyngeal shunt with autologous tissue.
		{code: "0016070", desc: "Medical and Surgical, Central Nervous System and Cranial Nerves, Bypass, Cerebral Ventricle, Open, Autologous Tissue Substitute, Nasopharynx"},
		// The label of substance W depends on the row (qualifier).
		{code: "XW013W5", desc: "New Technology, Anatomical Regions, Introduction, Subcutaneous Tissue, Percutaneous, Caplacizumab, New Technology Group 5"},
		{code: "XW013W7", desc: "New Technology, Anatomical Regions, Introduction, Subcutaneous Tissue, Percutaneous, COVID-19 Vaccine Booster, New Technology Group 7"},

		{code: "0DTJ4ZZZ", problem: PCSTooLong, pos: 8, reason: "8 characters"},
		{code: "0DIJ4ZZ", problem: PCSBadChar, pos: 3, reason: "letter I"},
		{code: "0DTJOZZ", problem: PCSBadChar, pos: 5, reason: "letter O"},
		{code: "0DTJ4Z#", problem: PCSBadChar, pos: 7, reason: "'#'"},
		{code: "ZDTJ4ZZ", problem: PCSUnknownTable, pos: 1, reason: "no table has section Z"},
		// Medical and Surgical has no body system A or E.
		{code: "0ATJ4ZZ", problem: PCSUnknownTable, pos: 2, reason: "no table has body system A after Section 0 (Medical and Surgical)"},
		// The gastrointestinal system has no Fusion.
		{code: "0DGJ4ZZ", problem: PCSUnknownTable, pos: 3, reason: "no table has operation G"},
		// Resection is never percutaneous (approach 3).
		{code: "0DTJ3ZZ", problem: PCSValueNotAllowed, pos: 5, reason: "table 0DT has no Approach value 3"},
		{code: "0DTJ4Z0", problem: PCSValueNotAllowed, pos: 7, reason: "no Qualifier value 0"},
		// Hand-assisted is only for the laparoscopic approach.
		{code: "0DTJ0ZG", problem: PCSCombination, pos: 7, reason: "allows Qualifier G (Hand-Assisted), but not with Body Part J (Appendix), Approach 0 (Open)"},
		// A Synthetic Substitute, Metal is not used for the knee in 0SR.
		{code: "0SRC019", problem: PCSCombination, pos: 6},
	} {
		c := pt.Validate(tc.code)
		if c.Problem != tc.problem || c.Pos != tc.pos {
			t.Errorf("Validate(%q): problem %v at %d (%s), want %v at %d", tc.code, c.Problem, c.Pos, c.Reason, tc.problem, tc.pos)
			continue
		}
		if c.Valid() != pt.IsValid(tc.code) {
			t.Errorf("%q: Validate says %v, IsValid %v", tc.code, c.Valid(), pt.IsValid(tc.code))
		}
		if tc.desc != "" && c.Description != tc.desc {
			t.Errorf("Validate(%q).Description = %q, want %q", tc.code, c.Description, tc.desc)
		}
		if !strings.Contains(c.Reason, tc.reason) {
			t.Errorf("Validate(%q).Reason = %q, want it to contain %q", tc.code, c.Reason, tc.reason)
		}
		if c.Valid() && c.Reason != "" {
			t.Errorf("valid %q has reason %q", tc.code, c.Reason)
		}
	}
}

func TestPCSValidateBreakdown(t *testing.T) {
	pt := realPCSTables(t, pcsTables2025)
	c := pt.Validate("0DTJ4ZZ")
	want := []struct {
		title, label string
	}{
		{"Section", "Medical and Surgical"},
		{"Body System", "Gastrointestinal System"},
		{"Operation", "Resection"},
		{"Body Part", "Appendix"},
		{"Approach", "Percutaneous Endoscopic"},
		{"Device", "No Device"},
		{"Qualifier", "No Qualifier"},
	}
	if len(c.Axes) != 7 {
		t.Fatalf("%d axes", len(c.Axes))
	}
	for i, w := range want {
		a := c.Axes[i]
		if a.Pos != i+1 || a.Value != "0DTJ4ZZ"[i] || a.Title != w.title || a.Label != w.label {
			t.Errorf("axis %d = %+v, want %s %s", i+1, a, w.title, w.label)
		}
	}
	if !strings.HasPrefix(c.Axes[2].Definition, "Cutting out or off, without replacement, all of a body part") {
		t.Errorf("operation definition %q", c.Axes[2].Definition)
	}
	if c.Table == nil || c.Table.Key() != "0DT" {
		t.Errorf("table %v", c.Table)
	}
	// The combination failure lists the qualifiers that would do.
	c = pt.Validate("0DTJ0ZG")
	if c.NextTitle != "Qualifier" || len(c.Next) != 1 || c.Next[0].Code != 'Z' {
		t.Errorf("0DTJ0ZG alternatives %s %v", c.NextTitle, c.Next)
	}
}

func codesOf(vs []PCSValue) string {
	b := make([]byte, len(vs))
	for i, v := range vs {
		b[i] = v.Code
	}
	return string(b)
}

func TestPCSValidatePartial(t *testing.T) {
	pt := realPCSTables(t, pcsTables2025)
	for _, tc := range []struct {
		code, title, next string
	}{
		{"", "Section", "0123456789BCDFGHX"},
		// Medical and Surgical body systems (no A, E, I, O or Z).
		{"0", "Body System", "0123456789BCDFGHJKLMNPQRSTUVWXY"},
		{"0DT", "Body Part", "123456789ABCEFGHJKLMNPQRU"},
		{"0DTJ", "Approach", "0478"},
		{"0DTJ4", "Device", "Z"},
		{"0DTJ4Z", "Qualifier", "GZ"},
		{"XW013W", "Qualifier", "57"},
	} {
		c := pt.Validate(tc.code)
		if c.Problem != PCSIncomplete || c.Pos != len(tc.code)+1 {
			t.Errorf("Validate(%q) = %v at %d (%s)", tc.code, c.Problem, c.Pos, c.Reason)
			continue
		}
		if len(c.Axes) != len(tc.code) {
			t.Errorf("Validate(%q): %d fixed axes", tc.code, len(c.Axes))
		}
		if got := codesOf(c.Next); c.NextTitle != tc.title || strings.Map(dedup(), got) != tc.next {
			t.Errorf("Validate(%q) next %s %q, want %s %q", tc.code, c.NextTitle, got, tc.title, tc.next)
		}
	}
	// The operation carries its definition while the code is being built.
	c := pt.Validate("0DT")
	if c.Axes[2].Label != "Resection" || c.Axes[2].Definition == "" {
		t.Errorf("0DT axis 3 = %+v", c.Axes[2])
	}
	// A substance whose label depends on the qualifier still to come.
	c = pt.Validate("XW013W")
	a := c.Axes[5]
	labels := append([]string{a.Label}, a.OtherLabels...)
	slices.Sort(labels)
	if !slices.Equal(labels, []string{"COVID-19 Vaccine Booster", "Caplacizumab"}) {
		t.Errorf("XW013W axis 6 labels %q", labels)
	}
}

// dedup returns a strings.Map function that drops repeated characters.
func dedup() func(rune) rune {
	seen := map[rune]bool{}
	return func(r rune) rune {
		if seen[r] {
			return -1
		}
		seen[r] = true
		return r
	}
}

func TestPCSTableLookup(t *testing.T) {
	pt := realPCSTables(t, pcsTables2026)
	tab := pt.Table("0db")
	if tab == nil || tab.Operation().Label != "Excision" || tab.BodySystem().Label != "Gastrointestinal System" {
		t.Fatalf("Table(0db) = %+v", tab)
	}
	if tab.Definition() != "Cutting out or off, without replacement, a portion of a body part" {
		t.Errorf("Excision definition %q", tab.Definition())
	}
	if pt.Table("0DTJ4ZZ") != pt.Table("0DT") || pt.Table("0A1") != nil || pt.Table("0D") != nil {
		t.Error("Table by code or missing key")
	}
	// Radiation Therapy modalities carry no definition; every other
	// table's operation or type has one.
	for _, tab := range pt.Tables {
		if (tab.Definition() == "") != (tab.Section().Code == 'D') {
			t.Errorf("table %s: definition %q", tab.Key(), tab.Definition())
		}
	}
	if d := pt.WithPrefix("D"); len(d) == 0 || d[0].Axes[2].Title != "Modality" {
		t.Errorf("Radiation Therapy tables %v", d)
	}
	gi := pt.WithPrefix("0D")
	if len(gi) < 20 {
		t.Errorf("%d gastrointestinal tables", len(gi))
	}
	for i, tab := range gi {
		if !strings.HasPrefix(tab.Key(), "0D") || (i > 0 && gi[i-1].Key() >= tab.Key()) {
			t.Errorf("WithPrefix(0D)[%d] = %s", i, tab.Key())
		}
	}
	if n := len(pt.WithPrefix("")); n != len(pt.Tables) {
		t.Errorf("WithPrefix(\"\") = %d tables", n)
	}
}

func TestPCSGobRoundTrip(t *testing.T) {
	pt := realPCSTables(t, pcsTables2025)
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pt); err != nil {
		t.Fatal(err)
	}
	var back PCSTables
	if err := gob.NewDecoder(&buf).Decode(&back); err != nil {
		t.Fatal(err)
	}
	// Without Prepare, lookups still answer (slowly).
	if !back.IsValid("0DTJ4ZZ") || back.NumCodes() != pt.NumCodes() {
		t.Error("unprepared tables after gob")
	}
	back.Prepare()
	for _, code := range []string{"0DTJ4ZZ", "0DTJ0ZG", "XW013W", "0ATJ4ZZ"} {
		a, b := pt.Validate(code), back.Validate(code)
		if a.Problem != b.Problem || a.Description != b.Description || a.Reason != b.Reason {
			t.Errorf("%s: before gob %v %q, after %v %q", code, a.Problem, a.Description, b.Problem, b.Description)
		}
	}
}

func TestReadPCSDefinitionsReal(t *testing.T) {
	for _, tc := range []struct {
		rel, version string
		terms        int // <terms> elements, counted with grep
	}{
		{pcsDefs2025, "2025", 930},
		{pcsDefs2026, "2026", 954},
	} {
		t.Run(tc.version, func(t *testing.T) {
			d := realPCSDefs(t, tc.rel)
			if d.Version != tc.version || !strings.Contains(d.Title, "ICD-10-PCS Definitions") {
				t.Errorf("version %q title %q", d.Version, d.Title)
			}
			// Every section except Radiation Therapy (D) has definitions.
			var codes []byte
			terms := 0
			for _, s := range d.Sections {
				codes = append(codes, s.Code)
				for _, a := range s.Axes {
					terms += len(a.Terms)
				}
			}
			if string(codes) != "0123456789BCFGHX" {
				t.Errorf("sections %q", codes)
			}
			if terms != tc.terms {
				t.Errorf("%d terms, want %d", terms, tc.terms)
			}
			// Medical and Surgical has 31 root operations.
			if n := len(d.Section('0').Axis(3).Terms); n != 31 {
				t.Errorf("%d root operations in section 0", n)
			}
			ex := d.Lookup('0', 3, "excision")
			if ex == nil || ex.Definition != "Cutting out or off, without replacement, a portion of a body part" ||
				!strings.Contains(ex.Explanation, "DIAGNOSTIC") || len(ex.Includes) == 0 {
				t.Fatalf("Excision = %+v", ex)
			}
			if a := d.Section('0').Axis(5); a == nil || a.Title != "Approach" || a.Term("Percutaneous Endoscopic") == nil {
				t.Errorf("section 0 approaches %+v", a)
			}
			// Body Part Key: the hallux is the first toe.
			hits := d.Including("hallux")
			if len(hits) != 1 || hits[0].Section != '0' || hits[0].Pos != 4 || !slices.Contains(hits[0].Term.Titles, "1st Toe, Left") {
				t.Errorf("Including(hallux) = %+v", hits)
			}
			if len(d.DeviceAggregation) != 60 {
				t.Errorf("%d device aggregation rows", len(d.DeviceAggregation))
			}
			agg := d.Aggregates("Cardiac Lead, Defibrillator")
			if len(agg) != 1 || agg[0].Parent.Code != 'M' || agg[0].Parent.Label != "Cardiac Lead" ||
				agg[0].Operation != "Insertion" || !slices.Contains(agg[0].BodySystems, "Heart and Great Vessels") {
				t.Errorf("aggregate = %+v", agg)
			}
		})
	}
}

// TestPCSDefinitionsMatchTables checks the two files against each other:
// each root operation's definition in the tables is the one in the
// Definitions.
func TestPCSDefinitionsMatchTables(t *testing.T) {
	pt := realPCSTables(t, pcsTables2025)
	d := realPCSDefs(t, pcsDefs2025)
	checked, mismatched := 0, 0
	for _, tab := range pt.Tables {
		if tab.Definition() == "" {
			continue
		}
		term := d.Lookup(tab.Section().Code, 3, tab.Operation().Label)
		if term == nil {
			t.Errorf("table %s: operation %q not in the Definitions", tab.Key(), tab.Operation().Label)
			continue
		}
		checked++
		if term.Definition != tab.Definition() {
			mismatched++
			t.Logf("table %s %s: tables %q, definitions %q", tab.Key(), tab.Operation().Label, tab.Definition(), term.Definition)
		}
	}
	if checked < 800 || mismatched > 0 {
		t.Errorf("%d tables checked, %d definitions differ", checked, mismatched)
	}
}

func TestReadPCSFixtures(t *testing.T) {
	pt := fixtureTables(t)
	if pt.Version != "1999" || len(pt.Tables) != 3 || pt.NumCodes() != 6+1+2+2+1+2 {
		t.Fatalf("fixture: version %q, %d tables, %d codes", pt.Version, len(pt.Tables), pt.NumCodes())
	}
	d, err := ReadPCSDefinitions(bytes.NewReader(fixture(t, "definitions.xml")), "definitions.xml")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Sections) != 2 || len(d.DeviceAggregation) != 2 || d.Lookup('B', 3, "Plain Radiography") == nil {
		t.Errorf("fixture definitions %+v", d)
	}
	if got := d.Aggregates("autologous venous tissue"); len(got) != 1 || !slices.Equal(got[0].BodySystems, []string{"Upper Veins", "Lower Veins"}) {
		t.Errorf("aggregates %+v", got)
	}
}

func TestReadPCSTablesErrors(t *testing.T) {
	good := string(fixture(t, "tables.xml"))
	lineOf := func(s string) int { return strings.Count(good[:strings.Index(good, s)], "\n") + 1 }
	for _, tc := range []struct {
		name, xml, want string
	}{
		{"wrong root", strings.Replace(strings.Replace(good, "<ICD10PCS.tabular>", "<ICD10CM.tabular>", 1), "</ICD10PCS.tabular>", "</ICD10CM.tabular>", 1),
			"line 2: root element is <ICD10CM.tabular>, want <ICD10PCS.tabular>"},
		{"empty", "", "no <ICD10PCS.tabular> root element"},
		{"truncated", good[:len(good)/2], "file ends before </ICD10PCS.tabular> (truncated?)"},
		{"truncated at element boundary", good[:strings.LastIndex(good, "</pcsTable>")+len("</pcsTable>")], "truncated"},
		{"codes mismatch", strings.Replace(good, `<pcsRow codes="6">`, `<pcsRow codes="7">`, 1),
			"codes=7 but the axes yield 6 codes"},
		{"values mismatch", strings.Replace(good, `<axis pos="5" values="3">`, `<axis pos="5" values="2">`, 1),
			`values="2" but 3 labels`},
		{"letter O", strings.Replace(good, `<label code="0">Open</label>`, `<label code="O">Open</label>`, 1),
			`label code "O" is not one ICD-10-PCS character`},
		{"axes out of order", strings.Replace(good, `<axis pos="6" values="1">`, `<axis pos="7" values="1">`, 1),
			`pos="7", want 6`},
		{"unknown element", strings.Replace(good, `<title>Approach</title>`, `<title>Approach</title><note>x</note>`, 1),
			"unexpected element <note> in <axis>"},
		{"unknown attribute", strings.Replace(good, `<pcsRow codes="1">`, `<pcsRow codes="1" kind="x">`, 1),
			"unexpected attribute kind in <pcsRow>"},
		{"overlapping rows", strings.Replace(good, `<label code="J">Appendix</label>
      </axis>
      <axis pos="5" values="1">
        <title>Approach</title>
        <label code="0">Open</label>`, `<label code="6">Stomach</label>
      </axis>
      <axis pos="5" values="1">
        <title>Approach</title>
        <label code="0">Open</label>`, 1),
			"row allows codes the row at line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPCSTables(strings.NewReader(tc.xml), "bad.xml")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "read PCS tables bad.xml: line ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to name the file, a line and %q", msg, tc.want)
			}
		})
	}

	// Errors point at the right line.
	bad := strings.Replace(good, `<pcsRow codes="2">`, `<pcsRow codes="3">`, 1)
	_, err := ReadPCSTables(strings.NewReader(bad), "bad.xml")
	if want := lineOf(`<pcsRow codes="2">`); err == nil || !strings.Contains(err.Error(), "line "+strconv.Itoa(want)+":") {
		t.Errorf("error %v, want line %d", err, want)
	}
	// A table given twice.
	first := good[strings.Index(good, "<pcsTable>") : strings.Index(good, "</pcsTable>")+len("</pcsTable>")]
	dup := strings.Replace(good, "</ICD10PCS.tabular>", first+"\n</ICD10PCS.tabular>", 1)
	if _, err := ReadPCSTables(strings.NewReader(dup), "dup.xml"); err == nil || !strings.Contains(err.Error(), "table 0DT given twice (first at line "+strconv.Itoa(lineOf("<pcsTable>"))+")") {
		t.Errorf("duplicate table: %v", err)
	}
}

func TestReadPCSDefinitionsErrors(t *testing.T) {
	good := string(fixture(t, "definitions.xml"))
	for _, tc := range []struct {
		name, xml, want string
	}{
		{"wrong root", strings.ReplaceAll(good, "ICD10PCS.definitions", "ICD10PCS.index"), "root element is <ICD10PCS.index>, want <ICD10PCS.definitions>"},
		{"truncated", good[:len(good)*2/3], "unexpected EOF"},
		{"two definitions", strings.Replace(good, "<definition>Cutting", "<definition>x</definition><definition>Cutting", 1), "want at most one <definition>, have 2"},
		{"no parent", strings.Replace(good, `<parent value="M">Cardiac Lead</parent>`, "", 1), "Cardiac Lead, Pacemaker: want one <parent>, have 0"},
		{"bad section", strings.Replace(good, `<section code="B">`, `<section code="BB">`, 1), `section code "BB"`},
		{"duplicate section", strings.Replace(good, `<section code="B">`, `<section code="0">`, 1), "section 0 given twice"},
		{"unknown element", strings.Replace(good, "<includes>Hallux</includes>", "<includes>Hallux</includes><see>x</see>", 1), "unexpected element <see> in <terms>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPCSDefinitions(strings.NewReader(tc.xml), "bad.xml")
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "read PCS definitions bad.xml: line ") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want it to name the file, a line and %q", msg, tc.want)
			}
		})
	}
}

func BenchmarkPCSValidate(b *testing.B) {
	pt := realPCSTables(b, pcsTables2025)
	for _, bc := range []struct{ name, code string }{
		{"valid", "0DTJ4ZZ"},
		{"valid-newtech", "XW013W7"},
		{"combination", "0DTJ0ZG"},
		{"unknown-table", "0ATJ4ZZ"},
		{"partial", "0DTJ"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = pt.Validate(bc.code)
			}
		})
	}
}

func BenchmarkPCSIsValid(b *testing.B) {
	pt := realPCSTables(b, pcsTables2025)
	codes := []string{"0DTJ4ZZ", "02703DZ", "0SR9019", "XW013W7", "0DTJ0ZG"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_ = pt.IsValid(codes[i%len(codes)])
	}
}

func BenchmarkReadPCSTables(b *testing.B) {
	data := shareddata.ReadGz(b, pcsTables2025)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadPCSTables(bytes.NewReader(data), "tables"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadPCSDefinitions(b *testing.B) {
	data := shareddata.ReadGz(b, pcsDefs2025)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadPCSDefinitions(bytes.NewReader(data), "definitions"); err != nil {
			b.Fatal(err)
		}
	}
}
