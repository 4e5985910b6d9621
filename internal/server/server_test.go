package server

import (
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

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// The note has a multi-byte character before the evidence, so byte and
// character offsets differ.
const testNote = "Patient’s history: type 2 diabetes. Assessment: community acquired Pneumonia; hypertension stable. Café au lait spots on the trunk."

func byCode(d *store.Document, code string) *store.Code {
	for _, c := range d.Codes {
		if c.Code == code {
			return c
		}
	}
	return nil
}

func TestReviewFlow(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit(testNote)
	if d.Status != store.StatusCoded || d.Hash != store.HashText(testNote) || len(d.Runs) != 1 || d.Runs[0].Reasoner != "phrase-test" {
		t.Fatalf("submitted document: %+v", d)
	}
	pn := byCode(d, "J18.9")
	if pn == nil || len(pn.Evidence) != 1 || testNote[pn.Evidence[0].Start:pn.Evidence[0].End] != "Pneumonia" {
		t.Fatalf("J18.9 evidence: %+v", pn)
	}
	// E11 has subcategories: not reportable, so the server warns.
	if hdr := byCode(d, "E11"); hdr == nil || len(hdr.Warnings) == 0 || !strings.Contains(hdr.Warnings[0], "header") {
		t.Fatalf("E11 warnings: %+v", hdr)
	}
	htn, dm, hdr := byCode(d, "I10"), byCode(d, "E11.9"), byCode(d, "E11")

	decide := func(codeID string, body map[string]any) (int, map[string]*store.Code) {
		var out map[string]*store.Code
		return e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+codeID+"/decision", body, &out), out
	}
	if code, _ := decide(htn.ID, map[string]any{"action": "accept"}); code != 200 {
		t.Fatalf("accept: %d", code)
	}
	if code, _ := decide(hdr.ID, map[string]any{"action": "reject", "reason": "duplicate of E11.9"}); code != 200 {
		t.Fatalf("reject: %d", code)
	}
	code, out := decide(pn.ID, map[string]any{"action": "replace", "code": "j159", "reason": "sputum culture: bacterial"})
	if code != 200 || out["replacement"].Code != "J15.9" || out["replacement"].Title != "Unspecified bacterial pneumonia" {
		t.Fatalf("replace: %d %+v", code, out["replacement"])
	}
	i := strings.Index(testNote, "Café au lait spots")
	var added store.Code
	if code := e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes", map[string]any{
		"code": "L81.3", "evidence": []map[string]any{{"start": i, "end": i + len("Café au lait spots")}}}, &added); code != 201 {
		t.Fatalf("add: %d", code)
	}
	if added.Evidence[0].Text != "Café au lait spots" || added.Origin != store.OriginCoder {
		t.Fatalf("added: %+v", added)
	}
	if code := e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export", nil, nil); code != http.StatusConflict {
		t.Fatalf("export with a pending code: %d, want 409", code)
	}
	if code, _ := decide(dm.ID, map[string]any{"action": "accept"}); code != 200 {
		t.Fatalf("accept: %d", code)
	}

	var got store.Document
	e.do("north/auditor", "GET", "/v1/documents/"+d.ID, nil, &got)
	var list []string
	for _, c := range got.Codes {
		list = append(list, c.Code+":"+c.Status)
	}
	if want := "J18.9:replaced J15.9:accepted I10:accepted E11.9:accepted E11:rejected L81.3:accepted"; strings.Join(list, " ") != want || got.Status != store.StatusReviewed {
		t.Fatalf("codes %v status %s, want %s reviewed", list, got.Status, want)
	}

	var log struct{ Entries []store.AuditEntry }
	e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/audit", nil, &log)
	var actions []string
	for _, a := range log.Entries {
		actions = append(actions, a.Action)
		if a.Actor != "north-coder" {
			t.Errorf("audit %s by %s", a.Action, a.Actor)
		}
	}
	if want := "document.create coding.run code.accept code.reject code.replace code.add code.accept"; strings.Join(actions, " ") != want {
		t.Fatalf("audit: %v", actions)
	}

	var exp struct {
		Codes []store.Code
	}
	if code := e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export?format=json", nil, &exp); code != 200 || len(exp.Codes) != 4 {
		t.Fatalf("export json: %d, %d codes", code, len(exp.Codes))
	}
	var bundle struct {
		ResourceType string
		Entry        []struct {
			Resource struct {
				ResourceType string
				Code         struct {
					Coding []struct{ System, Code string }
				}
			}
		}
	}
	e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export?format=fhir", nil, &bundle)
	if bundle.ResourceType != "Bundle" || len(bundle.Entry) != 4 || bundle.Entry[0].Resource.ResourceType != "Condition" ||
		bundle.Entry[0].Resource.Code.Coding[0].Code != "J15.9" || bundle.Entry[0].Resource.Code.Coding[0].System != "http://hl7.org/fhir/sid/icd-10-cm" {
		t.Fatalf("bundle: %+v", bundle)
	}
	var claim struct {
		ResourceType string
		Diagnosis    []struct {
			Sequence                 int
			DiagnosisCodeableConcept struct{ Coding []struct{ Code string } }
		}
	}
	e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export?format=claim", nil, &claim)
	if claim.ResourceType != "Claim" || len(claim.Diagnosis) != 4 || claim.Diagnosis[0].DiagnosisCodeableConcept.Coding[0].Code != "J15.9" || claim.Diagnosis[3].Sequence != 4 {
		t.Fatalf("claim: %+v", claim)
	}

	// Listing filters.
	e.submit("no findings")
	var docs struct{ Documents []store.Document }
	e.do("north/coder", "GET", "/v1/documents?status=reviewed", nil, &docs)
	if len(docs.Documents) != 1 || docs.Documents[0].ID != d.ID || docs.Documents[0].Text != "" {
		t.Fatalf("status filter: %+v", docs.Documents)
	}
	e.do("north/coder", "GET", "/v1/documents?coder=someone-else", nil, &docs)
	if len(docs.Documents) != 0 {
		t.Fatalf("coder filter: %d docs", len(docs.Documents))
	}
	e.do("north/coder", "GET", "/v1/documents?from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+"&coder=north-coder", nil, &docs)
	if len(docs.Documents) != 2 {
		t.Fatalf("date filter: %d docs", len(docs.Documents))
	}

	// Look-up and search for the UI.
	var entry struct{ Code, Title, Status string }
	if code := e.do("north/coder", "GET", "/v1/codes/icd10cm/N39.0", nil, &entry); code != 200 || entry.Title != "Urinary tract infection, site not specified" {
		t.Fatalf("lookup: %d %+v", code, entry)
	}
	var hits struct{ Hits []struct{ Code string } }
	if code := e.do("north/coder", "GET", "/v1/search?q=bacterial+pneumonia", nil, &hits); code != 200 || len(hits.Hits) == 0 || hits.Hits[0].Code != "J15.9" {
		t.Fatalf("search: %d %+v", code, hits)
	}
}

