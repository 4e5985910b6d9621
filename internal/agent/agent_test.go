package agent

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
)

const testNote = `CHIEF COMPLAINT: Follow-up of kidney function.

ASSESSMENT AND PLAN:
1. Type 2 diabetes mellitus with diabetic chronic kidney disease, stage 3.
2. Hypertension.
Patient denies chest pain.
`

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

type code struct {
	Code       string   `json:"code"`
	Finding    string   `json:"finding,omitempty"`
	Evidence   []string `json:"evidence"`
	IndexPath  string   `json:"index_path,omitempty"`
	Guidelines []string `json:"guidelines,omitempty"`
}

func submit(codes ...code) step {
	return step{calls: []fcall{{"submit_codes", js(map[string]any{"codes": codes})}}}
}

var (
	cDiabetes = code{Code: "E11.22", Finding: "F1", Evidence: []string{"Type 2 diabetes mellitus with diabetic chronic kidney disease"}, IndexPath: "Diabetes > type 2 > with > chronic kidney disease"}
	cHTN      = code{Code: "I12.9", Finding: "F2", Evidence: []string{"Hypertension"}, IndexPath: "Hypertension > with > kidney involvement", Guidelines: []string{"I.C.9.a.2"}}
	cCKD      = code{Code: "N18.30", Finding: "F1", Evidence: []string{"chronic kidney disease, stage 3"}}
)

// The clean script: two turns per stage, the first a tool call.
func analyzeSteps() []step {
	return []step{
		{calls: []fcall{{"find_in_note", `{"text":"denies chest pain"}`}}},
		{calls: []fcall{{"submit_findings", js(map[string]any{"findings": []map[string]any{
			{"id": "F1", "description": "type 2 diabetes with diabetic CKD stage 3", "kind": "condition", "quotes": []string{"Type 2 diabetes mellitus with diabetic chronic kidney disease, stage 3"}, "assertion": "affirmed", "relevant": true},
			{"id": "F2", "description": "hypertension", "kind": "condition", "quotes": []string{"Hypertension"}, "assertion": "affirmed", "relevant": true},
			{"id": "F3", "description": "chest pain", "kind": "condition", "quotes": []string{"chest pain"}, "assertion": "negated", "relevant": false},
		}})}}},
	}
}

func locateSteps() []step {
	return []step{
		{calls: []fcall{{"search_tabular", `{"query":"hypertensive chronic kidney disease"}`}}},
		{calls: []fcall{{"submit_candidates", js(map[string]any{"candidates": []map[string]any{
			{"finding": "F1", "code": "E11.22", "index_path": "Diabetes > type 2 > with > chronic kidney disease"},
			{"finding": "F1", "code": "N18.3-", "index_path": "Disease > kidney > chronic > stage 3"},
			{"finding": "F2", "code": "I12.9", "index_path": "Hypertension > with > kidney involvement"},
		}})}}},
	}
}

func assignSteps() []step {
	return []step{
		{calls: []fcall{{"lookup_code", `{"code":"N18.3"}`}}},
		submit(cDiabetes, cHTN, cCKD),
	}
}

func verifySteps() []step {
	return []step{
		{calls: []fcall{{"search_guidelines", `{"query":"hypertension with chronic kidney disease"}`}}},
		submit(cDiabetes, cHTN, cCKD),
	}
}

func cleanScript() []step {
	return slices.Concat(analyzeSteps(), locateSteps(), assignSteps(), verifySteps())
}

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func newAgent(t *testing.T, f *fakeServer, mod func(*Config)) (*Agent, *sleeps) {
	t.Helper()
	return newAgentWith(t, f, mod, nil)
}

// newAgentWith is newAgent with resources changed by res.
func newAgentWith(t *testing.T, f *fakeServer, mod func(*Config), res func(testing.TB, *Resources)) (*Agent, *sleeps) {
	t.Helper()
	cfg := Config{Provider: f.provider, Model: "fake-model", BaseURL: f.baseURL(), Retries: 2, RequestTimeout: 5 * time.Second,
		Prices: Prices{"fake-model": {Input: 1, Cached: 0.5, Output: 2}}}
	if mod != nil {
		mod(&cfg)
	}
	rs := testResources(t)
	if res != nil {
		res(t, &rs)
	}
	a, err := New(cfg, rs)
	if err != nil {
		t.Fatal(err)
	}
	sl := &sleeps{}
	a.caller.sleep = func(_ context.Context, d time.Duration) error {
		sl.mu.Lock()
		sl.d = append(sl.d, d)
		sl.mu.Unlock()
		return nil
	}
	return a, sl
}

