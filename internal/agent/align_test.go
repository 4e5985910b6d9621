package agent

import (
	"errors"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/note/quote"
)

// newTestSession is a session on text with no model behind it, for the
// parts of the agent that read only the note.
func newTestSession(t *testing.T, text string) *session {
	t.Helper()
	a, err := New(Config{Provider: OpenAI, Model: "m", BaseURL: "http://127.0.0.1:1/v1"}, testResources(t))
	if err != nil {
		t.Fatal(err)
	}
	n, err := a.parser.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return &session{a: a, note: n, aligner: quote.New(text), analysis: a.context.Analyze(n), rejected: map[string]string{}}
}

func TestAlign(t *testing.T) {
	text := dischargeNote(t)
	s := newTestSession(t, text)
	at := func(sub string) *coding.Evidence {
		i := strings.Index(text, sub)
		if i < 0 {
			t.Fatalf("%q not in the note", sub)
		}
		return &coding.Evidence{Start: i, End: i + len(sub), Text: sub}
	}
	tests := []struct {
		quote   string
		hint    *coding.Evidence
		section string // want the evidence in this section
		refused bool   // want the quote refused as saying something else
		flagged bool   // want a problem naming an ambiguous quote
	}{
		// The exact spelling, before the first folded match (the family
		// history's "hypertension").
		{quote: "Hypertension", section: "PAST MEDICAL HISTORY"},
		// The section of the finding decides.
		{quote: "hypertension", hint: at("Hypertension. Type 2"), section: "PAST MEDICAL HISTORY"},
		{quote: "Type 2 diabetes mellitus", hint: at("Type 2 diabetes mellitus with diabetic"), section: "DISCHARGE DIAGNOSES"},
		// An occurrence the context rules read as affirmed beats a
		// family member's.
		{quote: "hypertension", section: "PAST MEDICAL HISTORY"},
		// Several sections, nothing to decide: flagged.
		{quote: "chronic kidney disease", flagged: true},
		// Near matches that change the meaning are refused.
		{quote: "Chest x-ray showed an infiltrate", refused: true},
		{quote: "Creatinine was 2.9 mg/dL, at her baseline", refused: true},
		// A near match that keeps it is accepted.
		{quote: "Creatinine was 1.9 mg/dl at baseline", section: "HOSPITAL COURSE"},
	}
	for _, tc := range tests {
		s.problems = nil
		ev, err := s.align(tc.quote, tc.hint)
		var ch *errChanged
		if tc.refused {
			if !errors.As(err, &ch) {
				t.Errorf("%q: got %+v, %v; want it refused", tc.quote, ev, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.quote, err)
			continue
		}
		if text[ev.Start:ev.End] != ev.Text {
			t.Errorf("%q: span %+v is not the note's text", tc.quote, ev)
		}
		if tc.section != "" && ev.Section != tc.section {
			t.Errorf("%q (hint %v): section %q, want %q", tc.quote, tc.hint, ev.Section, tc.section)
		}
		if got := len(s.problems) > 0; got != tc.flagged {
			t.Errorf("%q: problems %q, want flagged %v", tc.quote, s.problems, tc.flagged)
		}
	}
}
