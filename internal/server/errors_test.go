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
	// A note long enough for offsets with the marker's digits, one of
	// them inside a two-byte character.
	long := "/v1/documents/" + e.submit(strings.Repeat("x", 7780)+"é pneumonia").ID + "/codes"
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
		{"unknown system", "north/coder", "/v1/documents", map[string]any{"text": "pneumonia", "systems": []string{marker}}, 422, "unknown_system", "systems[0]"},
		{"invalid assertion", "north/coder", codes, map[string]any{"code": "J15.9", "evidence": []map[string]int{{"start": 0, "end": 9}}, "assertion": marker}, 422, "invalid_assertion", "assertion"},
		{"invalid code", "north/coder", codes, map[string]any{"code": marker, "evidence": []map[string]int{{"start": 0, "end": 9}}}, 422, "unknown_code", "code"},
		{"unknown system of a code", "north/coder", codes, map[string]any{"code": "J15.9", "system": marker, "evidence": []map[string]int{{"start": 0, "end": 9}}}, 422, "unknown_system", "system"},
		{"unknown field", "north/coder", "/v1/documents", map[string]any{"text": "pneumonia", marker: 1}, 400, "unknown_field", ""},
		{"span out of range", "north/coder", codes, map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 7781, "end": 7782}}}, 422, "span_out_of_range", "evidence[0]"},
		{"span cutting a character", "north/coder", long, map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 7781, "end": 7785}}}, 422, "span_not_on_character", "evidence[0]"},
		{"span quoting other text", "north/coder", long, map[string]any{"code": "I10", "evidence": []map[string]any{{"start": 7783, "end": 7792, "text": marker}}}, 422, "span_text_mismatch", "evidence[0]"},
		{"FHIR resource of another type", "north/coder", "/v1/documents", map[string]any{"resourceType": marker}, 422, "unsupported_resource", "resourceType"},
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

// TestLimits: free text and lists a client stores are bounded, refused
// past the bound with a code naming the field and without the value, and
// accepted at it.
func TestLimits(t *testing.T) {
	e := newEnv(t, Config{MaxBody: 1 << 20})
	d := e.submit(testNote)
	doc := "/v1/documents/" + d.ID
	decision := func(i int) string { return doc + "/codes/" + d.Codes[i].ID + "/decision" }
	spans := func(n int) []map[string]int {
		s := make([]map[string]int, n)
		for i := range s {
			s[i] = map[string]int{"start": 0, "end": 1}
		}
		return s
	}
	// A multi-byte character: the limit is on characters, not bytes.
	reason := func(n int) string { return strings.Repeat("é", n) }
	tests := []struct {
		name, path string
		body       any
		status     int
		code       string
		field      string
	}{
		{"reason at the limit", decision(0), map[string]any{"action": "reject", "reason": reason(maxReason)}, 200, "", ""},
		{"reason too long", decision(1), map[string]any{"action": "reject", "reason": reason(maxReason + 1)}, 422, "too_long", "reason"},
		{"replacement reason too long", decision(1), map[string]any{"action": "replace", "code": "J15.9", "reason": reason(maxReason + 1)}, 422, "too_long", "reason"},
		{"note too long", doc + "/codes", map[string]any{"code": "N39.0", "evidence": spans(1), "note": reason(maxReason + 1)}, 422, "too_long", "note"},
		{"externalId at the limit", "/v1/documents", map[string]any{"text": "pneumonia", "externalId": strings.Repeat("x", maxExternalID)}, 201, "", ""},
		{"externalId too long", "/v1/documents", map[string]any{"text": "pneumonia", "externalId": strings.Repeat("x", maxExternalID+1)}, 422, "too_long", "externalId"},
		{"FHIR id too long", "/v1/documents", map[string]any{"resourceType": "DocumentReference", "id": strings.Repeat("x", maxExternalID+1),
			"content": []any{map[string]any{"attachment": map[string]string{"contentType": "text/plain", "data": "cG5ldW1vbmlh"}}}}, 422, "too_long", "externalId"},
		{"too many spans on an added code", doc + "/codes", map[string]any{"code": "N39.0", "evidence": spans(maxSpans + 1)}, 422, "too_many_spans", "evidence"},
		{"too many spans on a replacement", decision(1), map[string]any{"action": "replace", "code": "N39.0", "evidence": spans(maxSpans + 1)}, 422, "too_many_spans", "evidence"},
		{"spans at the limit", doc + "/codes", map[string]any{"code": "N39.0", "evidence": spans(maxSpans)}, 201, "", ""},
	}
	for _, tt := range tests {
		var raw json.RawMessage
		got := e.do("north/coder", "POST", tt.path, tt.body, &raw)
		if tt.code == "" {
			if got != tt.status {
				t.Errorf("%s: %d %.200s, want %d", tt.name, got, raw, tt.status)
			}
			continue
		}
		var out errBody
		json.Unmarshal(raw, &out)
		if got != tt.status || out.Error.Code != tt.code || out.Error.Field != tt.field || out.Error.Message == "" {
			t.Errorf("%s: %d %.200s, want %d %s on %q", tt.name, got, raw, tt.status, tt.code, tt.field)
		}
		if strings.Contains(string(raw), "éé") || strings.Contains(string(raw), "xxx") {
			t.Errorf("%s: the error quotes the value: %.200s", tt.name, raw)
		}
	}
}

// TestDuplicateNotQuoted: adding a code the document has is 409
// duplicate_code, and the message does not repeat the code sent.
func TestDuplicateNotQuoted(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit("pneumonia")
	var raw json.RawMessage
	code := e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes", map[string]any{"code": "j18.9", "evidence": []map[string]int{{"start": 0, "end": 9}}}, &raw)
	var out errBody
	json.Unmarshal(raw, &out)
	if code != 409 || out.Error.Code != "duplicate_code" || out.Error.Message == "" {
		t.Fatalf("%d %s, want 409 duplicate_code", code, raw)
	}
	if strings.Contains(strings.ToLower(string(raw)), "j18.9") {
		t.Fatalf("the error quotes the code: %s", raw)
	}
}
