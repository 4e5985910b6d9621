// Package coding defines what every reasoner in medcode produces and every
// consumer reads: the request to code a note, and the result with its codes,
// evidence spans and the trail that led to each code. The offline coder
// (internal/coder) and the LLM agent (internal/agent) implement Reasoner; the
// CLI, the HTTP server and the evaluation harness consume Result.
package coding

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// Setting is the encounter setting, which decides how uncertain diagnoses
// are coded: as if confirmed at inpatient discharge, not in outpatient care
// (ICD-10-CM Official Guidelines, section II.H and section IV.H).
type Setting string

// The encounter settings.
const (
	Inpatient  Setting = "inpatient"
	Outpatient Setting = "outpatient"
)

// ParseSetting returns the Setting named s.
func ParseSetting(s string) (Setting, error) {
	switch Setting(s) {
	case Inpatient, Outpatient:
		return Setting(s), nil
	case "":
		return Inpatient, nil
	}
	return "", fmt.Errorf("unknown setting %q (want inpatient or outpatient)", s)
}

// Scope says which of the diagnoses a note documents a result reports.
type Scope string

// The scopes.
const (
	// Reportable is the code set a coder reports for the encounter under
	// the Official Guidelines: conditions documented as absent,
	// hypothetical or a relative's are left out, and so are signs and
	// symptoms integral to a confirmed diagnosis (I.B.5) and unspecified
	// codes beside a specific code of their category.
	Reportable Scope = "reportable"
	// Mentions codes every condition the note mentions for the patient,
	// each on its own, as registries, research abstraction and corpora
	// annotated mention by mention (CodiEsp) want. The rules that choose
	// what to report together give way: no combination code is formed
	// across mentions, integral symptoms, unspecified codes, a code
	// documenting less of a condition than another ("chronic" beside
	// "acute on chronic") and both codes of an Excludes1 pair stay, and
	// conditions documented as
	// absent, uncertain or hypothetical are reported with that assertion
	// (and a lower confidence) rather than left out. A relative's
	// condition is still only its family history code, and a
	// manifestation code still needs its etiology.
	Mentions Scope = "mentions"
)

// ParseScope returns the Scope named s; the empty string is Reportable.
func ParseScope(s string) (Scope, error) {
	switch Scope(s) {
	case Reportable, Mentions:
		return Scope(s), nil
	case "":
		return Reportable, nil
	}
	return "", fmt.Errorf("unknown scope %q (want reportable or mentions)", s)
}

// Request asks a reasoner to code one note.
type Request struct {
	// ID names the note for logs and results; optional.
	ID string `json:"id,omitempty"`
	// Text is the note, UTF-8. Evidence offsets are byte offsets into it.
	Text    string  `json:"text"`
	Setting Setting `json:"setting"`
	// Scope is which diagnoses to report; empty means Reportable.
	// Reasoners that cannot report a scope refuse the request.
	Scope Scope `json:"scope,omitempty"`
	// Systems lists the classifications to code in; empty means every
	// system the reasoner has a release for.
	Systems []codesys.System `json:"systems,omitempty"`
}

// Reasoner codes notes. Implementations must be safe for concurrent use.
type Reasoner interface {
	Code(ctx context.Context, req Request) (*Result, error)
}

// Kind says whether a code is a diagnosis or a procedure.
type Kind string

// The kinds of codes.
const (
	Diagnosis Kind = "diagnosis"
	Procedure Kind = "procedure"
)

// Status says how far a reasoner got with a note.
type Status string

// The statuses of a result. A reasoner that cannot fail part way (the
// offline coder) leaves Status empty, which means StatusComplete.
const (
	// StatusComplete: every step of the reasoner finished.
	StatusComplete Status = "complete"
	// StatusPartial: a later step did not finish and the codes are those
	// of an earlier one (e.g. assigned but not verified); Reasons say
	// which and why.
	StatusPartial Status = "partial"
	// StatusFailed: the reasoner produced no usable result (the model
	// could not be reached, refused, or ran out of budget before
	// assigning codes). The codes, if any, are not an answer and
	// Reasons say why.
	StatusFailed Status = "failed"
)

// Failed reports whether r is a failed result.
func (r *Result) Failed() bool { return r != nil && r.Status == StatusFailed }

