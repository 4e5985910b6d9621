package server

import (
	"encoding/json"
	"testing"

	"github.com/medcode-dev/medcode/internal/store"
)

type createdToken struct {
	Token  store.Token
	Secret string
}

// TestTokenLifecycle: token names are unique among a tenant's live
// tokens, an expired token is 401 token_expired, a rotated token's old
// secret stops (after its grace period) while the new one works, and the
// audit log names the token behind each change.
func TestTokenLifecycle(t *testing.T) {
	e := newEnv(t, Config{})
	var raw json.RawMessage
	var eb errBody
	if code := e.do("north/admin", "POST", "/v1/tokens", map[string]string{"name": "north-coder", "role": "coder"}, &raw); code != 409 {
		t.Fatalf("a second north-coder: %d %s", code, raw)
	}
	json.Unmarshal(raw, &eb)
	if eb.Error.Code != "token_name_taken" || eb.Error.Field != "name" {
		t.Fatalf("duplicate name: %s", raw)
	}

	// Expiry.
	var c createdToken
	if code := e.do("north/admin", "POST", "/v1/tokens", map[string]string{"name": "brief", "role": "coder", "ttl": "1ns"}, &c); code != 201 || c.Token.Expires.IsZero() {
		t.Fatalf("create with ttl: %d %+v", code, c.Token)
	}
	e.tokens["north/brief"] = c.Secret
	if code := e.do("north/brief", "GET", "/v1/me", nil, &raw); code != 401 {
		t.Fatalf("expired token: %d %s", code, raw)
	}
	json.Unmarshal(raw, &eb)
	if eb.Error.Code != "token_expired" {
		t.Fatalf("expired token: %s", raw)
	}
	for _, ttl := range []string{"soon", "-1h", "100000h"} {
		if code := e.do("north/admin", "POST", "/v1/tokens", map[string]string{"name": "bad-ttl", "role": "coder", "ttl": ttl}, &raw); code != 422 {
			t.Fatalf("ttl %s: %d %s", ttl, code, raw)
		}
	}

	// Rotation with a grace period, then without.
	if code := e.do("north/admin", "POST", "/v1/tokens", map[string]string{"name": "robot", "role": "coder", "ttl": "720h"}, &c); code != 201 {
		t.Fatalf("create: %d", code)
	}
	e.tokens["north/robot"] = c.Secret
	var r createdToken
	if code := e.do("south/admin", "POST", "/v1/tokens/"+c.Token.ID+"/rotate", nil, &raw); code != 404 {
		t.Fatalf("south rotates north's token: %d %s", code, raw)
	}
	if code := e.do("north/admin", "POST", "/v1/tokens/"+c.Token.ID+"/rotate", map[string]string{"grace": "1h"}, &r); code != 201 ||
		r.Token.Name != "robot" || r.Token.RotatedFrom != c.Token.ID || r.Token.Expires.Sub(r.Token.Created) != c.Token.Expires.Sub(c.Token.Created) {
		t.Fatalf("rotate: %d %+v", code, r.Token)
	}
	e.tokens["north/robot2"] = r.Secret
	for _, who := range []string{"north/robot", "north/robot2"} {
		if code := e.do(who, "GET", "/v1/me", nil, nil); code != 200 {
			t.Fatalf("%s in the grace period: %d", who, code)
		}
	}
	var r2 createdToken
	if code := e.do("north/admin", "POST", "/v1/tokens/"+r.Token.ID+"/rotate", nil, &r2); code != 201 {
		t.Fatalf("rotate again: %d", code)
	}
	if code := e.do("north/robot2", "GET", "/v1/me", nil, nil); code != 401 {
		t.Fatalf("secret rotated without grace: %d", code)
	}
	// Revoking a token in its grace period ends it at once.
	if code := e.do("north/admin", "DELETE", "/v1/tokens/"+c.Token.ID, nil, nil); code != 204 {
		t.Fatalf("revoke in grace: %d", code)
	}
	if code := e.do("north/robot", "GET", "/v1/me", nil, nil); code != 401 {
		t.Fatalf("revoked in grace: %d", code)
	}

	// The audit log names the token.
	d := e.submit("pneumonia")
	var me store.Token
	e.do("north/coder", "GET", "/v1/me", nil, &me)
	var log struct{ Entries []store.AuditEntry }
	e.do("north/auditor", "GET", "/v1/documents/"+d.ID+"/audit", nil, &log)
	if len(log.Entries) == 0 {
		t.Fatal("no audit entries")
	}
	for _, a := range log.Entries {
		if a.TokenID != me.ID || a.Actor != me.Name {
			t.Fatalf("entry %s by %s token %q, want %s", a.Action, a.Actor, a.TokenID, me.ID)
		}
	}
}
