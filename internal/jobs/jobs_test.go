package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/pgtest"
	"github.com/medcode-dev/medcode/internal/store"
)

// wordCoder codes each occurrence of a word with one code, and fails
// while its failures last.
type wordCoder struct {
	word, code string
	failures   atomic.Int64
	calls      atomic.Int64
}

func (c *wordCoder) CodeDocument(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
	c.calls.Add(1)
	if c.failures.Add(-1) >= 0 {
		return nil, nil, errors.New("the model did not answer")
	}
	var codes []coding.Code
	for off := 0; ; {
		i := strings.Index(req.Text[off:], c.word)
		if i < 0 {
			break
		}
		s := off + i
		codes = append(codes, coding.Code{Code: c.code, System: codesys.ICD10CM, Kind: coding.Diagnosis,
			Evidence: []coding.Evidence{{Start: s, End: s + len(c.word), Text: c.word}}})
		off = s + len(c.word)
	}
	return &store.Run{Reasoner: "word-test", Setting: req.Setting}, store.FromResult(codes, nil), nil
}

type backend struct {
	name string
	open func(t *testing.T) (*store.Store, string)
}

var backends = []backend{
	{"sqlite", func(t *testing.T) (*store.Store, string) {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "medcode.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st, ""
	}},
	{"postgres", func(t *testing.T) (*store.Store, string) {
		dsn := pgtest.DSN(t)
		st, err := store.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st, dsn
	}},
}

func startQueue(t *testing.T, st *store.Store, cfg jobs.Config) *jobs.Queue {
	t.Helper()
	ctx := context.Background()
	q, err := jobs.Open(ctx, st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		q.Stop(sctx)
	})
	return q
}

// waitSettled waits until no document of ids is queued or coding.
func waitSettled(t *testing.T, st *store.Store, tenant string, ids []string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, id := range ids {
		for {
			s, err := st.DocumentStatus(context.Background(), tenant, id)
			if err != nil {
				t.Fatal(err)
			}
			if s != store.StatusQueued && s != store.StatusCoding {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("document %s still %s after %s", id, s, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestQueueCodesEachDocumentOnce: documents enqueued are coded by the
// workers, each once: one run, its codes once, and its audit entries.
// The first attempts fail, and are retried.
func TestQueueCodesEachDocumentOnce(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, dsn := b.open(t)
			coder := &wordCoder{word: "hypertension", code: "I10"}
			coder.failures.Store(3)
			q := startQueue(t, st, jobs.Config{DSN: dsn, Coder: coder, Concurrency: 4, RetryBackoff: 10 * time.Millisecond})
			actor := store.Actor{Tenant: "north", Name: "alice"}
			var docs []*store.Document
			for i := range 40 {
				docs = append(docs, &store.Document{Source: "text", Text: fmt.Sprintf("Note %d. Essential hypertension; hypertension again.", i)})
			}
			ctx := context.Background()
			if err := q.Enqueue(ctx, actor, docs[:10], nil, ""); err != nil {
				t.Fatal(err)
			}
			batch := store.NewBatchID()
			if err := q.Enqueue(ctx, actor, docs[10:], nil, batch); err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(docs))
			for i, d := range docs {
				if d.Status != store.StatusQueued {
					t.Errorf("enqueued document %s is %s, want queued", d.ID, d.Status)
				}
				ids[i] = d.ID
			}
			waitSettled(t, st, "north", ids, time.Minute)
			for _, id := range ids {
				d, err := st.GetDocument(ctx, "north", id)
				if err != nil {
					t.Fatal(err)
				}
				if d.Status != store.StatusCoded || len(d.Runs) != 1 || len(d.Codes) != 1 || d.Codes[0].Code != "I10" || d.Error != "" {
					t.Errorf("document %s: status %s, %d runs, %d codes, error %q; want coded, 1 run, the code once", id, d.Status, len(d.Runs), len(d.Codes), d.Error)
				}
				entries, err := st.Audit(ctx, "north", store.AuditFilter{DocumentID: id})
				if err != nil {
					t.Fatal(err)
				}
				actions := map[string]int{}
				for _, e := range entries {
					actions[e.Action]++
				}
				if actions["document.create"] != 1 || actions["coding.run"] != 1 {
					t.Errorf("document %s: audit %v, want one document.create and one coding.run", id, actions)
				}
			}
			counts, err := st.BatchCounts(ctx, "north", batch)
			if err != nil {
				t.Fatal(err)
			}
			if counts[store.StatusCoded] != 30 || len(counts) != 1 {
				t.Errorf("batch counts %v, want 30 coded", counts)
			}
			if n := coder.calls.Load(); n != int64(len(docs))+3 {
				t.Errorf("the coder was called %d times for %d documents and 3 failures", n, len(docs))
			}
		})
	}
}

// TestQueueFailsAfterAttempts: a document whose coding always fails is
// "failed" after the last attempt, with the error, and the audit log has
// each attempt.
func TestQueueFailsAfterAttempts(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, dsn := b.open(t)
			coder := &wordCoder{word: "hypertension", code: "I10"}
			coder.failures.Store(1 << 30)
			q := startQueue(t, st, jobs.Config{DSN: dsn, Coder: coder, Concurrency: 2, MaxAttempts: 3, RetryBackoff: 10 * time.Millisecond})
			ctx := context.Background()
			actor := store.Actor{Tenant: "north", Name: "alice"}
			d := &store.Document{Source: "text", Text: "Essential hypertension."}
			if err := q.Enqueue(ctx, actor, []*store.Document{d}, nil, ""); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(time.Minute)
			for {
				got, err := st.GetDocument(ctx, "north", d.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status == store.StatusFailed {
					if !strings.Contains(got.Error, "attempt 3 of 3") || !strings.Contains(got.Error, "the model did not answer") || len(got.Runs) != 0 {
						t.Errorf("failed document: error %q, %d runs", got.Error, len(got.Runs))
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("document still %s (%q) after a minute", got.Status, got.Error)
				}
				time.Sleep(20 * time.Millisecond)
			}
			entries, err := st.Audit(ctx, "north", store.AuditFilter{DocumentID: d.ID})
			if err != nil {
				t.Fatal(err)
			}
			fails := 0
			for _, e := range entries {
				if e.Action == "coding.fail" {
					fails++
				}
			}
			if fails != 3 {
				t.Errorf("%d coding.fail audit entries, want 3", fails)
			}
		})
	}
}

