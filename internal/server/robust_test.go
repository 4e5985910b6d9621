package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// TestSlowBody: a client that sends its headers and then stalls, or
// trickles its body, gets 408 body_timeout with the JSON error body once
// the body timeout has passed, and the connection is closed.
func TestSlowBody(t *testing.T) {
	e := newEnv(t, Config{BodyTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(e.url, "http://")
	for _, tt := range []struct {
		name    string
		trickle bool
	}{{"stall", false}, {"trickle", true}} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// A guard against a hang, far beyond the body timeout.
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			fmt.Fprintf(conn, "POST /v1/documents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\": \"pneu",
				e.tokens["north/coder"])
			if tt.trickle {
				// A byte every 50 ms until the server answers: each one
				// arrives well within any per-read timeout, never the
				// whole body.
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					for {
						select {
						case <-stop:
							return
						case <-time.After(50 * time.Millisecond):
							if _, err := conn.Write([]byte("m")); err != nil {
								return
							}
						}
					}
				}()
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			var eb errBody
			if err := json.Unmarshal(body, &eb); err != nil || resp.StatusCode != http.StatusRequestTimeout || eb.Error.Code != "body_timeout" {
				t.Fatalf("%d %s (%v), want 408 body_timeout", resp.StatusCode, body, err)
			}
			if !resp.Close {
				t.Error("the connection is kept open after a 408")
			}
		})
	}
	// A body that arrives in time, after a pause shorter than the
	// timeout, is read; and a slow handler after it is not cut short by
	// the body's deadline.
	blocked := newEnv(t, Config{BodyTimeout: 300 * time.Millisecond, Reasoner: &slowReasoner{d: 600 * time.Millisecond}})
	var d store.Document
	if code := blocked.do("north/coder", "POST", "/v1/documents", map[string]string{"text": "pneumonia"}, &d); code != 201 {
		t.Fatalf("coding that outlasts the body timeout: %d", code)
	}
}

// TestIdempotencyKey: a retried submission with the same Idempotency-Key
// returns the document the first created, in both forms, per tenant; the
// key with another body is 422 idempotency_key_reused; a malformed key is
// 400.
func TestIdempotencyKey(t *testing.T) {
	e := newEnv(t, Config{})
	submit := func(who, key string, body any, out any) (int, http.Header) {
		t.Helper()
		j, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", e.url+"/v1/documents", bytes.NewReader(j))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if out != nil {
			json.Unmarshal(data, out)
		}
		return resp.StatusCode, resp.Header
	}
	count := func(who string) int {
		var list struct{ Documents []store.Document }
		e.do(who, "GET", "/v1/documents", nil, &list)
		return len(list.Documents)
	}
	note := map[string]string{"text": testNote, "externalId": "enc-1"}
	var first, again store.Document
	if code, _ := submit("north/coder", "k-1", note, &first); code != 201 {
		t.Fatalf("first: %d", code)
	}
	code, h := submit("north/coder", "k-1", note, &again)
	if code != 200 || again.ID != first.ID || len(again.Codes) != len(first.Codes) || h.Get("Location") != "/v1/documents/"+first.ID || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %s, want 200 with %s", code, again.ID, first.ID)
	}
	if n := count("north/coder"); n != 1 {
		t.Fatalf("%d documents after a retry, want 1", n)
	}
	var eb errBody
	if code, _ := submit("north/coder", "k-1", map[string]string{"text": "hypertension"}, &eb); code != 422 || eb.Error.Code != "idempotency_key_reused" {
		t.Fatalf("the key with another note: %d %+v", code, eb.Error)
	}
	var south store.Document
	if code, _ := submit("south/coder", "k-1", note, &south); code != 201 || south.ID == first.ID {
		t.Fatalf("the key in another tenant: %d %s", code, south.ID)
	}
	for _, key := range []string{strings.Repeat("k", store.MaxIdempotencyKey+1), "two words"} {
		if code, _ := submit("north/coder", key, note, &eb); code != 400 || eb.Error.Code != "invalid_idempotency_key" || strings.Contains(eb.Error.Message, key) {
			t.Fatalf("key %.20q: %d %+v", key, code, eb.Error)
		}
	}
	// A FHIR submission alike.
	dr := map[string]any{"resourceType": "DocumentReference", "id": "note-9",
		"content": []map[string]any{{"attachment": map[string]string{"contentType": "text/plain", "data": base64.StdEncoding.EncodeToString([]byte(testNote))}}}}
	if code, _ := submit("north/coder", "fhir-1", dr, &first); code != 201 {
		t.Fatalf("FHIR: %d", code)
	}
	if code, _ := submit("north/coder", "fhir-1", dr, &again); code != 200 || again.ID != first.ID {
		t.Fatalf("FHIR retry: %d %s", code, again.ID)
	}
	if n := count("north/coder"); n != 2 {
		t.Fatalf("%d documents, want 2", n)
	}
}

// slowReasoner is phraseReasoner taking d to answer.
type slowReasoner struct {
	phraseReasoner
	d time.Duration
}

func (p *slowReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	select {
	case <-time.After(p.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.phraseReasoner.Code(ctx, req)
}
