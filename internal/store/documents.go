package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// Document statuses: a document is "coded" while no code has been decided,
// "in_review" while some codes are pending, and "reviewed" when every
// code is decided. A document submitted to a job queue is "queued" until
// a worker takes it, "coding" while one codes it, and "failed" when its
// attempts are spent, with the error.
const (
	StatusCoded    = "coded"
	StatusInReview = "in_review"
	StatusReviewed = "reviewed"
	StatusQueued   = "queued"
	StatusCoding   = "coding"
	StatusFailed   = "failed"
)

// Code statuses.
const (
	CodePending  = "pending"
	CodeAccepted = "accepted"
	CodeRejected = "rejected"
	CodeReplaced = "replaced"
	// CodeSuperseded marks a pending code of an earlier run when the
	// document is coded again.
	CodeSuperseded = "superseded"
)

// Code origins.
const (
	OriginEngine      = "engine"      // proposed by a reasoner
	OriginCoder       = "coder"       // added by a coder
	OriginReplacement = "replacement" // a coder's replacement for an engine code
)

// Document is a note submitted for coding, with its codes and runs when
// read with GetDocument.
type Document struct {
	ID     string `json:"id"`
	Tenant string `json:"tenant"`
	// Source says how the note came: "text" or "fhir".
	Source     string `json:"source"`
	ExternalID string `json:"externalId,omitempty"`
	// Subject is the FHIR subject reference, e.g. "Patient/123".
	Subject string `json:"subject,omitempty"`
	// Hash is the SHA-256 of Text, hex.
	Hash string `json:"hash"`
	Text string `json:"text,omitempty"`
	// Preview is the note's first line that is not blank, cut at
	// PreviewLen characters: a listing's stand-in for the text.
	Preview string         `json:"preview,omitempty"`
	Setting coding.Setting `json:"setting"`
	Status  string         `json:"status"`
	// Coder is the name of the token that submitted the document.
	Coder   string    `json:"coder"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Error is why the last coding of a queued document failed.
	Error string `json:"error,omitempty"`
	// Batch is the batch the document was submitted in, if any.
	Batch string `json:"batch,omitempty"`

	Codes []*Code `json:"codes,omitempty"`
	Runs  []*Run  `json:"runs,omitempty"`
}

// Run is one coding of a document by a reasoner.
type Run struct {
	ID       string         `json:"id"`
	Reasoner string         `json:"reasoner"`
	Model    string         `json:"model,omitempty"`
	Releases []string       `json:"releases"`
	Setting  coding.Setting `json:"setting"`
	Started  time.Time      `json:"started"`
	Duration time.Duration  `json:"duration"`
	Usage    coding.Usage   `json:"usage"`
	// CodeCount is the number of codes the run proposed.
	CodeCount int    `json:"codeCount"`
	Actor     string `json:"actor"`
	// Dropped, Queries and Warnings are the rest of the reasoner's trail.
	Dropped  []coding.Code  `json:"dropped,omitempty"`
	Queries  []coding.Query `json:"queries,omitempty"`
	Warnings []string       `json:"warnings,omitempty"`
	// PromptVersion and Transcript are an LLM reasoner's: the wording of
	// its prompts and its full record of messages and tool calls, the
	// reasoning trail an auditor reads.
	PromptVersion string          `json:"promptVersion,omitempty"`
	Transcript    json.RawMessage `json:"transcript,omitempty"`
}

// runExtra is what a run keeps in its extra column (JSON): fields added
// here need no migration, and rows written before them read as empty.
type runExtra struct {
	Dropped       []coding.Code   `json:"dropped,omitempty"`
	Queries       []coding.Query  `json:"queries,omitempty"`
	Warnings      []string        `json:"warnings,omitempty"`
	PromptVersion string          `json:"promptVersion,omitempty"`
	Transcript    json.RawMessage `json:"transcript,omitempty"`
	Cost          float64         `json:"cost,omitempty"`
}

// Code is a code of a document with its evidence and review state.
type Code struct {
	ID         string            `json:"id"`
	RunID      string            `json:"runId,omitempty"`
	Code       string            `json:"code"`
	System     codesys.System    `json:"system"`
	Kind       coding.Kind       `json:"kind"`
	Title      string            `json:"title"`
	Evidence   []coding.Evidence `json:"evidence"`
	Assertion  coding.Assertion  `json:"assertion,omitempty"`
	Trail      []coding.Step     `json:"trail,omitempty"`
	Confidence float64           `json:"confidence"`
	// Warnings are validation warnings, e.g. "I25 is a header".
	Warnings []string `json:"warnings,omitempty"`
	Origin   string   `json:"origin"`
	Status   string   `json:"status"`
	// Reason is the coder's reason for a rejection.
	Reason     string    `json:"reason,omitempty"`
	Replaces   string    `json:"replaces,omitempty"`
	ReplacedBy string    `json:"replacedBy,omitempty"`
	DecidedBy  string    `json:"decidedBy,omitempty"`
	DecidedAt  time.Time `json:"decidedAt,omitzero"`
}

// FromResult turns a reasoner's codes into store codes, pending review,
// with the validation warnings given per index.
func FromResult(codes []coding.Code, warnings [][]string) []*Code {
	out := make([]*Code, len(codes))
	for i, c := range codes {
		out[i] = &Code{Code: c.Code, System: c.System, Kind: c.Kind, Title: c.Title, Evidence: c.Evidence,
			Assertion: c.Assertion, Trail: c.Trail, Confidence: c.Confidence, Origin: OriginEngine, Status: CodePending}
		if i < len(warnings) {
			out[i].Warnings = warnings[i]
		}
	}
	return out
}

// HashText returns the hex SHA-256 of a note.
func HashText(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:])
}

// CreateDocument stores a new document, the coding run that coded it and
// its codes, with their audit entries, in one transaction. It fills in the
// IDs, hash, status and times.
func (s *Store) CreateDocument(ctx context.Context, actor Actor, d *Document, run *Run, codes []*Code) error {
	return s.createDocument(ctx, actor, nil, d, run, codes)
}

// MaxIdempotencyKey is the longest Idempotency-Key the store keeps.
const MaxIdempotencyKey = 255

// Idempotency is a client's key for one submission and a hash of what it
// submitted, so that a retry finds the document the first one created.
type Idempotency struct {
	Key         string
	RequestHash string
}

// ErrKeyReused is the error of a submission whose idempotency key the
// tenant used already.
var ErrKeyReused = errors.New("idempotency key used already")

// CreateDocumentOnce is CreateDocument recording key with the document.
// When the tenant used key already, it stores nothing and returns an error
// wrapping ErrKeyReused; Idempotent then names the document.
func (s *Store) CreateDocumentOnce(ctx context.Context, actor Actor, key Idempotency, d *Document, run *Run, codes []*Code) error {
	if key.Key == "" || len(key.Key) > MaxIdempotencyKey {
		return fmt.Errorf("store document: an idempotency key of %d bytes (1-%d)", len(key.Key), MaxIdempotencyKey)
	}
	return s.createDocument(ctx, actor, &key, d, run, codes)
}

// Idempotent returns the ID of the document the tenant's submission with
// key created and the hash of that submission, or ErrNotFound.
func (s *Store) Idempotent(ctx context.Context, tenant, key string) (docID, requestHash string, err error) {
	err = s.db.QueryRowContext(ctx, s.q(`SELECT document_id, request_hash FROM idempotency_keys WHERE tenant = ? AND key = ?`), tenant, key).
		Scan(&docID, &requestHash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("read idempotency key: %w", err)
	}
	return docID, requestHash, nil
}

func (s *Store) createDocument(ctx context.Context, actor Actor, key *Idempotency, d *Document, run *Run, codes []*Code) error {
	s.newDocument(actor, d, StatusCoded, "")
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.insertDocument(ctx, tx, actor, d); err != nil {
			return err
		}
		if key != nil {
			if err := s.insertIdempotency(ctx, tx, *key, d); err != nil {
				return err
			}
		}
		return s.insertRun(ctx, tx, actor, d, run, codes, 0)
	})
	if err != nil {
		return fmt.Errorf("store document: %w", err)
	}
	d.Codes, d.Runs = codes, []*Run{run}
	return nil
}

// insertIdempotency records key as the one that created d, in tx; a key
// the tenant used already is ErrKeyReused.
func (s *Store) insertIdempotency(ctx context.Context, tx *sql.Tx, key Idempotency, d *Document) error {
	var used int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM idempotency_keys WHERE tenant = ? AND key = ?`), d.Tenant, key.Key).Scan(&used); err != nil {
		return err
	}
	if used > 0 {
		return ErrKeyReused
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO idempotency_keys (tenant, key, request_hash, document_id, created_at) VALUES (?, ?, ?, ?, ?)`),
		d.Tenant, key.Key, key.RequestHash, d.ID, micros(d.Created))
	if uniqueViolation(err) {
		// A concurrent submission with the key committed first.
		return ErrKeyReused
	}
	return err
}

// newDocument fills in what the store gives a new document d of actor:
// its ID, tenant, hash, submitter, times, status and batch.
func (s *Store) newDocument(actor Actor, d *Document, status, batch string) {
	now := s.now().UTC().Truncate(time.Microsecond)
	d.ID, d.Tenant, d.Hash, d.Coder = newID("doc_"), actor.Tenant, HashText(d.Text), actor.Name
	d.Created, d.Updated, d.Status, d.Batch = now, now, status, batch
	if d.Setting == "" {
		d.Setting = coding.Inpatient
	}
}

// insertDocument writes the new document d and its audit entry in tx.
func (s *Store) insertDocument(ctx context.Context, tx *sql.Tx, actor Actor, d *Document) error {
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO documents (id, tenant, source, external_id, subject, hash, text, setting, status, coder, created_at, updated_at, batch_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		d.ID, d.Tenant, d.Source, d.ExternalID, d.Subject, d.Hash, d.Text, string(d.Setting), d.Status, d.Coder, micros(d.Created), micros(d.Updated), d.Batch)
	if err != nil {
		return err
	}
	summary := *d
	summary.Text = "" // the audit log records the hash, not the note
	return s.audit(ctx, tx, actor, d.ID, "document.create", "", nil, summary)
}

// AddRun stores another coding run of a document and merges its codes
// with the document's: the codes of earlier runs still pending are
// superseded, every decided code keeps its decision, and of the run's
// codes only those not already decided are added, pending. A code the
// coder accepted, rejected or replaced (or added, or chose as a
// replacement) is decided: proposing it again does not reopen it, so a
// reviewed document stays reviewed unless the run finds something new.
// The run keeps the count of the codes it proposed.
func (s *Store) AddRun(ctx context.Context, actor Actor, docID string, run *Run, codes []*Code) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := s.lockDocument(ctx, tx, actor.Tenant, docID)
		if err != nil {
			return err
		}
		return s.addRun(ctx, tx, actor, d, run, codes)
	})
	if err != nil {
		return fmt.Errorf("store run of %s: %w", docID, err)
	}
	return nil
}

// addRun is AddRun in the transaction tx, of the document d, locked.
func (s *Store) addRun(ctx context.Context, tx *sql.Tx, actor Actor, d *Document, run *Run, codes []*Code) error {
	live, err := s.codes(ctx, tx, d.ID, "")
	if err != nil {
		return err
	}
	decided := map[liveKey]bool{}
	for _, c := range live {
		if c.Status != CodePending {
			decided[keyOf(c)] = true
		}
	}
	proposed := len(codes)
	var fresh, kept []*Code
	for _, c := range codes {
		k := keyOf(c)
		if decided[k] {
			kept = append(kept, c)
			continue
		}
		// A reasoner may propose a code twice (two mentions): it is
		// one code to review.
		decided[k] = true
		fresh = append(fresh, c)
	}
	var seq int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(seq), 0) FROM codes WHERE document_id = ?`), d.ID).Scan(&seq); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE codes SET status = ? WHERE document_id = ? AND status = ?`), CodeSuperseded, d.ID, CodePending)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := s.audit(ctx, tx, actor, d.ID, "codes.supersede", "", nil, map[string]int64{"count": n}); err != nil {
			return err
		}
	}
	if err := s.insertRun(ctx, tx, actor, d, run, fresh, seq); err != nil {
		return err
	}
	run.CodeCount = proposed
	if _, err := tx.ExecContext(ctx, s.q(`UPDATE runs SET code_count = ? WHERE id = ?`), proposed, run.ID); err != nil {
		return err
	}
	if len(kept) > 0 {
		if err := s.audit(ctx, tx, actor, d.ID, "codes.keep", "", nil, map[string]any{"run": run.ID, "codes": codeList(kept)}); err != nil {
			return err
		}
	}
	return s.updateStatus(ctx, tx, d.ID)
}

// liveKey identifies a code within a document: the same code of the same
// classification is one code, whatever its evidence.
type liveKey struct {
	system codesys.System
	code   string
}

func keyOf(c *Code) liveKey {
	return liveKey{c.System, strings.ToUpper(strings.TrimSpace(c.Code))}
}

// lockDocument reads a document of tenant for a write that depends on its
// codes. On PostgreSQL it locks the document's row, so that two such
// writes (two coders adding the same code) run one after the other; the
// store already serializes SQLite's writers.
func (s *Store) lockDocument(ctx context.Context, tx *sql.Tx, tenant, id string) (*Document, error) {
	if s.backend == Postgres {
		var got string
		err := tx.QueryRowContext(ctx, s.q(`SELECT id FROM documents WHERE id = ? AND tenant = ? FOR UPDATE`), id, tenant).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("document %s: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.getDocument(ctx, tx, tenant, id, false)
}

func (s *Store) insertRun(ctx context.Context, tx *sql.Tx, actor Actor, d *Document, run *Run, codes []*Code, seq int) error {
	run.ID, run.Actor, run.CodeCount = newID("run_"), actor.Name, len(codes)
	if run.Started.IsZero() {
		run.Started = s.now()
	}
	run.Started = run.Started.UTC().Truncate(time.Microsecond)
	releases, _ := json.Marshal(nonNil(run.Releases))
	extra, err := json.Marshal(runExtra{Dropped: run.Dropped, Queries: run.Queries, Warnings: run.Warnings,
		PromptVersion: run.PromptVersion, Transcript: run.Transcript, Cost: run.Usage.Cost})
	if err != nil {
		return fmt.Errorf("run: encode trail: %w", err)
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO runs (id, document_id, reasoner, model, releases, setting, started_at, duration_us, calls, input_tokens, cached_tokens, output_tokens, code_count, extra, actor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		run.ID, d.ID, run.Reasoner, run.Model, string(releases), string(run.Setting), micros(run.Started), run.Duration.Microseconds(),
		run.Usage.Calls, run.Usage.InputTokens, run.Usage.CachedTokens, run.Usage.OutputTokens, run.CodeCount, string(extra), actor.Name)
	if err != nil {
		return err
	}
	for _, c := range codes {
		seq++
		c.RunID = run.ID
		if err := s.insertCode(ctx, tx, d.ID, seq, c); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, actor, d.ID, "coding.run", "", nil, map[string]any{
		"run": run.ID, "reasoner": run.Reasoner, "model": run.Model, "releases": run.Releases, "codes": codeList(codes)})
}

func codeList(codes []*Code) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = c.Code
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Store) insertCode(ctx context.Context, tx *sql.Tx, docID string, seq int, c *Code) error {
	if c.ID == "" {
		c.ID = newID("code_")
	}
	ev, _ := json.Marshal(nonNil(c.Evidence))
	trail, _ := json.Marshal(nonNil(c.Trail))
	warn, _ := json.Marshal(nonNil(c.Warnings))
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO codes (id, document_id, run_id, seq, code, system, kind, title, evidence, assertion, trail, confidence, warnings, origin, status, reason, replaces, replaced_by, decided_by, decided_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		c.ID, docID, c.RunID, seq, c.Code, string(c.System), string(c.Kind), c.Title, string(ev), string(c.Assertion), string(trail), c.Confidence, string(warn),
		c.Origin, c.Status, c.Reason, c.Replaces, c.ReplacedBy, c.DecidedBy, micros(c.DecidedAt))
	return err
}

// GetDocument returns a document of tenant with its codes (in reporting
// order, superseded codes left out) and runs.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (*Document, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: s.backend == Postgres})
	if err != nil {
		return nil, fmt.Errorf("read document %s: %w", id, err)
	}
	defer tx.Rollback()
	d, err := s.getDocument(ctx, tx, tenant, id, true)
	if err != nil {
		return nil, fmt.Errorf("read document %s: %w", id, err)
	}
	return d, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const docColumns = `id, tenant, source, external_id, subject, hash, text, setting, status, coder, created_at, updated_at, coding_error, batch_id`

// PreviewLen is the most characters of a document's preview.
const PreviewLen = 100

// preview returns the first line of text that is not blank, trimmed and
// cut at PreviewLen characters.
func preview(text string) string {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if r := []rune(line); len(r) > PreviewLen {
			line = strings.TrimSpace(string(r[:PreviewLen-1])) + "…"
		}
		return line
	}
	return ""
}

func scanDocument(sc interface{ Scan(...any) error }) (*Document, error) {
	var d Document
	var setting string
	var created, updated int64
	if err := sc.Scan(&d.ID, &d.Tenant, &d.Source, &d.ExternalID, &d.Subject, &d.Hash, &d.Text, &setting, &d.Status, &d.Coder, &created, &updated, &d.Error, &d.Batch); err != nil {
		return nil, err
	}
	d.Setting, d.Created, d.Updated = coding.Setting(setting), fromMicros(created), fromMicros(updated)
	return &d, nil
}

func (s *Store) getDocument(ctx context.Context, q querier, tenant, id string, full bool) (*Document, error) {
	d, err := scanDocument(q.QueryRowContext(ctx, s.q(`SELECT `+docColumns+` FROM documents WHERE id = ? AND tenant = ?`), id, tenant))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("document %s: %w", id, ErrNotFound)
	}
	if err != nil || !full {
		return d, err
	}
	if d.Codes, err = s.codes(ctx, q, id, ""); err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, s.q(`SELECT id, reasoner, model, releases, setting, started_at, duration_us, calls, input_tokens, cached_tokens, output_tokens, code_count, extra, actor
		FROM runs WHERE document_id = ? ORDER BY started_at, id`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Run
		var releases, setting, extra string
		var started, dur int64
		if err := rows.Scan(&r.ID, &r.Reasoner, &r.Model, &releases, &setting, &started, &dur, &r.Usage.Calls, &r.Usage.InputTokens,
			&r.Usage.CachedTokens, &r.Usage.OutputTokens, &r.CodeCount, &extra, &r.Actor); err != nil {
			return nil, err
		}
		r.Setting, r.Started, r.Duration = coding.Setting(setting), fromMicros(started), time.Duration(dur)*time.Microsecond
		r.Usage.Duration = r.Duration
		var x runExtra
		if err := json.Unmarshal([]byte(releases), &r.Releases); err != nil {
			return nil, fmt.Errorf("run %s: releases: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(extra), &x); err != nil {
			return nil, fmt.Errorf("run %s: %w", r.ID, err)
		}
		r.Dropped, r.Queries, r.Warnings = x.Dropped, x.Queries, x.Warnings
		r.PromptVersion, r.Transcript, r.Usage.Cost = x.PromptVersion, x.Transcript, x.Cost
		d.Runs = append(d.Runs, &r)
	}
	return d, rows.Err()
}

const codeColumns = `id, run_id, code, system, kind, title, evidence, assertion, trail, confidence, warnings, origin, status, reason, replaces, replaced_by, decided_by, decided_at`

func scanCode(sc interface{ Scan(...any) error }) (*Code, error) {
	var c Code
	var system, kind, ev, assertion, trail, warn string
	var decided int64
	if err := sc.Scan(&c.ID, &c.RunID, &c.Code, &system, &kind, &c.Title, &ev, &assertion, &trail, &c.Confidence, &warn,
		&c.Origin, &c.Status, &c.Reason, &c.Replaces, &c.ReplacedBy, &c.DecidedBy, &decided); err != nil {
		return nil, err
	}
	c.System, c.Kind, c.DecidedAt = codesys.System(system), coding.Kind(kind), fromMicros(decided)
	a, err := coding.ParseAssertion(assertion)
	if err != nil {
		return nil, fmt.Errorf("code %s: %w", c.ID, err)
	}
	c.Assertion = a
	for _, f := range []struct {
		s string
		v any
	}{{ev, &c.Evidence}, {trail, &c.Trail}, {warn, &c.Warnings}} {
		if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
			return nil, fmt.Errorf("code %s: %w", c.ID, err)
		}
	}
	return &c, nil
}

// codes returns the live codes of a document, or only the code with id
// codeID when it is not "".
func (s *Store) codes(ctx context.Context, q querier, docID, codeID string) ([]*Code, error) {
	rows, err := q.QueryContext(ctx, s.q(`SELECT `+codeColumns+` FROM codes WHERE document_id = ? AND status <> ? AND (? = '' OR id = ?) ORDER BY seq`),
		docID, CodeSuperseded, codeID, codeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Code
	for rows.Next() {
		c, err := scanCode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Filter selects documents to list.
type Filter struct {
	Status string
	Coder  string
	// Batch selects the documents of one batch.
	Batch string
	// From and To bound the creation time: From <= created < To.
	From, To time.Time
	// Limit caps the number returned (default 50, at most 500); Before
	// continues a listing after the last document of the previous page.
	Limit  int
	Before string
}

// ListDocuments lists the documents of tenant, newest first, without
// their text, codes or runs.
func (s *Store) ListDocuments(ctx context.Context, tenant string, f Filter) ([]*Document, error) {
	where := []string{"tenant = ?"}
	args := []any{tenant}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Coder != "" {
		where, args = append(where, "coder = ?"), append(args, f.Coder)
	}
	if f.Batch != "" {
		where, args = append(where, "batch_id = ?"), append(args, f.Batch)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, micros(f.To))
	}
	if f.Before != "" {
		where = append(where, "(created_at, id) < (SELECT created_at, id FROM documents WHERE id = ?)")
		args = append(args, f.Before)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	// The start of the text only: enough for the preview, never a whole
	// long note per row.
	cols := strings.Replace(docColumns, "text", fmt.Sprintf("substr(text, 1, %d)", 4*PreviewLen), 1)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+cols+` FROM documents WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT %d`, f.Limit)), args...)
	if err != nil {
		return nil, fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	out := []*Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, fmt.Errorf("list documents: %w", err)
		}
		d.Preview, d.Text = preview(d.Text), ""
		out = append(out, d)
	}
	return out, rows.Err()
}

// Decision is a coder's decision on one code.
type Decision struct {
	// Action is "accept", "reject" or "replace".
	Action string `json:"action"`
	Reason string `json:"reason,omitempty"`
	// Replacement is the code that replaces this one (action "replace");
	// the caller validates it. Its evidence and assertion default to the
	// replaced code's: a replacement recodes the same mention.
	Replacement *Code `json:"-"`
}

// Decide records a decision on a code of a document and returns the code
// as decided and, for a replacement, the new code. A replaced code cannot
// be decided again (decide on its replacement instead); accepted and
// rejected codes can.
func (s *Store) Decide(ctx context.Context, actor Actor, docID, codeID string, dec Decision) (decided, added *Code, err error) {
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getDocument(ctx, tx, actor.Tenant, docID, false); err != nil {
			return err
		}
		cs, err := s.codes(ctx, tx, docID, codeID)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			return fmt.Errorf("code %s: %w", codeID, ErrNotFound)
		}
		before := *cs[0]
		c := cs[0]
		if c.Status == CodeReplaced {
			return fmt.Errorf("code %s was replaced by %s: decide on the replacement: %w", c.Code, c.ReplacedBy, ErrConflict)
		}
		c.DecidedBy, c.DecidedAt, c.Reason = actor.Name, now, ""
		switch dec.Action {
		case "accept":
			c.Status = CodeAccepted
		case "reject":
			if strings.TrimSpace(dec.Reason) == "" {
				return errors.New("a rejection needs a reason")
			}
			c.Status, c.Reason = CodeRejected, dec.Reason
		case "replace":
			r := dec.Replacement
			if r == nil {
				return errors.New("a replacement needs a code")
			}
			r.ID, r.Origin, r.Status, r.Replaces = newID("code_"), OriginReplacement, CodeAccepted, c.ID
			r.DecidedBy, r.DecidedAt, r.Reason = actor.Name, now, dec.Reason
			if len(r.Evidence) == 0 {
				r.Evidence = c.Evidence
			}
			if r.Assertion == "" {
				r.Assertion = c.Assertion
			}
			c.Status, c.ReplacedBy, c.Reason = CodeReplaced, r.ID, dec.Reason
			var seq int
			if err := tx.QueryRowContext(ctx, s.q(`SELECT seq FROM codes WHERE id = ?`), c.ID).Scan(&seq); err != nil {
				return err
			}
			// The replacement takes its place in the reporting order:
			// shift the codes after it.
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE codes SET seq = seq + 1 WHERE document_id = ? AND seq > ?`), docID, seq); err != nil {
				return err
			}
			if err := s.insertCode(ctx, tx, docID, seq+1, r); err != nil {
				return err
			}
			added = r
		default:
			return fmt.Errorf("unknown action %q (want accept, reject or replace)", dec.Action)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE codes SET status = ?, reason = ?, replaced_by = ?, decided_by = ?, decided_at = ? WHERE id = ?`),
			c.Status, c.Reason, c.ReplacedBy, c.DecidedBy, micros(c.DecidedAt), c.ID); err != nil {
			return err
		}
		after := any(decisionView(c))
		if added != nil {
			after = map[string]any{"code": decisionView(c), "replacement": decisionView(added)}
		}
		if err := s.audit(ctx, tx, actor, docID, "code."+dec.Action, c.ID, decisionView(&before), after); err != nil {
			return err
		}
		decided = c
		return s.updateStatus(ctx, tx, docID)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("decide on %s of %s: %w", codeID, docID, err)
	}
	return decided, added, nil
}

// decisionView is what the audit log keeps of a code: enough to see what
// was decided on what evidence.
func decisionView(c *Code) map[string]any {
	spans := make([][2]int, len(c.Evidence))
	for i, e := range c.Evidence {
		spans[i] = [2]int{e.Start, e.End}
	}
	m := map[string]any{"code": c.Code, "system": c.System, "status": c.Status, "evidence": spans}
	if c.Reason != "" {
		m["reason"] = c.Reason
	}
	if c.ReplacedBy != "" {
		m["replacedBy"] = c.ReplacedBy
	}
	return m
}

// AddCode adds a code a coder found that the engine missed; the caller
// validates the code and its evidence. The code is stored accepted. A code
// already on the document, pending or accepted (a replacement included),
// is refused with an error wrapping ErrDuplicate.
func (s *Store) AddCode(ctx context.Context, actor Actor, docID string, c *Code) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockDocument(ctx, tx, actor.Tenant, docID); err != nil {
			return err
		}
		live, err := s.codes(ctx, tx, docID, "")
		if err != nil {
			return err
		}
		for _, o := range live {
			if keyOf(o) != keyOf(c) || (o.Status != CodePending && o.Status != CodeAccepted) {
				continue
			}
			what := "is already on the document, " + o.Status
			if o.Origin == OriginReplacement {
				what = "is already on the document, as a replacement"
			}
			return fmt.Errorf("%s %s (%s): %w", c.Code, what, o.ID, ErrDuplicate)
		}
		var seq int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COALESCE(MAX(seq), 0) FROM codes WHERE document_id = ?`), docID).Scan(&seq); err != nil {
			return err
		}
		c.ID, c.Origin, c.Status, c.DecidedBy, c.DecidedAt, c.RunID = newID("code_"), OriginCoder, CodeAccepted, actor.Name, now, ""
		if err := s.insertCode(ctx, tx, docID, seq+1, c); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, docID, "code.add", c.ID, nil, decisionView(c)); err != nil {
			return err
		}
		return s.updateStatus(ctx, tx, docID)
	})
	if err != nil {
		return fmt.Errorf("add code %s to %s: %w", c.Code, docID, err)
	}
	return nil
}

func (s *Store) updateStatus(ctx context.Context, tx *sql.Tx, docID string) error {
	var pending, decided int
	err := tx.QueryRowContext(ctx, s.q(`SELECT
		COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN status IN (?, ?, ?) THEN 1 ELSE 0 END), 0) FROM codes WHERE document_id = ?`),
		CodePending, CodeAccepted, CodeRejected, CodeReplaced, docID).Scan(&pending, &decided)
	if err != nil {
		return err
	}
	status := StatusReviewed
	switch {
	case decided == 0:
		status = StatusCoded
	case pending > 0:
		status = StatusInReview
	}
	_, err = tx.ExecContext(ctx, s.q(`UPDATE documents SET status = ?, updated_at = ? WHERE id = ?`), status, micros(s.now()), docID)
	return err
}
