package coder

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// BenchmarkCode codes the English CodiEsp dev notes (about 2 KB each), in
// parallel on GOMAXPROCS goroutines, and reports notes per minute and the
// heap in use with the coder built.
func BenchmarkCode(b *testing.B) {
	c := realCoder(b)
	dir := shareddata.Path(b, "eval/codiesp/final_dataset_v4_to_publish/dev/text_files_en")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no notes in %s: %v", dir, err)
	}
	sort.Strings(files)
	notes := make([]string, len(files))
	for i, f := range files {
		t, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		notes[i] = string(t)
	}
	ctx := context.Background()
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1)) % len(notes)
			if _, err := c.Code(ctx, coding.Request{Text: notes[i]}); err != nil {
				b.Error(err)
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Minutes(), "notes/min")
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
}

// BenchmarkNew builds the coder: lexicon, phrases and rules.
func BenchmarkNew(b *testing.B) {
	realCoder(b)
	for b.Loop() {
		if _, err := New(testRef, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
