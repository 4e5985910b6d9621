package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Role is what a token may do.
type Role string

// The roles, from least to most privileged in what they may change.
const (
	// Coder submits documents, runs coding and records decisions.
	Coder Role = "coder"
	// Auditor reads documents, decisions and the audit log, and changes
	// nothing.
	Auditor Role = "auditor"
	// Admin does what a coder and an auditor do and manages tokens.
	Admin Role = "admin"
)

// ParseRole returns the Role named s.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Coder, Auditor, Admin:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want coder, auditor or admin)", s)
}

// Token is an API token as stored: never the secret itself, only its
// SHA-256 hash. Secrets are 256 random bits, so a fast hash is as safe as
// a slow one and keeps authentication cheap.
type Token struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Name    string    `json:"name"`
	Role    Role      `json:"role"`
	Created time.Time `json:"created"`
	// Expires is when the token stops authenticating; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// Revoked is when the token was revoked, or, after a rotation with a
	// grace period, when it will be.
	Revoked time.Time `json:"revoked,omitzero"`
	// RotatedFrom is the token this one replaced by a rotation.
	RotatedFrom string `json:"rotatedFrom,omitempty"`
}

// Actor is who makes a change: the token's tenant and name.
func (t *Token) Actor() Actor { return Actor{Tenant: t.Tenant, Name: t.Name, TokenID: t.ID} }

// Actor names who changes something, for the audit log.
type Actor struct {
	Tenant  string
	Name    string
	TokenID string
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// CheckName reports whether s may name a tenant or a token.
func CheckName(what, s string) error {
	if !nameRE.MatchString(s) {
		return fmt.Errorf("invalid %s %q: use 1-64 letters, digits, '.', '_', '@' or '-'", what, s)
	}
	return nil
}

// TokenPrefix starts every token secret, so that leaked tokens are easy to
// recognise and scan for.
const TokenPrefix = "mct_"

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// ErrExpired is the error of Authenticate for a token past its expiry.
var ErrExpired = errors.New("token expired")

// ErrNameTaken is the error of creating a token with the name of a live
// token of the same tenant.
var ErrNameTaken = errors.New("a live token of the tenant has this name")

// TokenSpec is what a new token is.
type TokenSpec struct {
	Name string
	Role Role
	// TTL is how long the token authenticates; 0: until revoked.
	TTL time.Duration
}

// CreateToken creates a token for tenant with a name and role and returns
// the secret, which is shown once and never stored. The audit log records
// the command line as its creator.
func (s *Store) CreateToken(ctx context.Context, tenant, name string, role Role) (string, *Token, error) {
	return s.IssueToken(ctx, Actor{Tenant: tenant, Name: "medcode token create"}, TokenSpec{Name: name, Role: role})
}

// CreateTokenAs creates a token in the tenant of by, recording by as its
// creator in the audit log.
func (s *Store) CreateTokenAs(ctx context.Context, by Actor, name string, role Role) (string, *Token, error) {
	return s.IssueToken(ctx, by, TokenSpec{Name: name, Role: role})
}

// IssueToken creates the token spec in the tenant of by, recording by as
// its creator in the audit log, and returns its secret. A live token of
// the tenant with the same name is ErrNameTaken.
func (s *Store) IssueToken(ctx context.Context, by Actor, spec TokenSpec) (string, *Token, error) {
	if err := CheckName("tenant", by.Tenant); err != nil {
		return "", nil, err
	}
	if err := CheckName("token name", spec.Name); err != nil {
		return "", nil, err
	}
	if _, err := ParseRole(string(spec.Role)); err != nil {
		return "", nil, err
	}
	if spec.TTL < 0 {
		return "", nil, fmt.Errorf("token %s: a negative lifetime", spec.Name)
	}
	var secret string
	var t *Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		secret, t, err = s.insertToken(ctx, tx, by.Tenant, spec, "")
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, by, "", "token.create", "", nil, t)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token %s: %w", spec.Name, err)
	}
	return secret, t, nil
}