// Result is a reasoner's answer for one note.
type Result struct {
	ID string `json:"id,omitempty"`
	// Reasoner names the reasoner ("offline", "llm") and Model the model
	// behind it, if any.
	Reasoner string `json:"reasoner"`
	Model    string `json:"model,omitempty"`
	// PromptVersion names the wording of the prompts an LLM reasoner
	// used, so that results of different prompts are not compared as one.
	PromptVersion string `json:"promptVersion,omitempty"`
	// Releases are the IDs of the releases the codes were checked against
	// (e.g. "icd10cm-2021").
	Releases []string `json:"releases"`
	Setting  Setting  `json:"setting"`
	// Scope is the scope the codes were reported in; empty is Reportable.
	Scope Scope `json:"scope,omitempty"`
	// Codes are the codes assigned, in reporting order.
	Codes []Code `json:"codes"`
	// Dropped are codes a stage considered and rejected, with the reason:
	// part of the trail an auditor reads.
	Dropped []Code `json:"dropped,omitempty"`
	// Queries are what a coder would ask the clinician: documentation
	// that was too vague for a complete code.
	Queries  []Query  `json:"queries,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Status says whether the reasoner finished (empty: complete), and
	// Reasons why it did not.
	Status  Status   `json:"status,omitempty"`
	Reasons []string `json:"statusReasons,omitempty"`
	Usage   Usage    `json:"usage"`
	// Transcript is the reasoner's full record of how it reached the
	// result, in its own format: for the LLM agent every message, tool
	// call and tool result of every stage, with per-call accounting. It
	// is what an auditor reads; reasoners without one leave it empty.
	Transcript json.RawMessage `json:"transcript,omitempty"`
}

// Code is one code with everything that supports it.
type Code struct {
	Code   string         `json:"code"`
	System codesys.System `json:"system"`
	Kind   Kind           `json:"kind"`
	Title  string         `json:"title"`
	// Evidence are the spans of the note that support the code: every
	// mention, first the one that decided it.
	Evidence []Evidence `json:"evidence"`
	// Assertion is what the note says about the deciding mention: present
	// ("affirmed"), negated, possible, historical, resolved, family, other
	// person or hypothetical.
	Assertion Assertion `json:"assertion,omitempty"`
	// Trail is how the code was reached, in order: index path, tabular
	// notes and guideline rules applied.
	Trail []Step `json:"trail,omitempty"`
	// Confidence is the reasoner's confidence in [0, 1].
	Confidence float64 `json:"confidence"`
	// RawConfidence is the reasoner's own confidence when Confidence has
	// been mapped through a calibration table (internal/calibrate); nil
	// when Confidence is the reasoner's own.
	RawConfidence *float64 `json:"rawConfidence,omitempty"`
	// Reason says why a code was dropped (in Result.Dropped).
	Reason string `json:"reason,omitempty"`
	// Incomplete marks a code the documentation supports only in part:
	// Code holds the characters that could be determined (an ICD-10-PCS
	// code of fewer than seven characters, e.g. "0DJD") and Missing names
	// what the note does not document. An incomplete code is not
	// reportable: it is shown for review with the query that would
	// complete it (the Query whose Partial equals Code) and is never
	// exported as a billable code.
	Incomplete bool `json:"incomplete,omitempty"`
	// Missing names, for an incomplete code, the first axis (or Index
	// choice) the note does not document, e.g. "Approach".
	Missing string `json:"missing,omitempty"`
}

// Reportable reports whether c is a code that may be reported (billed,
// exported to a claim): a complete code, not an incomplete one.
func (c Code) Reportable() bool { return !c.Incomplete }

// Evidence is one span of the note, by byte offsets into Request.Text, with
// the quoted text; Text == note[Start:End] always holds.
type Evidence struct {
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Text    string `json:"text"`
	Section string `json:"section,omitempty"`
}

// StepKind classifies a step of a code's trail.
type StepKind string

// The kinds of trail steps.
const (
	StepMention   StepKind = "mention"   // the text recognised as codable
	StepIndex     StepKind = "index"     // an Alphabetic Index or table path followed
	StepTabular   StepKind = "tabular"   // a Tabular List entry or note read
	StepGuideline StepKind = "guideline" // a guideline rule applied
	StepSpecify   StepKind = "specify"   // a choice of a more specific code
	StepVerify    StepKind = "verify"    // a convention checked
)

// Step is one step of a code's trail.
type Step struct {
	Kind StepKind `json:"kind"`
	// Detail is the step in words, e.g. "Index: Diabetes > type 2 > with >
	// cataract" or "Excludes1 at E11: type 1 diabetes mellitus (E10.-)".
	Detail string `json:"detail"`
	// Ref is what the step cites: a code, index path or guideline
	// section (e.g. "I.C.9.a.2").
	Ref string `json:"ref,omitempty"`
	// Year and Quote cite, for a guideline step, the fiscal year of the
	// installed Official Guidelines and the beginning of section Ref's
	// text. A guideline step without them was applied from medcode's
	// built-in summary of the section, which its Detail then says.
	Year  string `json:"year,omitempty"`
	Quote string `json:"quote,omitempty"`
}

// Query is a question a coder would ask because the documentation does not
// support a complete code, e.g. the missing axes of a PCS code.
type Query struct {
	About    string     `json:"about"`
	Question string     `json:"question"`
	Partial  string     `json:"partial,omitempty"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Usage is what coding one note cost.
type Usage struct {
	Duration     time.Duration `json:"duration"`
	Calls        int           `json:"calls,omitempty"`
	InputTokens  int           `json:"inputTokens,omitempty"`
	CachedTokens int           `json:"cachedTokens,omitempty"`
	OutputTokens int           `json:"outputTokens,omitempty"`
	Cost         float64       `json:"cost,omitempty"`
}
