package catalog

import (
	"context"
	"runtime"
	"testing"
)

// cmBenchSources is the largest ICD-10-CM release the shared data allows:
// the FY2021 Tabular List and order file and the FY2026 index tables, the
// tables imported as a second release of their own version.
func cmBenchSources(b *testing.B) (tabOrder, tables string) {
	return linkShared(b, cmTabular2021, cmOrder2021), linkShared(b, cmNeo2026, cmDrug2026, cmEindex2026)
}

// BenchmarkImportICD10CM imports the FY2021 Tabular List and order file
// and the FY2026 index tables (two releases, since their versions differ).
// Target: under 10 s per iteration.
func BenchmarkImportICD10CM(b *testing.B) {
	ctx := context.Background()
	tabOrder, tables := cmBenchSources(b)
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Import(ctx, dir, "icd10cm", []string{tabOrder}, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := Import(ctx, dir, "icd10cm", []string{tables}, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenICD10CM opens the FY2021 Tabular List and order file and
// the FY2026 index tables from their compiled form, and reports the heap
// in use once they are open. Target: under 300 ms and 300 MB.
func BenchmarkOpenICD10CM(b *testing.B) {
	ctx := context.Background()
	tabOrder, tables := cmBenchSources(b)
	dir := b.TempDir()
	for _, src := range []string{tabOrder, tables} {
		if _, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	var heap, sys float64
	for b.Loop() {
		r1, err := Open(ctx, dir, "icd10cm", "2021")
		if err != nil {
			b.Fatal(err)
		}
		r2, err := Open(ctx, dir, "icd10cm", "2026")
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		heap, sys = float64(ms.HeapInuse), float64(ms.Sys)
		runtime.KeepAlive(r1)
		runtime.KeepAlive(r2)
		b.StartTimer()
	}
	b.ReportMetric(heap/(1<<20), "heap-MB")
	b.ReportMetric(sys/(1<<20), "sys-MB")
}