func TestFHIRDocumentReference(t *testing.T) {
	e := newEnv(t, Config{})
	dr := map[string]any{
		"resourceType": "DocumentReference", "id": "note-17", "status": "current",
		"subject": map[string]string{"reference": "Patient/42"},
		"content": []map[string]any{{"attachment": map[string]string{
			"contentType": "text/plain; charset=utf-8", "data": base64.StdEncoding.EncodeToString([]byte(testNote))}}},
	}
	var d store.Document
	if code := e.do("north/coder", "POST", "/v1/documents?setting=outpatient", dr, &d); code != 201 {
		t.Fatalf("status %d", code)
	}
	if d.Text != testNote || d.Source != "fhir" || d.Subject != "Patient/42" || d.ExternalID != "note-17" || d.Setting != "outpatient" || byCode(&d, "I10") == nil {
		t.Fatalf("document: %+v", d)
	}
	for _, c := range d.Codes {
		e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+c.ID+"/decision", map[string]any{"action": "accept"}, nil)
	}
	var bundle struct {
		Entry []struct {
			Resource struct{ Subject struct{ Reference string } }
		}
	}
	e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export?format=fhir", nil, &bundle)
	if len(bundle.Entry) == 0 || bundle.Entry[0].Resource.Subject.Reference != "Patient/42" {
		t.Fatalf("bundle subject: %+v", bundle)
	}
}

