package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// isFHIR reports whether a JSON body is a FHIR resource.
func isFHIR(body []byte) bool {
	var probe struct {
		ResourceType *string `json:"resourceType"`
	}
	return json.Unmarshal(body, &probe) == nil && probe.ResourceType != nil
}

type fhirDoc struct {
	id, subject, text string
}

// parseDocumentReference reads the note of a FHIR R4 DocumentReference
// from its first plain-text attachment with inline data.
func parseDocumentReference(body []byte) (*fhirDoc, *apiError) {
	var dr struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Subject      *struct {
			Reference string `json:"reference"`
		} `json:"subject"`
		Content []struct {
			Attachment struct {
				ContentType string `json:"contentType"`
				Data        string `json:"data"`
				URL         string `json:"url"`
			} `json:"attachment"`
		} `json:"content"`
	}
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&dr); err != nil {
		return nil, jsonError(err)
	}
	if dr.ResourceType != "DocumentReference" {
		return nil, invalid("resourceType", "unsupported_resource", "expected a FHIR DocumentReference")
	}
	if len(dr.Content) == 0 {
		return nil, invalid("content", "missing_attachment", "the DocumentReference has no content")
	}
	for i, c := range dr.Content {
		a := c.Attachment
		mt, params, err := mime.ParseMediaType(a.ContentType)
		if err != nil || mt != "text/plain" {
			continue
		}
		field := fmt.Sprintf("content[%d].attachment", i)
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			return nil, invalid(field+".contentType", "unsupported_charset", "only UTF-8 text is accepted")
		}
		if a.Data == "" {
			return nil, invalid(field+".data", "missing_attachment", "only inline attachments (data) are accepted, not url")
		}
		text, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			return nil, invalid(field+".data", "invalid_base64", "attachment data is not valid base64")
		}
		if !utf8.Valid(text) {
			return nil, invalid(field+".data", "invalid_utf8", "the attachment text is not valid UTF-8")
		}
		d := &fhirDoc{id: dr.ID, text: string(text)}
		if dr.Subject != nil {
			d.subject = dr.Subject.Reference
		}
		return d, nil
	}
	return nil, invalid("content", "missing_attachment", "the DocumentReference has no text/plain attachment")
}

func (s *Server) export(w http.ResponseWriter, r *http.Request) *apiError {
	d, err := s.cfg.Store.GetDocument(r.Context(), token(r).Tenant, r.PathValue("id"))
	if err != nil {
		return s.storeError(r, "document", err)
	}
	format := r.URL.Query().Get("format")
	switch format {
	case "", "json", "fhir", "claim":
	default:
		return errorf(http.StatusBadRequest, "invalid_format", "format must be json, fhir or claim")
	}
	for _, c := range d.Codes {
		if c.Status == store.CodePending {
			return errorf(http.StatusConflict, "not_reviewed", "the document has codes pending review; decide on every code before exporting")
		}
	}
	codes := exported(d)
	var excl []conflict
	for _, c := range s.conflicts(r.Context(), codes) {
		if c.Kind == conflictExcludes1 {
			excl = append(excl, c)
		}
	}
	if len(excl) > 0 {
		msgs := make([]string, len(excl))
		for i, c := range excl {
			msgs[i] = c.String()
		}
		e := errorf(http.StatusConflict, "excludes1_conflict",
			"the reported codes hold an Excludes1 conflict; reject or replace one code of each pair before exporting: "+strings.Join(msgs, "; "))
		e.Conflicts = excl
		return e
	}
	switch format {
	case "", "json":
		writeJSON(w, http.StatusOK, map[string]any{
			"document": map[string]any{"id": d.ID, "externalId": d.ExternalID, "subject": d.Subject, "hash": d.Hash, "setting": d.Setting, "status": d.Status},
			"codes":    codes,
		})
	case "fhir":
		w.Header().Set("Content-Type", "application/fhir+json")
		writeJSON(w, http.StatusOK, fhirBundle(d, codes))
	case "claim":
		w.Header().Set("Content-Type", "application/fhir+json")
		writeJSON(w, http.StatusOK, fhirClaim(d, codes))
	}
	return nil
}

type codeableConcept struct {
	Coding []fhirCoding `json:"coding"`
	Text   string       `json:"text,omitempty"`
}

type fhirCoding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// concept names a code by its classification's FHIR code system, as the
// registry gives it (coding.FHIRSystem), the same URI the coder's own FHIR
// output uses.
func concept(c *store.Code) codeableConcept {
	return codeableConcept{Coding: []fhirCoding{{System: coding.FHIRSystem(c.System), Code: c.Code, Display: c.Title}}}
}

func subjectRef(d *store.Document) map[string]string {
	if d.Subject != "" {
		return map[string]string{"reference": d.Subject}
	}
	return map[string]string{"display": "subject of document " + d.ID}
}

