package server

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// failingReasoner fails every note as an LLM agent that cannot reach its
// model does: a result with status failed and the reason.
type failingReasoner struct{}

func (failingReasoner) Code(_ context.Context, req coding.Request) (*coding.Result, error) {
	return &coding.Result{Reasoner: "llm", Releases: []string{"icd10cm-2021"}, Setting: req.Setting, Codes: []coding.Code{},
		Status: coding.StatusFailed, Reasons: []string{"analyze: model call failed: endpoint answered HTTP 500"}}, nil
}

// TestFailedCodingIsAnError: a note the reasoner could not code is a 502
// with the reason, and no document is stored as if it had no codes.
func TestFailedCodingIsAnError(t *testing.T) {
	e := newEnv(t, Config{Reasoner: failingReasoner{}})
	var body errBody
	if st := e.do("north/coder", "POST", "/v1/documents", map[string]any{"text": testNote}, &body); st != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", st)
	}
	if body.Error.Code != "reasoner_failed" || !strings.Contains(body.Error.Message, "analyze: model call failed") {
		t.Errorf("error = %+v", body.Error)
	}
	var list struct {
		Documents []any `json:"documents"`
	}
	if st := e.do("north/coder", "GET", "/v1/documents", nil, &list); st != http.StatusOK {
		t.Fatalf("list: status %d", st)
	}
	if len(list.Documents) != 0 {
		t.Errorf("%d documents stored", len(list.Documents))
	}
}