func code1(t *testing.T, a *Agent) (*coding.Result, *Transcript) {
	t.Helper()
	res, err := a.Code(context.Background(), coding.Request{ID: "n1", Text: testNote, Setting: coding.Outpatient})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ReadTranscript(res)
	if err != nil {
		t.Fatal(err)
	}
	return res, tr
}

func codesOf(res *coding.Result) []string {
	var out []string
	for _, c := range res.Codes {
		out = append(out, c.Code)
	}
	return out
}

func hasProblem(tr *Transcript, sub string) bool {
	return slices.ContainsFunc(tr.Problems, func(p string) bool { return strings.Contains(p, sub) })
}

// checkEvidence asserts what must hold of every emitted code: valid in the
// release, evidence spans that are the note's own text.
func checkEvidence(t *testing.T, res *coding.Result) {
	t.Helper()
	for _, c := range res.Codes {
		if len(c.Evidence) == 0 {
			t.Errorf("%s has no evidence", c.Code)
		}
		for _, e := range c.Evidence {
			if e.Start < 0 || e.End > len(testNote) || testNote[e.Start:e.End] != e.Text {
				t.Errorf("%s evidence %+v is not the note's text", c.Code, e)
			}
		}
	}
}

var providers = []string{OpenAI, Anthropic}

func TestCleanRun(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			f := newFake(t, p, cleanScript()...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			// E11.22, I12.9 and N18.30 are the FY2021 codes for type 2
			// diabetes with diabetic CKD, hypertensive CKD stage 1-4 and
			// CKD stage 3 unspecified.
			if got, want := codesOf(res), []string{"E11.22", "I12.9", "N18.30"}; !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v", got, want)
			}
			checkEvidence(t, res)
			if res.Reasoner != "llm" || res.Model != p+":fake-model" || res.PromptVersion != PromptVersion {
				t.Errorf("result names %q %q %q", res.Reasoner, res.Model, res.PromptVersion)
			}
			if !slices.Equal(res.Releases, []string{"icd10cm-2021", "icd10pcs-2025"}) {
				t.Errorf("releases = %v", res.Releases)
			}
			// Eight scripted turns, each 100 fresh input, 10 cached and 20
			// output tokens; cost 1/M input, 0.5/M cached, 2/M output.
			u := res.Usage
			if u.Calls != 8 || u.InputTokens != 800 || u.CachedTokens != 80 || u.OutputTokens != 160 {
				t.Errorf("usage = %+v, want 8 calls, 800/80/160 tokens", u)
			}
			if want := (800*1 + 80*0.5 + 160*2) / 1e6; abs(u.Cost-want) > 1e-12 {
				t.Errorf("cost = %g, want %g", u.Cost, want)
			}
			if len(tr.Stages) != 4 || tr.Stages[3].Outcome != "submitted" || tr.ToolCalls != 4 {
				t.Errorf("transcript: %d stages, last outcome %q, %d tool calls", len(tr.Stages), tr.Stages[len(tr.Stages)-1].Outcome, tr.ToolCalls)
			}
			if len(tr.Problems) != 0 {
				t.Errorf("problems in a clean run: %v", tr.Problems)
			}
			// The guideline search said there are none, and the model got
			// that answer.
			if !strings.Contains(f.lastMessages(7), "no guidelines installed") {
				t.Errorf("verify stage did not see the missing guidelines: %s", f.lastMessages(7))
			}
			// The tools ran on the real release: N18.3 is a header in FY2021.
			if m := f.lastMessages(5); !strings.Contains(m, "N18.30") || !strings.Contains(m, "header") {
				t.Errorf("lookup_code N18.3 result lacks the children: %s", m)
			}
			var htn *coding.Code
			for i := range res.Codes {
				if res.Codes[i].Code == "I12.9" {
					htn = &res.Codes[i]
				}
			}
			if htn == nil || !slices.ContainsFunc(htn.Trail, func(s coding.Step) bool { return s.Kind == coding.StepGuideline && s.Ref == "I.C.9.a.2" }) ||
				!slices.ContainsFunc(htn.Trail, func(s coding.Step) bool { return s.Kind == coding.StepIndex }) {
				t.Errorf("I12.9 trail = %+v", htn)
			}
		})
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestHallucinatedCode(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			// E11.99 does not exist (E11.9 has no children); N18.3 is a
			// header since FY2021 split it by substage.
			bad := submit(code{Code: "E11.99", Finding: "F1", Evidence: []string{"Type 2 diabetes mellitus"}}, cHTN, code{Code: "N18.3", Evidence: cCKD.Evidence})
			script := slices.Concat(analyzeSteps(), locateSteps(), []step{bad, submit(cDiabetes, cHTN, cCKD)}, verifySteps())
			f := newFake(t, p, script...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if got, want := codesOf(res), []string{"E11.22", "I12.9", "N18.30"}; !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v", got, want)
			}
			fed := f.lastMessages(5)
			if !strings.Contains(fed, "E11.99: not a code") || !strings.Contains(fed, "N18.3: not billable") {
				t.Errorf("rejection reasons not fed back to the model: %s", fed)
			}
			var dropped []string
			for _, d := range res.Dropped {
				dropped = append(dropped, d.Code)
				if !strings.Contains(d.Reason, "rejected by validation") {
					t.Errorf("dropped %s reason %q", d.Code, d.Reason)
				}
			}
			if !slices.Equal(dropped, []string{"E11.99", "N18.3"}) {
				t.Errorf("dropped = %v", dropped)
			}
			if !hasProblem(tr, "rejected E11.99") {
				t.Errorf("problems = %v", tr.Problems)
			}
		})
	}
}

