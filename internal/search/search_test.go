package search

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/rules"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// The release below is written by hand for these tests, after the shape of
// the publisher's files; codes and titles follow ICD-10-CM as a coder
// knows it.

type tnode struct {
	code, title string
	incl        []string
	kids        []tnode
}

func tabular(chapters ...tnode) *codesys.Tabular {
	t := &codesys.Tabular{}
	var add func(n tnode, parent int32, depth int)
	add = func(n tnode, parent int32, depth int) {
		kind := codesys.Kind(min(depth+1, int(codesys.KindCode)))
		if depth >= 3 && len(n.kids) > 0 {
			kind = codesys.KindSubcategory
		}
		if depth >= 2 && len(n.kids) == 0 {
			kind = codesys.KindCode
		}
		id := int32(len(t.Nodes))
		t.Nodes = append(t.Nodes, codesys.Node{Code: n.code, Title: n.title, Kind: kind, Parent: parent,
			Notes: codesys.Notes{InclusionTerms: n.incl}})
		if parent >= 0 {
			t.Nodes[parent].Children = append(t.Nodes[parent].Children, id)
		}
		for _, k := range n.kids {
			add(k, id, depth+1)
		}
	}
	for _, c := range chapters {
		add(c, -1, 0)
	}
	t.Prepare()
	return t
}

func term(title, nemod, code string, subs ...*codesys.Term) *codesys.Term {
	return &codesys.Term{Title: title, Nemod: nemod, Code: code, Terms: subs}
}

func see(title, ref string) *codesys.Term { return &codesys.Term{Title: title, See: ref} }

func row(title string, codes ...string) *codesys.Term {
	t := &codesys.Term{Title: title}
	for i, c := range codes {
		t.Cells = append(t.Cells, codesys.Cell{Col: i + 2, Code: c})
	}
	return t
}

