package server

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/store"
)

// fixtureChapters are the chapters of the fixture Tabular List
// (testdata/tabular.xml), read off the file rather than looked up.
var fixtureChapters = map[string]string{"E11": "4", "E11.9": "4", "I10": "9", "J18.9": "10", "N39.0": "14"}

// seedDecisions codes notes in north and south and decides on their codes
// as different coders, with rejections for several reasons, a
// replacement, an added code and codes left pending.
func seedDecisions(t *testing.T, e *env) {
	t.Helper()
	notes := []struct {
		tenant string
		text   string
		// plan gives, per code, who decides and what: "accept", "reject:REASON",
		// "replace", or nothing (left pending).
		plan map[string]string
		who  string
		add  bool
	}{
		{"north", "Pneumonia. Hypertension. Type 2 diabetes.", map[string]string{
			"J18.9": "accept", "I10": "accept", "E11.9": "accept", "E11": "reject:header, not reportable"}, "north/coder", false},
		{"north", "Hypertension and urinary tract infection. Café au lait spots.", map[string]string{
			"I10": "reject:not documented", "N39.0": "accept"}, "north/admin", true},
		{"north", "Pneumonia again; type 2 diabetes.", map[string]string{
			"J18.9": "replace", "E11": "reject:header, not reportable", "E11.9": "accept"}, "north/coder", false},
		{"north", "Hypertension; urinary tract infection.", map[string]string{"I10": "=cmd|' /C calc'!A0"}, "north/admin", false},
		{"south", "Pneumonia and hypertension.", map[string]string{"J18.9": "reject:ruled out", "I10": "accept"}, "south/coder", false},
	}
	for _, n := range notes {
		var d store.Document
		if code := e.do(n.who, "POST", "/v1/documents", map[string]any{"text": n.text}, &d); code != http.StatusCreated {
			t.Fatalf("submit: %d", code)
		}
		for _, c := range d.Codes {
			act, ok := n.plan[c.Code]
			if !ok {
				continue
			}
			body := map[string]any{"action": act}
			switch {
			case strings.HasPrefix(act, "reject:"):
				body = map[string]any{"action": "reject", "reason": act[len("reject:"):]}
			case strings.HasPrefix(act, "="): // a reason a spreadsheet would run
				body = map[string]any{"action": "reject", "reason": act}
			case act == "replace":
				body = map[string]any{"action": "replace", "code": "J15.9", "reason": "bacterial"}
			}
			if code := e.do(n.who, "POST", "/v1/documents/"+d.ID+"/codes/"+c.ID+"/decision", body, nil); code != 200 {
				t.Fatalf("decide %s on %s: %d", act, c.Code, code)
			}
		}
		if n.add {
			i := strings.Index(n.text, "Café au lait spots")
			if code := e.do(n.who, "POST", "/v1/documents/"+d.ID+"/codes", map[string]any{
				"code": "L81.3", "evidence": []map[string]any{{"start": i, "end": i + len("Café au lait spots")}}}, nil); code != 201 {
				t.Fatalf("add: %d", code)
			}
		}
	}
}

// expected is the summary counted from the tenants' documents as the
// review API returns them.
type expected struct {
	total    store.Counts
	codes    map[string]store.Counts
	chapters map[string]store.Counts
	coders   map[string]store.Counts
	weeks    map[string]store.Counts
	reasons  map[string]map[string]int
}

