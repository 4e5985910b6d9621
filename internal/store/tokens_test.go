package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSQLiteTokens(t *testing.T)   { tokenContract(t, openSQLite(t)) }
func TestPostgresTokens(t *testing.T) { tokenContract(t, openPostgres(t)) }

// tokenContract: names are unique among a tenant's live tokens, tokens
// expire, rotate with a grace period, and the audit log names the token
// that made each change.
func tokenContract(t *testing.T, s *Store) {
	ctx := context.Background()
	tenant := strings.ReplaceAll(t.Name(), "/", "-")
	clock := time.Now()
	s.now = func() time.Time { return clock }
	t.Cleanup(func() { s.now = time.Now })
	admin := Actor{Tenant: tenant, Name: "ops"}

	t.Run("names are unique among live tokens", func(t *testing.T) {
		_, first, err := s.IssueToken(ctx, admin, TokenSpec{Name: "carol", Role: Coder})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.IssueToken(ctx, admin, TokenSpec{Name: "carol", Role: Auditor}); !errors.Is(err, ErrNameTaken) {
			t.Fatalf("a second live carol: %v", err)
		}
		if _, _, err := s.IssueToken(ctx, Actor{Tenant: tenant + "-other", Name: "ops"}, TokenSpec{Name: "carol", Role: Coder}); err != nil {
			t.Fatalf("carol in another tenant: %v", err)
		}
		if err := s.RevokeToken(ctx, admin, tenant, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.IssueToken(ctx, admin, TokenSpec{Name: "carol", Role: Coder}); err != nil {
			t.Fatalf("the name of a revoked token: %v", err)
		}
	})

	t.Run("expiry", func(t *testing.T) {
		secret, tok, err := s.IssueToken(ctx, admin, TokenSpec{Name: "temp", Role: Coder, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Authenticate(ctx, secret); err != nil || got.Expires.IsZero() || got.Expires.Sub(got.Created) != time.Hour {
			t.Fatalf("Authenticate = %+v, %v; want a token expiring in an hour", got, err)
		}
		clock = clock.Add(time.Hour)
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrExpired) {
			t.Fatalf("an hour later: %v, want ErrExpired", err)
		}
		if err := s.RevokeToken(ctx, admin, tenant, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, secret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("revoked after expiry: %v, want ErrNotFound", err)
		}
	})

	t.Run("rotation", func(t *testing.T) {
		oldSecret, old, err := s.IssueToken(ctx, admin, TokenSpec{Name: "robot", Role: Coder, TTL: 720 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		newSecret, rotated, err := s.RotateToken(ctx, admin, tenant, "robot", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.ID == old.ID || rotated.Name != "robot" || rotated.Role != Coder || rotated.RotatedFrom != old.ID ||
			rotated.Expires.Sub(rotated.Created) != 720*time.Hour || newSecret == oldSecret {
			t.Fatalf("rotated = %+v", rotated)
		}
		for _, sec := range []string{oldSecret, newSecret} {
			if _, err := s.Authenticate(ctx, sec); err != nil {
				t.Fatalf("in the grace period: %v", err)
			}
		}
		clock = clock.Add(time.Minute)
		if _, err := s.Authenticate(ctx, oldSecret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old secret after the grace period: %v", err)
		}
		if got, err := s.Authenticate(ctx, newSecret); err != nil || got.ID != rotated.ID {
			t.Fatalf("new secret: %+v %v", got, err)
		}
		if _, _, err := s.RotateToken(ctx, admin, tenant, old.ID, 0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rotating the replaced token: %v", err)
		}
		// By ID, without a grace period: the old secret stops at once.
		_, again, err := s.RotateToken(ctx, admin, "", rotated.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, newSecret); !errors.Is(err, ErrNotFound) {
			t.Fatalf("rotated without grace: %v", err)
		}
		if again.RotatedFrom != rotated.ID {
			t.Fatalf("rotated = %+v", again)
		}
	})

	t.Run("audit names the token", func(t *testing.T) {
		_, tok, err := s.IssueToken(ctx, admin, TokenSpec{Name: "dave", Role: Coder})
		if err != nil {
			t.Fatal(err)
		}
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, tok.Actor(), d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
			t.Fatal(err)
		}
		log, err := s.Audit(ctx, tenant, AuditFilter{DocumentID: d.ID})
		if err != nil || len(log) == 0 {
			t.Fatalf("audit: %d entries, %v", len(log), err)
		}
		for _, e := range log {
			if e.TokenID != tok.ID || e.Actor != "dave" {
				t.Fatalf("entry %d: actor %s token %q, want dave %s", e.Seq, e.Actor, e.TokenID, tok.ID)
			}
		}
	})
}

// TestPostgresAuditNoTruncate: TRUNCATE, which fires no row trigger,
// cannot empty the audit log.
func TestPostgresAuditNoTruncate(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	if _, _, err := s.CreateToken(ctx, "north", "alice", Coder); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `TRUNCATE audit`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("TRUNCATE audit: %v, want refused as append-only", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("%d audit entries after TRUNCATE, %v", n, err)
	}
}

// TestTokenMigration: a database of schema 2 with two live tokens of one
// name in a tenant opens with the newer one renamed, the renaming in the
// audit log, and its old audit entries kept without a token ID.
func TestTokenMigration(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) (*sql.DB, Backend, func() (*Store, error))
	}{
		{"sqlite", func(t *testing.T) (*sql.DB, Backend, func() (*Store, error)) {
			path := filepath.Join(t.TempDir(), "old.db")
			db, err := sql.Open("sqlite", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			return db, SQLite, func() (*Store, error) { return OpenSQLite(context.Background(), path) }
		}},
		{"postgres", func(t *testing.T) (*sql.DB, Backend, func() (*Store, error)) {
			dsn := postgresDSN(t)
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			return db, Postgres, func() (*Store, error) { return OpenPostgres(context.Background(), dsn) }
		}},
	} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db, backend, reopen := b.open(t)
			defer db.Close()
			old := &Store{db: db, backend: backend, now: time.Now}
			if err := old.migrateTo(ctx, 2); err != nil {
				t.Fatal(err)
			}
			for i, id := range []string{"tok_a1", "tok_b2"} {
				if _, err := db.ExecContext(ctx, old.q(`INSERT INTO tokens (id, tenant, name, role, hash, created_at) VALUES (?, 'north', 'alice', 'coder', ?, ?)`), id, id, i+1); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.ExecContext(ctx, `INSERT INTO audit (tenant, document_id, at, actor, action) VALUES ('north', 'doc_1', 1, 'alice', 'document.create')`); err != nil {
				t.Fatal(err)
			}
			s, err := reopen()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			toks, err := s.ListTokens(ctx, "north")
			if err != nil || len(toks) != 2 {
				t.Fatalf("tokens %v, %v", toks, err)
			}
			if toks[0].Name != "alice" || toks[1].Name == "alice" || !strings.HasPrefix(toks[1].Name, "alice-") {
				t.Fatalf("names after migration: %s %s", toks[0].Name, toks[1].Name)
			}
			log, err := s.Audit(ctx, "north", AuditFilter{})
			if err != nil || len(log) != 2 || log[0].TokenID != "" || log[1].Action != "token.rename" {
				t.Fatalf("audit after migration: %v %v", log, err)
			}
			if _, _, err := s.CreateToken(ctx, "north", toks[1].Name, Coder); !errors.Is(err, ErrNameTaken) {
				t.Fatalf("the renamed token's name: %v", err)
			}
		})
	}
}

func TestSQLiteIdempotency(t *testing.T)   { idempotencyContract(t, openSQLite(t)) }
func TestPostgresIdempotency(t *testing.T) { idempotencyContract(t, openPostgres(t)) }

// idempotencyContract: a key maps to the first document submitted with
// it, per tenant, and a second submission with it stores nothing.
func idempotencyContract(t *testing.T, s *Store) {
	ctx := context.Background()
	north, south := Actor{Tenant: "north", Name: "alice"}, Actor{Tenant: "south", Name: "bob"}
	key := Idempotency{Key: "retry-1", RequestHash: "h1"}
	d := &Document{Source: "text", Text: note}
	if err := s.CreateDocumentOnce(ctx, north, key, d, &Run{Reasoner: "test"}, sampleCodes()); err != nil {
		t.Fatal(err)
	}
	id, hash, err := s.Idempotent(ctx, "north", "retry-1")
	if err != nil || id != d.ID || hash != "h1" {
		t.Fatalf("Idempotent = %s %s %v, want %s h1", id, hash, err, d.ID)
	}
	again := &Document{Source: "text", Text: note}
	if err := s.CreateDocumentOnce(ctx, north, Idempotency{Key: "retry-1", RequestHash: "h2"}, again, &Run{Reasoner: "test"}, sampleCodes()); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("the key again: %v", err)
	}
	if docs, _ := s.ListDocuments(ctx, "north", Filter{}); len(docs) != 1 {
		t.Fatalf("%d documents after a reused key, want 1", len(docs))
	}
	if _, _, err := s.Idempotent(ctx, "south", "retry-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("south sees north's key: %v", err)
	}
	if err := s.CreateDocumentOnce(ctx, south, key, &Document{Source: "text", Text: note}, &Run{Reasoner: "test"}, nil); err != nil {
		t.Fatalf("the same key in another tenant: %v", err)
	}
	for _, k := range []string{"", strings.Repeat("k", MaxIdempotencyKey+1)} {
		if err := s.CreateDocumentOnce(ctx, north, Idempotency{Key: k}, &Document{Source: "text", Text: note}, &Run{Reasoner: "test"}, nil); err == nil {
			t.Fatalf("a key of %d bytes accepted", len(k))
		}
	}
}
