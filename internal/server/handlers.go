package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/calibrate"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/search"
	"github.com/medcode-dev/medcode/internal/store"
)

// readBody reads a request body that must be valid UTF-8 JSON.
func readBody(r *http.Request) ([]byte, *apiError) {
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		// The wrapper refused a length past the limit: a body is read
		// into one buffer of its size, not grown by doubling.
		buf.Grow(int(r.ContentLength) + 1)
	}
	_, err := buf.ReadFrom(r.Body)
	b := buf.Bytes()
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errorf(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, errorf(http.StatusRequestTimeout, "body_timeout", "the request body did not arrive in time")
	}
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "unreadable_body", "the request body could not be read")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return nil, errorf(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json or application/fhir+json")
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD and
	// shift every evidence offset after it: refuse it instead.
	if !utf8.Valid(b) {
		return nil, errorf(http.StatusBadRequest, "invalid_utf8", "the request body is not valid UTF-8")
	}
	return b, nil
}

// decode decodes a JSON body strictly into v.
func decode(r *http.Request, v any) *apiError {
	b, aerr := readBody(r)
	if aerr != nil {
		return aerr
	}
	return decodeBytes(b, v)
}

func decodeBytes(b []byte, v any) *apiError {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errorf(http.StatusBadRequest, "invalid_json", "unexpected data after the JSON value")
	}
	return nil
}

// jsonError describes a decoding error by position, field and JSON kind.
// It never quotes the input, not even a number, nor names the Go types it
// was decoded into: both would tell a client, or whoever reads its logs,
// more than it sent us.
func jsonError(err error) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return errorf(http.StatusBadRequest, "invalid_json", fmt.Sprintf("malformed JSON at byte %d", se.Offset))
	case errors.As(err, &te):
		e := errorf(http.StatusBadRequest, "invalid_json", "a field has the wrong type or is out of range: expected "+jsonKind(te.Type))
		if safeField(te.Field) {
			e.Field = te.Field
			e.Message = "field " + te.Field + " has the wrong type or is out of range: expected " + jsonKind(te.Type)
		}
		return e
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(http.StatusBadRequest, "invalid_json", "the JSON body is empty or truncated")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		e := errorf(http.StatusBadRequest, "unknown_field", "the body has a field this endpoint does not take")
		if name := strings.Trim(err.Error()[len("json: unknown field "):], `"`); safeField(name) {
			e.Field = name
			e.Message = "unknown field " + name
		}
		return e
	}
	return errorf(http.StatusBadRequest, "invalid_json", "the body is not the expected JSON")
}

