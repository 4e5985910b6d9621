package codesys

import (
	"bytes"
	"encoding/gob"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The official files the tests read from ../shared/data.
const (
	eindex2025   = "icd10cm/fy2025-apr2025/icd-10-cm-eindex-2025.xml.gz"
	eindex2026   = "icd10cm/fy2026-apr2026/icd10cm_eindex_2026.xml.gz"
	drug2025     = "icd10cm/fy2025-apr2025/icd-10-cm-drug-2025.xml.gz"
	drug2026     = "icd10cm/fy2026-apr2026/icd10cm_drug_2026.xml.gz"
	neoplasm2025 = "icd10cm/fy2025-apr2025/icd-10-cm-neoplasm-2025.xml.gz"
	neoplasm2026 = "icd10cm/fy2026-apr2026/icd10cm_neoplasm_2026.xml.gz"
	pcsIndex2025 = "icd10pcs/fy2025/icd10pcs_index_2025.xml.gz"
)

// indexCache keeps each official file read once per test binary; the tests
// only read the indexes.
var indexCache sync.Map // rel path -> *Index

// officialIndex reads one of the official index files, failing the test if
// the shared data is missing.
func officialIndex(tb testing.TB, rel string) *Index {
	tb.Helper()
	if ix, ok := indexCache.Load(rel); ok {
		return ix.(*Index)
	}
	data := shareddata.ReadGz(tb, rel)
	ix, err := ReadIndex(bytes.NewReader(data), rel)
	if err != nil {
		tb.Fatal(err)
	}
	indexCache.Store(rel, ix)
	return ix
}

func fixtureIndex(t *testing.T, name string) *Index {
	t.Helper()
	p := filepath.Join("testdata", "index", name)
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := ReadIndex(f, p)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestReadIndexOfficial checks the shape of every official index file
// against counts of its elements (from PROVENANCE.md and from counting the
// tags in the XML with grep).
func TestReadIndexOfficial(t *testing.T) {
	tests := []struct {
		rel       string
		system    System
		part      Part
		version   string
		mainTerms int
		allTerms  int // <mainTerm> + <term> elements
		codes     int // <code> elements
		cells     int // <cell> elements
		nemods    int // <nemod> elements (all in titles)
		columns   int
	}{
		{eindex2025, ICD10CM, PartExternal, "2025", 314, 314 + 7750, 6650, 0, 1570, 0},
		{eindex2026, ICD10CM, PartExternal, "2026", 314, 314 + 7776, 6671, 0, 1575, 0},
		{drug2025, ICD10CM, PartDrug, "2025", 5177, 5177 + 2251, 0, 43212, 777, 7},
		{drug2026, ICD10CM, PartDrug, "2026", 5179, 5179 + 2251, 0, 43224, 777, 7},
		{neoplasm2025, ICD10CM, PartNeoplasm, "2025", 1, 1 + 1938, 0, 10916, 270, 7},
		{neoplasm2026, ICD10CM, PartNeoplasm, "2026", 1, 1 + 1939, 0, 10922, 270, 7},
		{pcsIndex2025, ICD10PCS, PartPCSIndex, "2025", 3215, 3215 + 21269, 2794, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.rel), func(t *testing.T) {
			ix := officialIndex(t, tt.rel)
			if ix.System != tt.system || ix.Part != tt.part || ix.Version != tt.version {
				t.Errorf("System, Part, Version = %q, %q, %q; want %q, %q, %q",
					ix.System, ix.Part, ix.Version, tt.system, tt.part, tt.version)
			}
			if len(ix.Terms) != tt.mainTerms {
				t.Errorf("%d main terms, want %d", len(ix.Terms), tt.mainTerms)
			}
			if len(ix.Columns) != tt.columns {
				t.Errorf("%d columns %q, want %d", len(ix.Columns), ix.Columns, tt.columns)
			}
			var all, codes, cells, nemods int
			for path := range ix.All() {
				term := path[len(path)-1]
				all++
				if term.Code != "" {
					codes++
				}
				if term.Nemod != "" {
					nemods++
				}
				cells += len(term.Cells)
				if term.Level != len(path)-1 {
					t.Fatalf("%s: Level %d at depth %d", PathString(path), term.Level, len(path)-1)
				}
			}
			if all != tt.allTerms || codes != tt.codes || cells != tt.cells || nemods != tt.nemods {
				t.Errorf("terms, codes, cells, nemods = %d, %d, %d, %d; want %d, %d, %d, %d",
					all, codes, cells, nemods, tt.allTerms, tt.codes, tt.cells, tt.nemods)
			}
		})
	}
}

func TestExternalCauseIndex(t *testing.T) {
	for _, rel := range []string{eindex2025, eindex2026} {
		ix := officialIndex(t, rel)
		t.Run(filepath.Base(rel), func(t *testing.T) {
			tests := []struct {
				path []string
				code string
				new  bool // added in FY2026
			}{
				// Bather struck by powered / unpowered watercraft.
				{[]string{"Accident", "boat, boating", "striking swimmer", "powered"}, "V94.11", false},
				{[]string{"Accident", "boat, boating", "striking swimmer", "unpowered"}, "V94.12", false},
				// Injury to barefoot water-skier, new in FY2026.
				{[]string{"Accident", "barefoot water skier"}, "V94.4", true},
				// Case, nonessential modifiers in the query, and the
				// alternative "boat" of "boat, boating" all match.
				{[]string{"ACCIDENT", "Barefoot Water Skier"}, "V94.4", true},
				{[]string{"Accident (to)", "boat", "striking swimmer", "powered"}, "V94.11", false},
				{[]string{"Abandonment"}, "X58", false},
				{[]string{"Accident", "transport", "car occupant"}, "", false},
			}
			for _, tt := range tests {
				path, ok := ix.Find(tt.path...)
				if tt.new && rel == eindex2025 {
					if ok {
						t.Errorf("Find(%q) found %s in FY2025", tt.path, PathString(path))
					}
					continue
				}
				if !ok {
					t.Errorf("Find(%q) found nothing", tt.path)
					continue
				}
				if len(path) != len(tt.path) {
					t.Errorf("Find(%q) = %s, want %d levels", tt.path, PathString(path), len(tt.path))
				}
				if tt.code != "" && path[len(path)-1].Code != tt.code {
					t.Errorf("Find(%q).Code = %q, want %q", tt.path, path[len(path)-1].Code, tt.code)
				}
			}
			if _, ok := ix.Find("Accident", "no such subterm"); ok {
				t.Error(`Find("Accident", "no such subterm") found a term`)
			}

			// "Abandonment<nemod>(...)</nemod> NEC": the words after the
			// modifiers stay in the title.
			path, _ := ix.Find("Abandonment NEC")
			if path == nil {
				t.Fatal(`Find("Abandonment NEC") found nothing`)
			}
			ab := path[0]
			const published = "Abandonment (causing exposure to weather conditions) (with intent to injure or kill) NEC"
			if ab.Title != "Abandonment NEC" || ab.Nemod != "(causing exposure to weather conditions) (with intent to injure or kill)" || ab.Text() != published {
				t.Errorf("Title %q, Nemod %q, Text %q; want Abandonment NEC and %q", ab.Title, ab.Nemod, ab.Text(), published)
			}

			// see category / see subcategory references.
			if p, ok := ix.Find("Strangulation"); !ok || p[0].SeeCat != "T71" {
				t.Errorf("Strangulation: %+v, want SeeCat T71", p)
			}
			if p, ok := ix.Find("Lightning"); !ok || p[0].SubCat != "T75.0" {
				t.Errorf("Lightning: %+v, want SubCat T75.0", p)
			}
			if p, ok := ix.Find("Accident", "automobile"); !ok || p[1].See != "Accident, transport, car occupant" {
				t.Errorf("Accident, automobile: %+v, want see Accident, transport, car occupant", p)
			}
		})
	}
}

func TestResolveExternalCause(t *testing.T) {
	ix := officialIndex(t, eindex2026)
	tests := []struct {
		ref   string
		trail string // the titles of the resolved path
		rest  string
	}{
		{"Accident, transport, car occupant", "Accident > transport > car occupant", ""},
		{"Accident, watercraft", "Accident > watercraft", ""},
		// "aircraft" names the subterm "aircraft NEC".
		{"Accident, transport, aircraft", "Accident > transport > aircraft NEC", ""},
		// A title with a comma: "due to, caused by" is one subterm.
		{"Accident, caused by, due to, chain hoist", "Accident > caused by, due to > chain hoist", ""},
		// Instructions after the term are left over, not guessed.
		{"Forces of nature, by type", "Forces of nature", "by type"},
		{"accident, TRANSPORT, Car Occupant", "Accident > transport > car occupant", ""},
	}
	for _, tt := range tests {
		path, rest, err := ix.Resolve(tt.ref)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.ref, err)
			continue
		}
		if got := PathString(path); got != tt.trail || rest != tt.rest {
			t.Errorf("Resolve(%q) = %q, rest %q; want %q, rest %q", tt.ref, got, rest, tt.trail, tt.rest)
		}
	}
	for _, ref := range []string{"Table of Drugs and Chemicals", "condition", "category T71", "", " , ,"} {
		if path, _, err := ix.Resolve(ref); !errors.Is(err, ErrNoTerm) || path != nil {
			t.Errorf("Resolve(%q) = %v, %v; want ErrNoTerm", ref, path, err)
		}
	}
}