// blockingCoder codes nothing until its context ends.
type blockingCoder struct{ started chan string }

func (c *blockingCoder) CodeDocument(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
	c.started <- req.ID
	<-ctx.Done()
	return nil, nil, ctx.Err()
}

// TestStopReleasesJobs: a worker stopping with a job in hand waits for it
// until its grace ends, then cancels it; the document is queued again,
// and the next worker codes it, once.
func TestStopReleasesJobs(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			st, dsn := b.open(t)
			ctx := context.Background()
			blocked := &blockingCoder{started: make(chan string, 1)}
			q, err := jobs.Open(ctx, st, jobs.Config{DSN: dsn, Coder: blocked, Concurrency: 1, RetryBackoff: 10 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				t.Fatal(err)
			}
			actor := store.Actor{Tenant: "north", Name: "alice"}
			d := &store.Document{Source: "text", Text: "Essential hypertension."}
			if err := q.Enqueue(ctx, actor, []*store.Document{d}, nil, ""); err != nil {
				t.Fatal(err)
			}
			select {
			case <-blocked.started:
			case <-time.After(time.Minute):
				t.Fatal("the job did not start")
			}
			if s, _ := st.DocumentStatus(ctx, "north", d.ID); s != store.StatusCoding {
				t.Errorf("document %s while its job runs, want coding", s)
			}
			sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			err = q.Stop(sctx)
			cancel()
			if err != nil {
				t.Fatalf("stop: %v", err)
			}
			got, err := st.GetDocument(ctx, "north", d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.StatusQueued || !strings.Contains(got.Error, "the worker stopped") || len(got.Runs) != 0 {
				t.Errorf("after the stop: %s, error %q, %d runs; want queued again", got.Status, got.Error, len(got.Runs))
			}
			coder := &wordCoder{word: "hypertension", code: "I10"}
			startQueue(t, st, jobs.Config{DSN: dsn, Coder: coder, Concurrency: 1, RetryBackoff: 10 * time.Millisecond})
			waitSettled(t, st, "north", []string{d.ID}, time.Minute)
			got, err = st.GetDocument(ctx, "north", d.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.StatusCoded || len(got.Runs) != 1 || len(got.Codes) != 1 || got.Error != "" {
				t.Errorf("after the next worker: %s, %d runs, %d codes, error %q", got.Status, len(got.Runs), len(got.Codes), got.Error)
			}
		})
	}
}
