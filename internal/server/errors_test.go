package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestErrorsDoNotQuoteInput: an error names the field at fault but never
// repeats what was sent, nor the server's Go types.
func TestErrorsDoNotQuoteInput(t *testing.T) {
	e := newEnv(t, Config{})
	const marker = "Zanzibar marker 7781 with a long and distinctive value"
	codes := "/v1/documents/" + e.submit("pneumonia").ID + "/codes"
	tests := []struct {
		name, who, path string
		body            any
		status          int
		code, field     string
	}{
		{"invalid name", "north/admin", "/v1/tokens", map[string]string{"name": marker, "role": "coder"}, 422, "invalid_name", "name"},
		{"invalid role", "north/admin", "/v1/tokens", map[string]string{"name": "ok", "role": marker}, 422, "invalid_role", "role"},
		{"invalid setting", "north/coder", "/v1/documents", map[string]string{"text": "pneumonia", "setting": marker}, 422, "invalid_setting", "setting"},
		{"wrong type", "north/coder", "/v1/documents", map[string]any{"text": 7781}, 400, "invalid_json", "text"},
		{"list for a string", "north/coder", "/v1/documents", map[string]any{"text": []string{marker}}, 400, "invalid_json", "text"},
		{"number too large", "north/admin", "/v1/tokens", `{"name": 77819999999999999999999999, "role": "coder"}`, 400, "invalid_json", "name"},
		{"number too large for an offset", "north/coder", codes, `{"code": "I10", "evidence": [{"start": 77819999999999999999999, "end": 1}]}`, 400, "invalid_json", "evidence.start"},
		{"string for a list of spans", "north/coder", codes, map[string]any{"code": "I10", "evidence": marker}, 400, "invalid_json", "evidence"},
		{"unknown field", "north/coder", "/v1/documents", map[string]any{"text": "pneumonia", marker: 1}, 400, "unknown_field", ""},
	}
	for _, tt := range tests {
		var raw json.RawMessage
		got := e.do(tt.who, "POST", tt.path, tt.body, &raw)
		var out errBody
		json.Unmarshal(raw, &out)
		if got != tt.status || out.Error.Code != tt.code || out.Error.Field != tt.field || out.Error.Message == "" {
			t.Errorf("%s: %d %s, want %d %s on %q", tt.name, got, raw, tt.status, tt.code, tt.field)
		}
		for _, leak := range []string{"Zanzibar", "7781", "Go struct", "server.", "[]string", "string into"} {
			if strings.Contains(string(raw), leak) {
				t.Errorf("%s: the error quotes %q: %s", tt.name, leak, raw)
			}
		}
	}
}