// TestResolveAllReferences follows every see and see also reference of the
// External Cause Index. References to other indexes and references that
// end in an instruction cannot resolve completely, but most name a term of
// the same index.
func TestResolveAllReferences(t *testing.T) {
	for _, rel := range []string{eindex2025, eindex2026, neoplasm2026, drug2026} {
		ix := officialIndex(t, rel)
		total, full := 0, 0
		for path := range ix.All() {
			term := path[len(path)-1]
			for _, ref := range []string{term.See, term.SeeAlso} {
				if ref == "" {
					continue
				}
				total++
				got, rest, err := ix.Resolve(ref)
				if err == nil && rest == "" {
					full++
					if len(got) == 0 {
						t.Fatalf("Resolve(%q): empty path without error", ref)
					}
				}
			}
		}
		if total == 0 || full*100 < total*70 {
			t.Errorf("%s: %d of %d references resolve completely, want at least 70%%", rel, full, total)
		}
	}
}

func TestNeoplasmTable(t *testing.T) {
	for _, rel := range []string{neoplasm2025, neoplasm2026} {
		ix := officialIndex(t, rel)
		t.Run(filepath.Base(rel), func(t *testing.T) {
			for i, c := range NeoplasmColumns() {
				if n, err := ix.Column(c); err != nil || n != i+2 {
					t.Errorf("Column(%q) = %d, %v; want %d", c, n, err, i+2)
				}
			}
			if _, err := ix.Column(DrugAdverseEffect); err == nil {
				t.Error("Column(DrugAdverseEffect) on the Neoplasm table succeeded")
			}
			// Lung: the codes every coder knows.
			lung := map[Column]string{
				NeoplasmMalignantPrimary:   "C34.9-",
				NeoplasmMalignantSecondary: "C78.0-",
				NeoplasmInSitu:             "D02.2-",
				NeoplasmBenign:             "D14.3-",
				NeoplasmUncertain:          "D38.1",
				NeoplasmUnspecified:        "D49.1",
			}
			for c, want := range lung {
				code, path, err := ix.Cell(c, "lung")
				if err != nil || code != want {
					t.Errorf("Cell(%q, lung) = %q, %v; want %q", c, code, err, want)
				}
				if got := PathString(path); got != "Neoplasm, neoplastic > lung" {
					t.Errorf("Cell(%q, lung) path %q", c, got)
				}
			}
			// The main term may be given, by its full title or by the
			// alternative "Neoplasm".
			for _, p := range [][]string{{"Neoplasm, neoplastic", "lung"}, {"neoplasm", "lung"}} {
				if code, _, err := ix.Cell(NeoplasmMalignantSecondary, p...); err != nil || code != "C78.0-" {
					t.Errorf("Cell(secondary, %q) = %q, %v; want C78.0-", p, code, err)
				}
			}
			// No carcinoma in situ of connective tissue: the table prints a
			// dash.
			if code, _, err := ix.Cell(NeoplasmInSitu, "abdomen", "wall", "connective tissue"); !errors.Is(err, ErrNoCell) {
				t.Errorf("Cell(in situ, abdomen wall connective tissue) = %q, %v; want ErrNoCell", code, err)
			}
			if code, _, err := ix.Cell(NeoplasmBenign, "abdomen", "wall", "connective tissue"); err != nil || code != "D21.4" {
				t.Errorf("Cell(benign, abdomen wall connective tissue) = %q, %v; want D21.4", code, err)
			}
			if _, _, err := ix.Cell(NeoplasmBenign, "no such site"); !errors.Is(err, ErrNoTerm) {
				t.Errorf("Cell(benign, no such site): %v, want ErrNoTerm", err)
			}
			// The see also reference on "abdomen, wall" names "abdomen" by
			// the first word of "abdomen, abdominal".
			wall, ok := ix.Find("Neoplasm", "abdomen", "wall")
			if !ok || wall[len(wall)-1].SeeAlso != "Neoplasm, abdomen, wall, skin" {
				t.Fatalf("abdomen, wall: %v", wall)
			}
			path, rest, err := ix.Resolve(wall[len(wall)-1].SeeAlso)
			if err != nil || rest != "" || PathString(path) != "Neoplasm, neoplastic > abdomen, abdominal > wall > skin" {
				t.Errorf("Resolve(Neoplasm, abdomen, wall, skin) = %q, %q, %v", PathString(path), rest, err)
			}
		})
	}
}