// TestRoleBoundaries proves what each role and tenant may do.
func TestRoleBoundaries(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit(testNote)
	codeID := d.Codes[0].ID
	doc := "/v1/documents/" + d.ID
	accept := map[string]any{"action": "accept"}
	newNote := map[string]any{"text": "hypertension"}
	tests := []struct {
		who, method, path string
		body              any
		want              int
	}{
		{"", "GET", "/v1/documents", nil, 401},
		{"", "POST", "/v1/documents", newNote, 401},
		{"", "GET", doc, nil, 401},
		{"north/coder", "GET", doc, nil, 200},
		{"north/auditor", "GET", doc, nil, 200},
		{"north/admin", "GET", doc, nil, 200},
		{"north/auditor", "POST", "/v1/documents", newNote, 403},
		{"north/auditor", "POST", doc + "/codes/" + codeID + "/decision", accept, 403},
		{"north/auditor", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 0, "end": 3}}}, 403},
		{"north/auditor", "POST", doc + "/code", nil, 403},
		{"north/auditor", "GET", "/v1/audit", nil, 200},
		{"north/coder", "GET", "/v1/audit", nil, 403},
		{"north/coder", "GET", "/v1/tokens", nil, 403},
		{"north/auditor", "GET", "/v1/tokens", nil, 403},
		{"north/coder", "POST", "/v1/tokens", map[string]string{"name": "x", "role": "admin"}, 403},
		{"north/admin", "GET", "/v1/tokens", nil, 200},
		// Another tenant sees nothing of north's, not even that it exists.
		{"south/coder", "GET", doc, nil, 404},
		{"south/admin", "GET", doc, nil, 404},
		{"south/auditor", "GET", doc + "/audit", nil, 404},
		{"south/auditor", "GET", doc + "/export", nil, 404},
		{"south/coder", "POST", doc + "/codes/" + codeID + "/decision", accept, 404},
		{"south/coder", "POST", doc + "/code", nil, 404},
		{"north/coder", "POST", doc + "/codes/" + codeID + "/decision", accept, 200},
		{"north/admin", "POST", doc + "/code", nil, 200},
	}
	for _, tt := range tests {
		if got := e.do(tt.who, tt.method, tt.path, tt.body, nil); got != tt.want {
			t.Errorf("%s %s %s: %d, want %d", tt.who, tt.method, tt.path, got, tt.want)
		}
	}
	var list struct{ Documents []store.Document }
	e.do("south/admin", "GET", "/v1/documents", nil, &list)
	var log struct{ Entries []store.AuditEntry }
	e.do("south/auditor", "GET", "/v1/audit", nil, &log)
	var toks struct{ Tokens []store.Token }
	e.do("south/admin", "GET", "/v1/tokens", nil, &toks)
	if len(list.Documents) != 0 || len(toks.Tokens) != 3 {
		t.Fatalf("south sees %d documents, %d tokens", len(list.Documents), len(toks.Tokens))
	}
	for _, a := range log.Entries {
		if a.DocumentID == d.ID {
			t.Fatalf("south's audit log shows north's document")
		}
	}
	// An admin's new token belongs to the admin's tenant; a revoked one
	// stops working.
	var created struct {
		Token  store.Token
		Secret string
	}
	if code := e.do("south/admin", "POST", "/v1/tokens", map[string]string{"name": "carol", "role": "coder"}, &created); code != 201 || created.Token.Tenant != "south" {
		t.Fatalf("create token: %d %+v", code, created.Token)
	}
	e.tokens["south/carol"] = created.Secret
	e.do("south/auditor", "GET", "/v1/audit", nil, &log)
	if last := log.Entries[len(log.Entries)-1]; last.Action != "token.create" || last.Actor != "south-admin" {
		t.Fatalf("token creation audited as %s by %s", last.Action, last.Actor)
	}
	if code := e.do("south/carol", "GET", doc, nil, nil); code != 404 {
		t.Fatalf("new south token reads north: %d", code)
	}
	if code := e.do("north/admin", "DELETE", "/v1/tokens/"+created.Token.ID, nil, nil); code != 404 {
		t.Fatalf("north admin revokes south token: %d", code)
	}
	if code := e.do("south/admin", "DELETE", "/v1/tokens/"+created.Token.ID, nil, nil); code != 204 {
		t.Fatalf("revoke: %d", code)
	}
	if code := e.do("south/carol", "GET", "/v1/documents", nil, nil); code != 401 {
		t.Fatalf("revoked token: %d", code)
	}
}