func expect(t *testing.T, e *env, tenants ...string) expected {
	t.Helper()
	x := expected{codes: map[string]store.Counts{}, chapters: map[string]store.Counts{}, coders: map[string]store.Counts{},
		weeks: map[string]store.Counts{}, reasons: map[string]map[string]int{}}
	for _, tenant := range tenants {
		var list struct{ Documents []*store.Document }
		if code := e.do(tenant+"/auditor", "GET", "/v1/documents?limit=500", nil, &list); code != 200 {
			t.Fatalf("list: %d", code)
		}
		for _, ld := range list.Documents {
			var d store.Document
			if code := e.do(tenant+"/auditor", "GET", "/v1/documents/"+ld.ID, nil, &d); code != 200 {
				t.Fatalf("get: %d", code)
			}
			for _, c := range d.Codes {
				var delta store.Counts
				switch {
				case c.Origin == store.OriginCoder:
					delta.Added = 1
				case c.Origin != store.OriginEngine || c.Status == store.CodePending:
					continue
				case c.Status == store.CodeAccepted:
					delta.Decided, delta.Accepted = 1, 1
				case c.Status == store.CodeRejected:
					delta.Decided, delta.Rejected = 1, 1
				case c.Status == store.CodeReplaced:
					delta.Decided, delta.Replaced = 1, 1
				}
				plus := func(m map[string]store.Counts, k string) {
					v := m[k]
					v.Decided += delta.Decided
					v.Accepted += delta.Accepted
					v.Rejected += delta.Rejected
					v.Replaced += delta.Replaced
					v.Added += delta.Added
					m[k] = v
				}
				tot := map[string]store.Counts{"": x.total}
				plus(tot, "")
				x.total = tot[""]
				plus(x.coders, c.DecidedBy)
				at := c.DecidedAt.UTC()
				plus(x.weeks, time.Date(at.Year(), at.Month(), at.Day()-(int(at.Weekday())+6)%7, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
				if c.Origin == store.OriginEngine {
					plus(x.codes, c.Code)
					plus(x.chapters, fixtureChapters[c.Code])
				}
				if c.Status == store.CodeRejected && c.Origin == store.OriginEngine {
					if x.reasons[c.Code] == nil {
						x.reasons[c.Code] = map[string]int{}
					}
					x.reasons[c.Code][c.Reason]++
				}
			}
		}
	}
	return x
}

func countsOf(v countsView) store.Counts { return v.Counts }

func TestAuditSummary(t *testing.T) {
	e := newEnv(t, Config{})
	seedDecisions(t, e)
	north, south := expect(t, e, "north"), expect(t, e, "south")
	both := expect(t, e, "north", "south")
	if north.total.Accepted == 0 || north.total.Rejected == 0 || north.total.Replaced == 0 || north.total.Added == 0 {
		t.Fatalf("the seed lacks a kind of decision: %+v", north.total)
	}
	cases := []struct {
		name, who, query string
		status           int
		errCode          string
		want             *expected
		tenant           string
	}{
		{"auditor, own tenant", "north/auditor", "", 200, "", &north, "north"},
		{"auditor names own tenant", "north/auditor", "?tenant=north", 200, "", &north, "north"},
		{"admin, own tenant", "north/admin", "", 200, "", &north, "north"},
		{"admin, another tenant", "north/admin", "?tenant=south", 200, "", &south, "south"},
		{"admin, all tenants", "south/admin", "?tenant=*", 200, "", &both, "*"},
		{"period holding every decision", "north/auditor", "?from=2000-01-01&to=2100-01-01", 200, "", &north, "north"},
		{"period before every decision", "north/auditor", "?to=2000-01-01", 200, "", &expected{}, "north"},
		{"coder", "north/coder", "", 403, "forbidden", nil, ""},
		{"auditor, another tenant", "north/auditor", "?tenant=south", 403, "forbidden", nil, ""},
		{"auditor, all tenants", "south/auditor", "?tenant=*", 403, "forbidden", nil, ""},
		{"no token", "", "", 401, "unauthenticated", nil, ""},
		{"bad date", "north/auditor", "?from=last+week", 400, "invalid_date", nil, ""},
		{"bad format", "north/auditor", "?format=xlsx", 400, "invalid_format", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got summaryView
			var eb errBody
			out := any(&got)
			if tc.status != 200 {
				out = &eb
			}
			if code := e.do(tc.who, "GET", "/v1/audit/summary"+tc.query, nil, out); code != tc.status {
				t.Fatalf("status %d, want %d", code, tc.status)
			}
			if tc.status != 200 {
				if eb.Error.Code != tc.errCode {
					t.Fatalf("error %q, want %q", eb.Error.Code, tc.errCode)
				}
				return
			}
			w := tc.want
			if got.Tenant != tc.tenant || got.Total.Counts != w.total {
				t.Errorf("tenant %q total %+v, want %q %+v", got.Tenant, got.Total.Counts, tc.tenant, w.total)
			}
			if w.total.Decided > 0 && got.Total.AcceptanceRate != float64(w.total.Accepted)/float64(w.total.Decided) {
				t.Errorf("acceptance rate %v", got.Total.AcceptanceRate)
			}
			if w.total.Decided > 0 && got.Total.Agreement != float64(w.total.Accepted)/float64(w.total.Decided+w.total.Added) {
				t.Errorf("agreement %v", got.Total.Agreement)
			}
			check := func(what string, gotm, wantm map[string]store.Counts) {
				t.Helper()
				if len(wantm) == 0 && len(gotm) == 0 {
					return
				}
				if !reflect.DeepEqual(gotm, wantm) {
					t.Errorf("%s:\n got %+v\nwant %+v", what, gotm, wantm)
				}
			}
			m := map[string]store.Counts{}
			for _, c := range got.ByCode {
				if c.Chapter != fixtureChapters[c.Code] {
					t.Errorf("%s in chapter %q, want %q", c.Code, c.Chapter, fixtureChapters[c.Code])
				}
				m[c.Code] = countsOf(c.countsView)
			}
			check("by code", m, w.codes)
			m = map[string]store.Counts{}
			for _, c := range got.ByChapter {
				m[c.Chapter] = countsOf(c.countsView)
			}
			check("by chapter", m, w.chapters)
			m = map[string]store.Counts{}
			for _, c := range got.ByCoder {
				m[c.Coder] = countsOf(c.countsView)
			}
			check("by coder", m, w.coders)
			m = map[string]store.Counts{}
			for _, c := range got.ByWeek {
				m[c.Week] = countsOf(c.countsView)
			}
			check("by week", m, w.weeks)
			reasons := map[string]map[string]int{}
			for _, r := range got.MostRejected {
				reasons[r.Code] = map[string]int{}
				for _, rc := range r.Reasons {
					reasons[r.Code][rc.Reason] = rc.Count
				}
			}
			if (len(reasons) > 0 || len(w.reasons) > 0) && !reflect.DeepEqual(reasons, w.reasons) {
				t.Errorf("most rejected: got %v, want %v", reasons, w.reasons)
			}
		})
	}
}

func TestAuditSummaryCSV(t *testing.T) {
	e := newEnv(t, Config{})
	seedDecisions(t, e)
	north := expect(t, e, "north")
	req, _ := http.NewRequest("GET", e.url+"/v1/audit/summary?format=csv", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["north/auditor"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("status %d, content type %q, disposition %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
	}
	body, _ := io.ReadAll(resp.Body)
	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	header := []string{"section", "system", "key", "title", "decided", "accepted", "rejected", "replaced", "added",
		"acceptance_rate", "rejection_rate", "replacement_rate", "agreement", "reasons"}
	if !slices.Equal(records[0], header) {
		t.Fatalf("header %v", records[0])
	}
	counts := func(r []string) store.Counts {
		n := func(i int) int { v, _ := strconv.Atoi(r[i]); return v }
		return store.Counts{Decided: n(4), Accepted: n(5), Rejected: n(6), Replaced: n(7), Added: n(8)}
	}
	sections := map[string]map[string]store.Counts{}
	var mostRejected []string
	for _, r := range records[1:] {
		if len(r) != len(header) {
			t.Fatalf("row of %d fields: %v", len(r), r)
		}
		if sections[r[0]] == nil {
			sections[r[0]] = map[string]store.Counts{}
		}
		sections[r[0]][r[2]] = counts(r)
		if r[0] == "most_rejected" {
			mostRejected = append(mostRejected, r[2]+": "+r[13])
		}
		// Rates are the counts divided, to four places.
		c := counts(r)
		if c.Decided > 0 {
			if want := fmt.Sprintf("%.4f", float64(c.Accepted)/float64(c.Decided)); r[9] != want {
				t.Errorf("%v: acceptance rate %s, want %s", r, r[9], want)
			}
		}
	}
	cases := []struct {
		section string
		want    map[string]store.Counts
	}{
		{"total", map[string]store.Counts{"north": north.total}},
		{"code", north.codes},
		{"chapter", north.chapters},
		{"coder", north.coders},
		{"week", north.weeks},
	}
	for _, tc := range cases {
		if !reflect.DeepEqual(sections[tc.section], tc.want) {
			t.Errorf("section %s:\n got %+v\nwant %+v", tc.section, sections[tc.section], tc.want)
		}
	}
	// A reason that starts like a formula is kept from running in a
	// spreadsheet; the others are as typed.
	slices.Sort(mostRejected)
	want := []string{"E11: header, not reportable (2)", "I10: '=cmd|' /C calc'!A0 (1); not documented (1)"}
	if !slices.Equal(mostRejected, want) {
		t.Errorf("most rejected rows:\n got %q\nwant %q", mostRejected, want)
	}
}
