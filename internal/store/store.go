// Package store keeps what the coding service knows: documents, coding
// runs, codes with their evidence, the coders' decisions, API tokens, and
// an append-only audit log of every change. It runs on SQLite (embedded,
// the default, in WAL mode) or on PostgreSQL for deployments with several
// server instances; both have the same tables, created by the same
// numbered migrations.
//
// Every change to a document is one transaction that writes the change and
// its audit entries together, so a crash leaves either all of it or none.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors a caller can test for with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrDuplicate is a code added to a document that already has it.
	ErrDuplicate = errors.New("duplicate code")
)

// Backend names a database engine.
type Backend string

// The supported backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Store is an open database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	backend Backend
	now     func() time.Time
	// writeMu serializes this process's SQLite write transactions. SQLite
	// allows one writer at a time; queueing here rather than in SQLite's
	// busy handler, which sleeps and retries, keeps latency even under many
	// concurrent writers. Other processes still wait on busy_timeout.
	writeMu sync.Mutex
	// warnings are what Open found unsafe but not wrong enough to
	// refuse.
	warnings []string
}

// keywordValue matches the start of a PostgreSQL keyword/value connection
// string ("host=db user=medcode ..."), which would otherwise be taken for
// the name of a SQLite file.
var keywordValue = regexp.MustCompile(`^\s*(host|hostaddr|port|dbname|user|password|sslmode|service)\s*=`)

// Open opens the database named by dsn: a PostgreSQL URL or keyword/value
// string ("postgres://..." or "postgresql://..."), "sqlite:PATH", or a
// plain file path for SQLite. It applies any migrations not yet applied.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"), keywordValue.MatchString(dsn):
		return OpenPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	return OpenSQLite(ctx, dsn)
}

// OpenSQLite opens (creating if needed) the SQLite database at path, in
// WAL mode with full synchronous commits, so that a committed transaction
// survives a crash of the process or of the machine.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	warning, err := preparePrivate(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// _txlock=immediate takes the write lock at BEGIN, so two writers
	// queue on busy_timeout instead of failing on a lock upgrade.
	dsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(30000)&_pragma=foreign_keys(ON)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, backend: SQLite, now: time.Now}
	if warning != "" {
		s.warnings = append(s.warnings, warning)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

// OpenPostgres connects to the PostgreSQL database named by dsn.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	// The driver's errors may quote the connection string: the
	// password is scrubbed from them, and only the redacted URL named.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", Redact(dsn), redactErr(err, dsn))
	}
	db.SetMaxOpenConns(20)
	s := &Store{db: db, backend: Postgres, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres store %s: %w", Redact(dsn), redactErr(err, dsn))
	}
	return s, nil
}

// Backend returns the database engine in use.
func (s *Store) Backend() Backend { return s.backend }

// Warnings returns what opening the store found worth telling the
// operator, such as a database directory other users may enter.
func (s *Store) Warnings() []string { return slices.Clone(s.warnings) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers, for readiness probes.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
	return v, err
}

func (s *Store) migrate(ctx context.Context) error {
	return s.migrateTo(ctx, migrations[len(migrations)-1].version)
}

// migrateTo applies the migrations not yet applied up to version last.
func (s *Store) migrateTo(ctx context.Context, last int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if s.backend == Postgres {
		// Several instances may start at once: one migrates, the others
		// wait for it and then find nothing to do.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7277630)`); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	cur := 0
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&cur); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if cur > migrations[len(migrations)-1].version {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade medcode", cur, migrations[len(migrations)-1].version)
	}
	for _, m := range migrations {
		if m.version <= cur || m.version > last {
			continue
		}
		text := m.sqlite
		if s.backend == Postgres {
			text = m.postgres
		}
		if text != "" {
			if _, err := tx.ExecContext(ctx, text); err != nil {
				return fmt.Errorf("migration %d: %w", m.version, err)
			}
		}
		if m.data != nil {
			if err := m.data(ctx, s, tx); err != nil {
				return fmt.Errorf("migration %d: %w", m.version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE schema_version SET version = ?`), m.version); err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
	}
	return tx.Commit()
}

// q rewrites a query written with ? placeholders for the backend.
func (s *Store) q(query string) string {
	if s.backend != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// tx runs fn in a transaction, retrying when the database reports a
// serialization failure or a busy lock.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.backend == SQLite {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	for attempt := 0; ; attempt++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			if retryable(err) && attempt < 5 {
				continue
			}
			return err
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil && retryable(err) && attempt < 5 {
			continue
		}
		return err
	}
}

func retryable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// newID returns a random identifier with a readable prefix.
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
