package coding

import (
	"crypto/sha1"
	"fmt"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// FHIR code system URIs of ICD-10-CM and ICD-10-PCS, as HL7 defines them
// and the registry (codesys.Classifications) records them.
const (
	FHIRSystemICD10CM  = "http://hl7.org/fhir/sid/icd-10-cm"
	FHIRSystemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
)

// FHIRLocalSystemBase is the start of the code system URI of a
// classification FHIR defines none for (a code list of the user's own):
// the URI is the base followed by the classification's name.
const FHIRLocalSystemBase = "https://medcode.dev/fhir/CodeSystem/"

// FHIRSystem returns the code system URI a FHIR Coding names the codes of
// sys by: the registry's (Classification.FHIR), else one under
// FHIRLocalSystemBase, so that a code is never exported under another
// classification's URI.
func FHIRSystem(sys codesys.System) string {
	if u := sys.Classification().FHIR; u != "" {
		return u
	}
	return FHIRLocalSystemBase + string(sys)
}

// FHIREvidenceURL is the extension carrying one evidence span of a code:
// sub-extensions start and end (byte offsets into the note), text (the
// quoted span) and section.
const FHIREvidenceURL = "https://medcode.dev/fhir/StructureDefinition/evidence"

// FHIRConfidenceURL is the extension carrying the reasoner's confidence.
const FHIRConfidenceURL = "https://medcode.dev/fhir/StructureDefinition/confidence"

// FHIRAssertionURL is the extension carrying a code's assertion (valueCode,
// one of the Assertion values) on every resource of an export. The
// standard elements carry what FHIR can say of it (see Assertion.FHIR);
// the extension keeps all of it, e.g. family apart from other person.
const FHIRAssertionURL = "https://medcode.dev/fhir/StructureDefinition/assertion"

// FHIRIncompleteURL is the extension marking an incomplete code (see
// Code.Incomplete): sub-extensions prefix (the characters determined) and
// missing (what the note does not document). The resource then carries no
// coding in the classification's system, only this extension and a text,
// so that no consumer takes the prefix for a code.
const FHIRIncompleteURL = "https://medcode.dev/fhir/StructureDefinition/incomplete-code"

// FHIRGuidelineURL is the extension citing a section of the ICD-10-CM
// Official Guidelines that a code's trail applied, one per section and
// edition: sub-extensions section (its number, e.g. I.C.9.a.2), year (the
// edition's fiscal year) and quote (the beginning of the section's text),
// both absent for a rule applied from medcode's built-in summary of the
// section, and rule (what the trail step says it did).
const FHIRGuidelineURL = "https://medcode.dev/fhir/StructureDefinition/guideline-citation"

// FHIRGuidelineCitations returns the FHIRGuidelineURL extensions of the
// guideline steps of trail, in trail order; a section a trail cites more
// than once from one edition is cited once, with the rule of its first
// step.
func FHIRGuidelineCitations(trail []Step) []any {
	var out []any
	seen := map[[2]string]bool{}
	for _, s := range trail {
		if s.Kind != StepGuideline || s.Ref == "" || seen[[2]string{s.Ref, s.Year}] {
			continue
		}
		seen[[2]string{s.Ref, s.Year}] = true
		sub := []any{map[string]any{"url": "section", "valueString": s.Ref}}
		if s.Year != "" {
			sub = append(sub, map[string]any{"url": "year", "valueString": s.Year})
		}
		if s.Quote != "" {
			sub = append(sub, map[string]any{"url": "quote", "valueString": s.Quote})
		}
		if s.Detail != "" {
			sub = append(sub, map[string]any{"url": "rule", "valueString": s.Detail})
		}
		out = append(out, map[string]any{"url": FHIRGuidelineURL, "extension": sub})
	}
	return out
}

// FHIRStepNote is how a trail step reads as an annotation: its kind and
// detail and, for a guideline step quoting installed guidelines, the
// section, edition and quote, so that a reader without the extensions
// still sees which rule was applied.
func FHIRStepNote(s Step) string {
	text := string(s.Kind) + ": " + s.Detail
	if s.Kind == StepGuideline && s.Year != "" && s.Ref != "" {
		text += fmt.Sprintf(" (ICD-10-CM Official Guidelines FY%s, section %s", s.Year, s.Ref)
		if s.Quote != "" {
			text += fmt.Sprintf(": %q", s.Quote)
		}
		text += ")"
	}
	return text
}

// FHIRBundle returns the result as a FHIR R4 Bundle of type "collection":
// one Condition per diagnosis and one Procedure per procedure, with the
// code, its title, its assertion as status elements (Assertion.FHIR) and
// an extension, the evidence spans and the guideline sections cited
// (FHIRGuidelineURL) as extensions and the trail as annotations. The
// subject is the note's ID, as a display reference, because the note does
// not name the patient's FHIR resource. An incomplete code becomes a
// resource whose code is text only, marked with the FHIRIncompleteURL
// extension.
func FHIRBundle(r *Result) map[string]any {
	subject := map[string]any{"display": "note " + r.ID}
	if r.ID == "" {
		subject = map[string]any{"display": "unidentified note"}
	}
	var entries []any
	for i, c := range r.Codes {
		res := map[string]any{
			"id":        fmt.Sprintf("%s-%d", strings.ToLower(string(c.Kind)), i+1),
			"subject":   subject,
			"code":      map[string]any{"coding": []any{fhirCoding(c)}, "text": c.Title},
			"extension": fhirExtensions(c),
		}
		if c.Incomplete {
			res["code"] = map[string]any{"text": fmt.Sprintf("incomplete %s code %s (%s): %s not documented; not reportable",
				c.System.Title(), c.Code, c.Title, strings.ToLower(c.Missing))}
			res["extension"] = append(res["extension"].([]any), map[string]any{"url": FHIRIncompleteURL, "extension": []any{
				map[string]any{"url": "prefix", "valueString": c.Code},
				map[string]any{"url": "missing", "valueString": c.Missing},
			}})
		}
		notes := fhirNotes(c)
		st := c.Assertion.FHIR()
		if st.Note != "" {
			notes = append([]any{map[string]any{"text": st.Note}}, notes...)
		}
		if len(notes) > 0 {
			res["note"] = notes
		}
		if c.Kind == Procedure {
			res["resourceType"] = "Procedure"
			res["status"] = st.Procedure
		} else {
			res["resourceType"] = "Condition"
			res["verificationStatus"] = map[string]any{"coding": []any{map[string]any{
				"system": FHIRVerificationSystem, "code": st.Verification,
			}}}
			if st.Clinical != "" {
				res["clinicalStatus"] = map[string]any{"coding": []any{map[string]any{
					"system": FHIRClinicalSystem, "code": st.Clinical,
				}}}
			}
			res["category"] = []any{map[string]any{"coding": []any{map[string]any{
				"system": "http://terminology.hl7.org/CodeSystem/condition-category",
				"code":   "encounter-diagnosis",
			}}}}
		}
		entries = append(entries, map[string]any{
			"fullUrl":  FHIREntryURL(fmt.Sprintf("medcode/%s/%d", r.ID, i+1)),
			"resource": res,
		})
	}
	b := map[string]any{"resourceType": "Bundle", "type": "collection"}
	if len(entries) > 0 {
		b["entry"] = entries
	}
	return b
}

// FHIREntryURL returns a bundle entry's fullUrl for a resource with no
// server address: urn:uuid with a name-based (version 5 layout, SHA-1) UUID
// of name, so the same resource always gets the same URL, as FHIR requires
// a real UUID in that form.
func FHIREntryURL(name string) string {
	h := sha1.Sum([]byte(name))
	h[6] = h[6]&0x0f | 0x50 // version 5
	h[8] = h[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func fhirCoding(c Code) map[string]any {
	return map[string]any{"system": FHIRSystem(c.System), "code": c.Code, "display": c.Title}
}

func fhirExtensions(c Code) []any {
	ext := []any{map[string]any{"url": FHIRConfidenceURL, "valueDecimal": c.Confidence}}
	if c.Assertion != "" {
		ext = append(ext, map[string]any{"url": FHIRAssertionURL, "valueCode": string(c.Assertion)})
	}
	for _, e := range c.Evidence {
		sub := []any{
			map[string]any{"url": "start", "valueInteger": e.Start},
			map[string]any{"url": "end", "valueInteger": e.End},
			map[string]any{"url": "text", "valueString": e.Text},
		}
		if e.Section != "" {
			sub = append(sub, map[string]any{"url": "section", "valueString": e.Section})
		}
		ext = append(ext, map[string]any{"url": FHIREvidenceURL, "extension": sub})
	}
	return append(ext, FHIRGuidelineCitations(c.Trail)...)
}

func fhirNotes(c Code) []any {
	var out []any
	for _, s := range c.Trail {
		out = append(out, map[string]any{"text": FHIRStepNote(s)})
	}
	return out
}

// The FHIR code systems of Condition.verificationStatus and
// Condition.clinicalStatus.
const (
	FHIRVerificationSystem = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	FHIRClinicalSystem     = "http://terminology.hl7.org/CodeSystem/condition-clinical"
)

// FHIRStatus is how an assertion is written in FHIR R4 resources.
type FHIRStatus struct {
	// Verification is the Condition.verificationStatus code.
	Verification string
	// Clinical is the Condition.clinicalStatus code, or "" where the
	// assertion does not say whether the condition is active.
	Clinical string
	// Procedure is the Procedure.status code.
	Procedure string
	// Note is an annotation for what the status elements cannot say, or
	// "".
	Note string
}

// FHIR returns how a is written in FHIR R4. Each value maps as follows
// (Condition verificationStatus / clinicalStatus; Procedure status):
//
//   - affirmed, and no assertion: confirmed / active; completed
//   - negated: refuted / none; not-done
//   - possible: provisional / none; unknown
//   - historical: confirmed / none, with a note; completed, with a note
//   - resolved: confirmed / resolved; completed
//   - family: confirmed / none, with a note; unknown, with a note
//   - other person: unconfirmed / none, with a note; unknown, with a note
//   - hypothetical: unconfirmed / none, with a note; unknown, with a note
//
// A family condition stays a Condition of the patient, not a
// FamilyMemberHistory: in ICD-10-CM such a code reports the patient's
// family history (Z80-Z84). Historical leaves clinicalStatus out because
// the coder codes a documented history as a condition the patient may
// still have. Negated sets no clinicalStatus because a refuted condition
// has none.
func (a Assertion) FHIR() FHIRStatus {
	switch a {
	case Negated:
		return FHIRStatus{Verification: "refuted", Procedure: "not-done"}
	case Possible:
		return FHIRStatus{Verification: "provisional", Procedure: "unknown"}
	case Historical:
		return FHIRStatus{Verification: "confirmed", Procedure: "completed",
			Note: "assertion historical: documented as the patient's history, before this encounter"}
	case Resolved:
		return FHIRStatus{Verification: "confirmed", Clinical: "resolved", Procedure: "completed"}
	case Family:
		return FHIRStatus{Verification: "confirmed", Procedure: "unknown",
			Note: "assertion family: documented for a family member; the code reports the patient's family history"}
	case OtherPerson:
		return FHIRStatus{Verification: "unconfirmed", Procedure: "unknown",
			Note: "assertion other person: documented for someone other than the patient"}
	case Hypothetical:
		return FHIRStatus{Verification: "unconfirmed", Procedure: "unknown",
			Note: "assertion hypothetical: considered or planned, not documented as having happened"}
	}
	return FHIRStatus{Verification: "confirmed", Clinical: "active", Procedure: "completed"}
}
