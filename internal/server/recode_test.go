package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"

	"github.com/medcode-dev/medcode/internal/store"
)

// decideAll posts a decision on each code of doc named in actions
// (code -> body) and fails on any answer but 200.
func (e *env) decideAll(doc *store.Document, actions map[string]map[string]any) {
	e.t.Helper()
	for code, body := range actions {
		c := byCode(doc, code)
		if c == nil {
			e.t.Fatalf("no code %s in %s", code, doc.ID)
		}
		if st := e.do("north/coder", "POST", "/v1/documents/"+doc.ID+"/codes/"+c.ID+"/decision", body, nil); st != http.StatusOK {
			e.t.Fatalf("%v on %s: %d", body, code, st)
		}
	}
}

func statuses(d *store.Document) string {
	var out []string
	for _, c := range d.Codes {
		out = append(out, c.Code+"="+c.Status)
	}
	return strings.Join(out, " ")
}

// TestRecodeKeepsDecisions: coding a reviewed note again keeps every
// decision, brings back no rejected or replaced code, and leaves the note
// reviewed; a new code arrives pending.
func TestRecodeKeepsDecisions(t *testing.T) {
	more := &atomic.Bool{}
	e := newEnv(t, Config{Reasoner: &moreReasoner{more: more}})
	d := e.submit(testNote)
	e.decideAll(d, map[string]map[string]any{
		"E11.9": {"action": "accept"},
		"E11":   {"action": "reject", "reason": "a header"},
		"J18.9": {"action": "replace", "code": "J15.9", "reason": "culture positive"},
		"I10":   {"action": "reject", "reason": "not documented as current"},
	})
	doc := "/v1/documents/" + d.ID
	var before store.Document
	e.do("north/coder", "GET", doc, nil, &before)
	if before.Status != store.StatusReviewed {
		t.Fatalf("before re-coding: %s (%s)", before.Status, statuses(&before))
	}
	var after store.Document
	if st := e.do("north/coder", "POST", doc+"/code", nil, &after); st != http.StatusOK {
		t.Fatalf("re-code: %d", st)
	}
	if after.Status != store.StatusReviewed || statuses(&after) != statuses(&before) {
		t.Fatalf("re-coding changed the review:\nbefore %s %s\nafter  %s %s", before.Status, statuses(&before), after.Status, statuses(&after))
	}

	// The reasoner finds something new: only it arrives, pending.
	more.Store(true)
	if st := e.do("north/coder", "POST", doc+"/code", nil, &after); st != http.StatusOK {
		t.Fatalf("re-code: %d", st)
	}
	want := statuses(&before) + " N39.0=pending"
	if after.Status != store.StatusInReview || statuses(&after) != want {
		t.Fatalf("after a new code: %s %s, want in_review %s", after.Status, statuses(&after), want)
	}
}

// moreReasoner is phraseReasoner that, once more is set, also finds a
// urinary tract infection: a reasoner that finds more on a second run.
type moreReasoner struct {
	phraseReasoner
	more *atomic.Bool
}

func (m *moreReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	res, err := m.phraseReasoner.Code(ctx, req)
	if err != nil || !m.more.Load() {
		return res, err
	}
	res.Codes = append(res.Codes, coding.Code{Code: "N39.0", System: codesys.ICD10CM, Kind: coding.Diagnosis,
		Title: "Urinary tract infection, site not specified", Confidence: 0.8})
	return res, nil
}

// TestAddCodeDuplicates: a code on the document, pending, accepted or as
// a replacement, is not added again; of concurrent adds of one code one
// succeeds.
func TestAddCodeDuplicates(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit(testNote)
	doc := "/v1/documents/" + d.ID
	e.decideAll(d, map[string]map[string]any{
		"I10":   {"action": "accept"},
		"J18.9": {"action": "replace", "code": "J15.9", "reason": "culture positive"},
	})
	i := strings.Index(testNote, "Pneumonia")
	ev := []map[string]any{{"start": i, "end": i + len("Pneumonia")}}
	for code, how := range map[string]string{"E11.9": "pending", "I10": "accepted", "J15.9": "as a replacement"} {
		var body errBody
		if st := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": code, "evidence": ev}, &body); st != http.StatusConflict ||
			body.Error.Code != "duplicate_code" || !strings.Contains(body.Error.Message, "has this code already, "+how) {
			t.Errorf("adding %s again: %d %+v", code, st, body.Error)
		}
	}

	const n = 12
	var wg sync.WaitGroup
	got := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got <- e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "N39.0", "evidence": ev}, nil)
		}()
	}
	wg.Wait()
	close(got)
	count := map[int]int{}
	for st := range got {
		count[st]++
	}
	if count[http.StatusCreated] != 1 || count[http.StatusConflict] != n-1 {
		t.Fatalf("concurrent adds: %v, want one 201 and %d 409", count, n-1)
	}
}

