package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/llmtest"
	"github.com/medcode-dev/medcode/internal/pgtest"
	"github.com/medcode-dev/medcode/internal/shareddata"
	"github.com/medcode-dev/medcode/internal/store"
)

// modelDelay is how long the fake model takes to answer each request.
const modelDelay = 200 * time.Millisecond

// BenchmarkWorkers measures how the coding throughput of queued notes
// grows with the worker processes on one PostgreSQL: with the LLM agent
// against a fake model that answers each request in 200 ms (1 and 3
// workers, 4 notes at once each), and with the offline coder (1 and 2
// workers). Each of the b.N operations is one note, queued in one batch
// once the workers are up; the time is until the last is coded.
//
//	go test -run '^$' -bench Workers -benchtime 120x ./internal/jobs
func BenchmarkWorkers(b *testing.B) {
	dsn := pgtest.DSN(b)
	dir := b.TempDir()
	data := filepath.Join(dir, "data")
	run(b, "--data", data, "import", "--system", "icd10cm", "--from", shareddata.Path(b, "icd10cm/fy2021-jan2021"))
	model := llmtest.New(llmtest.Answer{Finding: "essential hypertension", Quote: "Essential hypertension",
		Code: "I10", IndexPath: "Hypertension, hypertensive"}, modelDelay)
	defer model.Close()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	q, err := jobs.Open(ctx, st, jobs.Config{})
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ready := regexp.MustCompile(`worker metrics at http://([^/\s]+)/metrics`)

	llm := []string{"--reasoner", "llm", "--model", "openai:fake-model", "--llm-base-url", model.URL + "/v1", "--concurrency", "4", "--llm-concurrency", "4"}
	offline := []string{"--reasoner", "offline", "--concurrency", "1"}
	for _, bc := range []struct {
		name    string
		workers int
		args    []string
	}{
		{"llm/workers=1", 1, llm},
		{"llm/workers=3", 3, llm},
		{"offline/workers=1", 1, offline},
		{"offline/workers=2", 2, offline},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var procs []*proc
			for i := range bc.workers {
				args := append([]string{"--data", data, "worker", "--db", dsn, "--metrics-addr", "127.0.0.1:0", "--log-format", "text"}, bc.args...)
				p, _ := start(b, dir, fmt.Sprintf("%s-%d", bc.name[:3], i), ready, args...)
				procs = append(procs, p)
			}
			var docs []*store.Document
			for i := range b.N {
				docs = append(docs, &store.Document{Source: "text", Text: fmt.Sprintf("Note %d. Assessment: Essential hypertension. Plan: review in clinic.", i)})
			}
			batch := store.NewBatchID()
			b.ResetTimer()
			t0 := time.Now()
			if err := q.Enqueue(ctx, store.Actor{Tenant: "bench", Name: "bench"}, docs, nil, batch); err != nil {
				b.Fatal(err)
			}
			for {
				counts, err := st.BatchCounts(ctx, "bench", batch)
				if err != nil {
					b.Fatal(err)
				}
				if counts[store.StatusFailed] > 0 {
					b.Fatalf("%d notes failed", counts[store.StatusFailed])
				}
				if counts[store.StatusCoded] == b.N {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			elapsed := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "notes/s")
			b.ReportMetric(0, "ns/op")
			for _, p := range procs {
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			for _, p := range procs {
				p.cmd.Wait()
			}
		})
	}
}