// insertToken writes a new token of tenant and returns its secret.
func (s *Store) insertToken(ctx context.Context, tx *sql.Tx, tenant string, spec TokenSpec, rotatedFrom string) (string, *Token, error) {
	var taken int
	if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM tokens WHERE tenant = ? AND name = ? AND revoked_at IS NULL`), tenant, spec.Name).Scan(&taken); err != nil {
		return "", nil, err
	}
	if taken > 0 {
		return "", nil, ErrNameTaken
	}
	var b [32]byte
	rand.Read(b[:])
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &Token{ID: newID("tok_"), Tenant: tenant, Name: spec.Name, Role: spec.Role, Created: now, RotatedFrom: rotatedFrom}
	var expires sql.NullInt64
	if spec.TTL > 0 {
		t.Expires = now.Add(spec.TTL)
		expires = sql.NullInt64{Int64: micros(t.Expires), Valid: true}
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO tokens (id, tenant, name, role, hash, created_at, expires_at, rotated_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		t.ID, t.Tenant, t.Name, string(t.Role), hashSecret(secret), micros(t.Created), expires, rotatedFrom)
	if err != nil {
		if uniqueViolation(err) {
			// Another transaction took the name since the count.
			return "", nil, ErrNameTaken
		}
		return "", nil, err
	}
	return secret, t, nil
}

// tokenColumns are the columns scanToken reads, in its order.
const tokenColumns = `id, tenant, name, role, created_at, expires_at, revoked_at, rotated_from`

type scanner interface{ Scan(...any) error }

func scanToken(row scanner) (*Token, error) {
	var t Token
	var role string
	var created int64
	var expires, revoked sql.NullInt64
	if err := row.Scan(&t.ID, &t.Tenant, &t.Name, &role, &created, &expires, &revoked, &t.RotatedFrom); err != nil {
		return nil, err
	}
	t.Role, t.Created = Role(role), fromMicros(created)
	if expires.Valid {
		t.Expires = fromMicros(expires.Int64)
	}
	if revoked.Valid {
		t.Revoked = fromMicros(revoked.Int64)
	}
	return &t, nil
}

// Authenticate returns the live token whose secret this is: ErrNotFound
// when there is none or it is revoked, ErrExpired when it has expired.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`), hashSecret(secret)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	now := s.now()
	if !t.Revoked.IsZero() && !now.Before(t.Revoked) {
		return nil, ErrNotFound
	}
	if !t.Expires.IsZero() && !now.Before(t.Expires) {
		return nil, ErrExpired
	}
	return t, nil
}

// ListTokens lists the tokens of a tenant, or of every tenant when tenant
// is "".
func (s *Store) ListTokens(ctx context.Context, tenant string) ([]*Token, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE (? = '' OR tenant = ?) ORDER BY created_at, id`), tenant, tenant)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token of tenant (any tenant when tenant is "").
func (s *Store) RevokeToken(ctx context.Context, actor Actor, tenant, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		// A token in the grace period of a rotation may be revoked at
		// once.
		now := micros(s.now())
		res, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND (? = '' OR tenant = ?) AND (revoked_at IS NULL OR revoked_at > ?)`),
			now, id, tenant, tenant, now)
		if err != nil {
			return fmt.Errorf("revoke token %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("revoke token %s: %w", id, ErrNotFound)
		}
		if tenant == "" {
			tenant = actor.Tenant
		}
		return s.audit(ctx, tx, Actor{Tenant: tenant, Name: actor.Name, TokenID: actor.TokenID}, "", "token.revoke", "", map[string]string{"id": id}, nil)
	})
}

// RotateToken replaces the live token of tenant (any tenant when tenant
// is "") whose ID or name is ref by a new one with the same tenant, name
// and role, and a lifetime as long as the old one's had, and returns the
// new secret. The old secret stops authenticating after grace (at once
// when 0), so that clients can switch over.
func (s *Store) RotateToken(ctx context.Context, by Actor, tenant, ref string, grace time.Duration) (string, *Token, error) {
	if grace < 0 {
		return "", nil, fmt.Errorf("rotate token %s: a negative grace period", ref)
	}
	var secret string
	var t *Token
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// An ID first, then a name: a name may look like an ID.
		var found []*Token
		for _, col := range []string{"id", "name"} {
			rows, err := tx.QueryContext(ctx, s.q(`SELECT `+tokenColumns+` FROM tokens WHERE `+col+` = ? AND (? = '' OR tenant = ?) AND revoked_at IS NULL`),
				ref, tenant, tenant)
			if err != nil {
				return err
			}
			for rows.Next() {
				o, err := scanToken(rows)
				if err != nil {
					rows.Close()
					return err
				}
				found = append(found, o)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if len(found) > 0 {
				break
			}
		}
		switch len(found) {
		case 0:
			return ErrNotFound
		case 1:
		default:
			return fmt.Errorf("%d live tokens of different tenants have this name: name the tenant or give the ID: %w", len(found), ErrConflict)
		}
		old := found[0]
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET revoked_at = ? WHERE id = ?`), micros(now.Add(grace)), old.ID); err != nil {
			return err
		}
		spec := TokenSpec{Name: old.Name, Role: old.Role}
		if !old.Expires.IsZero() {
			spec.TTL = old.Expires.Sub(old.Created)
		}
		var err error
		secret, t, err = s.insertToken(ctx, tx, old.Tenant, spec, old.ID)
		if err != nil {
			return err
		}
		actor := by
		if actor.Tenant == "" {
			actor.Tenant = old.Tenant
		}
		return s.audit(ctx, tx, actor, "", "token.rotate", "", map[string]any{"id": old.ID, "revoked": now.Add(grace).UTC()}, t)
	})
	if err != nil {
		return "", nil, fmt.Errorf("rotate token %s: %w", ref, err)
	}
	return secret, t, nil
}

// uniqueViolation reports whether err is a unique constraint failing.
func uniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