func testRelease(withIndex bool) *codesys.Release {
	rel := &codesys.Release{System: codesys.ICD10CM, Version: "test"}
	rel.Tabular = tabular(
		tnode{code: "4", title: "Endocrine, nutritional and metabolic diseases (E00-E89)", kids: []tnode{
			{code: "E08-E13", title: "Diabetes mellitus", kids: []tnode{
				{code: "E10", title: "Type 1 diabetes mellitus", kids: []tnode{
					{code: "E10.3", title: "Type 1 diabetes mellitus with ophthalmic complications", kids: []tnode{
						{code: "E10.36", title: "Type 1 diabetes mellitus with diabetic cataract"},
					}},
					{code: "E10.9", title: "Type 1 diabetes mellitus without complications"},
				}},
				{code: "E11", title: "Type 2 diabetes mellitus", kids: []tnode{
					{code: "E11.3", title: "Type 2 diabetes mellitus with ophthalmic complications", kids: []tnode{
						{code: "E11.36", title: "Type 2 diabetes mellitus with diabetic cataract"},
						{code: "E11.39", title: "Type 2 diabetes mellitus with other diabetic ophthalmic complication"},
					}},
					{code: "E11.9", title: "Type 2 diabetes mellitus without complications"},
				}},
			}},
		}},
		tnode{code: "9", title: "Diseases of the circulatory system (I00-I99)", kids: []tnode{
			{code: "I10-I16", title: "Hypertensive diseases", kids: []tnode{
				{code: "I10", title: "Essential (primary) hypertension", incl: []string{"High blood pressure", "Hypertension (arterial) (benign) (essential) (malignant) (primary) (systemic)"}},
			}},
			{code: "I20-I25", title: "Ischemic heart diseases", kids: []tnode{
				{code: "I21", title: "Acute myocardial infarction", kids: []tnode{
					{code: "I21.9", title: "Acute myocardial infarction, unspecified", incl: []string{"Myocardial infarction (acute) NOS"}},
				}},
			}},
			{code: "I30-I5A", title: "Other forms of heart disease", kids: []tnode{
				{code: "I48", title: "Atrial fibrillation and flutter", kids: []tnode{
					{code: "I48.9", title: "Unspecified atrial fibrillation and atrial flutter", kids: []tnode{
						{code: "I48.91", title: "Unspecified atrial fibrillation"},
					}},
				}},
				{code: "I50", title: "Heart failure", kids: []tnode{
					{code: "I50.9", title: "Heart failure, unspecified", incl: []string{"Biventricular (heart) failure NOS", "Cardiac, heart or myocardial failure NOS", "Congestive heart disease", "Congestive heart failure NOS"}},
				}},
			}},
		}},
		tnode{code: "10", title: "Diseases of the respiratory system (J00-J99)", kids: []tnode{
			{code: "J09-J18", title: "Influenza and pneumonia", kids: []tnode{
				{code: "J18", title: "Pneumonia, unspecified organism", kids: []tnode{
					{code: "J18.9", title: "Pneumonia, unspecified organism"},
				}},
			}},
			{code: "J40-J4A", title: "Chronic lower respiratory diseases", kids: []tnode{
				{code: "J44", title: "Other chronic obstructive pulmonary disease", kids: []tnode{
					{code: "J44.9", title: "Chronic obstructive pulmonary disease, unspecified", incl: []string{"Chronic obstructive lung disease NOS"}},
				}},
			}},
		}},
		tnode{code: "11", title: "Diseases of the digestive system (K00-K95)", kids: []tnode{
			{code: "K20-K31", title: "Diseases of esophagus, stomach and duodenum", kids: []tnode{
				{code: "K21", title: "Gastro-esophageal reflux disease", kids: []tnode{
					{code: "K21.9", title: "Gastro-esophageal reflux disease without esophagitis", incl: []string{"Esophageal reflux NOS"}},
				}},
			}},
		}},
		tnode{code: "14", title: "Diseases of the genitourinary system (N00-N99)", kids: []tnode{
			{code: "N30-N39", title: "Other diseases of the urinary system", kids: []tnode{
				{code: "N39", title: "Other disorders of urinary system", kids: []tnode{
					{code: "N39.0", title: "Urinary tract infection, site not specified", incl: []string{"Urinary tract infection, site not specified"}},
				}},
			}},
		}},
		tnode{code: "19", title: "Injury, poisoning and certain other consequences of external causes (S00-T88)", kids: []tnode{
			{code: "S50-S59", title: "Injuries to the elbow and forearm", kids: []tnode{
				{code: "S52", title: "Fracture of forearm", kids: []tnode{
					{code: "S52.5", title: "Fracture of lower end of radius", kids: []tnode{
						{code: "S52.50", title: "Unspecified fracture of the lower end of radius", kids: []tnode{
							{code: "S52.501", title: "Unspecified fracture of the lower end of right radius"},
						}},
						{code: "S52.53", title: "Colles' fracture of radius", kids: []tnode{
							{code: "S52.531", title: "Colles' fracture of right radius"},
							{code: "S52.532", title: "Colles' fracture of left radius"},
						}},
					}},
				}},
			}},
			{code: "T36-T50", title: "Poisoning by, adverse effect of and underdosing of drugs, medicaments and biological substances", kids: []tnode{
				{code: "T39", title: "Poisoning by, adverse effect of and underdosing of nonopioid analgesics, antipyretics and antirheumatics", kids: []tnode{
					{code: "T39.1", title: "Poisoning by, adverse effect of and underdosing of 4-Aminophenol derivatives", kids: []tnode{
						{code: "T39.1X1", title: "Poisoning by 4-Aminophenol derivatives, accidental (unintentional)"},
						{code: "T39.1X5", title: "Adverse effect of 4-Aminophenol derivatives"},
					}},
				}},
			}},
		}},
		tnode{code: "20", title: "External causes of morbidity (V00-Y99)", kids: []tnode{
			{code: "W00-W19", title: "Slipping, tripping, stumbling and falls", kids: []tnode{
				{code: "W11", title: "Fall on and from ladder"},
			}},
			{code: "W50-W64", title: "Exposure to animate mechanical forces", kids: []tnode{
				{code: "W54", title: "Contact with dog", kids: []tnode{
					{code: "W54.0", title: "Bitten by dog"},
				}},
			}},
		}},
	)
	if withIndex {
		rel.Index = &codesys.Index{Title: "ICD-10-CM Index to Diseases and Injuries", Terms: []*codesys.Term{
			term("Cataract", "(cortical) (immature) (incipient)", "H26.9",
				see("diabetic", "Diabetes, cataract")),
			term("Diabetes, diabetic", "(mellitus) (sugar)", "E11.9",
				term("cataract", "", "E11.36"),
				term("type 1", "", "E10.9", term("with", "", "", term("cataract", "", "E10.36"))),
				term("type 2", "", "E11.9", term("with", "", "", term("cataract", "", "E11.36")))),
			term("Failure", "", "",
				term("heart", "(acute) (sudden)", "I50.9",
					term("congestive", "(compensated) (decompensated)", "I50.9"))),
			term("Fracture, traumatic", "(abduction) (adduction) (separation)", "T14.8",
				term("radius", "", "S52.9-",
					see("distal end", "Fracture, radius, lower end"),
					term("lower end", "", "S52.50-",
						term("Colles'", "", "S52.53-")))),
			term("Hypertension, hypertensive", "(accelerated) (benign) (essential) (idiopathic) (malignant) (systemic)", "I10"),
			term("Infarct, infarction", "", "",
				term("myocardial", "(acute) (with stated duration of 4 weeks or less)", "I21.9")),
			term("Pneumonia", "(acute) (double) (migratory) (purulent) (septic) (unresolved)", "J18.9"),
		}}
	}
	rel.External = &codesys.Index{Title: "ICD-10-CM External Cause of Injuries Index", Terms: []*codesys.Term{
		term("Bite, bitten by", "", "",
			term("cat", "", "W55.01"),
			term("dog", "", "W54.0")),
		term("Fall, falling", "(accidental)", "W19",
			term("from, off, out of", "", "",
				term("chair", "", "W07"),
				term("ladder", "", "W11"),
				term("stairs, steps", "", "W10.9"))),
	}}
	rel.Neoplasm = &codesys.Index{Title: "Table of Neoplasms",
		Columns: []string{"Neoplasm", "Malignant Primary", "Malignant Secondary", "Ca in situ", "Benign", "Uncertain Behavior", "Unspecified Behavior"},
		Terms: []*codesys.Term{{Title: "Neoplasm, neoplastic", Cells: row("", "C80.1", "C79.9", "D09.9", "D36.9", "D48.9", "D49.9").Cells, Terms: []*codesys.Term{
			{Title: "lung", Cells: row("", "C34.9-", "C78.0-", "D02.2-", "D14.3-", "D38.1", "D49.1").Cells, Terms: []*codesys.Term{
				row("upper lobe", "C34.1-", "C78.0-", "D02.2-", "D14.3-", "D38.1", "D49.1"),
			}},
		}}}}
	rel.Drug = &codesys.Index{Title: "Table of Drugs and Chemicals",
		Columns: []string{"Substance", "Poisoning Accidental (unintentional)", "Poisoning Intentional self-harm", "Poisoning Assault", "Poisoning Undetermined", "Adverse effect", "Underdosing"},
		Terms: []*codesys.Term{
			row("Acetaminophen", "T39.1X1", "T39.1X2", "T39.1X3", "T39.1X4", "T39.1X5", "T39.1X6"),
			row("Aspirin", "T39.011", "T39.012", "T39.013", "T39.014", "T39.015", "T39.016"),
			{Title: "Acetylsalicylic acid", Nemod: "(salts)", Cells: row("", "T39.011", "T39.012", "T39.013", "T39.014", "T39.015", "T39.016").Cells},
		}}
	return rel
}

