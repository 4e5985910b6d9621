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
	Revoked time.Time `json:"revoked,omitzero"`
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

// CreateToken creates a token for tenant with a name and role and returns
// the secret, which is shown once and never stored. The audit log records
// the command line as its creator.
func (s *Store) CreateToken(ctx context.Context, tenant, name string, role Role) (string, *Token, error) {
	return s.CreateTokenAs(ctx, Actor{Tenant: tenant, Name: "medcode token create"}, name, role)
}

// CreateTokenAs creates a token in the tenant of by, recording by as its
// creator in the audit log.
func (s *Store) CreateTokenAs(ctx context.Context, by Actor, name string, role Role) (string, *Token, error) {
	tenant := by.Tenant
	if err := CheckName("tenant", tenant); err != nil {
		return "", nil, err
	}
	if err := CheckName("token name", name); err != nil {
		return "", nil, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", nil, err
	}
	var b [32]byte
	rand.Read(b[:])
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t := &Token{ID: newID("tok_"), Tenant: tenant, Name: name, Role: role, Created: s.now().UTC().Truncate(time.Microsecond)}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO tokens (id, tenant, name, role, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
			t.ID, t.Tenant, t.Name, string(t.Role), hashSecret(secret), micros(t.Created))
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, by, "", "token.create", "", nil, t)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create token %s: %w", name, err)
	}
	return secret, t, nil
}

// Authenticate returns the live token whose secret this is, or ErrNotFound.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Token, error) {
	var t Token
	var role string
	var created int64
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, tenant, name, role, created_at, revoked_at FROM tokens WHERE hash = ?`), hashSecret(secret)).
		Scan(&t.ID, &t.Tenant, &t.Name, &role, &created, &revoked)
	if errors.Is(err, sql.ErrNoRows) || err == nil && revoked.Valid {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	t.Role, t.Created = Role(role), fromMicros(created)
	return &t, nil
}

// ListTokens lists the tokens of a tenant, or of every tenant when tenant
// is "".
func (s *Store) ListTokens(ctx context.Context, tenant string) ([]*Token, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT id, tenant, name, role, created_at, revoked_at FROM tokens WHERE (? = '' OR tenant = ?) ORDER BY created_at, id`), tenant, tenant)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*Token
	for rows.Next() {
		var t Token
		var role string
		var created int64
		var revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Tenant, &t.Name, &role, &created, &revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		t.Role, t.Created = Role(role), fromMicros(created)
		if revoked.Valid {
			t.Revoked = fromMicros(revoked.Int64)
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token of tenant (any tenant when tenant is "").
func (s *Store) RevokeToken(ctx context.Context, actor Actor, tenant, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND (? = '' OR tenant = ?) AND revoked_at IS NULL`),
			micros(s.now()), id, tenant, tenant)
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