func TestDrugTable(t *testing.T) {
	for _, rel := range []string{drug2025, drug2026} {
		ix := officialIndex(t, rel)
		t.Run(filepath.Base(rel), func(t *testing.T) {
			for i, c := range DrugColumns() {
				if n, err := ix.Column(c); err != nil || n != i+2 {
					t.Errorf("Column(%q) = %d, %v; want %d", c, n, err, i+2)
				}
			}
			if n, ok := ix.ColumnNamed("adverse EFFECT"); !ok || n != 6 {
				t.Errorf("ColumnNamed(adverse EFFECT) = %d, %v; want 6", n, ok)
			}
			// T39.1X-: poisoning by, adverse effect of and underdosing of
			// 4-Aminophenol derivatives; the sixth character is the intent.
			for i, c := range DrugColumns() {
				want := "T39.1X" + string(rune('1'+i))
				if code, _, err := ix.Cell(c, "Acetaminophen"); err != nil || code != want {
					t.Errorf("Cell(%q, Acetaminophen) = %q, %v; want %q", c, code, err, want)
				}
			}
			tests := []struct {
				col  Column
				path []string
				want string
			}{
				{DrugPoisoningSelfHarm, []string{"Aspirin"}, "T39.012"},
				{DrugPoisoningSelfHarm, []string{"Aspirin (aluminum) (soluble)"}, "T39.012"},
				{DrugAdverseEffect, []string{"Warfarin"}, "T45.515"},
				{DrugPoisoningAccidental, []string{"Warfarin", "rodenticide"}, "T60.4X1"},
				{DrugPoisoningAssault, []string{"Heroin"}, "T40.1X3"},
			}
			for _, tt := range tests {
				if code, _, err := ix.Cell(tt.col, tt.path...); err != nil || code != tt.want {
					t.Errorf("Cell(%q, %q) = %q, %v; want %q", tt.col, tt.path, code, err, tt.want)
				}
			}
			// Heroin has no therapeutic use: no adverse effect code.
			if code, path, err := ix.Cell(DrugAdverseEffect, "Heroin"); !errors.Is(err, ErrNoCell) || len(path) != 1 {
				t.Errorf("Cell(adverse effect, Heroin) = %q, %v, %v; want ErrNoCell with the path", code, path, err)
			}
		})
	}
}