// rank returns the 1-based rank of the first hit with code (and source,
// if not 0), or 0.
func rank(hits []Hit, code string, src Source) int {
	for i, h := range hits {
		if h.Code == code && (src == 0 || h.Source == src) {
			return i + 1
		}
	}
	return 0
}

func dump(hits []Hit) string {
	var b strings.Builder
	for i, h := range hits {
		fmt.Fprintf(&b, "\n%2d %6.2f %-22s %s", i+1, h.Score, h.Source, h)
	}
	return b.String()
}

func TestSearch(t *testing.T) {
	s := New(testRelease(true))
	tests := []struct {
		name, query string
		code        string
		src         Source
		maxRank     int
		opts        Options
	}{
		{"word order", "cataract diabetes type 2", "E11.36", 0, 1, Options{}},
		{"full match over partial", "type 2 diabetes with diabetic cataract", "E11.36", 0, 1, Options{}},
		{"plural", "dog bites", "W54.0", 0, 1, Options{}},
		{"plural and stem", "falling from ladders", "W11", SourceExternal, 1, Options{}},
		{"stem", "fractured radius", "S52.9-", SourceIndex, 1, Options{}},
		{"main term with subterm", "fall from ladder", "W11", SourceExternal, 1, Options{}},
		{"abbreviation chf", "chf", "I50.9", 0, 1, Options{}},
		{"abbreviation htn", "htn", "I10", 0, 1, Options{}},
		{"abbreviation copd", "copd", "J44.9", 0, 1, Options{}},
		{"abbreviation uti", "uti", "N39.0", 0, 1, Options{}},
		{"abbreviation afib", "afib", "I48.91", 0, 1, Options{}},
		{"abbreviation mi", "acute mi", "I21.9", 0, 1, Options{}},
		{"abbreviation dm2", "dm2 with cataract", "E11.36", 0, 1, Options{}},
		{"abbreviation gerd", "gerd", "K21.9", 0, 2, Options{}},
		{"typo substitution", "hypertenson", "I10", 0, 1, Options{}},
		{"typo transposition", "pnuemonia", "J18.9", 0, 1, Options{}},
		{"typo in long word", "diabtes type 2 catarct", "E11.36", 0, 1, Options{}},
		{"nemod optional", "hypertension", "I10", SourceIndex, 1, Options{}},
		{"nemod matches", "malignant hypertension", "I10", SourceIndex, 1, Options{}},
		{"nemod of main term", "diabetes mellitus type 2 with cataract", "E11.36", 0, 1, Options{}},
		{"neoplasm column", "malignant neoplasm of lung", "C34.9-", SourceNeoplasm, 1, Options{}},
		{"neoplasm secondary", "secondary malignant neoplasm lung", "C78.0-", SourceNeoplasm, 1, Options{}},
		{"neoplasm deeper path", "neoplasm upper lobe lung benign", "D14.3-", SourceNeoplasm, 1, Options{}},
		{"drug poisoning", "acetaminophen poisoning", "T39.1X1", SourceDrug, 1, Options{}},
		{"drug adverse effect", "adverse effect of acetaminophen", "T39.1X5", SourceDrug, 1, Options{}},
		{"drug self-harm", "aspirin poisoning intentional self harm", "T39.012", SourceDrug, 1, Options{}},
		{"hyphenated compound", "gastroesophageal reflux", "K21.9", 0, 2, Options{}},
		{"tabular only", "congestive heart failure", "I50.9", SourceInclusion, 1, Options{Sources: TabularSources}},
		{"colles", "colles fracture right radius", "S52.531", SourceTabular, 1, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := s.Search(tt.query, tt.opts)
			if r := rank(hits, tt.code, tt.src); r == 0 || r > tt.maxRank {
				t.Errorf("Search(%q): %s (%v) at rank %d, want <= %d; hits:%s", tt.query, tt.code, tt.src, r, tt.maxRank, dump(hits))
			}
		})
	}
}