func TestHallucinatedCodeRepairBudget(t *testing.T) {
	// With no repairs allowed the invalid code is dropped at once and the
	// valid ones are kept.
	bad := submit(code{Code: "E11.99", Evidence: []string{"Type 2 diabetes mellitus"}}, cHTN)
	f := newFake(t, OpenAI, slices.Concat(analyzeSteps(), locateSteps(), assignSteps()[:1], []step{bad}, verifySteps()[:1], []step{bad})...)
	a, _ := newAgent(t, f, func(c *Config) { c.MaxRepairs = -1 })
	a.cfg.MaxRepairs = 0
	res, _ := code1(t, a)
	if got := codesOf(res); !slices.Equal(got, []string{"I12.9"}) {
		t.Fatalf("codes = %v, want [I12.9]", got)
	}
}

func TestQuoteNotInNote(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			// The first submission quotes text the note does not have for
			// I12.9, and quotes E11.22 with other case and spacing.
			invented := code{Code: "I12.9", Finding: "F2", Evidence: []string{"malignant hypertensive crisis"}}
			sloppy := code{Code: "E11.22", Finding: "F1", Evidence: []string{"type 2 DIABETES mellitus with   diabetic chronic kidney disease"}}
			script := slices.Concat(analyzeSteps(), locateSteps(), []step{submit(sloppy, invented, cCKD), submit(sloppy, cCKD)}, verifySteps()[:1], []step{submit(sloppy, cCKD)})
			f := newFake(t, p, script...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if got, want := codesOf(res), []string{"E11.22", "N18.30"}; !slices.Equal(got, want) {
				t.Fatalf("codes = %v, want %v", got, want)
			}
			checkEvidence(t, res)
			want := "Type 2 diabetes mellitus with diabetic chronic kidney disease"
			if e := res.Codes[0].Evidence[0]; e.Text != want || e.Start != strings.Index(testNote, want) {
				t.Errorf("E11.22 evidence = %+v, want the note's own span of %q", e, want)
			}
			if e := res.Codes[0].Evidence[0]; e.Section != "ASSESSMENT AND PLAN" {
				t.Errorf("evidence section = %q", e.Section)
			}
			if !strings.Contains(f.lastMessages(5), "no evidence quote was found") {
				t.Errorf("the model was not told: %s", f.lastMessages(5))
			}
			if len(res.Dropped) != 1 || res.Dropped[0].Code != "I12.9" || !hasProblem(tr, "not in the note") {
				t.Errorf("dropped = %+v, problems %v", res.Dropped, tr.Problems)
			}
		})
	}
}

