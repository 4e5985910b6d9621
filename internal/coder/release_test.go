package coder

import (
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// The reference set the tests code with: the FY2021 Tabular List, the
// FY2025 Alphabetic Index, External Cause Index, Table of Neoplasms and
// Table of Drugs and Chemicals, and the FY2025 ICD-10-PCS tables and
// index.
const (
	testTabular  = "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"
	testIndex    = "icd10cm/fy2025-apr2025/icd10cm_index_2025.xml.gz"
	testExternal = "icd10cm/fy2025-apr2025/icd-10-cm-eindex-2025.xml.gz"
	testNeoplasm = "icd10cm/fy2025-apr2025/icd-10-cm-neoplasm-2025.xml.gz"
	testDrug     = "icd10cm/fy2025-apr2025/icd-10-cm-drug-2025.xml.gz"
	testPCS      = "icd10pcs/fy2025/icd10pcs_tables_2025.xml.gz"
	testPCSIndex = "icd10pcs/fy2025/icd10pcs_index_2025.xml.gz"
)

var (
	testOnce  sync.Once
	testCoder *Coder
	testRef   Reference
)

// realCoder builds the coder over the shared data once per test binary.
func realCoder(tb testing.TB) *Coder {
	tb.Helper()
	for _, p := range []string{testTabular, testIndex, testExternal, testNeoplasm, testDrug, testPCS, testPCSIndex} {
		shareddata.Path(tb, p)
	}
	testOnce.Do(func() {
		cm := &codesys.Release{System: codesys.ICD10CM, Version: "2021",
			Tabular: shareddata.Load(tb, testTabular, codesys.ReadTabular)}
		tables := &codesys.Release{System: codesys.ICD10CM, Version: "2025",
			Index:    shareddata.Load(tb, testIndex, codesys.ReadIndex),
			External: shareddata.Load(tb, testExternal, codesys.ReadIndex),
			Neoplasm: shareddata.Load(tb, testNeoplasm, codesys.ReadIndex),
			Drug:     shareddata.Load(tb, testDrug, codesys.ReadIndex)}
		pcsRel := &codesys.Release{System: codesys.ICD10PCS, Version: "2025",
			PCS:      shareddata.Load(tb, testPCS, codesys.ReadPCSTables),
			PCSIndex: shareddata.Load(tb, testPCSIndex, codesys.ReadIndex)}
		pcsRel.Prepare()
		testRef = Reference{CM: cm, Tables: tables, PCS: pcsRel}
		c, err := New(testRef, Options{})
		if err != nil {
			tb.Fatalf("build coder: %v", err)
		}
		testCoder = c
	})
	if testCoder == nil {
		tb.Fatal("the coder failed to build in an earlier test")
	}
	return testCoder
}
