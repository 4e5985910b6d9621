package store

// A migration is one step of the schema, numbered from 1. Each backend has
// its own text where SQL dialects differ; the tables and columns are the
// same in both.
type migration struct {
	version  int
	sqlite   string
	postgres string
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
}