func TestMalformedToolArguments(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			broken := step{calls: []fcall{{"find_in_note", `{"text": "denies chest`}, {"browse_web", `{"url":"x"}`}}}
			f := newFake(t, p, slices.Concat([]step{broken}, cleanScript())...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if got := codesOf(res); !slices.Equal(got, []string{"E11.22", "I12.9", "N18.30"}) {
				t.Fatalf("codes = %v", got)
			}
			if !hasProblem(tr, "malformed arguments for find_in_note") || !hasProblem(tr, `unknown tool "browse_web"`) {
				t.Errorf("problems = %v", tr.Problems)
			}
			fed := f.lastMessages(1)
			if !strings.Contains(fed, "not a valid JSON object") || !strings.Contains(fed, "Unknown tool") {
				t.Errorf("the model was not told: %s", fed)
			}
			if len(res.Warnings) < 2 {
				t.Errorf("warnings = %v", res.Warnings)
			}
		})
	}
}

func TestRateLimitThenSuccess(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			f := newFake(t, p, slices.Concat([]step{{status: 429, after: "3"}}, cleanScript())...)
			a, sl := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if len(res.Codes) != 3 {
				t.Fatalf("codes = %v", codesOf(res))
			}
			if c := tr.Calls[0]; c.Attempts != 2 || len(c.Errors) != 1 || !strings.Contains(c.Errors[0], "429") {
				t.Errorf("first call = %+v, want 2 attempts after a 429", c)
			}
			if len(sl.d) != 1 || sl.d[0] != 3*time.Second {
				t.Errorf("waited %v, want the Retry-After of 3s", sl.d)
			}
		})
	}
}

func TestRetryBudgetExhausted(t *testing.T) {
	f := newFake(t, OpenAI, step{status: 503}, step{status: 503}, step{status: 503})
	a, sl := newAgent(t, f, nil)
	res, tr := code1(t, a)
	if len(res.Codes) != 0 || f.requests() != 3 || len(sl.d) != 2 {
		t.Fatalf("codes %v after %d requests and %d waits", codesOf(res), f.requests(), len(sl.d))
	}
	for _, d := range sl.d {
		if d <= 0 || d > a.caller.maxDelay {
			t.Errorf("backoff %v outside (0, %v]", d, a.caller.maxDelay)
		}
	}
	if !hasProblem(tr, "model call failed after 3 attempt(s)") {
		t.Errorf("problems = %v", tr.Problems)
	}
}

func TestTimeout(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			f := newFake(t, p, slices.Concat([]step{{delay: 10 * time.Second}}, cleanScript())...)
			a, _ := newAgent(t, f, func(c *Config) { c.RequestTimeout = 300 * time.Millisecond })
			res, tr := code1(t, a)
			if len(res.Codes) != 3 {
				t.Fatalf("codes = %v", codesOf(res))
			}
			if c := tr.Calls[0]; c.Attempts != 2 || !strings.Contains(c.Errors[0], "no answer within 300ms") {
				t.Errorf("first call = %+v", c)
			}
		})
	}
}

func TestResponseCutMidway(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			script := cleanScript()
			cut := script[0]
			cut.cut = true
			f := newFake(t, p, slices.Concat([]step{cut}, script)...)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if len(res.Codes) != 3 {
				t.Fatalf("codes = %v", codesOf(res))
			}
			if c := tr.Calls[0]; c.Attempts != 2 || len(c.Errors) != 1 {
				t.Errorf("first call = %+v, want a failed attempt then success", c)
			}
		})
	}
}

func TestTruncatedAndRefused(t *testing.T) {
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			// A turn cut at the output limit with half a tool call, then
			// two refusals: the stage ends, the run ends without codes and
			// says why.
			trunc := step{calls: []fcall{{"submit_findings", `{"findings":[{"id":"F1","descr`}}, stop: "length"}
			refuse := step{text: "I'm sorry, but I can't help with that.", stop: "refusal"}
			f := newFake(t, p, trunc, refuse, refuse)
			a, _ := newAgent(t, f, nil)
			res, tr := code1(t, a)
			if len(res.Codes) != 0 {
				t.Fatalf("codes = %v", codesOf(res))
			}
			if !hasProblem(tr, "malformed arguments for submit_findings") || !hasProblem(tr, "the model refused") || tr.Stages[0].Outcome != "refused" {
				t.Errorf("problems = %v, outcome %q", tr.Problems, tr.Stages[0].Outcome)
			}
			if !strings.Contains(f.lastMessages(1), "cut off by the output limit") {
				t.Errorf("model not told about the cut: %s", f.lastMessages(1))
			}
		})
	}
}

