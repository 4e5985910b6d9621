package agent

import (
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// TestModelAssertion: every value, in the spellings models write it, and
// the clinical words they use instead, read as one assertion; anything
// else is an error that names the values.
func TestModelAssertion(t *testing.T) {
	tests := []struct {
		in   string
		want coding.Assertion
		err  bool
	}{
		{"", "", false},
		{"affirmed", coding.Affirmed, false},
		{"negated", coding.Negated, false},
		{"possible", coding.Possible, false},
		{"historical", coding.Historical, false},
		{"resolved", coding.Resolved, false},
		{"family", coding.Family, false},
		{"other person", coding.OtherPerson, false},
		{"hypothetical", coding.Hypothetical, false},
		{" Affirmed ", coding.Affirmed, false},
		{"OTHER_PERSON", coding.OtherPerson, false},
		{"other-person", coding.OtherPerson, false},
		{"present", coding.Affirmed, false},
		{"absent", coding.Negated, false},
		{"ruled out", coding.Negated, false},
		{"suspected", coding.Possible, false},
		{"history of", coding.Historical, false},
		{"family history", coding.Family, false},
		{"other", coding.OtherPerson, false},
		{"planned", coding.Hypothetical, false},
		{"chronic", "", true},
		{"affirmed/recent/patient", "", true},
		{"not sure", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := modelAssertion(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("modelAssertion(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.err)
			}
			if err != nil && !strings.Contains(err.Error(), "other person, hypothetical") {
				t.Errorf("error %q does not list the values", err)
			}
		})
	}
	var vals []string
	for _, v := range assertionEnum("")["enum"].([]string) {
		vals = append(vals, v)
		if a, err := modelAssertion(v); err != nil || string(a) != v {
			t.Errorf("schema value %q reads as %q, %v", v, a, err)
		}
	}
	if len(vals) != len(coding.Assertions()) {
		t.Errorf("schema enum %v", vals)
	}
}

func submitWithAssertions(codes ...map[string]any) step {
	return step{calls: []fcall{{"submit_codes", js(map[string]any{"codes": codes})}}}
}

func findingsStep(chestPain string) step {
	return step{calls: []fcall{{"submit_findings", js(map[string]any{"findings": []map[string]any{
		{"id": "F1", "description": "type 2 diabetes with diabetic CKD stage 3", "kind": "condition", "quotes": []string{"Type 2 diabetes mellitus with diabetic chronic kidney disease, stage 3"}, "assertion": "affirmed", "relevant": true},
		{"id": "F2", "description": "hypertension", "kind": "condition", "quotes": []string{"Hypertension"}, "assertion": "Present", "relevant": true},
		{"id": "F3", "description": "chest pain", "kind": "condition", "quotes": []string{"chest pain"}, "assertion": chestPain, "relevant": false},
	}})}}}
}

func aDiabetes() map[string]any {
	return map[string]any{"code": "E11.22", "finding": "F1", "evidence": []string{"Type 2 diabetes mellitus with diabetic chronic kidney disease"}}
}

func aHTN() map[string]any {
	return map[string]any{"code": "I12.9", "finding": "F2", "evidence": []string{"Hypertension"}, "assertion": "history"}
}

func aChestPain() map[string]any {
	return map[string]any{"code": "R07.9", "finding": "F3", "evidence": []string{"chest pain"}}
}

func assertionsOf(res *coding.Result) []coding.Assertion {
	var out []coding.Assertion
	for _, c := range res.Codes {
		out = append(out, c.Assertion)
	}
	return out
}

// TestAssertionRepaired: an assertion that is not one goes back to the
// model with the values, and the corrected submission is used; a code
// without one takes its finding's.
func TestAssertionRepaired(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			bad := map[string]any{"code": "E11.22", "finding": "F1", "evidence": aDiabetes()["evidence"], "assertion": "chronic"}
			script := slices.Concat(analyzeSteps()[:1], []step{findingsStep("maybe not"), findingsStep("negated")}, locateSteps(),
				assignSteps()[:1], []step{submitWithAssertions(bad, aHTN(), aChestPain()), submitWithAssertions(aDiabetes(), aHTN(), aChestPain())},
				verifySteps()[:1], []step{submitWithAssertions(aDiabetes(), aHTN(), aChestPain()),
					// The auditor refuses the negated chest pain; the
					// model's repair round still submits it.
					submitWithAssertions(aDiabetes(), aHTN(), aChestPain())})
			f := newFake(t, p, script...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if got := codesOf(res); !slices.Equal(got, []string{"E11.22", "I12.9"}) {
				t.Fatalf("codes = %v", got)
			}
			if !slices.ContainsFunc(res.Dropped, func(c coding.Code) bool { return c.Code == "R07.9" && strings.HasPrefix(c.Reason, "auditor: ") }) {
				t.Errorf("R07.9 not dropped by the auditor: %+v", res.Dropped)
			}
			want := []coding.Assertion{coding.Affirmed, coding.Historical}
			if got := assertionsOf(res); !slices.Equal(got, want) {
				t.Errorf("assertions = %q, want %q", got, want)
			}
			if fed := f.lastMessages(2); !strings.Contains(fed, `F3: unknown assertion \"maybe not\": use one of affirmed`) {
				t.Errorf("the unknown finding assertion was not fed back: %s", fed)
			}
			if fed := f.lastMessages(7); !strings.Contains(fed, `E11.22: unknown assertion \"chronic\"`) {
				t.Errorf("the unknown code assertion was not fed back: %s", fed)
			}
			if !hasProblem(tr, `unknown assertion "chronic"`) {
				t.Errorf("problems = %v", tr.Problems)
			}
		})
	}
}

// TestAssertionUnrepaired: with no repair left, a finding's unknown
// assertion becomes the rule-based one of its quote ("denies chest pain":
// negated), and a code's unknown assertion its finding's.
func TestAssertionUnrepaired(t *testing.T) {
	badCode := map[string]any{"code": "I12.9", "finding": "F2", "evidence": []string{"Hypertension"}, "assertion": "chronic"}
	script := slices.Concat(analyzeSteps()[:1], []step{findingsStep("maybe not")}, locateSteps(),
		assignSteps()[:1], []step{submitWithAssertions(aDiabetes(), badCode, aChestPain())},
		verifySteps()[:1], []step{submitWithAssertions(aDiabetes(), badCode, aChestPain()), submitWithAssertions(aDiabetes(), badCode, aChestPain())})
	f := newFake(t, OpenAI, script...)
	a, _ := newAgent(t, f, func(c *Config) { c.MaxRepairs = -1 })
	a.cfg.MaxRepairs = 0
	res, tr := code1(t, a)
	// The chest pain, negated by the rule-based assertion that stood in
	// for the model's, is dropped by the auditor.
	if !slices.ContainsFunc(res.Dropped, func(c coding.Code) bool { return c.Code == "R07.9" && strings.HasPrefix(c.Reason, "auditor: ") }) {
		t.Errorf("R07.9 not dropped by the auditor: %+v", res.Dropped)
	}
	want := []coding.Assertion{coding.Affirmed, coding.Affirmed}
	if got := assertionsOf(res); !slices.Equal(got, want) {
		t.Errorf("assertions = %q, want %q", got, want)
	}
	if !hasProblem(tr, `the rule-based assertion "negated" is used`) {
		t.Errorf("problems = %v", tr.Problems)
	}
}
