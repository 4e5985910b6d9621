package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/store"
)

// lateQueue is the server's Enqueuer before the queue, whose workers code
// with the server, is open.
type lateQueue struct{ q *jobs.Queue }

func (l *lateQueue) Enqueue(ctx context.Context, actor store.Actor, docs []*store.Document, systems []codesys.System, batch string) error {
	return l.q.Enqueue(ctx, actor, docs, systems, batch)
}

func (l *lateQueue) EnqueueOnce(ctx context.Context, actor store.Actor, key store.Idempotency, d *store.Document, systems []codesys.System) error {
	return l.q.EnqueueOnce(ctx, actor, key, d, systems)
}

// TestAsyncIdempotencyKey: a queued submission retried with its
// Idempotency-Key finds the document the first one queued; no second
// document or job is stored.
func TestAsyncIdempotencyKey(t *testing.T) {
	e := newQueueEnv(t)
	submit := func(key string, out any) (int, http.Header) {
		t.Helper()
		req, _ := http.NewRequest("POST", e.url+"/v1/documents?async=1", strings.NewReader(`{"text": "Assessment: pneumonia."}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens["north/coder"])
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(out)
		return resp.StatusCode, resp.Header
	}
	var first, again store.Document
	if code, _ := submit("q-1", &first); code != http.StatusAccepted || first.ID == "" {
		t.Fatalf("first: %d %q, want 202 with a document", code, first.ID)
	}
	code, h := submit("q-1", &again)
	if code != http.StatusOK || again.ID != first.ID || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %q, want 200 with %s replayed", code, again.ID, first.ID)
	}
	var list struct{ Documents []store.Document }
	e.do("north/coder", "GET", "/v1/documents", nil, &list)
	if len(list.Documents) != 1 {
		t.Fatalf("%d documents after a retry, want 1", len(list.Documents))
	}
}

// newQueueEnv is a server over SQLite with its workers in-process, as
// medcode serve runs by default.
func newQueueEnv(t *testing.T) *env {
	t.Helper()
	late := &lateQueue{}
	e := newEnv(t, Config{Jobs: late})
	ctx := context.Background()
	q, err := jobs.Open(ctx, e.st, jobs.Config{Coder: e.srv, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	late.q = q
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		q.Stop(sctx)
	})
	return e
}

// TestSubmitModes: a submission is coded at once by default (201, in
// the request, even with a queue), queued with ?async=1 or Prefer: respond-async (202,
// then coded by a worker as a synchronous one is), and answered coded
// with ?wait= when the worker is quick enough.
func TestSubmitModes(t *testing.T) {
	e := newQueueEnv(t)
	note := map[string]any{"text": "Assessment: pneumonia. Essential hypertension."}
	var sync store.Document
	if code := e.do("north/coder", "POST", "/v1/documents", note, &sync); code != http.StatusCreated || sync.Status != store.StatusCoded || len(sync.Codes) != 2 {
		t.Fatalf("synchronous submission: %d, %s with %d codes", code, sync.Status, len(sync.Codes))
	}

	for _, tt := range []struct {
		name, query, prefer string
	}{
		{"async", "?async=1", ""},
		{"prefer", "", "respond-async"},
		{"wait zero", "?wait=0s", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.url+"/v1/documents"+tt.query, strings.NewReader(`{"text": "Assessment: pneumonia. Essential hypertension."}`))
			req.Header.Set("Authorization", "Bearer "+e.tokens["north/coder"])
			req.Header.Set("Content-Type", "application/json")
			if tt.prefer != "" {
				req.Header.Set("Prefer", tt.prefer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				t.Fatalf("status %d, want 202", resp.StatusCode)
			}
			loc := resp.Header.Get("Location")
			var d store.Document
			waitFor(t, func() bool {
				e.do("north/coder", "GET", loc, nil, &d)
				return d.Status == store.StatusCoded
			})
			if len(d.Codes) != len(sync.Codes) || len(d.Runs) != 1 || d.Runs[0].Actor != "north-coder" {
				t.Errorf("queued document coded with %d codes and %d runs by %q; the synchronous one has %d codes", len(d.Codes), len(d.Runs), d.Runs[0].Actor, len(sync.Codes))
			}
			for i, c := range d.Codes {
				if c.Code != sync.Codes[i].Code || len(c.Evidence) != len(sync.Codes[i].Evidence) {
					t.Errorf("code %d: %s, synchronously %s", i, c.Code, sync.Codes[i].Code)
				}
			}
		})
	}

	var waited store.Document
	if code := e.do("north/coder", "POST", "/v1/documents?wait=30s", note, &waited); code != http.StatusCreated || waited.Status != store.StatusCoded || len(waited.Codes) != 2 {
		t.Errorf("?wait=30s: %d, %s with %d codes; want 201, coded", code, waited.Status, len(waited.Codes))
	}

	for _, q := range []string{"?wait=forever", "?wait=-1s", "?wait=1h", "?async=maybe"} {
		var eb errBody
		if code := e.do("north/coder", "POST", "/v1/documents"+q, note, &eb); code != http.StatusBadRequest {
			t.Errorf("%s: %d %+v, want 400", q, code, eb)
		}
	}
	var listed struct{ Documents []store.Document }
	if code := e.do("north/coder", "GET", "/v1/documents?status=queued", nil, &listed); code != http.StatusOK {
		t.Errorf("listing the queued documents: %d", code)
	}
}

// TestAsyncWithoutQueue: a server with no job queue refuses to queue, and
// stores nothing.
func TestAsyncWithoutQueue(t *testing.T) {
	e := newEnv(t, Config{})
	var eb errBody
	if code := e.do("north/coder", "POST", "/v1/documents?async=1", map[string]any{"text": "Pneumonia."}, &eb); code != http.StatusBadRequest || eb.Error.Code != "async_unavailable" {
		t.Errorf("async without a queue: %d %+v", code, eb)
	}
	docs, err := e.st.ListDocuments(context.Background(), "north", store.Filter{})
	if err != nil || len(docs) != 0 {
		t.Errorf("%d documents stored, %v", len(docs), err)
	}
}

// TestBatchStatus: GET /v1/batches/{id} counts a batch's documents by
// status, within the token's tenant.
func TestBatchStatus(t *testing.T) {
	e := newQueueEnv(t)
	ctx := context.Background()
	var docs []*store.Document
	for range 5 {
		docs = append(docs, &store.Document{Source: "text", Text: "Essential hypertension."})
	}
	q := e.srv.cfg.Jobs
	if err := q.Enqueue(ctx, store.Actor{Tenant: "north", Name: "submit"}, docs, nil, "batch_x"); err != nil {
		t.Fatal(err)
	}
	var b Batch
	waitFor(t, func() bool {
		e.do("north/auditor", "GET", "/v1/batches/batch_x", nil, &b)
		return b.Done == 5
	})
	if b.Total != 5 || b.Pending != 0 || b.Failed != 0 || b.Counts[store.StatusCoded] != 5 {
		t.Errorf("batch %+v", b)
	}
	var eb errBody
	if code := e.do("south/auditor", "GET", "/v1/batches/batch_x", nil, &eb); code != http.StatusNotFound {
		t.Errorf("another tenant's batch: %d, want 404", code)
	}
	if code := e.do("north/auditor", "GET", "/v1/batches/batch_none", nil, &eb); code != http.StatusNotFound {
		t.Errorf("no such batch: %d, want 404", code)
	}
}