func TestToolBudget(t *testing.T) {
	f := newFake(t, OpenAI, cleanScript()...)
	a, _ := newAgent(t, f, func(c *Config) { c.MaxToolCalls = 2 })
	res, tr := code1(t, a)
	if len(res.Codes) != 3 {
		t.Fatalf("codes = %v", codesOf(res))
	}
	if tr.ToolCalls != 2 || !hasProblem(tr, "tool call budget (2) exhausted") {
		t.Errorf("tool calls %d, problems %v", tr.ToolCalls, tr.Problems)
	}
	if !strings.Contains(f.lastMessages(5), "budget exhausted") {
		t.Errorf("model not told: %s", f.lastMessages(5))
	}
}

func TestRecordReplay(t *testing.T) {
	dir := t.TempDir()
	f := newFake(t, Anthropic, cleanScript()...)
	a, _ := newAgent(t, f, func(c *Config) { c.CacheDir, c.CacheMode = dir, CacheRecord })
	rec, _ := code1(t, a)

	// Replay against a server with an empty script: any request fails
	// the test.
	empty := newFake(t, Anthropic)
	b, _ := newAgent(t, empty, func(c *Config) { c.CacheDir, c.CacheMode = dir, CacheReplay })
	rep, tr := code1(t, b)
	if empty.requests() != 0 {
		t.Fatalf("replay made %d requests", empty.requests())
	}
	if !slices.Equal(codesOf(rep), codesOf(rec)) || rep.Codes[0].Evidence[0] != rec.Codes[0].Evidence[0] {
		t.Fatalf("replay codes %v, recorded %v", codesOf(rep), codesOf(rec))
	}
	if rep.Usage.InputTokens != 0 || rep.Usage.Calls != 8 || !tr.Calls[0].Cached {
		t.Errorf("replay usage = %+v; replayed turns cost nothing", rep.Usage)
	}

	// A different note is not recorded: replay stops the run.
	if _, err := b.Code(context.Background(), coding.Request{Text: "Patient has asthma."}); !errors.Is(err, ErrNotRecorded) {
		t.Errorf("unrecorded replay: err = %v", err)
	}
}

type offlineFunc func(ctx context.Context, req coding.Request) (*coding.Result, error)

func (f offlineFunc) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	return f(ctx, req)
}

func TestHybridGivesOfflineCandidates(t *testing.T) {
	f := newFake(t, OpenAI, cleanScript()...)
	offline := offlineFunc(func(_ context.Context, req coding.Request) (*coding.Result, error) {
		i := strings.Index(req.Text, "Hypertension")
		return &coding.Result{Codes: []coding.Code{{Code: "I10", Title: "Essential (primary) hypertension", Evidence: []coding.Evidence{{Start: i, End: i + 12, Text: "Hypertension"}}}}}, nil
	})
	a, err := New(Config{Provider: OpenAI, Model: "fake-model", BaseURL: f.baseURL(), Hybrid: true}, withOffline(testResources(t), offline))
	if err != nil {
		t.Fatal(err)
	}
	code1(t, a)
	// The locate stage's first request carries the offline candidates.
	if m := f.lastMessages(2); !strings.Contains(m, "offline coder") || !strings.Contains(m, "I10 Essential (primary) hypertension") {
		t.Errorf("locate input lacks the offline candidates: %s", m)
	}
}

