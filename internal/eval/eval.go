// Package eval is medcode's evaluation harness: it runs a coder over a set
// of documents with gold codes, scores the predictions with the metrics the
// clinical coding literature uses (micro and macro precision, recall and F1
// at code and category level, exact match, MAP, evidence span overlap and
// CodiEsp-X), measures cost, attaches bootstrap confidence intervals and
// writes reproducible reports.
//
// The dataset loaders live in sub-packages (codiesp, mdace, jsonl); each
// returns []Document. A coder is anything that implements Coder.
//
// Spans are byte offsets [Start, End) into Document.Text everywhere in this
// package; loaders convert from the character offsets the datasets use.
package eval

import (
	"context"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// Span is a half-open byte range [Start, End) of a document's text.
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Document is one unit of evaluation: a text and the codes a human coder
// assigned to it.
type Document struct {
	ID string
	// Text is the document as the coder sees it.
	Text string
	// Language is the text's BCP 47 language tag ("en", "es"), if known.
	Language string
	// Gold lists each gold code once, with every piece of evidence the
	// annotators marked for it.
	Gold []GoldCode
}

// GoldCode is one gold code of a document.
type GoldCode struct {
	Code   string         `json:"code"`
	System codesys.System `json:"system"`
	// Evidence holds the annotated mentions of the code; each mention is
	// one or more spans (more than one when the evidence is
	// discontinuous). It is empty when the dataset has no spans for the
	// code or for this text (e.g. a translation).
	Evidence []Mention `json:"evidence,omitempty"`
}

// Mention is one annotated piece of evidence: the spans of text that
// together support a code.
type Mention []Span

// Prediction is one code a coder assigns to a document.
type Prediction struct {
	Code   string         `json:"code"`
	System codesys.System `json:"system"`
	// Score is the coder's confidence; the harness ranks predictions in
	// the order the coder returns them and reports Score as given.
	Score float64 `json:"score,omitempty"`
	// Evidence are the spans of the document that support the code.
	Evidence []Span `json:"evidence,omitempty"`
	// Scored is the form the code was compared in, when the dataset writes
	// codes in a form of its own (Options.Form) and it differs from Code.
	Scored string `json:"scored,omitempty"`
	// ScoredSystem is the classification the code was compared as, when
	// it is not System (Options.ScoreAs).
	ScoredSystem codesys.System `json:"scoredSystem,omitempty"`
	// RawScore is the coder's own score when Score is that score mapped
	// through a calibration table; nil when Score is the coder's own.
	RawScore *float64 `json:"rawScore,omitempty"`
	// Trail is how the coder reached the code, without the steps that
	// quote the note (mentions), so that a run file still holds no text.
	Trail []coding.Step `json:"trail,omitempty"`
	// Reason says why the coder rejected the code (Result.Rejected).
	Reason string `json:"reason,omitempty"`
}

// rawScore returns the coder's own score of p, before any calibration.
func (p Prediction) rawScore() float64 {
	if p.RawScore != nil {
		return *p.RawScore
	}
	return p.Score
}

// scoredCode returns the code of p as the harness compares it.
func (p Prediction) scoredCode() string {
	if p.Scored != "" {
		return p.Scored
	}
	return p.Code
}

// FormFunc rewrites a canonical code into the form a dataset's gold writes
// it in (see codiesp.Form).
type FormFunc func(sys codesys.System, code string) string

// Usage counts what a coder spent on one document beyond CPU time: calls to
// a language model and the tokens they used. The offline coder leaves it
// zero.
type Usage struct {
	Calls        int `json:"calls,omitempty"`
	InputTokens  int `json:"inputTokens,omitempty"`
	CachedTokens int `json:"cachedTokens,omitempty"`
	OutputTokens int `json:"outputTokens,omitempty"`
	// Cost is the price of the calls, where a price table is configured.
	Cost float64 `json:"cost,omitempty"`
}

// Result is a coder's answer for one document: its predictions, best first.
type Result struct {
	Predictions []Prediction
	// Rejected are codes the coder considered and dropped, each with its
	// Reason; the run keeps those that explain a missed gold code.
	Rejected []Prediction
	Usage    Usage
	// Failed marks a document the coder could not code (an LLM that
	// could not be reached, refused or ran out of budget): it is
	// reported apart and not scored, rather than scored as a document
	// with no codes. Reasons say why.
	Failed  bool
	Reasons []string
}

// Coder assigns codes to a document. The offline coder and the LLM agent
// both implement it.
type Coder interface {
	Code(ctx context.Context, doc Document) (Result, error)
}

// CoderFunc adapts a function to the Coder interface.
type CoderFunc func(ctx context.Context, doc Document) (Result, error)

// Code calls f.
func (f CoderFunc) Code(ctx context.Context, doc Document) (Result, error) { return f(ctx, doc) }

// Catalog reports whether a code exists in the active release of its
// classification. The harness uses it to count gold codes that no
// release-aware coder could produce (CodiEsp was coded with a 2018 release).
type Catalog interface {
	Known(sys codesys.System, code string) bool
}

// CatalogFunc adapts a function to the Catalog interface.
type CatalogFunc func(sys codesys.System, code string) bool

// Known calls f.
func (f CatalogFunc) Known(sys codesys.System, code string) bool { return f(sys, code) }

func joinSystems(ss []codesys.System) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = s.Title()
	}
	return strings.Join(names, ", ")
}
