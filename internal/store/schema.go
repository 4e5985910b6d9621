package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/medcode-dev/medcode/internal/coding"
)

// A migration is one step of the schema, numbered from 1. Each backend has
// its own text where SQL dialects differ; the tables and columns are the
// same in both. A step that rewrites data by the rules of a Go type has a
// function instead, run after the text.
type migration struct {
	version  int
	sqlite   string
	postgres string
	data     func(ctx context.Context, s *Store, tx *sql.Tx) error
}

// migrations are applied in order; a database records the last one applied
// in schema_version. Never edit a released migration: add a new one.
var migrations = []migration{
	{
		version: 1,
		sqlite: `
CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	tenant     TEXT NOT NULL,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT
);
CREATE TABLE documents (
	id          TEXT PRIMARY KEY,
	tenant      TEXT NOT NULL,
	source      TEXT NOT NULL,
	external_id TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '',
	hash        TEXT NOT NULL,
	text        TEXT NOT NULL,
	setting     TEXT NOT NULL,
	status      TEXT NOT NULL,
	coder       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX documents_tenant_created ON documents (tenant, created_at);
CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	document_id TEXT NOT NULL REFERENCES documents (id),
	reasoner    TEXT NOT NULL,
	model       TEXT NOT NULL DEFAULT '',
	releases    TEXT NOT NULL,
	setting     TEXT NOT NULL,
	started_at  BIGINT NOT NULL,
	duration_us BIGINT NOT NULL,
	calls       INTEGER NOT NULL DEFAULT 0,
	input_tokens  INTEGER NOT NULL DEFAULT 0,
	cached_tokens INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	code_count  INTEGER NOT NULL,
	extra       TEXT NOT NULL,
	actor       TEXT NOT NULL
);
CREATE INDEX runs_document ON runs (document_id);
CREATE TABLE codes (
	id          TEXT PRIMARY KEY,
	document_id TEXT NOT NULL REFERENCES documents (id),
	run_id      TEXT NOT NULL DEFAULT '',
	seq         INTEGER NOT NULL,
	code        TEXT NOT NULL,
	system      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	title       TEXT NOT NULL,
	evidence    TEXT NOT NULL,
	assertion   TEXT NOT NULL DEFAULT '',
	trail       TEXT NOT NULL,
	confidence  DOUBLE PRECISION NOT NULL,
	warnings    TEXT NOT NULL,
	origin      TEXT NOT NULL,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	replaces    TEXT NOT NULL DEFAULT '',
	replaced_by TEXT NOT NULL DEFAULT '',
	decided_by  TEXT NOT NULL DEFAULT '',
	decided_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX codes_document ON codes (document_id, seq);
CREATE TABLE audit (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant      TEXT NOT NULL,
	document_id TEXT NOT NULL,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	code_id     TEXT NOT NULL DEFAULT '',
	before      TEXT NOT NULL DEFAULT '',
	after       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_document ON audit (document_id, seq);
CREATE INDEX audit_tenant ON audit (tenant, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`,
		postgres: `
CREATE TABLE tokens (
	id         TEXT PRIMARY KEY,
	tenant     TEXT NOT NULL,
	name       TEXT NOT NULL,
	role       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT
);
CREATE TABLE documents (
	id          TEXT PRIMARY KEY,
	tenant      TEXT NOT NULL,
	source      TEXT NOT NULL,
	external_id TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL DEFAULT '',
	hash        TEXT NOT NULL,
	text        TEXT NOT NULL,
	setting     TEXT NOT NULL,
	status      TEXT NOT NULL,
	coder       TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL
);
CREATE INDEX documents_tenant_created ON documents (tenant, created_at);
CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	document_id TEXT NOT NULL REFERENCES documents (id),
	reasoner    TEXT NOT NULL,
	model       TEXT NOT NULL DEFAULT '',
	releases    TEXT NOT NULL,
	setting     TEXT NOT NULL,
	started_at  BIGINT NOT NULL,
	duration_us BIGINT NOT NULL,
	calls       INTEGER NOT NULL DEFAULT 0,
	input_tokens  INTEGER NOT NULL DEFAULT 0,
	cached_tokens INTEGER NOT NULL DEFAULT 0,
	output_tokens INTEGER NOT NULL DEFAULT 0,
	code_count  INTEGER NOT NULL,
	extra       TEXT NOT NULL,
	actor       TEXT NOT NULL
);
CREATE INDEX runs_document ON runs (document_id);
CREATE TABLE codes (
	id          TEXT PRIMARY KEY,
	document_id TEXT NOT NULL REFERENCES documents (id),
	run_id      TEXT NOT NULL DEFAULT '',
	seq         INTEGER NOT NULL,
	code        TEXT NOT NULL,
	system      TEXT NOT NULL,
	kind        TEXT NOT NULL,
	title       TEXT NOT NULL,
	evidence    TEXT NOT NULL,
	assertion   TEXT NOT NULL DEFAULT '',
	trail       TEXT NOT NULL,
	confidence  DOUBLE PRECISION NOT NULL,
	warnings    TEXT NOT NULL,
	origin      TEXT NOT NULL,
	status      TEXT NOT NULL,
	reason      TEXT NOT NULL DEFAULT '',
	replaces    TEXT NOT NULL DEFAULT '',
	replaced_by TEXT NOT NULL DEFAULT '',
	decided_by  TEXT NOT NULL DEFAULT '',
	decided_at  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX codes_document ON codes (document_id, seq);
CREATE TABLE audit (
	seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	tenant      TEXT NOT NULL,
	document_id TEXT NOT NULL,
	at          BIGINT NOT NULL,
	actor       TEXT NOT NULL,
	action      TEXT NOT NULL,
	code_id     TEXT NOT NULL DEFAULT '',
	before      TEXT NOT NULL DEFAULT '',
	after       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_document ON audit (document_id, seq);
CREATE INDEX audit_tenant ON audit (tenant, seq);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
`,
	},
	{
		version: 2,
		data:    typedAssertions,
	},
	{
		// Audit entries name the token as well as its name; tokens may
		// expire and record the token a rotation replaced.
		version: 3,
		sqlite: `
ALTER TABLE audit ADD COLUMN token_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN rotated_from TEXT NOT NULL DEFAULT '';
`,
		postgres: `
ALTER TABLE audit ADD COLUMN token_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE tokens ADD COLUMN rotated_from TEXT NOT NULL DEFAULT '';
`,
		data: uniqueTokenNames,
	},
	{
		// A live token's name is unique in its tenant, so that the name
		// in an audit entry means one token at a time. On PostgreSQL,
		// TRUNCATE, which fires no row trigger, cannot empty the audit
		// log either.
		version: 4,
		sqlite: `
CREATE UNIQUE INDEX tokens_live_name ON tokens (tenant, name) WHERE revoked_at IS NULL;
`,
		postgres: `
CREATE UNIQUE INDEX tokens_live_name ON tokens (tenant, name) WHERE revoked_at IS NULL;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
`,
	},
	{
		// The Idempotency-Key of a submission, with a hash of what was
		// submitted, maps a retry to the document the first one created.
		version:  5,
		sqlite:   idempotencyKeys,
		postgres: idempotencyKeys,
	},
	{
		// Documents coded by a job queue: the error of a failed coding
		// and the batch a document was submitted in.
		version:  6,
		sqlite:   migration6,
		postgres: migration6,
	},
}