// TestColumnsByHeading reads a table whose columns are in another order and
// checks that cells are taken from the column the heading names.
func TestColumnsByHeading(t *testing.T) {
	ix := fixtureIndex(t, "reordered_table.xml")
	if ix.Part != PartNeoplasm {
		t.Errorf("Part = %q, want %q", ix.Part, PartNeoplasm)
	}
	want := map[Column]string{
		NeoplasmMalignantPrimary:   "C50.9-",
		NeoplasmMalignantSecondary: "C79.81",
		NeoplasmInSitu:             "D05.9-",
		NeoplasmBenign:             "D24.-",
		NeoplasmUncertain:          "D48.6-",
		NeoplasmUnspecified:        "D49.3",
	}
	for c, code := range want {
		if got, _, err := ix.Cell(c, "breast"); err != nil || got != code {
			t.Errorf("Cell(%q, breast) = %q, %v; want %q", c, got, err, code)
		}
	}

	eix := officialIndex(t, eindex2026)
	if _, err := eix.Column(NeoplasmBenign); err == nil {
		t.Error("Column on an index without columns succeeded")
	}
	if _, err := ix.Column(Column("no such column")); err == nil {
		t.Error("Column(no such column) succeeded")
	}
}

func TestPCSIndex(t *testing.T) {
	ix := officialIndex(t, pcsIndex2025)

	// Every element the PCS index uses is read: counts from grep.
	var see, use, codes, tab int
	for path := range ix.All() {
		term := path[len(path)-1]
		if term.See != "" {
			see++
		}
		if term.Use != "" {
			use++
		}
		if term.Codes != "" {
			codes++
		}
		if term.SeeCodes != "" {
			codes++
		}
		for _, s := range []string{term.Tab, term.SeeTab, term.UseTab} {
			if s != "" {
				tab++
			}
		}
	}
	if see != 1785 || use != 2342 || codes != 12152 || tab != 1415 {
		t.Errorf("see, use, codes, tab = %d, %d, %d, %d; want 1785, 2342, 12152, 1415", see, use, codes, tab)
	}

	tests := []struct {
		path                          []string
		use, see, seeCodes, seeTab    string
		code, codesWant, tabWant      string
		subterms                      int
		firstSubLabel, secondSubLabel string
	}{
		{path: []string{"Abdominal aortic plexus"}, use: "Abdominal Sympathetic Nerve"},
		{path: []string{"Abdominohysterectomy"}, see: "Resection, Uterus", seeCodes: "0UT9"},
		{path: []string{"Abortion", "Abortifacient"}, code: "10A07ZX"},
		{path: []string{"Abortion", "Products of Conception"}, codesWant: "10A0"},
		// Appendectomy: excision 0DBJ or resection 0DTJ of the appendix,
		// as untitled subterms that only hold the references.
		{path: []string{"Appendectomy"}, subterms: 2,
			firstSubLabel: "see Excision, Appendix 0DBJ", secondSubLabel: "see Resection, Appendix 0DTJ"},
		{path: []string{"Acetabulectomy"}, subterms: 2,
			firstSubLabel: "see Excision, Lower Bones 0QB", secondSubLabel: "see Resection, Lower Bones 0QT"},
	}
	for _, tt := range tests {
		path, ok := ix.Find(tt.path...)
		if !ok {
			t.Errorf("Find(%q) found nothing", tt.path)
			continue
		}
		term := path[len(path)-1]
		if term.Use != tt.use || term.See != tt.see || term.SeeCodes != tt.seeCodes || term.SeeTab != tt.seeTab ||
			term.Code != tt.code || term.Codes != tt.codesWant || term.Tab != tt.tabWant || len(term.Terms) != tt.subterms {
			t.Errorf("Find(%q) = %+v", tt.path, *term)
		}
		if tt.subterms > 1 {
			if a, b := term.Terms[0].Label(), term.Terms[1].Label(); a != tt.firstSubLabel || b != tt.secondSubLabel {
				t.Errorf("Find(%q) subterms %q, %q; want %q, %q", tt.path, a, b, tt.firstSubLabel, tt.secondSubLabel)
			}
		}
	}

	// A see reference with a partial code leads to the term that carries
	// codes starting with it, on the term or below: the index agrees with
	// itself.
	ab, _ := ix.Find("Abdominohysterectomy")
	path, rest, err := ix.Resolve(ab[0].See)
	if err != nil || rest != "" || path[len(path)-1].Codes != ab[0].SeeCodes {
		t.Errorf("Resolve(%q) = %s, %q, %v; want a term with codes %s", ab[0].See, PathString(path), rest, err, ab[0].SeeCodes)
	}
	checked, agree := 0, 0
	for path := range ix.All() {
		term := path[len(path)-1]
		if term.SeeCodes == "" {
			continue
		}
		checked++
		if got, rest, err := ix.Resolve(term.See); err == nil && rest == "" && carriesCodes(got[len(got)-1], term.SeeCodes) {
			agree++
		}
	}
	if checked != 448 || agree*100 < checked*95 {
		t.Errorf("%d of %d see references with codes resolve to a term with those codes; want 448 checked, 95%% agreeing", agree, checked)
	}

	// A use reference with a table.
	var useTab *Term
	for path := range ix.All() {
		if term := path[len(path)-1]; term.UseTab != "" {
			useTab = term
			break
		}
	}
	if useTab == nil || len(useTab.UseTab) != 3 || useTab.Use == "" {
		t.Errorf("first term with a use table: %+v", useTab)
	}
}

