package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// TestRetrieveFollowsTheIndexAsTheOfflineCoder checks that Locate's first
// options for a finding are the codes the locator (the offline coder)
// reads its quotes as, every mention's, with the Index path it followed,
// before the search's.
func TestRetrieveFollowsTheIndexAsTheOfflineCoder(t *testing.T) {
	text := "She was admitted with Ludwig's angina."
	s := newTestSession(t, text)
	var asked []coding.Request
	s.a.locator = offlineFunc(func(_ context.Context, req coding.Request) (*coding.Result, error) {
		asked = append(asked, req)
		return &coding.Result{Codes: []coding.Code{{Code: "K12.2", System: codesys.ICD10CM,
			Trail: []coding.Step{{Kind: coding.StepMention, Detail: "Mention"}, {Kind: coding.StepIndex, Detail: "Index icd10cm-2025: Angina > Ludwig's → K12.2"}}}}}, nil
	})
	i := strings.Index(text, "Ludwig's angina")
	s.findings = []finding{
		{ID: "F1", Description: "Ludwig's angina", Relevant: true, Evidence: []coding.Evidence{{Start: i, End: i + 15, Text: "Ludwig's angina"}}},
		{ID: "F2", Description: "admission", Relevant: false},
	}
	s.retrieve(context.Background(), nil)
	if len(asked) != 1 || asked[0].Text != "Ludwig's angina" || asked[0].Scope != coding.Mentions ||
		len(asked[0].Systems) != 1 || asked[0].Systems[0] != codesys.ICD10CM {
		t.Fatalf("locator asked %+v; want the relevant finding's quote, in the mentions scope, in ICD-10-CM", asked)
	}
	if len(s.options) == 0 {
		t.Fatal("no options retrieved")
	}
	o := s.options[0]
	if o.N != 1 || o.Finding != "F1" || o.Code != "K12.2" || !strings.Contains(o.Path, "Angina > Ludwig's") {
		t.Errorf("first option %+v; want the locator's K12.2 with its Index path", o)
	}
	if !strings.Contains(s.optionsText(), "[1] Index icd10cm-2025: Angina > Ludwig's → K12.2 -> K12.2") {
		t.Errorf("Locate's input does not list the option:\n%s", s.optionsText())
	}
}