func evidenceNote(c *store.Code) []map[string]string {
	var quotes []string
	for _, e := range c.Evidence {
		quotes = append(quotes, fmt.Sprintf("%q (bytes %d-%d)", e.Text, e.Start, e.End))
	}
	if len(quotes) == 0 {
		return nil
	}
	return []map[string]string{{"text": "Evidence: " + strings.Join(quotes, "; ")}}
}

// guidelineNote cites the guideline sections a code's trail applied, for
// readers of the bundle that skip extensions.
func guidelineNote(c *store.Code) []map[string]string {
	var cites []string
	seen := map[string]bool{}
	for _, s := range c.Trail {
		if s.Kind != coding.StepGuideline || s.Ref == "" {
			continue
		}
		cite := s.Ref + " (built-in summary)"
		if s.Year != "" {
			cite = fmt.Sprintf("%s (FY%s)", s.Ref, s.Year)
			if s.Quote != "" {
				cite += fmt.Sprintf(": %q", s.Quote)
			}
		}
		if !seen[cite] {
			seen[cite] = true
			cites = append(cites, cite)
		}
	}
	if len(cites) == 0 {
		return nil
	}
	return []map[string]string{{"text": "ICD-10-CM Official Guidelines applied: " + strings.Join(cites, "; ")}}
}

// fhirBundle is a FHIR R4 collection Bundle with a Condition per diagnosis
// and a Procedure per procedure code, each with its assertion as the
// result's own bundle writes it (coding.Assertion.FHIR) and the guideline
// sections its trail cites (coding.FHIRGuidelineURL).
func fhirBundle(d *store.Document, codes []*store.Code) map[string]any {
	var entries []map[string]any
	for _, c := range codes {
		var res map[string]any
		st := c.Assertion.FHIR()
		if c.Kind == coding.Procedure {
			res = map[string]any{"resourceType": "Procedure", "id": c.ID, "status": st.Procedure, "code": concept(c), "subject": subjectRef(d)}
		} else {
			res = map[string]any{"resourceType": "Condition", "id": c.ID,
				"verificationStatus": codeableConcept{Coding: []fhirCoding{{System: coding.FHIRVerificationSystem, Code: st.Verification}}},
				"category":           []codeableConcept{{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/condition-category", Code: "encounter-diagnosis"}}}},
				"code":               concept(c), "subject": subjectRef(d)}
			if st.Clinical != "" {
				res["clinicalStatus"] = codeableConcept{Coding: []fhirCoding{{System: coding.FHIRClinicalSystem, Code: st.Clinical}}}
			}
		}
		var ext []any
		if c.Assertion != "" {
			ext = append(ext, map[string]string{"url": coding.FHIRAssertionURL, "valueCode": string(c.Assertion)})
		}
		if ext = append(ext, coding.FHIRGuidelineCitations(c.Trail)...); len(ext) > 0 {
			res["extension"] = ext
		}
		var notes []map[string]string
		if st.Note != "" {
			notes = append(notes, map[string]string{"text": st.Note})
		}
		notes = append(notes, evidenceNote(c)...)
		if notes = append(notes, guidelineNote(c)...); len(notes) > 0 {
			res["note"] = notes
		}
		entries = append(entries, map[string]any{"fullUrl": coding.FHIREntryURL("medcode/code/" + c.ID), "resource": res})
	}
	return map[string]any{"resourceType": "Bundle", "type": "collection", "timestamp": d.Updated,
		"identifier": map[string]string{"system": "urn:medcode:document", "value": d.ID}, "entry": entries}
}

// fhirClaim is a FHIR R4 Claim carrying the diagnoses and procedures in
// reporting order. Provider, insurance and items belong to the billing
// system, which completes the claim.
func fhirClaim(d *store.Document, codes []*store.Code) map[string]any {
	var dx, px []map[string]any
	for _, c := range codes {
		if c.Kind == coding.Procedure {
			px = append(px, map[string]any{"sequence": len(px) + 1, "procedureCodeableConcept": concept(c)})
		} else {
			dx = append(dx, map[string]any{"sequence": len(dx) + 1, "diagnosisCodeableConcept": concept(c)})
		}
	}
	typ := "professional"
	if d.Setting == coding.Inpatient {
		typ = "institutional"
	}
	claim := map[string]any{"resourceType": "Claim", "id": d.ID, "status": "draft", "use": "claim",
		"type":     codeableConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/claim-type", Code: typ}}},
		"patient":  subjectRef(d),
		"created":  d.Updated.Format("2006-01-02"),
		"priority": codeableConcept{Coding: []fhirCoding{{System: "http://terminology.hl7.org/CodeSystem/processpriority", Code: "normal"}}},
	}
	if len(dx) > 0 {
		claim["diagnosis"] = dx
	}
	if len(px) > 0 {
		claim["procedure"] = px
	}
	return claim
}