// uniqueTokenNames renames the live tokens that share a name in their
// tenant with an older live token, so that live names can be made unique:
// the oldest keeps the name, each other one gets its ID's end appended,
// and the audit log records the renaming.
func uniqueTokenNames(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, tenant, name FROM tokens WHERE revoked_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return err
	}
	type tok struct{ id, tenant, name string }
	seen := map[[2]string]bool{}
	var dups []tok
	for rows.Next() {
		var t tok
		if err := rows.Scan(&t.id, &t.tenant, &t.name); err != nil {
			rows.Close()
			return err
		}
		k := [2]string{t.tenant, t.name}
		if seen[k] {
			dups = append(dups, t)
		}
		seen[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range dups {
		suffix := "-" + t.id[max(0, len(t.id)-8):]
		name := t.name[:min(len(t.name), 64-len(suffix))] + suffix
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET name = ? WHERE id = ?`), name, t.id); err != nil {
			return fmt.Errorf("rename token %s: %w", t.id, err)
		}
		err := s.audit(ctx, tx, Actor{Tenant: t.tenant, Name: "medcode migration"}, "", "token.rename", "",
			map[string]string{"id": t.id, "name": t.name}, map[string]string{"id": t.id, "name": name})
		if err != nil {
			return err
		}
	}
	return nil
}

// migration6 adds the job queue's columns, the same in both dialects.
const migration6 = `
ALTER TABLE documents ADD COLUMN coding_error TEXT NOT NULL DEFAULT '';
ALTER TABLE documents ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
CREATE INDEX documents_batch ON documents (tenant, batch_id, status) WHERE batch_id <> '';
`

// typedAssertions rewrites the assertions of stored codes to the values of
// coding.Assertion. Spellings written before it had one type ("other",
// the ICD-10-PCS coder's "affirmed/recent/patient") become their value. A
// value that is none, the LLM agent's own word, is cleared and kept as a
// step of the code's trail, so that nothing stored is lost.
func typedAssertions(ctx context.Context, s *Store, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT assertion FROM codes`)
	if err != nil {
		return err
	}
	var vals []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		vals = append(vals, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vals {
		a, err := coding.ParseAssertion(v)
		if err == nil {
			if string(a) != v {
				if _, err := tx.ExecContext(ctx, s.q(`UPDATE codes SET assertion = ? WHERE assertion = ?`), string(a), v); err != nil {
					return fmt.Errorf("assertion %q: %w", v, err)
				}
			}
			continue
		}
		if err := clearAssertion(ctx, s, tx, v); err != nil {
			return fmt.Errorf("assertion %q: %w", v, err)
		}
	}
	return nil
}

// clearAssertion clears the assertion v, which is not one, from the codes
// that have it, and records it in their trails.
func clearAssertion(ctx context.Context, s *Store, tx *sql.Tx, v string) error {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, trail FROM codes WHERE assertion = ?`), v)
	if err != nil {
		return err
	}
	trails := map[string]string{}
	for rows.Next() {
		var id, trail string
		if err := rows.Scan(&id, &trail); err != nil {
			rows.Close()
			return err
		}
		trails[id] = trail
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for id, trail := range trails {
		var steps []coding.Step
		if err := json.Unmarshal([]byte(trail), &steps); err != nil {
			return fmt.Errorf("code %s: trail: %w", id, err)
		}
		steps = append(steps, coding.Step{Kind: coding.StepVerify,
			Detail: fmt.Sprintf("The reasoner gave the assertion %q, which is not an assertion value; none is recorded", v)})
		b, err := json.Marshal(steps)
		if err != nil {
			return fmt.Errorf("code %s: trail: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE codes SET assertion = '', trail = ? WHERE id = ?`), string(b), id); err != nil {
			return fmt.Errorf("code %s: %w", id, err)
		}
	}
	return nil
}

// idempotencyKeys is the table of migration 5, the same in both dialects.
const idempotencyKeys = `
CREATE TABLE idempotency_keys (
	tenant       TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	document_id  TEXT NOT NULL REFERENCES documents (id),
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (tenant, key)
);
`
