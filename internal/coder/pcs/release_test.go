package pcs

import (
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The FY2025 ICD-10-PCS release: the only year with all three files here.
const (
	pcsTables = "icd10pcs/fy2025/icd10pcs_tables_2025.xml.gz"
	pcsIndex  = "icd10pcs/fy2025/icd10pcs_index_2025.xml.gz"
	pcsDefs   = "icd10pcs/fy2025/icd10pcs_definitions_2025.xml.gz"
)

var (
	relOnce sync.Once
	rel     *codesys.Release
)

// release reads the shared PCS files once per test binary.
func release(tb testing.TB) *codesys.Release {
	tb.Helper()
	for _, p := range []string{pcsTables, pcsIndex, pcsDefs} {
		shareddata.Path(tb, p)
	}
	relOnce.Do(func() {
		rel = &codesys.Release{System: codesys.ICD10PCS, Version: "2025",
			PCS:      shareddata.Load(tb, pcsTables, codesys.ReadPCSTables),
			PCSIndex: shareddata.Load(tb, pcsIndex, codesys.ReadIndex),
			PCSDefs:  shareddata.Load(tb, pcsDefs, codesys.ReadPCSDefinitions),
		}
	})
	if rel == nil {
		tb.Fatal("shared data failed to load in an earlier test")
	}
	return rel
}
