package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// phraseReasoner is a test double for the offline coder: it codes every
// occurrence of a few phrases, case-insensitively, with the code the
// fixture Tabular List gives them.
type phraseReasoner struct {
	// block, when set, is waited on before answering.
	block chan struct{}
}

var phrases = []struct{ phrase, code, title string }{
	{"pneumonia", "J18.9", "Pneumonia, unspecified organism"},
	{"hypertension", "I10", "Essential (primary) hypertension"},
	{"type 2 diabetes", "E11.9", "Type 2 diabetes mellitus without complications"},
	{"urinary tract infection", "N39.0", "Urinary tract infection, site not specified"},
	{"diabetes", "E11", "Type 2 diabetes mellitus"}, // a header: the server must warn
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (p *phraseReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	if p.block != nil {
		select {
		case <-p.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	lower := asciiLower(req.Text)
	res := &coding.Result{Reasoner: "phrase-test", Releases: []string{"icd10cm-2021"}, Setting: req.Setting, Codes: []coding.Code{}}
	for _, ph := range phrases {
		var ev []coding.Evidence
		for off := 0; ; {
			i := strings.Index(lower[off:], ph.phrase)
			if i < 0 {
				break
			}
			s := off + i
			ev = append(ev, coding.Evidence{Start: s, End: s + len(ph.phrase), Text: req.Text[s : s+len(ph.phrase)]})
			off = s + len(ph.phrase)
		}
		if len(ev) > 0 {
			res.Codes = append(res.Codes, coding.Code{Code: ph.code, System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: ph.title,
				Evidence: ev, Confidence: 0.9, Trail: []coding.Step{{Kind: coding.StepIndex, Detail: "Index: " + ph.phrase, Ref: ph.phrase}}})
		}
	}
	return res, nil
}

func testReleases(t testing.TB) *Releases {
	f, err := os.Open(filepath.Join("testdata", "tabular.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tab, err := codesys.ReadTabular(f, "tabular.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReleases(&codesys.Release{System: codesys.ICD10CM, Version: tab.Version, Tabular: tab})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	t      testing.TB
	srv    *Server
	st     *store.Store
	url    string
	logs   *syncBuffer
	tokens map[string]string // "tenant/role" -> secret
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "medcode.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &syncBuffer{}
	cfg.Store = st
	if cfg.Reasoner == nil {
		cfg.Reasoner = &phraseReasoner{}
	}
	if cfg.Codes == nil {
		cfg.Codes = testReleases(t)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: srv, st: st, url: hs.URL, logs: logs, tokens: map[string]string{}}
	for _, tenant := range []string{"north", "south"} {
		for _, role := range []store.Role{store.Coder, store.Auditor, store.Admin} {
			secret, _, err := st.CreateToken(ctx, tenant, tenant+"-"+string(role), role)
			if err != nil {
				t.Fatal(err)
			}
			e.tokens[tenant+"/"+string(role)] = secret
		}
	}
	return e
}

// do sends a request with the token of who ("tenant/role", or "" for
// none) and decodes a JSON answer into out when out is not nil.
func (e *env) do(who, method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[who])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// submit codes a note as north's coder and returns the document.
func (e *env) submit(text string) *store.Document {
	e.t.Helper()
	var d store.Document
	if code := e.do("north/coder", "POST", "/v1/documents", map[string]any{"text": text}, &d); code != http.StatusCreated {
		e.t.Fatalf("submit: status %d", code)
	}
	return &d
}

type errBody struct {
	Error apiError `json:"error"`
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached in 10s")
}