// fieldRE matches the field paths the decoder reports for our own types.
// An unknown field's name comes from the client: it is named only when it
// could be one of ours, so that no value smuggled into a key comes back.
var fieldRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,63}$`)

func safeField(s string) bool { return fieldRE.MatchString(s) }

// jsonKind names the JSON a Go type decodes from, in the client's terms.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "another JSON type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "another JSON type"
}

func invalid(field, code, msg string) *apiError {
	e := errorf(http.StatusUnprocessableEntity, code, msg)
	e.Field = field
	return e
}

func (s *Server) storeError(r *http.Request, what string, err error) *apiError {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", what+": not found")
	case errors.Is(err, store.ErrConflict):
		return errorf(http.StatusConflict, "conflict", err.Error())
	}
	return s.internal(r, what, err)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, http.StatusOK, token(r))
	return nil
}

// Limits on what a client stores. They are generous for people and
// bounded for the store, the audit log and every page that shows them: a
// document's codes and their history are read whole.
const (
	// maxReason is the most characters of a decision's reason or an added
	// code's note.
	maxReason = 2000
	// maxExternalID is the most characters of a document's externalId.
	maxExternalID = 256
	// maxSpans is the most evidence spans a client gives one code.
	maxSpans = 1000
)

// unquoted is msg, an error of a lower layer about input, with input's
// quotation taken out: those messages quote what they refuse (with %q),
// and ours never do.
func unquoted(msg, input string) string {
	return strings.ReplaceAll(msg, strconv.Quote(input), "given")
}

// checkLength refuses s when it has more than max characters, naming the
// field and the limit but not the value.
func checkLength(field, s string, max int) *apiError {
	if utf8.RuneCountInString(s) > max {
		return invalid(field, "too_long", fmt.Sprintf("%s is longer than %d characters", field, max))
	}
	return nil
}

// submission is the body of POST /v1/documents in its plain form.
type submission struct {
	Text       string   `json:"text"`
	Setting    string   `json:"setting,omitempty"`
	Systems    []string `json:"systems,omitempty"`
	ExternalID string   `json:"externalId,omitempty"`
}

// idempotencyKey reads the request's Idempotency-Key: "" when none, else
// 1-255 visible ASCII characters.
func idempotencyKey(r *http.Request) (string, *apiError) {
	k := r.Header.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	ok := len(k) <= store.MaxIdempotencyKey
	for i := 0; ok && i < len(k); i++ {
		ok = k[i] > ' ' && k[i] < 0x7f
	}
	if !ok {
		return "", errorf(http.StatusBadRequest, "invalid_idempotency_key", fmt.Sprintf("Idempotency-Key must be 1-%d visible ASCII characters", store.MaxIdempotencyKey))
	}
	return k, nil
}

// requestHash is what makes two submissions the same: the body and the
// setting of a FHIR submission.
func requestHash(r *http.Request, body []byte) string {
	h := sha256.New()
	h.Write(body)
	h.Write([]byte{0})
	h.Write([]byte(r.URL.Query().Get("setting")))
	return hex.EncodeToString(h.Sum(nil))
}

// replay answers a submission with a key the tenant used already: the
// document the first submission created, when this one is the same.
func (s *Server) replay(w http.ResponseWriter, r *http.Request, key, hash string) *apiError {
	tenant := token(r).Tenant
	docID, first, err := s.cfg.Store.Idempotent(r.Context(), tenant, key)
	if err != nil {
		return s.internal(r, "read idempotency key", err)
	}
	if first != hash {
		return errorf(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different submission")
	}
	d, err := s.cfg.Store.GetDocument(r.Context(), tenant, docID)
	if err != nil {
		return s.storeError(r, "document", err)
	}
	w.Header().Set("Location", "/v1/documents/"+d.ID)
	w.Header().Set("Idempotent-Replayed", "true")
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) createDocument(w http.ResponseWriter, r *http.Request) *apiError {
	key, aerr := idempotencyKey(r)
	if aerr != nil {
		return aerr
	}
	body, aerr := readBody(r)
	if aerr != nil {
		return aerr
	}
	var hash string
	if key != "" {
		hash = requestHash(r, body)
		// A retry is answered before coding; two submissions with one
		// key at once are told apart when storing.
		if _, _, err := s.cfg.Store.Idempotent(r.Context(), token(r).Tenant, key); err == nil {
			return s.replay(w, r, key, hash)
		} else if !errors.Is(err, store.ErrNotFound) {
			return s.internal(r, "read idempotency key", err)
		}
	}
	var sub submission
	source := "text"
	var subject string
	if isFHIR(body) {
		doc, aerr := parseDocumentReference(body)
		if aerr != nil {
			return aerr
		}
		source, subject = "fhir", doc.subject
		sub = submission{Text: doc.text, ExternalID: doc.id, Setting: r.URL.Query().Get("setting")}
	} else if aerr := decodeBytes(body, &sub); aerr != nil {
		return aerr
	}
	// Checked after the FHIR form too, whose id becomes the externalId.
	if aerr := checkLength("externalId", sub.ExternalID, maxExternalID); aerr != nil {
		return aerr
	}
	if strings.TrimSpace(sub.Text) == "" {
		return invalid("text", "empty_text", "the note text is empty")
	}
	if len(sub.Text) > s.cfg.MaxNote {
		e := errorf(http.StatusRequestEntityTooLarge, "note_too_large", fmt.Sprintf("the note is longer than %d bytes", s.cfg.MaxNote))
		e.Field = "text"
		return e
	}
	if strings.IndexByte(sub.Text, 0) >= 0 {
		return invalid("text", "invalid_text", "the note text contains a NUL character")
	}
	setting, err := coding.ParseSetting(sub.Setting)
	if err != nil {
		return invalid("setting", "invalid_setting", "the setting must be inpatient or outpatient")
	}
	systems, aerr := s.systemsInput(r, sub.Systems)
	if aerr != nil {
		return aerr
	}
	async, wait, aerr := s.submitMode(r)
	if aerr != nil {
		return aerr
	}
	if async {
		d := &store.Document{Source: source, ExternalID: sub.ExternalID, Subject: subject, Text: sub.Text, Setting: setting}
		var idem *store.Idempotency
		if key != "" {
			idem = &store.Idempotency{Key: key, RequestHash: hash}
		}
		return s.enqueue(w, r, d, systems, wait, idem)
	}
	run, codes, aerr := s.code(r, coding.Request{Text: sub.Text, Setting: setting, Systems: systems})
	if aerr != nil {
		return aerr
	}
	d := &store.Document{Source: source, ExternalID: sub.ExternalID, Subject: subject, Text: sub.Text, Setting: setting}
	if key != "" {
		err = s.cfg.Store.CreateDocumentOnce(r.Context(), token(r).Actor(), store.Idempotency{Key: key, RequestHash: hash}, d, run, codes)
		if errors.Is(err, store.ErrKeyReused) {
			return s.replay(w, r, key, hash)
		}
	} else {
		err = s.cfg.Store.CreateDocument(r.Context(), token(r).Actor(), d, run, codes)
	}
	if err != nil {
		return s.internal(r, "store document", err)
	}
	w.Header().Set("Location", "/v1/documents/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
	return nil
}

// minScore is the minimum score of tenant.
func (s *Server) minScore(tenant string) float64 {
	if m, ok := s.cfg.TenantMinScore[tenant]; ok {
		return m
	}
	return s.cfg.MinScore
}

// code codes req for the request's tenant (CodeDocument) and turns its
// errors into API errors.
func (s *Server) code(r *http.Request, req coding.Request) (*store.Run, []*store.Code, *apiError) {
	tenant := ""
	if tok := token(r); tok != nil {
		tenant = tok.Tenant
	}
	release, ok, err := s.admit.acquire(r.Context(), tenant, len(req.Text) >= s.cfg.LargeNote)
	if err != nil {
		return nil, nil, s.internal(r, "wait for a coding slot", err)
	}
	if !ok {
		s.m.refused.Inc()
		e := errorf(http.StatusTooManyRequests, "busy", "the service is coding as many notes as it may at once; try again shortly")
		e.retryAfter = 1
		return nil, nil, e
	}
	defer release()
	s.m.coding.Inc()
	defer s.m.coding.Dec()
	run, codes, err := s.CodeDocument(r.Context(), tenant, req)
	if errors.Is(err, errNoRelease) {
		return nil, nil, invalid("systems", "no_release", err.Error())
	}
	if ae := (*apiError)(nil); errors.As(err, &ae) {
		return nil, nil, ae
	}
	if err != nil {
		return nil, nil, s.internal(r, "coding", err)
	}
	return run, codes, nil
}

// CodeDocument codes req for tenant as a submission is coded: it runs the
// reasoner of the request's classifications, drops the codes below the
// tenant's minimum score and those not reportable, and checks what is
// left: each evidence span must quote the note, and each code is
// validated against its release, with a warning when it is not
// reportable. A job queue's workers code with it, so that a queued note
// is coded as a synchronous one is.
func (s *Server) CodeDocument(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
	start := time.Now()
	reasoner, err := s.reasoner(ctx, req.Systems)
	if err != nil {
		return nil, nil, err
	}
	res, err := reasoner.Code(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	if res.Failed() {
		// An LLM reasoner that could not code the note: storing its
		// empty result would read as a note with nothing codable. The
		// reasons name stages and endpoint errors, never the note.
		return nil, nil, errorf(http.StatusBadGateway, "reasoner_failed", "the reasoner could not code the note: "+strings.Join(res.Reasons, "; "))
	}
	dur := time.Since(start)
	s.m.codingDur.Observe(dur.Seconds())
	calibrate.DropBelow(res, s.minScore(tenant))
	// Incomplete codes are not codes a reviewer can accept and export
	// (to a claim above all): they stay with the run as the queries that
	// would complete them.
	res.Codes = slices.DeleteFunc(res.Codes, func(c coding.Code) bool { return !c.Reportable() })
	s.m.codes.Observe(float64(len(res.Codes)))
	warnings := make([][]string, len(res.Codes))
	for i := range res.Codes {
		c := &res.Codes[i]
		kept := c.Evidence[:0:0]
		for _, e := range c.Evidence {
			if e.Start >= 0 && e.Start < e.End && e.End <= len(req.Text) && req.Text[e.Start:e.End] == e.Text {
				kept = append(kept, e)
			} else {
				warnings[i] = append(warnings[i], fmt.Sprintf("evidence span %d-%d does not match the note and was dropped", e.Start, e.End))
			}
		}
		c.Evidence = kept
		v, err := s.cfg.Codes.Validate(ctx, c.System, c.Code)
		switch {
		case err != nil:
			warnings[i] = append(warnings[i], "not validated: "+err.Error())
		case v.Status != codesys.Valid:
			warnings[i] = append(warnings[i], v.Reason)
		}
	}
	if res.Usage.Duration == 0 {
		res.Usage.Duration = dur
	}
	run := &store.Run{Reasoner: res.Reasoner, Model: res.Model, Releases: res.Releases, Setting: res.Setting, Started: start,
		Duration: res.Usage.Duration, Usage: res.Usage, Dropped: res.Dropped, Queries: res.Queries, Warnings: res.Warnings,
		PromptVersion: res.PromptVersion, Transcript: res.Transcript}
	if run.Setting == "" {
		run.Setting = req.Setting
	}
	return run, store.FromResult(res.Codes, warnings), nil
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	f := store.Filter{Status: q.Get("status"), Coder: q.Get("coder"), Before: q.Get("before"), Batch: q.Get("batch")}
	switch f.Status {
	case "", store.StatusCoded, store.StatusInReview, store.StatusReviewed, store.StatusQueued, store.StatusCoding, store.StatusFailed:
	default:
		return errorf(http.StatusBadRequest, "invalid_status", "status must be coded, in_review, reviewed, queued, coding or failed")
	}
	if e := dateRange(q, &f.From, &f.To); e != nil {
		return e
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1-500")
		}
		f.Limit = n
	}
	docs, err := s.cfg.Store.ListDocuments(r.Context(), token(r).Tenant, f)
	if err != nil {
		return s.internal(r, "list documents", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"documents": docs})
	return nil
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}

func (s *Server) getDocument(w http.ResponseWriter, r *http.Request) *apiError {
	d, err := s.cfg.Store.GetDocument(r.Context(), token(r).Tenant, r.PathValue("id"))
	if err != nil {
		return s.storeError(r, "document", err)
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) recode(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		Systems []string `json:"systems,omitempty"`
	}
	if b, aerr := readBody(r); aerr != nil {
		return aerr
	} else if len(bytes.TrimSpace(b)) > 0 {
		if aerr := decodeBytes(b, &body); aerr != nil {
			return aerr
		}
	}
	tok := token(r)
	d, err := s.cfg.Store.GetDocument(r.Context(), tok.Tenant, r.PathValue("id"))
	if err != nil {
		return s.storeError(r, "document", err)
	}
	systems, aerr := s.systemsInput(r, body.Systems)
	if aerr != nil {
		return aerr
	}
	run, codes, aerr := s.code(r, coding.Request{ID: d.ID, Text: d.Text, Setting: d.Setting, Systems: systems})
	if aerr != nil {
		return aerr
	}
	if err := s.cfg.Store.AddRun(r.Context(), tok.Actor(), d.ID, run, codes); err != nil {
		return s.storeError(r, "store run", err)
	}
	return s.getDocument(w, r)
}

// spanInput is an evidence span sent by a client.
type spanInput struct {
	Start int     `json:"start"`
	End   int     `json:"end"`
	Text  *string `json:"text,omitempty"`
}

// checkSpans turns spans into evidence of text: in range, on character
// boundaries, and quoting what the client says it quotes.
func checkSpans(text string, spans []spanInput) ([]coding.Evidence, *apiError) {
	if len(spans) > maxSpans {
		return nil, invalid("evidence", "too_many_spans", fmt.Sprintf("a code takes at most %d evidence spans", maxSpans))
	}
	var out []coding.Evidence
	for i, sp := range spans {
		field := fmt.Sprintf("evidence[%d]", i)
		if sp.Start < 0 || sp.End > len(text) || sp.Start >= sp.End {
			return nil, invalid(field, "span_out_of_range", fmt.Sprintf("the span is outside the note (0-%d bytes) or empty", len(text)))
		}
		if !utf8.RuneStart(text[sp.Start]) || sp.End < len(text) && !utf8.RuneStart(text[sp.End]) {
			return nil, invalid(field, "span_not_on_character", "the span cuts a character: offsets are UTF-8 byte offsets")
		}
		if sp.Text != nil && *sp.Text != text[sp.Start:sp.End] {
			return nil, invalid(field, "span_text_mismatch", "the span does not quote the given text")
		}
		out = append(out, coding.Evidence{Start: sp.Start, End: sp.End, Text: text[sp.Start:sp.End]})
	}
	return out, nil
}

// validCode validates a code a coder gives in system (ICD-10-CM when
// empty), any installed classification: it must be reportable.
func (s *Server) validCode(ctx context.Context, field, system, code string) (*store.Code, *apiError) {
	if system == "" {
		system = string(codesys.ICD10CM)
	}
	sys, err := codesys.SystemName(system)
	if err != nil {
		return nil, invalid("system", "unknown_system", unquoted(err.Error(), system))
	}
	if strings.TrimSpace(code) == "" {
		return nil, invalid(field, "missing_code", "a code is required")
	}
	v, err := s.cfg.Codes.Validate(ctx, sys, code)
	if errors.Is(err, errNoRelease) {
		e := "no_release"
		if !sys.Classification().Registered {
			e = "unknown_system"
		}
		// As in systemsInput, the name is a checked identifier by now.
		return nil, invalid("system", e, err.Error())
	}
	if err != nil {
		return nil, invalid(field, "invalid_code", unquoted(err.Error(), code))
	}
	switch v.Status {
	case codesys.Invalid:
		return nil, invalid(field, "unknown_code", unquoted(v.Reason, code))
	case codesys.Header:
		return nil, invalid(field, "code_not_reportable", v.Reason)
	}
	return &store.Code{Code: v.Code, System: sys, Kind: kindOf(sys), Title: v.Title, Confidence: 1}, nil
}

// assertionInput reads the assertion a client gives: one of the values,
// or an older spelling (coding.ParseAssertion); "" is none.
func assertionInput(v string) (coding.Assertion, *apiError) {
	a, err := coding.ParseAssertion(v)
	if err != nil {
		return "", invalid("assertion", "invalid_assertion", unquoted(err.Error(), v))
	}
	return a, nil
}

func (s *Server) addCode(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		Code     string      `json:"code"`
		System   string      `json:"system,omitempty"`
		Evidence []spanInput `json:"evidence"`
		Note     string      `json:"note,omitempty"`
		// Assertion is read by the server, not the decoder, so that an
		// unknown value gets its own error naming the field.
		Assertion string `json:"assertion,omitempty"`
	}
	if aerr := decode(r, &body); aerr != nil {
		return aerr
	}
	if aerr := checkLength("note", body.Note, maxReason); aerr != nil {
		return aerr
	}
	tok := token(r)
	d, err := s.cfg.Store.GetDocument(r.Context(), tok.Tenant, r.PathValue("id"))
	if err != nil {
		return s.storeError(r, "document", err)
	}
	c, aerr := s.validCode(r.Context(), "code", body.System, body.Code)
	if aerr != nil {
		return aerr
	}
	if len(body.Evidence) == 0 {
		return invalid("evidence", "missing_evidence", "an added code needs at least one evidence span")
	}
	if c.Evidence, aerr = checkSpans(d.Text, body.Evidence); aerr != nil {
		return aerr
	}
	if c.Assertion, aerr = assertionInput(body.Assertion); aerr != nil {
		return aerr
	}
	if c.Assertion == "" {
		// A coder adds a code for a condition they read as present.
		c.Assertion = coding.Affirmed
	}
	c.Trail = []coding.Step{{Kind: coding.StepVerify, Detail: "added by " + tok.Name + strings.TrimRight(": "+body.Note, ": ")}}
	// The coder is warned, not refused: which of two conflicting codes
	// stays is theirs to decide, and the export refuses the pair until
	// they do.
	var present []*store.Code
	for _, o := range d.Codes {
		if o.Status == store.CodePending || o.Status == store.CodeAccepted {
			present = append(present, o)
		}
	}
	for _, k := range s.conflicts(r.Context(), append(present, c)) {
		if k.Code == c.Code || k.With == c.Code {
			c.Warnings = append(c.Warnings, k.String())
		}
	}
	if err := s.cfg.Store.AddCode(r.Context(), tok.Actor(), d.ID, c); errors.Is(err, store.ErrDuplicate) {
		// The store's error names the code, which the client sent: the
		// message says how the document has it instead.
		how := "pending or accepted"
		for _, o := range present {
			if o.System == c.System && o.Code == c.Code {
				how = string(o.Status)
				if o.Origin == store.OriginReplacement {
					how = "as a replacement"
				}
			}
		}
		e := errorf(http.StatusConflict, "duplicate_code", "the document has this code already, "+how+": decide on it there")
		e.Field = "code"
		return e
	} else if err != nil {
		return s.storeError(r, "add code", err)
	}
	s.m.decisions.WithLabelValues("add").Inc()
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) decide(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		Action   string      `json:"action"`
		Reason   string      `json:"reason,omitempty"`
		Code     string      `json:"code,omitempty"`
		System   string      `json:"system,omitempty"`
		Evidence []spanInput `json:"evidence,omitempty"`
		// Assertion of a replacement, by default the replaced code's.
		Assertion string `json:"assertion,omitempty"`
	}
	if aerr := decode(r, &body); aerr != nil {
		return aerr
	}
	dec := store.Decision{Action: body.Action, Reason: strings.TrimSpace(body.Reason)}
	if aerr := checkLength("reason", dec.Reason, maxReason); aerr != nil {
		return aerr
	}
	tok := token(r)
	switch body.Action {
	case "accept":
	case "reject":
		if dec.Reason == "" {
			return invalid("reason", "missing_reason", "a rejection needs a reason")
		}
	case "replace":
		d, err := s.cfg.Store.GetDocument(r.Context(), tok.Tenant, r.PathValue("id"))
		if err != nil {
			return s.storeError(r, "document", err)
		}
		system := body.System
		if system == "" {
			// A replacement is in the replaced code's classification
			// unless the coder names another.
			i := slices.IndexFunc(d.Codes, func(c *store.Code) bool { return c.ID == r.PathValue("codeId") })
			if i < 0 {
				return errorf(http.StatusNotFound, "not_found", "code: not found")
			}
			system = string(d.Codes[i].System)
		}
		c, aerr := s.validCode(r.Context(), "code", system, body.Code)
		if aerr != nil {
			return aerr
		}
		if len(body.Evidence) > 0 {
			if c.Evidence, aerr = checkSpans(d.Text, body.Evidence); aerr != nil {
				return aerr
			}
		}
		if c.Assertion, aerr = assertionInput(body.Assertion); aerr != nil {
			return aerr
		}
		c.Trail = []coding.Step{{Kind: coding.StepVerify, Detail: "replacement by " + tok.Name}}
		dec.Replacement = c
	default:
		return invalid("action", "invalid_action", "action must be accept, reject or replace")
	}
	if body.Assertion != "" && body.Action != "replace" {
		return invalid("assertion", "invalid_assertion", "an assertion is given only with a replacement")
	}
	decided, added, err := s.cfg.Store.Decide(r.Context(), tok.Actor(), r.PathValue("id"), r.PathValue("codeId"), dec)
	if err != nil {
		return s.storeError(r, "decision", err)
	}
	s.m.decisions.WithLabelValues(body.Action).Inc()
	writeJSON(w, http.StatusOK, map[string]any{"code": decided, "replacement": added})
	return nil
}

func (s *Server) documentAudit(w http.ResponseWriter, r *http.Request) *apiError {
	tok := token(r)
	// Reading the document first makes a foreign or unknown ID a 404
	// rather than an empty log.
	if _, err := s.cfg.Store.GetDocument(r.Context(), tok.Tenant, r.PathValue("id")); err != nil {
		return s.storeError(r, "document", err)
	}
	return s.writeAudit(w, r, r.PathValue("id"))
}

func (s *Server) tenantAudit(w http.ResponseWriter, r *http.Request) *apiError {
	return s.writeAudit(w, r, "")
}

func (s *Server) writeAudit(w http.ResponseWriter, r *http.Request, docID string) *apiError {
	f := store.AuditFilter{DocumentID: docID}
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return errorf(http.StatusBadRequest, "invalid_after", "after must be a sequence number")
		}
		f.After = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1-1000")
		}
		f.Limit = n
	}
	entries, err := s.cfg.Store.Audit(r.Context(), token(r).Tenant, f)
	if err != nil {
		return s.internal(r, "read audit log", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries})
	return nil
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) *apiError {
	sys, err := codesys.SystemName(r.PathValue("system"))
	if err != nil {
		return errorf(http.StatusNotFound, "unknown_system", err.Error())
	}
	e, err := s.cfg.Codes.Lookup(r.Context(), sys, r.PathValue("code"))
	if err != nil {
		return s.releaseError(r, http.StatusNotFound, sys, err)
	}
	if e.Status == codesys.Invalid {
		return &apiError{Status: http.StatusNotFound, Code: "unknown_code", Message: e.Reason, Field: "code"}
	}
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	text, e := queryText(q)
	if e != nil {
		return e
	}
	sys := codesys.ICD10CM
	if v := q.Get("system"); v != "" {
		var err error
		if sys, err = codesys.SystemName(v); err != nil {
			return errorf(http.StatusBadRequest, "unknown_system", err.Error())
		}
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errorf(http.StatusBadRequest, "invalid_limit", "limit must be 1-100")
		}
		limit = n
	}
	assignable := false
	switch q.Get("assignable") {
	case "", "false":
	case "true":
		assignable = true
	default:
		return errorf(http.StatusBadRequest, "invalid_assignable", "assignable must be true or false")
	}
	want := limit
	if assignable {
		// Headers and incomplete codes are left out: ask for more.
		want = min(100, 3*limit)
	}
	hits, err := s.cfg.Codes.Search(r.Context(), sys, text, search.Options{Limit: want, FollowSee: true})
	if err != nil {
		return s.releaseError(r, http.StatusNotFound, sys, err)
	}
	if assignable {
		hits = slices.DeleteFunc(hits, func(h search.Hit) bool {
			if h.Code == "" {
				return true
			}
			v, err := s.cfg.Codes.Validate(r.Context(), sys, h.Code)
			return err != nil || v.Status != codesys.Valid
		})
		hits = hits[:min(len(hits), limit)]
	}
	if hits == nil {
		hits = []search.Hit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits})
	return nil
}

// releaseError answers a failure to open the release of sys: status with
// no_release (unknown_system for a name neither registered nor installed)
// when none is installed, else an internal error.
func (s *Server) releaseError(r *http.Request, status int, sys codesys.System, err error) *apiError {
	if !errors.Is(err, errNoRelease) {
		if _, rerr := s.cfg.Codes.Release(r.Context(), sys); rerr == nil {
			// The release is there but lacks the part asked for.
			return errorf(status, "no_release", err.Error())
		}
		return s.internal(r, "open release", err)
	}
	code := "no_release"
	if !sys.Classification().Registered {
		code = "unknown_system"
	}
	return errorf(status, code, err.Error())
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) *apiError {
	toks, err := s.cfg.Store.ListTokens(r.Context(), token(r).Tenant)
	if err != nil {
		return s.internal(r, "list tokens", err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": toks})
	return nil
}

// maxTokenTTL is the longest lifetime a token may be given, and
// maxGrace the longest a rotated token's old secret may stay valid.
const (
	maxTokenTTL = 10 * 365 * 24 * time.Hour
	maxGrace    = 30 * 24 * time.Hour
)

// durationInput reads a Go duration ("720h", "90m") of at most max; ""
// is 0.
func durationInput(field, v string, max time.Duration) (time.Duration, *apiError) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > max {
		return 0, invalid(field, "invalid_duration", fmt.Sprintf("%s must be a duration such as 720h or 90m, from 0 to %s", field, max))
	}
	return d, nil
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		Name string `json:"name"`
		Role string `json:"role"`
		// TTL is the token's lifetime ("720h"); none: until revoked.
		TTL string `json:"ttl,omitempty"`
	}
	if aerr := decode(r, &body); aerr != nil {
		return aerr
	}
	role, err := store.ParseRole(body.Role)
	if err != nil {
		return invalid("role", "invalid_role", "the role must be coder, auditor or admin")
	}
	if err := store.CheckName("token name", body.Name); err != nil {
		// The store's error quotes the name; ours must not.
		return invalid("name", "invalid_name", "a token name is 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
	}
	ttl, aerr := durationInput("ttl", body.TTL, maxTokenTTL)
	if aerr != nil {
		return aerr
	}
	// An admin creates tokens in its own tenant only.
	secret, t, err := s.cfg.Store.IssueToken(r.Context(), token(r).Actor(), store.TokenSpec{Name: body.Name, Role: role, TTL: ttl})
	if errors.Is(err, store.ErrNameTaken) {
		e := errorf(http.StatusConflict, "token_name_taken", "a live token of the tenant has this name: revoke or rotate it, or choose another name")
		e.Field = "name"
		return e
	}
	if err != nil {
		return s.internal(r, "create token", err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) *apiError {
	tok := token(r)
	if err := s.cfg.Store.RevokeToken(r.Context(), tok.Actor(), tok.Tenant, r.PathValue("id")); err != nil {
		return s.storeError(r, "token", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateToken replaces a live token of the admin's tenant by a new one
// of the same name, role and lifetime; the old secret stays valid for
// the grace period asked for (none by default).
func (s *Server) rotateToken(w http.ResponseWriter, r *http.Request) *apiError {
	var body struct {
		Grace string `json:"grace,omitempty"`
	}
	if b, aerr := readBody(r); aerr != nil {
		return aerr
	} else if len(bytes.TrimSpace(b)) > 0 {
		if aerr := decodeBytes(b, &body); aerr != nil {
			return aerr
		}
	}
	grace, aerr := durationInput("grace", body.Grace, maxGrace)
	if aerr != nil {
		return aerr
	}
	tok := token(r)
	id := r.PathValue("id")
	if !strings.HasPrefix(id, "tok_") {
		// The CLI rotates by name too; the API names tokens by ID only.
		return errorf(http.StatusNotFound, "not_found", "token: not found")
	}
	secret, t, err := s.cfg.Store.RotateToken(r.Context(), tok.Actor(), tok.Tenant, id, grace)
	if err != nil {
		return s.storeError(r, "token", err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "secret": secret})
	return nil
}

// dateRange reads the query's from and to into from and to, each RFC 3339
// or a date.
func dateRange(q url.Values, from, to *time.Time) *apiError {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", from}, {"to", to}} {
		if v := q.Get(p.name); v != "" {
			t, err := parseTime(v)
			if err != nil {
				e := errorf(http.StatusBadRequest, "invalid_date", p.name+": use RFC 3339 (2026-05-20T10:00:00Z) or a date (2026-05-20)")
				e.Field = p.name
				return e
			}
			*p.dst = t
		}
	}
	return nil
}

// queryText returns the query's search text q, required, valid UTF-8 of
// at most 500 bytes.
func queryText(q url.Values) (string, *apiError) {
	text := strings.TrimSpace(q.Get("q"))
	if text == "" {
		return "", errorf(http.StatusBadRequest, "missing_query", "q is required")
	}
	if len(text) > 500 || !utf8.ValidString(text) {
		return "", errorf(http.StatusBadRequest, "invalid_query", "q must be valid UTF-8 of at most 500 bytes")
	}
	return text, nil
}