// carriesCodes reports whether t or a term below it leads to a code or
// partial code that starts with prefix.
func carriesCodes(t *Term, prefix string) bool {
	for _, c := range []string{t.Code, t.Codes} {
		if c != "" && strings.HasPrefix(c, prefix) {
			return true
		}
	}
	for _, sub := range t.Terms {
		if carriesCodes(sub, prefix) {
			return true
		}
	}
	return false
}

func TestMainIndexFixture(t *testing.T) {
	ix := fixtureIndex(t, "main_index.xml")
	if ix.System != ICD10CM || ix.Part != PartIndex || ix.Version != "2099" || len(ix.Terms) != 7 {
		t.Fatalf("System %q, Part %q, Version %q, %d main terms", ix.System, ix.Part, ix.Version, len(ix.Terms))
	}
	tests := []struct {
		path        []string
		code, manif string
		level       int
	}{
		{[]string{"Diabetes", "type 2", "with", "cataract"}, "E11.36", "", 3},
		{[]string{"Diabetes, diabetic", "type 2", "with", "kidney complications", "nephropathy"}, "E11.21", "", 4},
		{[]string{"diabetes (mellitus)", "TYPE 1", "with", "cataract"}, "E10.36", "", 3},
		{[]string{"Amyloidosis", "heart"}, "E85.4", "I43", 1},
		{[]string{"Hypertension"}, "I10", "", 0},
	}
	for _, tt := range tests {
		path, ok := ix.Find(tt.path...)
		if !ok {
			t.Errorf("Find(%q) found nothing", tt.path)
			continue
		}
		term := path[len(path)-1]
		if term.Code != tt.code || term.Manif != tt.manif || term.Level != tt.level {
			t.Errorf("Find(%q) = code %q manif %q level %d; want %q %q %d", tt.path, term.Code, term.Manif, term.Level, tt.code, tt.manif, tt.level)
		}
	}
	diab, _ := ix.Find("Diabetes")
	if d := diab[0]; d.Title != "Diabetes, diabetic" || d.Nemod != "(mellitus) (sugar)" || d.Text() != "Diabetes, diabetic (mellitus) (sugar)" {
		t.Errorf("Diabetes: Title %q Nemod %q Text %q", d.Title, d.Nemod, d.Text())
	}
	// The old text of an addenda <diff> is left out.
	if h, _ := ix.Find("Hypertension"); h == nil || h[0].Title != "Hypertension, hypertensive" {
		t.Errorf("Hypertension: %v", h)
	}

	cat, _ := ix.Find("Cataract", "diabetic")
	path, rest, err := ix.Resolve(cat[1].See)
	if err != nil || rest != "" || PathString(path) != "Diabetes, diabetic > cataract" || path[1].Code != "E11.36" {
		t.Errorf("Resolve(%q) = %q, %q, %v", cat[1].See, PathString(path), rest, err)
	}
	// "see Diabetes, by type, with cataract": the instruction is left.
	inDiab, _ := ix.Find("Cataract", "in", "diabetes")
	path, rest, err = ix.Resolve(inDiab[2].See)
	if err != nil || PathString(path) != "Diabetes, diabetic" || rest != "by type, with cataract" {
		t.Errorf("Resolve(%q) = %q, %q, %v", inDiab[2].See, PathString(path), rest, err)
	}
	// "see condition" names no term.
	hyp, _ := ix.Find("Hyperglycemia", "diabetic")
	if _, _, err := ix.Resolve(hyp[1].See); !errors.Is(err, ErrNoTerm) {
		t.Errorf("Resolve(condition): %v, want ErrNoTerm", err)
	}

	gest, _ := ix.Find("Diabetes", "gestational")
	if g := gest[1]; g.SeeAlso != "Pregnancy, complicated by" || g.Code != "O24.419" || g.Text() != "gestational (in pregnancy)" {
		t.Errorf("gestational: %+v", *g)
	}
	if d, _ := ix.Find("Drowning"); d == nil || d[0].SeeCat != "T75" {
		t.Errorf("Drowning: %v", d)
	}
	eff, _ := ix.Find("Effect, adverse", "drug")
	if eff == nil || eff[0].Warning == "" || eff[1].Title != "drug NEC" || eff[1].Text() != "drug (correct substance properly administered) NEC" {
		t.Errorf("Effect, adverse, drug: %v", eff)
	}
	if l, _ := ix.Find("Effect", "lightning"); l == nil || l[1].SubCat != "T75.0" {
		t.Errorf("Effect, lightning: %v", l)
	}
}