// TestAddCodeWarnsOfConflicts: adding a code that an Excludes1 note keeps
// apart from a code present, or a code listed after a manifestation whose
// code-first note names it, warns in the response.
func TestAddCodeWarnsOfConflicts(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit("Assessment: community acquired pneumonia.")
	doc := "/v1/documents/" + d.ID
	i := strings.Index(d.Text, "pneumonia")
	ev := []map[string]any{{"start": i, "end": i + len("pneumonia")}}
	var c store.Code
	if st := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "J15.9", "evidence": ev}, &c); st != http.StatusCreated {
		t.Fatalf("add: %d", st)
	}
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "J18.9 and J15.9 are not reported together: Excludes1 at J18") {
		t.Fatalf("warnings = %q", c.Warnings)
	}
	c = store.Code{}
	if st := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "N39.0", "evidence": ev}, &c); st != http.StatusCreated || len(c.Warnings) != 0 {
		t.Fatalf("add N39.0: %d %q", st, c.Warnings)
	}
	c = store.Code{}
	if st := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "E11.9", "evidence": ev}, &c); st != http.StatusCreated ||
		len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "N39.0 is listed before E11.9") {
		t.Fatalf("add E11.9: %d %q", st, c.Warnings)
	}
}

// TestExportRefusesExcludes1: an export holding both codes of an
// Excludes1 pair is refused with the pair; once one is rejected the
// export holds each code once, the first-listed first.
func TestExportRefusesExcludes1(t *testing.T) {
	e := newEnv(t, Config{})
	d := e.submit("Assessment: community acquired pneumonia; hypertension.")
	doc := "/v1/documents/" + d.ID
	i := strings.Index(d.Text, "pneumonia")
	ev := []map[string]any{{"start": i, "end": i + len("pneumonia")}}
	var added store.Code
	if st := e.do("north/coder", "POST", doc+"/codes", map[string]any{"code": "J15.9", "evidence": ev}, &added); st != http.StatusCreated {
		t.Fatalf("add: %d", st)
	}
	e.decideAll(d, map[string]map[string]any{"J18.9": {"action": "accept"}, "I10": {"action": "accept"}})
	for _, format := range []string{"json", "fhir", "claim"} {
		var body errBody
		if st := e.do("north/coder", "GET", doc+"/export?format="+format, nil, &body); st != http.StatusConflict ||
			body.Error.Code != "excludes1_conflict" || len(body.Error.Conflicts) != 1 ||
			body.Error.Conflicts[0].Code != "J18.9" || body.Error.Conflicts[0].With != "J15.9" {
			t.Fatalf("export %s: %d %+v", format, st, body.Error)
		}
	}
	if st := e.do("north/coder", "POST", doc+"/codes/"+added.ID+"/decision", map[string]any{"action": "reject", "reason": "organism not documented"}, nil); st != http.StatusOK {
		t.Fatalf("reject: %d", st)
	}
	var claim struct {
		Diagnosis []struct {
			Sequence                 int
			DiagnosisCodeableConcept struct{ Coding []struct{ Code string } }
		}
	}
	if st := e.do("north/coder", "GET", doc+"/export?format=claim", nil, &claim); st != http.StatusOK {
		t.Fatalf("claim: %d", st)
	}
	var got []string
	for _, dx := range claim.Diagnosis {
		got = append(got, dx.DiagnosisCodeableConcept.Coding[0].Code)
	}
	if strings.Join(got, " ") != "J18.9 I10" {
		t.Fatalf("claim diagnoses %v, want J18.9 I10", got)
	}
}
