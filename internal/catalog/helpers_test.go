package catalog

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

// Shared release files used by the tests, relative to ../shared/data.
const (
	cmTabular2021 = "icd10cm/fy2021-jan2021/icd10cm_tabular_2021.xml.gz"
	cmOrder2021   = "icd10cm/fy2021-jan2021/icd10cm-order-Jan-2021.txt.gz"
	cmDrug2025    = "icd10cm/fy2025-apr2025/icd-10-cm-drug-2025.xml.gz"
	cmEindex2025  = "icd10cm/fy2025-apr2025/icd-10-cm-eindex-2025.xml.gz"
	cmNeo2025     = "icd10cm/fy2025-apr2025/icd-10-cm-neoplasm-2025.xml.gz"
	cmDrug2026    = "icd10cm/fy2026-apr2026/icd10cm_drug_2026.xml.gz"
	cmEindex2026  = "icd10cm/fy2026-apr2026/icd10cm_eindex_2026.xml.gz"
	cmNeo2026     = "icd10cm/fy2026-apr2026/icd10cm_neoplasm_2026.xml.gz"
	cmXSD2026     = "icd10cm/fy2026-apr2026/icd10cm_index.xsd"
	pcsTables2025 = "icd10pcs/fy2025/icd10pcs_tables_2025.xml.gz"
	pcsIndex2025  = "icd10pcs/fy2025/icd10pcs_index_2025.xml.gz"
	pcsDefs2025   = "icd10pcs/fy2025/icd10pcs_definitions_2025.xml.gz"
	pcsTables2026 = "icd10pcs/fy2026/icd10pcs_tables_2026.xml.gz"
	pcsDefs2026   = "icd10pcs/fy2026/icd10pcs_definitions_2026.xml.gz"
)

// gunzipShared returns the uncompressed content of a shared .gz file.
func gunzipShared(tb testing.TB, rel string) []byte {
	tb.Helper()
	if strings.HasSuffix(rel, ".gz") {
		return shareddata.ReadGz(tb, rel)
	}
	b, err := os.ReadFile(shareddata.Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// linkShared makes a folder holding the given shared files as they are
// stored (gzipped), under their own names.
func linkShared(tb testing.TB, rels ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, rel := range rels {
		b, err := os.ReadFile(shareddata.Path(tb, rel))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(rel)), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// zipEntry is a file to put in a test archive.
type zipEntry struct {
	name string
	data []byte
}

// buildZip returns a zip archive of entries.
func buildZip(tb testing.TB, entries ...zipEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// plainName strips the .gz of a shared file's name.
func plainName(rel string) string { return strings.TrimSuffix(filepath.Base(rel), ".gz") }

// writeFile writes data to name in dir and returns its path.
func writeFile(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// workDirs lists the work directories and files (.tmp-, .old-, .del-)
// left anywhere under the data directory.
func workDirs(tb testing.TB, dir string) []string {
	tb.Helper()
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		for _, pre := range []string{tmpPrefix, oldPrefix, delPrefix} {
			if strings.HasPrefix(d.Name(), pre) {
				left = append(left, p)
			}
		}
		return nil
	})
	return left
}
