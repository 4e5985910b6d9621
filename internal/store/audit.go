package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// AuditEntry is one entry of the append-only audit log: who did what to
// which document and code, when, with the state before and after.
type AuditEntry struct {
	Seq        int64     `json:"seq"`
	Tenant     string    `json:"tenant"`
	DocumentID string    `json:"documentId,omitempty"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	// TokenID is the token that made the change; empty for a change made
	// from the command line, and in entries written before it was kept.
	TokenID string          `json:"tokenId,omitempty"`
	Action  string          `json:"action"`
	CodeID  string          `json:"codeId,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
}

// audit appends an entry in the transaction of the change it records.
func (s *Store) audit(ctx context.Context, tx *sql.Tx, actor Actor, docID, action, codeID string, before, after any) error {
	enc := func(v any) (string, error) {
		if v == nil {
			return "", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	b, err := enc(before)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	a, err := enc(after)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO audit (tenant, document_id, at, actor, token_id, action, code_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		actor.Tenant, docID, micros(s.now()), actor.Name, actor.TokenID, action, codeID, b, a)
	if err != nil {
		return fmt.Errorf("audit %s: %w", action, err)
	}
	return nil
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	// DocumentID restricts the log to one document.
	DocumentID string
	// After continues a listing after the entry with this sequence number.
	After int64
	Limit int
}

// Audit returns the audit entries of tenant in the order they were
// written.
func (s *Store) Audit(ctx context.Context, tenant string, f AuditFilter) ([]*AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = 200
	}
	f.Limit = min(f.Limit, 1000)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT seq, tenant, document_id, at, actor, token_id, action, code_id, before, after FROM audit
		WHERE tenant = ? AND (? = '' OR document_id = ?) AND seq > ? ORDER BY seq LIMIT `+fmt.Sprint(f.Limit)),
		tenant, f.DocumentID, f.DocumentID, f.After)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	out := []*AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var before, after string
		if err := rows.Scan(&e.Seq, &e.Tenant, &e.DocumentID, &at, &e.Actor, &e.TokenID, &e.Action, &e.CodeID, &before, &after); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		e.At = fromMicros(at)
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, &e)
	}
	return out, rows.Err()
}
