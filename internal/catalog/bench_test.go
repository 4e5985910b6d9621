package catalog

import (
	"context"
	"runtime"
	"runtime/debug"
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
// in use once they are open (HeapInuse, and HeapSys-HeapReleased after
// returning free memory to the OS) and the size of the compiled files.
// Target: under 300 ms and 300 MB.
func BenchmarkOpenICD10CM(b *testing.B) {
	ctx := context.Background()
	tabOrder, tables := cmBenchSources(b)
	dir := b.TempDir()
	var size int64
	for _, src := range []string{tabOrder, tables} {
		in, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{})
		if err != nil {
			b.Fatal(err)
		}
		size += in.Size
	}
	var inuse, resident float64
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
		// Return what the import during setup and earlier iterations
		// used, so that the heap's resident part is what the open
		// releases hold.
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		inuse, resident = float64(ms.HeapInuse), float64(ms.HeapSys-ms.HeapReleased)
		runtime.KeepAlive(r1)
		runtime.KeepAlive(r2)
		b.StartTimer()
	}
	b.ReportMetric(inuse/(1<<20), "heap-inuse-MB")
	b.ReportMetric(resident/(1<<20), "heap-resident-MB")
	b.ReportMetric(float64(size)/(1<<20), "compiled-MB")
}
