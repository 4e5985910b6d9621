package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/store"
)

// Enqueuer stores documents, each with a job to code it, in one
// transaction (internal/jobs). Workers code them later, with
// CodeDocument, and store the runs.
type Enqueuer interface {
	Enqueue(ctx context.Context, actor store.Actor, docs []*store.Document, systems []codesys.System, batch string) error
	// EnqueueOnce queues one document submitted with an Idempotency-Key,
	// recording the key with it; a key used already is store.ErrKeyReused.
	EnqueueOnce(ctx context.Context, actor store.Actor, key store.Idempotency, d *store.Document, systems []codesys.System) error
}

// maxWait bounds ?wait=: a caller that would wait longer should take the
// 202 and poll.
const maxWait = 5 * time.Minute

// submitMode reads how a submission wants its answer: synchronous (the
// default: coded at once, 201), or queued for a worker, answered 202 at
// once (?async=1, or Prefer: respond-async) or when coded within wait
// (?wait=DURATION, or Prefer: wait=SECONDS beside respond-async).
func (s *Server) submitMode(r *http.Request) (async bool, wait time.Duration, aerr *apiError) {
	q := r.URL.Query()
	if v := q.Get("async"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, 0, errorf(http.StatusBadRequest, "invalid_async", "async must be true or false (1 or 0)")
		}
		async = b
	}
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			p = strings.ToLower(strings.TrimSpace(p))
			switch {
			case p == "respond-async":
				async = true
			case strings.HasPrefix(p, "wait="):
				n, err := strconv.Atoi(strings.TrimPrefix(p, "wait="))
				if err == nil && n >= 0 {
					wait = time.Duration(n) * time.Second
				}
			}
		}
	}
	if !async {
		wait = 0
	}
	if v := q.Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxWait {
			return false, 0, errorf(http.StatusBadRequest, "invalid_wait", fmt.Sprintf("wait must be a duration from 0s to %s, such as 2s", maxWait))
		}
		async, wait = true, d
	}
	if async && s.cfg.Jobs == nil {
		return false, 0, errorf(http.StatusBadRequest, "async_unavailable", "this server has no job queue: submit without async or wait")
	}
	return async, min(wait, maxWait), nil
}

// enqueue stores d with its coding job and answers 202 with the queued
// document, or, when the job finishes within wait, 201 with the document
// as coded (or failed), as a synchronous submission is answered.
func (s *Server) enqueue(w http.ResponseWriter, r *http.Request, d *store.Document, systems []codesys.System, wait time.Duration, key *store.Idempotency) *apiError {
	tok := token(r)
	var err error
	if key != nil {
		err = s.cfg.Jobs.EnqueueOnce(r.Context(), tok.Actor(), *key, d, systems)
		if errors.Is(err, store.ErrKeyReused) {
			return s.replay(w, r, key.Key, key.RequestHash)
		}
	} else {
		err = s.cfg.Jobs.Enqueue(r.Context(), tok.Actor(), []*store.Document{d}, systems, "")
	}
	if err != nil {
		return s.internal(r, "queue document", err)
	}
	w.Header().Set("Location", "/v1/documents/"+d.ID)
	if wait > 0 {
		done, err := s.waitCoded(r.Context(), tok.Tenant, d.ID, wait)
		if err != nil {
			return s.internal(r, "wait for coding", err)
		}
		if done != nil {
			writeJSON(w, http.StatusCreated, done)
			return nil
		}
	}
	d.Text = ""
	writeJSON(w, http.StatusAccepted, d)
	return nil
}

// waitCoded polls the store until the document's job is done (the
// document coded or failed) and returns it, or returns nil when wait
// passes first. Polling the store, not a signal of the worker, works
// whichever process codes the document.
func (s *Server) waitCoded(ctx context.Context, tenant, id string, wait time.Duration) (*store.Document, error) {
	deadline := time.Now().Add(wait)
	pause := 10 * time.Millisecond
	for {
		status, err := s.cfg.Store.DocumentStatus(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if status != store.StatusQueued && status != store.StatusCoding {
			return s.cfg.Store.GetDocument(ctx, tenant, id)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			// The request's own timeout ends the wait, not the request:
			// the document is queued and the answer says so.
			return nil, nil
		case <-t.C:
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// batch reports how many documents of a batch are in each status.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	counts, err := s.cfg.Store.BatchCounts(r.Context(), token(r).Tenant, id)
	if err != nil {
		return s.internal(r, "batch", err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return errorf(http.StatusNotFound, "not_found", "batch: not found")
	}
	writeJSON(w, http.StatusOK, BatchStatus(id, counts))
	return nil
}

// Batch is the progress of a batch of queued documents.
type Batch struct {
	ID    string `json:"id"`
	Total int    `json:"total"`
	// Counts are the documents in each status.
	Counts map[string]int `json:"counts"`
	// Done are the documents coded (in review or reviewed since), Failed
	// those whose attempts are spent, Pending the rest.
	Done    int `json:"done"`
	Failed  int `json:"failed"`
	Pending int `json:"pending"`
}

// BatchStatus sums the counts per status of a batch.
func BatchStatus(id string, counts map[string]int) Batch {
	b := Batch{ID: id, Counts: counts}
	for status, n := range counts {
		b.Total += n
		switch status {
		case store.StatusQueued, store.StatusCoding:
			b.Pending += n
		case store.StatusFailed:
			b.Failed += n
		default:
			b.Done += n
		}
	}
	return b
}