func TestPrivacy(t *testing.T) {
	rs := testResources(t)
	_, err := New(Config{Provider: OpenAI, Model: "m", BaseURL: "https://api.example.com/v1"}, rs)
	if err == nil || !strings.Contains(err.Error(), "--allow-remote") {
		t.Fatalf("remote endpoint without permission: err = %v", err)
	}
	if _, err := New(Config{Provider: OpenAI, Model: "m", BaseURL: "https://api.example.com/v1", AllowRemote: true}, rs); err != nil {
		t.Fatalf("remote endpoint with permission: %v", err)
	}
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://localhost:11434/v1", true}, {"http://127.0.0.1:8000/v1", true}, {"http://[::1]:8080", true},
		{"https://api.openai.com/v1", false}, {"http://10.0.0.5:8000/v1", false}, {"http://localhost.evil.com/v1", false}, {"not a url", false},
	} {
		if got := IsLoopback(tc.url); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestParseModel(t *testing.T) {
	for _, tc := range []struct{ in, p, m string }{
		{"openai:gpt-4o-mini", OpenAI, "gpt-4o-mini"},
		{"anthropic:claude-sonnet-4-5", Anthropic, "claude-sonnet-4-5"},
		{"llama3.1:8b", OpenAI, "llama3.1:8b"},
		{"gpt-4o", OpenAI, "gpt-4o"},
	} {
		p, m, err := ParseModel(tc.in)
		if err != nil || p != tc.p || m != tc.m {
			t.Errorf("ParseModel(%q) = %q, %q, %v", tc.in, p, m, err)
		}
	}
	if _, _, err := ParseModel(""); err == nil {
		t.Error("ParseModel(\"\"): want an error")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true}, {"0.5", 500 * time.Millisecond, true}, {"250ms", 250 * time.Millisecond, true},
		{"Thu, 01 Jan 2026 00:00:10 GMT", 10 * time.Second, true}, {"", 0, false}, {"soon", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v", tc.in, got, ok)
		}
	}
}

func withOffline(r Resources, off coding.Reasoner) Resources {
	r.Offline = off
	return r
}

func TestInvalidSeventhCharacter(t *testing.T) {
	// S52.521Z has a 7th character the category does not define; S52.521
	// lacks the 7th character it requires. Both are rejected with the
	// Tabular List's reason and the model repairs its submission.
	bad := submit(code{Code: "S52.521Z", Finding: "F1", Evidence: []string{"Type 2 diabetes mellitus"}}, cHTN,
		code{Code: "S52.521", Evidence: cCKD.Evidence}, cDiabetes, cCKD)
	script := slices.Concat(analyzeSteps(), locateSteps(), []step{bad, submit(cDiabetes, cHTN, cCKD)}, verifySteps())
	f := newFake(t, OpenAI, script...)
	a, _ := newAgent(t, f, nil)
	res, _ := code1(t, a)
	if got, want := codesOf(res), []string{"E11.22", "I12.9", "N18.30"}; !slices.Equal(got, want) {
		t.Fatalf("codes = %v, want %v", got, want)
	}
	fed := f.lastMessages(5)
	if !strings.Contains(fed, "7th character 'Z' is not defined for S52.521") || !strings.Contains(fed, "S52.521 requires a 7th character") {
		t.Errorf("7th character reasons not fed back to the model: %s", fed)
	}
}

func TestTokenBudget(t *testing.T) {
	// Each scripted turn reports 130 tokens, but a request is projected
	// from its bytes before it is sent: the run stops before a request
	// that would not fit, with what it has, and says why.
	f := newFake(t, Anthropic, cleanScript()...)
	a, _ := newAgent(t, f, func(c *Config) { c.MaxTokens = 2500 })
	res, tr := code1(t, a)
	if n := f.requests(); n == 0 || n >= 8 || res.Usage.Calls != n {
		t.Errorf("requests %d, calls %d: want some, not all", n, res.Usage.Calls)
	}
	if !hasProblem(tr, "token budget exhausted") || res.Status != coding.StatusFailed {
		t.Errorf("status %q, problems = %v", res.Status, tr.Problems)
	}
	checkEvidence(t, res)
}

// TestKeyNeverRecorded: the API key reaches the endpoint, and nowhere
// else: not the result, its transcript or the response cache.
func TestKeyNeverRecorded(t *testing.T) {
	const key = "sk-medcode-test-SECRET-4f1c"
	for _, p := range providers {
		t.Run(p, func(t *testing.T) {
			t.Setenv("OPENAI_API_KEY", key)
			t.Setenv("ANTHROPIC_API_KEY", key)
			dir := t.TempDir()
			f := newFake(t, p, cleanScript()...)
			a, _ := newAgent(t, f, func(c *Config) { c.CacheDir, c.CacheMode = dir, CacheRecord })
			res, _ := code1(t, a)
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), key) {
				t.Error("the key is in the result or its transcript")
			}
			err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				if err == nil && strings.Contains(string(data), key) {
					t.Errorf("the key is in the cache file %s", path)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if !f.sawKey(key) {
				t.Error("the key did not reach the endpoint")
			}
		})
	}
}