func TestSearchRankingOrder(t *testing.T) {
	s := New(testRelease(true))
	hits := s.Search("type 2 diabetes with diabetic cataract", Options{})
	full := rank(hits, "E11.36", 0)
	for _, partial := range []string{"E11.9", "E10.36", "E11.39", "H26.9"} {
		if r := rank(hits, partial, 0); r != 0 && r < full {
			t.Errorf("partial match %s ranks %d, above the full match E11.36 at %d:%s", partial, r, full, dump(hits))
		}
	}
	// Exact before typo: with a typo, the same entry must score lower.
	exact := s.Search("hypertension", Options{Limit: 1})
	typo := s.Search("hypertenson", Options{Limit: 1})
	if len(exact) == 0 || len(typo) == 0 || typo[0].Score >= exact[0].Score {
		t.Errorf("typo match should score below exact match: exact %v, typo %v", exact, typo)
	}
	// Main-term match over subterm-only: "cataract" is a main term
	// (H26.9) and a subterm of Diabetes.
	hits = s.Search("cataract", Options{Sources: []Source{SourceIndex}})
	if len(hits) == 0 || hits[0].Code != "H26.9" {
		t.Errorf("Search(cataract) in the index: want main term Cataract H26.9 first:%s", dump(hits))
	}
}

