package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// DB returns the database handle, for a job queue that writes its jobs in
// the store's transactions (EnqueueDocuments, CompleteCoding).
func (s *Store) DB() *sql.DB { return s.db }

// TxFunc runs in a transaction of the store, beside the change it makes:
// a job queue inserts or completes its job in it, so that the job and the
// change commit together or not at all.
type TxFunc func(ctx context.Context, tx *sql.Tx) error

// EnqueueDocuments stores new documents to be coded later, status
// "queued", each with its audit entry, and calls enqueue in the same
// transaction: a job queue inserts their jobs there, so that no document
// is stored without its job nor a job without its document. It fills in
// the IDs, hash, status and times; batch, when not "", is the batch of
// all of them.
func (s *Store) EnqueueDocuments(ctx context.Context, actor Actor, docs []*Document, batch string, enqueue TxFunc) error {
	for _, d := range docs {
		s.newDocument(actor, d, StatusQueued, batch)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for _, d := range docs {
			if err := s.insertDocument(ctx, tx, actor, d); err != nil {
				return err
			}
		}
		return enqueue(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("store %d queued documents: %w", len(docs), err)
	}
	return nil
}

// EnqueueDocumentOnce is EnqueueDocuments of one document, recording key
// with it: when the tenant used key already, it stores nothing and
// returns an error wrapping ErrKeyReused, and Idempotent names the
// document the key created.
func (s *Store) EnqueueDocumentOnce(ctx context.Context, actor Actor, key Idempotency, d *Document, enqueue TxFunc) error {
	if key.Key == "" || len(key.Key) > MaxIdempotencyKey {
		return fmt.Errorf("store queued document: an idempotency key of %d bytes (1-%d)", len(key.Key), MaxIdempotencyKey)
	}
	s.newDocument(actor, d, StatusQueued, "")
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertDocument(ctx, tx, actor, d); err != nil {
			return err
		}
		if err := s.insertIdempotency(ctx, tx, key, d); err != nil {
			return err
		}
		return enqueue(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("store queued document: %w", err)
	}
	return nil
}

// MarkCoding records that a worker has started coding the queued
// document id of tenant. A document coded already is left alone.
func (s *Store) MarkCoding(ctx context.Context, tenant, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`UPDATE documents SET status = ?, updated_at = ? WHERE id = ? AND tenant = ? AND status IN (?, ?, ?)`),
			StatusCoding, micros(s.now()), id, tenant, StatusQueued, StatusCoding, StatusFailed)
		return err
	})
	if err != nil {
		return fmt.Errorf("mark %s coding: %w", id, err)
	}
	return nil
}

// CodingFailed records that an attempt to code the queued document id
// failed with msg: the document is queued again for the next attempt, or,
// when final, "failed", keeping msg as its error. The audit log records
// each failed attempt. A document coded already is left alone.
func (s *Store) CodingFailed(ctx context.Context, actor Actor, id string, attempt int, msg string, final bool) error {
	status := StatusQueued
	if final {
		status = StatusFailed
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE documents SET status = ?, coding_error = ?, updated_at = ? WHERE id = ? AND tenant = ? AND status IN (?, ?, ?)`),
			status, msg, micros(s.now()), id, actor.Tenant, StatusQueued, StatusCoding, StatusFailed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit(ctx, tx, actor, id, "coding.fail", "", nil, map[string]any{"attempt": attempt, "error": msg, "final": final})
	})
	if err != nil {
		return fmt.Errorf("record failed coding of %s: %w", id, err)
	}
	return nil
}

// CompleteCoding stores the run a worker made of the queued document id
// and its codes, with their audit entries, and calls complete in the same
// transaction: the job queue marks the job done there, so that the run
// and the job's completion commit together. The codes are merged as
// AddRun merges them. When the document has a run already (an earlier
// attempt of the job committed, or another worker's), nothing is stored,
// complete still runs, and stored is false: coding a document twice never
// adds a second run nor touches a decision.
func (s *Store) CompleteCoding(ctx context.Context, actor Actor, id string, run *Run, codes []*Code, complete TxFunc) (stored bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		stored = false
		d, err := s.lockDocument(ctx, tx, actor.Tenant, id)
		if err != nil {
			return err
		}
		var runs int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM runs WHERE document_id = ?`), id).Scan(&runs); err != nil {
			return err
		}
		if runs == 0 {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE documents SET coding_error = '' WHERE id = ?`), id); err != nil {
				return err
			}
			if err := s.addRun(ctx, tx, actor, d, run, codes); err != nil {
				return err
			}
			stored = true
		}
		return complete(ctx, tx)
	})
	if err != nil {
		return false, fmt.Errorf("store coding of %s: %w", id, err)
	}
	return stored, nil
}

// BatchCounts returns how many documents of the batch of tenant are in
// each status.
func (s *Store) BatchCounts(ctx context.Context, tenant, batch string) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT status, COUNT(*) FROM documents WHERE tenant = ? AND batch_id = ? AND batch_id <> '' GROUP BY status`), tenant, batch)
	if err != nil {
		return nil, fmt.Errorf("count batch %s: %w", batch, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, fmt.Errorf("count batch %s: %w", batch, err)
		}
		out[status] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count batch %s: %w", batch, err)
	}
	return out, nil
}

// NewBatchID returns a new batch identifier.
func NewBatchID() string { return newID("batch_") }

// DocumentStatus returns the status of the document id of tenant.
func (s *Store) DocumentStatus(ctx context.Context, tenant, id string) (string, error) {
	var status string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT status FROM documents WHERE id = ? AND tenant = ?`), id, tenant).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("status of document %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("status of document %s: %w", id, err)
	}
	return status, nil
}

// RedactError returns err with the password of dsn taken out of its
// message, for errors of a driver that may quote the connection string.
func RedactError(err error, dsn string) error { return redactErr(err, dsn) }