func TestWalk(t *testing.T) {
	ix := fixtureIndex(t, "main_index.xml")
	var trails []string
	ix.Walk(func(path []*Term) bool {
		trails = append(trails, PathString(path))
		// Skip what is under "type 1".
		return path[len(path)-1].Title != "type 1"
	})
	if !slices.Contains(trails, "Diabetes, diabetic > type 1") || slices.Contains(trails, "Diabetes, diabetic > type 1 > with") {
		t.Errorf("Walk did not skip the subterms of type 1: %q", trails)
	}
	if trails[0] != "Amyloidosis" || trails[1] != "Amyloidosis > heart" || trails[2] != "Cataract" {
		t.Errorf("Walk order: %q", trails[:3])
	}

	n := 0
	for path := range ix.All() {
		n++
		if len(path) == 0 {
			t.Fatal("All yielded an empty path")
		}
		if n == 3 {
			break
		}
	}
	if n != 3 {
		t.Errorf("All did not stop at break: %d", n)
	}
}

func TestIndexGobRoundTrip(t *testing.T) {
	for _, ix := range []*Index{fixtureIndex(t, "main_index.xml"), officialIndex(t, pcsIndex2025)} {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(ix); err != nil {
			t.Fatal(err)
		}
		var back Index
		if err := gob.NewDecoder(&buf).Decode(&back); err != nil {
			t.Fatal(err)
		}
		// gob leaves empty slices nil; compare what a reader sees.
		var a, b []string
		for p := range ix.All() {
			a = append(a, PathString(p)+"|"+p[len(p)-1].Code+"|"+p[len(p)-1].Codes+"|"+p[len(p)-1].Text())
		}
		for p := range back.All() {
			b = append(b, PathString(p)+"|"+p[len(p)-1].Code+"|"+p[len(p)-1].Codes+"|"+p[len(p)-1].Text())
		}
		if !reflect.DeepEqual(a, b) || back.Title != ix.Title || back.Part != ix.Part {
			t.Errorf("gob round trip changed the index %q", ix.Title)
		}
	}
}