func TestSearchWithoutAlphabeticIndex(t *testing.T) {
	s := New(testRelease(false))
	for _, tt := range []struct{ query, code string }{
		{"congestive heart failure", "I50.9"},
		{"high blood pressure", "I10"},
		{"type 2 diabetes with diabetic cataract", "E11.36"},
		{"fall from ladder", "W11"},
	} {
		hits := s.Search(tt.query, Options{})
		if len(hits) == 0 || hits[0].Code != tt.code {
			t.Errorf("Search(%q) without the Alphabetic Index: want %s first:%s", tt.query, tt.code, dump(hits))
		}
		for _, h := range hits {
			if h.Source == SourceIndex {
				t.Errorf("hit from the absent Alphabetic Index: %v", h)
			}
		}
	}
}

func TestHitFields(t *testing.T) {
	s := New(testRelease(true))
	hits := s.Search("ladder fall", Options{Limit: 1, Sources: []Source{SourceExternal}})
	if len(hits) != 1 {
		t.Fatalf("want one hit, got %d", len(hits))
	}
	h := hits[0]
	if want := []string{"Fall, falling", "from, off, out of", "ladder"}; !slices.Equal(h.Path, want) {
		t.Errorf("Path = %q, want %q", h.Path, want)
	}
	if h.Nemod[0] != "(accidental)" || h.Code != "W11" || h.Title != "Fall on and from ladder" || h.Source != SourceExternal {
		t.Errorf("hit = %+v", h)
	}
	if !slices.Contains(h.Matched, "ladder") || len(h.Missing) != 0 {
		t.Errorf("Matched = %q, Missing = %q", h.Matched, h.Missing)
	}

	hits = s.Search("acetaminophen", Options{Sources: []Source{SourceDrug}})
	if len(hits) != 6 || hits[0].Column != "Poisoning Accidental (unintentional)" || hits[0].Code != "T39.1X1" {
		t.Errorf("acetaminophen: want six columns, accidental poisoning first:%s", dump(hits))
	}
	if hits[0].Title != "Poisoning by 4-Aminophenol derivatives, accidental (unintentional)" {
		t.Errorf("Title of T39.1X1 = %q", hits[0].Title)
	}

	hits = s.Search("lung neoplasm malignant", Options{Limit: 1, Sources: []Source{SourceNeoplasm}})
	if len(hits) != 1 || hits[0].Code != "C34.9-" || hits[0].Column != "Malignant Primary" || !slices.Equal(hits[0].Path, []string{"Neoplasm, neoplastic", "lung"}) {
		t.Errorf("neoplasm hit = %v", hits)
	}

	hits = s.Search("xyzzy", Options{})
	if len(hits) != 0 {
		t.Errorf("nonsense query found%s", dump(hits))
	}
	if hits := s.Search("of the with", Options{}); len(hits) != 0 {
		t.Errorf("stop words only found%s", dump(hits))
	}
}

func TestSearchMissingWords(t *testing.T) {
	s := New(testRelease(true))
	hits := s.Search("dog bite xyzzy", Options{Limit: 1})
	if len(hits) != 1 || hits[0].Code != "W54.0" || !slices.Equal(hits[0].Missing, []string{"xyzzy"}) {
		t.Errorf("want W54.0 with xyzzy missing:%s %v", dump(hits), hits)
	}
}

func TestSearchFollowSee(t *testing.T) {
	s := New(testRelease(true))
	hits := s.Search("distal end radius fracture", Options{FollowSee: true, Sources: []Source{SourceIndex}})
	i := slices.IndexFunc(hits, func(h Hit) bool { return h.See == "Fracture, radius, lower end" })
	if i < 0 || i+1 >= len(hits) {
		t.Fatalf("see reference not found or not followed:%s", dump(hits))
	}
	next := hits[i+1]
	if next.Code != "S52.50-" || !slices.Equal(next.Via, hits[i].Path) {
		t.Errorf("followed hit = %+v, want S52.50- via %q", next, hits[i].Path)
	}
}