// TestBadInput: each bad request is a 4xx with a machine-readable error
// code, and stores nothing.
func TestBadInput(t *testing.T) {
	e := newEnv(t, Config{MaxBody: 64 << 10})
	d := e.submit(testNote)
	codeID := d.Codes[0].ID
	doc := "/v1/documents/" + d.ID
	ctx := context.Background()
	countAudit := func() int {
		a, _ := e.st.Audit(ctx, "north", store.AuditFilter{Limit: 1000})
		return len(a)
	}
	countDocs := func() int {
		l, _ := e.st.ListDocuments(ctx, "north", store.Filter{Limit: 500})
		return len(l)
	}
	beforeAudit, beforeDocs := countAudit(), countDocs()
	amp := strings.Index(testNote, "’") // a 3-byte character
	tests := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"malformed JSON", "POST", "/v1/documents", `{"text": "pneumonia"`, 400, "invalid_json"},
		{"not an object", "POST", "/v1/documents", `["pneumonia"]`, 400, "invalid_json"},
		{"wrong type", "POST", "/v1/documents", `{"text": 12}`, 400, "invalid_json"},
		{"unknown field", "POST", "/v1/documents", `{"text": "pneumonia", "txet": 1}`, 400, "unknown_field"},
		{"trailing data", "POST", "/v1/documents", `{"text": "pneumonia"} {}`, 400, "invalid_json"},
		{"invalid UTF-8", "POST", "/v1/documents", []byte("{\"text\": \"pneumonia \xff\xfe\"}"), 400, "invalid_utf8"},
		{"oversized body", "POST", "/v1/documents", `{"text": "` + strings.Repeat("pneumonia ", 10<<10) + `"}`, 413, "body_too_large"},
		{"empty text", "POST", "/v1/documents", `{"text": "  "}`, 422, "empty_text"},
		{"bad setting", "POST", "/v1/documents", `{"text": "pneumonia", "setting": "icu"}`, 422, "invalid_setting"},
		{"bad system", "POST", "/v1/documents", `{"text": "pneumonia", "systems": ["snomed"]}`, 422, "unknown_system"},
		{"FHIR not text", "POST", "/v1/documents", `{"resourceType": "DocumentReference", "content": [{"attachment": {"contentType": "application/pdf", "data": "AAAA"}}]}`, 422, "missing_attachment"},
		{"FHIR bad base64", "POST", "/v1/documents", `{"resourceType": "DocumentReference", "content": [{"attachment": {"contentType": "text/plain", "data": "%%%"}}]}`, 422, "invalid_base64"},
		{"FHIR invalid UTF-8", "POST", "/v1/documents", `{"resourceType": "DocumentReference", "content": [{"attachment": {"contentType": "text/plain", "data": "` + base64.StdEncoding.EncodeToString([]byte("a\xffb")) + `"}}]}`, 422, "invalid_utf8"},
		{"FHIR wrong resource", "POST", "/v1/documents", `{"resourceType": "Patient"}`, 422, "unsupported_resource"},
		{"unknown code", "POST", doc + "/codes", map[string]any{"code": "J18.7", "evidence": []map[string]int{{"start": 0, "end": 7}}}, 422, "unknown_code"},
		{"malformed code", "POST", doc + "/codes", map[string]any{"code": "pneumonia", "evidence": []map[string]int{{"start": 0, "end": 7}}}, 422, "unknown_code"},
		{"header code", "POST", doc + "/codes", map[string]any{"code": "J18", "evidence": []map[string]int{{"start": 0, "end": 7}}}, 422, "code_not_reportable"},
		{"no release", "POST", doc + "/codes", map[string]any{"code": "0DTJ4ZZ", "system": "icd10pcs", "evidence": []map[string]int{{"start": 0, "end": 7}}}, 422, "no_release"},
		{"span past end", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 10, "end": len(testNote) + 1}}}, 422, "span_out_of_range"},
		{"negative span", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": -1, "end": 4}}}, 422, "span_out_of_range"},
		{"empty span", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 4, "end": 4}}}, 422, "span_out_of_range"},
		{"span cuts a character", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": amp + 1, "end": amp + 5}}}, 422, "span_not_on_character"},
		{"span text mismatch", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]any{{"start": 0, "end": 7, "text": "hyperte"}}}, 422, "span_text_mismatch"},
		{"no evidence", "POST", doc + "/codes", map[string]any{"code": "I10"}, 422, "missing_evidence"},
		{"unknown assertion", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 0, "end": 7}}, "assertion": "chronic"}, 422, "invalid_assertion"},
		{"assertion not a string", "POST", doc + "/codes", map[string]any{"code": "I10", "evidence": []map[string]int{{"start": 0, "end": 7}}, "assertion": 1}, 400, "invalid_json"},
		{"replace with unknown assertion", "POST", doc + "/codes/" + codeID + "/decision", map[string]any{"action": "replace", "code": "J15.9", "assertion": "Affirmed"}, 422, "invalid_assertion"},
		{"assertion on accept", "POST", doc + "/codes/" + codeID + "/decision", map[string]any{"action": "accept", "assertion": "negated"}, 422, "invalid_assertion"},
		{"reject without reason", "POST", doc + "/codes/" + codeID + "/decision", map[string]any{"action": "reject"}, 422, "missing_reason"},
		{"replace with unknown code", "POST", doc + "/codes/" + codeID + "/decision", map[string]any{"action": "replace", "code": "Q99.99"}, 422, "unknown_code"},
		{"unknown action", "POST", doc + "/codes/" + codeID + "/decision", map[string]any{"action": "approve"}, 422, "invalid_action"},
		{"unknown code id", "POST", doc + "/codes/code_nope/decision", map[string]any{"action": "accept"}, 404, "not_found"},
		{"unknown document", "GET", "/v1/documents/doc_nope", nil, 404, "not_found"},
		{"bad status filter", "GET", "/v1/documents?status=done", nil, 400, "invalid_status"},
		{"bad date filter", "GET", "/v1/documents?from=yesterday", nil, 400, "invalid_date"},
		{"bad export format", "GET", doc + "/export?format=xml", nil, 400, "invalid_format"},
		{"empty search", "GET", "/v1/search?q=", nil, 400, "missing_query"},
		{"lookup unknown code", "GET", "/v1/codes/icd10cm/J18.7", nil, 404, "unknown_code"},
	}
	for _, tt := range tests {
		var out errBody
		got := e.do("north/coder", tt.method, tt.path, tt.body, &out)
		if got != tt.status || out.Error.Code != tt.code || out.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", tt.name, got, out.Error, tt.status, tt.code)
		}
	}
	// Wrong content type.
	req, _ := http.NewRequest("POST", e.url+"/v1/documents", strings.NewReader(`{"text":"pneumonia"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+e.tokens["north/coder"])
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 415 {
		t.Errorf("text/plain body: %v %v", resp.StatusCode, err)
	}
	if a, n := countAudit(), countDocs(); a != beforeAudit || n != beforeDocs {
		t.Fatalf("bad input stored something: audit %d -> %d, documents %d -> %d", beforeAudit, a, beforeDocs, n)
	}
	got, _ := e.st.GetDocument(ctx, "north", d.ID)
	for _, c := range got.Codes {
		if c.Status != store.CodePending || c.Code == "J18.7" || c.Code == "I10" && c.Origin == store.OriginCoder {
			t.Fatalf("bad input changed codes: %+v", c)
		}
	}
}

// TestLogsHaveNoNoteText: one structured line per request, with the route
// and status, and never any of the note.
func TestLogsHaveNoNoteText(t *testing.T) {
	e := newEnv(t, Config{})
	secret := "Zanzibar-marker-7781 pneumonia"
	d := e.submit(secret)
	e.do("north/coder", "GET", "/v1/documents/"+d.ID, nil, nil)
	e.do("north/coder", "POST", "/v1/documents", `{"text": "Zanzibar-marker-7781", "oops": 1}`, nil)
	e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes", map[string]any{"code": "I10", "evidence": []map[string]any{{"start": 0, "end": 8, "text": "Zanzibar-marker-7781"}}}, nil)
	logs := e.logs.String()
	if strings.Contains(logs, "Zanzibar") || strings.Contains(logs, "marker-7781") {
		t.Fatalf("note text in logs:\n%s", logs)
	}
	var n int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line not JSON: %s", line)
		}
		if rec["msg"] == "request" {
			n++
			if rec["route"] == nil || rec["status"] == nil || rec["actor"] != "north-coder" {
				t.Errorf("request line lacks fields: %s", line)
			}
		}
	}
	if n != 4 {
		t.Fatalf("%d request lines, want 4", n)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit(testNote)
	e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+d.Codes[0].ID+"/decision", map[string]any{"action": "accept"}, nil)
	if code := e.do("", "GET", "/healthz", nil, nil); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	var ready struct {
		Status   string
		Releases []string
	}
	if code := e.do("", "GET", "/readyz", nil, &ready); code != 200 || ready.Releases[0] != "icd10cm-2021" {
		t.Fatalf("readyz %d %+v", code, ready)
	}
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`medcode_http_requests_total{code="201",method="POST",route="/v1/documents"} 1`,
		`medcode_decisions_total{action="accept"} 1`,
		`medcode_codes_per_note_sum 4`,
		`medcode_coding_duration_seconds_count 1`,
		`medcode_http_request_duration_seconds_bucket`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestGracefulShutdown: a note being coded when shutdown starts is coded,
// stored and answered; new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	block := make(chan struct{})
	e := newEnv(t, Config{Reasoner: &phraseReasoner{block: block}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- e.srv.Serve(ctx, l, 30*time.Second) }()
	url := "http://" + l.Addr().String()

	type result struct {
		status int
		doc    store.Document
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", url+"/v1/documents", strings.NewReader(`{"text": "hypertension"}`))
		req.Header.Set("Authorization", "Bearer "+e.tokens["north/coder"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{status: -1}
			return
		}
		defer resp.Body.Close()
		var r result
		r.status = resp.StatusCode
		json.NewDecoder(resp.Body).Decode(&r.doc)
		done <- r
	}()
	waitFor(t, func() bool { return testutilGauge(t, url) == 1 })
	stop()
	// Shutdown has begun when the listener stops accepting.
	waitFor(t, func() bool {
		c, err := net.DialTimeout("tcp", l.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	close(block)
	r := <-done
	if r.status != 201 || len(r.doc.Codes) != 1 {
		t.Fatalf("in-flight request: %d %+v", r.status, r.doc)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.GetDocument(context.Background(), "north", r.doc.ID); err != nil {
		t.Fatalf("in-flight document not stored: %v", err)
	}
}

// testutilGauge reads the in-flight gauge from /metrics.
func testutilGauge(t *testing.T, url string) int {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n int
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "medcode_http_in_flight_requests ") {
			fmt.Sscanf(line, "medcode_http_in_flight_requests %d", &n)
		}
	}
	return n
}

// TestTimeout: a coding that outlives the request timeout is a 503 and
// stores nothing.
func TestTimeout(t *testing.T) {
	e := newEnv(t, Config{Reasoner: &phraseReasoner{block: make(chan struct{})}, Timeout: 200 * time.Millisecond})
	var out errBody
	if code := e.do("north/coder", "POST", "/v1/documents", map[string]string{"text": "hypertension"}, &out); code != 503 || out.Error.Code != "timeout" {
		t.Fatalf("%d %+v", code, out)
	}
	if l, _ := e.st.ListDocuments(context.Background(), "north", store.Filter{}); len(l) != 0 {
		t.Fatalf("%d documents stored", len(l))
	}
}

// incompleteReasoner codes a diagnosis and a procedure the note documents
// only up to its body part: an incomplete code with its query.
type incompleteReasoner struct{}

func (incompleteReasoner) Code(_ context.Context, req coding.Request) (*coding.Result, error) {
	ev := []coding.Evidence{{Start: 0, End: 9, Text: req.Text[:9]}}
	return &coding.Result{Reasoner: "incomplete-test", Setting: req.Setting, Codes: []coding.Code{
		{Code: "J18.9", System: codesys.ICD10CM, Kind: coding.Diagnosis, Title: "Pneumonia, unspecified organism", Evidence: ev, Confidence: 0.9},
		{Code: "0DTJ", System: codesys.ICD10PCS, Kind: coding.Procedure, Title: "Medical and Surgical, Gastrointestinal System, Resection, Appendix",
			Evidence: ev, Confidence: 0.7, Incomplete: true, Missing: "Approach"},
	}, Queries: []coding.Query{{About: "approach", Question: "Approach not documented?", Partial: "0DTJ", Evidence: ev}}}, nil
}

// An incomplete code never becomes a code to review, accept and export
// (to a claim above all); its query stays with the run.
func TestIncompleteCodeNotExported(t *testing.T) {
	e := newEnv(t, Config{Reasoner: incompleteReasoner{}})
	d := e.submit("pneumonia; appendectomy")
	if len(d.Codes) != 1 || d.Codes[0].Code != "J18.9" {
		t.Fatalf("codes for review: %+v, want only J18.9", d.Codes)
	}
	if len(d.Runs) != 1 || len(d.Runs[0].Queries) != 1 || d.Runs[0].Queries[0].Partial != "0DTJ" {
		t.Fatalf("runs: %+v, want the query for 0DTJ", d.Runs)
	}
	e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+d.Codes[0].ID+"/decision", map[string]any{"action": "accept"}, nil)
	var claim map[string]any
	if code := e.do("north/coder", "GET", "/v1/documents/"+d.ID+"/export?format=claim", nil, &claim); code != 200 {
		t.Fatalf("export claim: %d", code)
	}
	if _, ok := claim["procedure"]; ok {
		t.Fatalf("claim has procedures: %v", claim["procedure"])
	}
}