func TestReadIndexErrors(t *testing.T) {
	const head = `<?xml version="1.0" encoding="utf-8"?>` + "\n"
	tests := []struct {
		name, in string
		want     []string // substrings of the message
		is       error
	}{
		{"empty", "", []string{"no root element"}, io.ErrUnexpectedEOF},
		{"not xml", "Diabetes, E11.9\n", []string{"line 1", "before the root element"}, ErrIndexFormat},
		{"tabular", head + "<ICD10CM.tabular><version>2026</version></ICD10CM.tabular>",
			[]string{"line 2", "root element <ICD10CM.tabular>", "want <ICD10CM.index> or <ICD10PCS.index>"}, ErrIndexFormat},
		{"truncated", head + "<ICD10CM.index>\n<letter><title>A</title>\n<mainTerm><title>Abscess",
			[]string{"line 4", "unexpected EOF", "truncated"}, io.ErrUnexpectedEOF},
		{"truncated between elements", head + "<ICD10CM.index>\n<letter><title>A</title>\n<mainTerm>\n",
			[]string{"line 5", "truncated"}, io.ErrUnexpectedEOF},
		{"mismatched", head + "<ICD10CM.index>\n<letter><title>A</title>\n<mainTerm><title>A</code></mainTerm></letter></ICD10CM.index>",
			[]string{"line 4", "closed by </code>"}, nil},
		{"unknown element", head + "<ICD10CM.index>\n<letter>\n<mainTerm><title>A</title><colour>red</colour></mainTerm></letter></ICD10CM.index>",
			[]string{"line 4", "unexpected element <colour> in <mainTerm>"}, ErrIndexFormat},
		{"bad level", head + "<ICD10CM.index><letter>\n<mainTerm><title>A</title>\n<term level=\"2\"><title>b</title></term></mainTerm></letter></ICD10CM.index>",
			[]string{"line 4", `level="2"`, "want level 1"}, ErrIndexFormat},
		{"missing level", head + "<ICD10CM.index><letter>\n<mainTerm><title>A</title>\n<term><title>b</title></term></mainTerm></letter></ICD10CM.index>",
			[]string{"without the level attribute"}, ErrIndexFormat},
		{"bad col", head + "<ICD10CM.index><letter>\n<mainTerm><title>A</title><cell col=\"x\">C80.1</cell></mainTerm></letter></ICD10CM.index>",
			[]string{`col="x"`}, ErrIndexFormat},
		{"two codes", head + "<ICD10CM.index><letter>\n<mainTerm><title>A</title><code>A00</code><code>A01</code></mainTerm></letter></ICD10CM.index>",
			[]string{`second <code> in term "A"`}, ErrIndexFormat},
		{"stray text", head + "<ICD10CM.index><letter>\n<mainTerm>Abscess</mainTerm></letter></ICD10CM.index>",
			[]string{`text "Abscess" in <mainTerm>`}, ErrIndexFormat},
		{"no letters", head + "<ICD10CM.index><version>2026</version></ICD10CM.index>",
			[]string{"no <letter> elements"}, ErrIndexFormat},
		{"codes in title", head + "<ICD10PCS.index><letter>\n<mainTerm><title>A<codes>0UT9</codes></title></mainTerm></letter></ICD10PCS.index>",
			[]string{"unexpected element <codes> in <title>"}, ErrIndexFormat},
		{"trailing element", head + "<ICD10CM.index><letter><mainTerm><title>A</title></mainTerm></letter></ICD10CM.index>\n<x/>",
			[]string{"after the root element"}, ErrIndexFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix, err := ReadIndex(strings.NewReader(tt.in), "test.xml")
			if err == nil {
				t.Fatalf("no error; read %+v", ix)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "read index test.xml: ") {
				t.Errorf("error %q does not name the file", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", msg, tt.is)
			}
		})
	}
}