func TestSearchDeduplicates(t *testing.T) {
	s := New(testRelease(true))
	// N39.0 has an inclusion term equal to its title.
	hits := s.Search("urinary tract infection", Options{})
	n := 0
	for _, h := range hits {
		if h.Code == "N39.0" && h.Path[0] == "Urinary tract infection, site not specified" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("N39.0 title listed %d times:%s", n, dump(hits))
	}
}

func TestSearchLimitAndDeterminism(t *testing.T) {
	s := New(testRelease(true))
	a := s.Search("diabetes", Options{Limit: 3})
	if len(a) != 3 {
		t.Fatalf("Limit 3: got %d hits", len(a))
	}
	for range 5 {
		b := s.Search("diabetes", Options{Limit: 3})
		for i := range a {
			if a[i].String() != b[i].String() {
				t.Fatalf("results differ between runs:%s\nvs%s", dump(a), dump(b))
			}
		}
	}
	for i := 1; i < len(a); i++ {
		if a[i].Score > a[i-1].Score {
			t.Errorf("hits not sorted by score:%s", dump(a))
		}
	}
}

func TestSearchConcurrent(t *testing.T) {
	s := New(testRelease(true))
	want := s.Search("fall from ladder", Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got := s.Search("fall from ladder", Options{})
				if len(got) != len(want) || got[0].Code != want[0].Code {
					t.Errorf("concurrent search differs")
					return
				}
				s.Search("chf htn copd", Options{})
			}
		})
	}
	wg.Wait()
}

func TestParseSource(t *testing.T) {
	for _, src := range Sources {
		got, err := ParseSource(src.String())
		if err != nil || got != src {
			t.Errorf("ParseSource(%q) = %v, %v", src.String(), got, err)
		}
	}
	b, err := json.Marshal(Hit{Source: SourceNeoplasm, Path: []string{"Neoplasm, neoplastic", "lung"}})
	if err != nil || !strings.Contains(string(b), `"source":"neoplasm table"`) {
		t.Errorf("JSON of a hit = %s, %v; want the source by name", b, err)
	}
	var h Hit
	if err := json.Unmarshal(b, &h); err != nil || h.Source != SourceNeoplasm {
		t.Errorf("JSON round trip: source %v, %v", h.Source, err)
	}
	if _, err := ParseSource("nope"); err == nil {
		t.Error("ParseSource(nope): want error")
	}
}

// TestAbbreviations checks that search reads the one abbreviation table
// (en/abbreviations) and en/querywords: the first sense of an entry, an
// entry flagged case only as written, and AKI as the coder reads it.
func TestAbbreviations(t *testing.T) {
	set, err := rules.Default()
	if err != nil {
		t.Fatal(err)
	}
	m, err := expansions(set)
	if err != nil {
		t.Fatal(err)
	}
	s := &Searcher{abbrevs: m}
	for _, tt := range []struct {
		written string
		want    string // "" for no expansion
	}{
		{"chf", "congestive heart failure"},
		{"COPD", "chronic obstructive pulmonary disease"},
		{"htn", "hypertension"},
		{"aki", "acute kidney injury"},
		{"pe", "pulmonary embolism"}, // ambiguous: its first sense
		{"MS", "multiple sclerosis"}, // case: as written
		{"ms", ""},
		{"all", ""},
		{"bleeding", "hemorrhage"}, // en/querywords
		{"fracture", ""},
	} {
		got, ok := s.expand(textnorm.Fold(tt.written), tt.written)
		if g := strings.Join(got, " "); g != tt.want || ok != (tt.want != "") {
			t.Errorf("%s expands to %q (%v), want %q", tt.written, g, ok, tt.want)
		}
	}
}

func TestOSADistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"pneumonia", "pnuemonia", 1},
		{"diabetes", "diabtes", 1},
		{"fracture", "fractrue", 1},
		{"cataract", "catarct", 1},
		{"hypertension", "hipertenson", 2},
		{"abc", "abc", 0},
		{"ladder", "bladder", 1},
		{"kitten", "sitting", 3},
	} {
		if got := osaDistance(tt.a, tt.b, 3); got != tt.want {
			t.Errorf("osaDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
