package pcs

import (
	"bytes"
	"io"
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

func readGz[T any](tb testing.TB, rel string, read func(io.Reader, string) (T, error)) T {
	tb.Helper()
	v, err := read(bytes.NewReader(shareddata.ReadGz(tb, rel)), rel)
	if err != nil {
		tb.Fatalf("read %s: %v", rel, err)
	}
	return v
}

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
			PCS:      readGz(tb, pcsTables, codesys.ReadPCSTables),
			PCSIndex: readGz(tb, pcsIndex, codesys.ReadIndex),
			PCSDefs:  readGz(tb, pcsDefs, codesys.ReadPCSDefinitions),
		}
	})
	if rel == nil {
		tb.Fatal("shared data failed to load in an earlier test")
	}
	return rel
}
