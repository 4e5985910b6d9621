package search

import (
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The release the real-data tests and benchmarks search: the most recent
// complete Tabular List here (FY2021) with the FY2025 External Cause Index
// and tables; the Alphabetic Index is not available offline.
const (
	realTabular  = "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"
	realExternal = "icd10cm/fy2025-apr2025/icd-10-cm-eindex-2025.xml.gz"
	realNeoplasm = "icd10cm/fy2025-apr2025/icd-10-cm-neoplasm-2025.xml.gz"
	realDrug     = "icd10cm/fy2025-apr2025/icd-10-cm-drug-2025.xml.gz"
	realPCSIndex = "icd10pcs/fy2025/icd10pcs_index_2025.xml.gz"
)

var (
	realOnce sync.Once
	realCM   *codesys.Release
	realPCS  *codesys.Release
)

// realReleases reads the shared data once per test binary: the files take
// about a second to parse and many tests share them.
func realReleases(tb testing.TB) (cm, pcs *codesys.Release) {
	tb.Helper()
	// Check the files first so that a missing file fails this test, not
	// only the first caller.
	for _, p := range []string{realTabular, realExternal, realNeoplasm, realDrug, realPCSIndex} {
		shareddata.Path(tb, p)
	}
	realOnce.Do(func() {
		readIx := codesys.ReadIndex
		realCM = &codesys.Release{System: codesys.ICD10CM, Version: "test",
			Tabular:  shareddata.Load(tb, realTabular, codesys.ReadTabular),
			External: shareddata.Load(tb, realExternal, readIx),
			Neoplasm: shareddata.Load(tb, realNeoplasm, readIx),
			Drug:     shareddata.Load(tb, realDrug, readIx),
		}
		realPCS = &codesys.Release{System: codesys.ICD10PCS, Version: "2025", PCSIndex: shareddata.Load(tb, realPCSIndex, readIx)}
	})
	if realCM == nil {
		tb.Fatal("shared data failed to load in an earlier test")
	}
	return realCM, realPCS
}

func TestSearchRealData(t *testing.T) {
	cm, pcs := realReleases(t)
	s := New(cm)
	sp := New(pcs)
	tests := []struct {
		query   string
		s       *Searcher
		opts    Options
		code    string
		src     Source
		maxRank int
	}{
		// External Cause Index: Fall, falling > from, off, out of > ladder W11.
		{"fall from ladder", s, Options{}, "W11", SourceExternal, 1},
		// Bite, bitten by > dog W54.0; Tabular W54.0 "Bitten by dog".
		{"dog bite", s, Options{}, "W54.0", 0, 1},
		{"bitten by a dog", s, Options{}, "W54.0", 0, 1},
		// Tabular List titles.
		{"type 2 diabetes with diabetic cataract", s, Options{}, "E11.36", SourceTabular, 1},
		{"diabetes type 2 with cataract", s, Options{}, "E11.36", SourceTabular, 3},
		{"displaced fracture distal radius", s, Options{Sources: TabularSources}, "S52.5", 0, 0},
		{"essential hypertension", s, Options{}, "I10", 0, 1},
		{"chf", s, Options{}, "I50.9", 0, 5},
		{"copd", s, Options{}, "J44.9", 0, 3},
		{"uti", s, Options{}, "N39.0", 0, 1},
		{"ckd stage 3", s, Options{}, "N18.3", 0, 3},
		{"afib", s, Options{}, "I48.91", 0, 3},
		{"acute appendicitis", s, Options{}, "K35.80", 0, 5},
		{"pnuemonia", s, Options{}, "J18.9", 0, 5},
		{"urinary tract infections", s, Options{}, "N39.0", 0, 1},
		{"high blood pressure", s, Options{}, "I10", 0, 1},
		// Neoplasm table: lung, malignant primary C34.9-, secondary C78.0-.
		{"neoplasm of lung malignant", s, Options{}, "C34.9-", SourceNeoplasm, 1},
		{"secondary malignant neoplasm of lung", s, Options{Sources: []Source{SourceNeoplasm}}, "C78.0-", 0, 1},
		{"benign neoplasm of lung", s, Options{Sources: []Source{SourceNeoplasm}}, "D14.3-", 0, 1},
		// Drug table: acetaminophen poisoning, accidental T39.1X1; adverse
		// effect T39.1X5.
		{"acetaminophen poisoning", s, Options{}, "T39.1X1", SourceDrug, 1},
		{"adverse effect of acetaminophen", s, Options{}, "T39.1X5", SourceDrug, 1},
		{"aspirin overdose intentional self-harm", s, Options{Sources: []Source{SourceDrug}}, "T39.012", 0, 1},
		// ICD-10-PCS Index: Appendectomy - see Excision/Resection, Appendix
		// (0DTJ for resection).
		{"appendectomy", sp, Options{}, "", SourcePCSIndex, 1},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			hits := tt.s.Search(tt.query, tt.opts)
			if tt.maxRank == 0 {
				// Any code of the category family in the top five.
				for _, h := range hits[:min(5, len(hits))] {
					if len(h.Code) >= len(tt.code) && h.Code[:len(tt.code)] == tt.code {
						return
					}
				}
				t.Errorf("Search(%q): no %s* code in the top five:%s", tt.query, tt.code, dump(hits))
				return
			}
			if tt.code == "" {
				if len(hits) == 0 || hits[0].Source != tt.src {
					t.Errorf("Search(%q): want a %v hit first:%s", tt.query, tt.src, dump(hits))
				}
				return
			}
			if r := rank(hits, tt.code, tt.src); r == 0 || r > tt.maxRank {
				t.Errorf("Search(%q): %s (%v) at rank %d, want <= %d:%s", tt.query, tt.code, tt.src, r, tt.maxRank, dump(hits))
			}
		})
	}
}

func TestSearchRealFollowSee(t *testing.T) {
	cm, _ := realReleases(t)
	s := New(cm)
	// Accident > automobile - see Accident, transport, car occupant.
	hits := s.Search("automobile accident", Options{Sources: []Source{SourceExternal}, FollowSee: true, Limit: 50})
	for _, h := range hits {
		if len(h.Via) > 0 && len(h.Path) >= 3 && h.Path[len(h.Path)-1] == "car occupant" {
			return
		}
	}
	t.Errorf("see reference to Accident, transport, car occupant not followed:%s", dump(hits))
}