// TestReadIndexTruncatedOfficial cuts an official file short at several
// places: every cut is an error, never a shorter index.
func TestReadIndexTruncatedOfficial(t *testing.T) {
	data := shareddata.ReadGz(t, eindex2026)
	for _, n := range []int{100, len(data) / 3, len(data) / 2, len(data) - 20} {
		if _, err := ReadIndex(bytes.NewReader(data[:n]), "cut.xml"); err == nil {
			t.Errorf("file cut at byte %d of %d read without error", n, len(data))
		}
	}
}

func TestTermText(t *testing.T) {
	tests := []struct {
		term Term
		want string
	}{
		{Term{Title: "Abuse"}, "Abuse"},
		{Term{Title: "Abuse", Nemod: "(adult)", NemodAt: 5}, "Abuse (adult)"},
		{Term{Title: "Abandonment NEC", Nemod: "(x)", NemodAt: 11}, "Abandonment (x) NEC"},
		{Term{Title: "-triiodothyronine", Nemod: "(L)", NemodAt: 0}, "(L)-triiodothyronine"},
		{Term{Title: "Burn, face", Nemod: "(any degree)", NemodAt: 4}, "Burn (any degree), face"},
	}
	for _, tt := range tests {
		if got := tt.term.Text(); got != tt.want {
			t.Errorf("%+v.Text() = %q, want %q", tt.term, got, tt.want)
		}
	}
}

// TestNemodEssentialWords reads titles whose <nemod> holds words outside
// its parentheses, as conversions of the Index through a spreadsheet
// write them: those words are part of the title, and only the
// parenthesized groups may be left out.
func TestNemodEssentialWords(t *testing.T) {
	tests := []struct {
		title      string // the content of <title>
		wantTitle  string
		wantNemod  string
		wantNemoAt int
	}{
		{"Normocytic anemia<nemod>(infectional) due to blood loss (chronic)</nemod>",
			"Normocytic anemia due to blood loss", "(infectional) (chronic)", 17},
		{"and<nemod>(on) chronic (congestive)</nemod>", "and chronic", "(on) (congestive)", 3},
		{"Xanthoma<nemod>(s), xanthomatosis (primary)</nemod>", "Xanthoma, xanthomatosis", "(s) (primary)", 8},
		{"Abandonment<nemod>(exposure) (with intent (to kill))</nemod> NEC",
			"Abandonment NEC", "(exposure) (with intent (to kill))", 11},
		{"Sin nombre<nemod>(Hantavirus) (cardio</nemod> syndrome", "Sin nombre syndrome", "(Hantavirus) (cardio", 10},
	}
	for _, tt := range tests {
		doc := "<ICD10CM.index><version>2025</version><title>t</title><letter><title>A</title><mainTerm><title>" +
			tt.title + "</title><code>A00</code></mainTerm></letter></ICD10CM.index>"
		ix, err := ReadIndex(strings.NewReader(doc), "fixture.xml")
		if err != nil {
			t.Fatalf("%s: %v", tt.title, err)
		}
		term := ix.Terms[0]
		if term.Title != tt.wantTitle || term.Nemod != tt.wantNemod || term.NemodAt != tt.wantNemoAt {
			t.Errorf("%s: Title %q Nemod %q NemodAt %d; want %q %q %d", tt.title,
				term.Title, term.Nemod, term.NemodAt, tt.wantTitle, tt.wantNemod, tt.wantNemoAt)
		}
	}
}

func BenchmarkReadIndex(b *testing.B) {
	for _, rel := range []string{eindex2026, drug2026, pcsIndex2025} {
		data := shareddata.ReadGz(b, rel)
		b.Run(filepath.Base(rel), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadIndex(bytes.NewReader(data), rel); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkResolve(b *testing.B) {
	ix := officialIndex(b, eindex2026)
	for b.Loop() {
		if _, _, err := ix.Resolve("Accident, transport, car occupant, driver, collision"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestResolveBounded resolves a reference against an index where every
// level has several terms of the same title and the last part matches
// nothing: without a bound the search would try every path.
func TestResolveBounded(t *testing.T) {
	var level []*Term
	for range 20 {
		next := make([]*Term, 6)
		for i := range next {
			// Siblings share their subterms: a DAG, built cheaply.
			next[i] = &Term{Title: "a", Terms: level}
		}
		level = next
	}
	ix := &Index{Terms: level}
	ref := strings.Repeat("a, ", 20) + "b"
	path, rest, err := ix.Resolve(ref)
	if err != nil || len(path) == 0 || rest == "" {
		t.Errorf("Resolve = %d terms, rest %q, %v; want a partial path", len(path), rest, err)
	}
	if _, ok := ix.Find(strings.Split(ref, ", ")...); ok {
		t.Error("Find succeeded for a path whose last title is missing")
	}
}
