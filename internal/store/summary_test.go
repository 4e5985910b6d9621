package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/coding"
)

func TestSummarySQLite(t *testing.T)   { summaryContract(t, openSQLite(t)) }
func TestSummaryPostgres(t *testing.T) { summaryContract(t, openPostgres(t)) }

// decided is what the test itself records of a code it seeded: the
// expectations are counted from these, not read back through the code
// under test.
type decided struct {
	tenant, system, code, origin, status, by, reason string
	at                                               time.Time
}

var summaryPool = []struct{ code, title string }{
	{"J18.9", "Pneumonia, unspecified organism"},
	{"I10", "Essential (primary) hypertension"},
	{"E11.9", "Type 2 diabetes mellitus without complications"},
	{"N39.0", "Urinary tract infection, site not specified"},
	{"K21.9", "Gastro-esophageal reflux disease without esophagitis"},
}

// seedSummary stores documents of two tenants with engine codes that
// coders accept, reject, replace, decide twice, leave pending and add to,
// over five weeks, and returns what it did per code.
func seedSummary(t *testing.T, s *Store, tenants []string) map[string]*decided {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC) // a Monday
	clock := start
	s.now = func() time.Time { return clock }
	t.Cleanup(func() { s.now = time.Now })
	coders := []string{"alice", "bob", "carol"}
	reasons := []string{"not documented", "ruled out", "duplicate"}
	ledger := map[string]*decided{}
	for i := range 30 {
		tenant := tenants[i%len(tenants)]
		clock = start.Add(time.Duration(rng.IntN(5*7*24)) * time.Hour)
		var cs []coding.Code
		for _, j := range rng.Perm(len(summaryPool))[:2+rng.IntN(3)] {
			p := summaryPool[j]
			cs = append(cs, coding.Code{Code: p.code, System: "icd10cm", Kind: coding.Diagnosis, Title: p.title,
				Evidence: []coding.Evidence{span(note, "pneumonia")}, Confidence: 0.5})
		}
		d := &Document{Source: "text", Text: note}
		if err := s.CreateDocument(ctx, Actor{Tenant: tenant, Name: "submitter"}, d, &Run{Reasoner: "test"}, FromResult(cs, nil)); err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Codes {
			ledger[c.ID] = &decided{tenant: tenant, system: string(c.System), code: c.Code, origin: OriginEngine, status: CodePending}
		}
		for _, c := range d.Codes {
			actor := Actor{Tenant: tenant, Name: coders[rng.IntN(len(coders))]}
			clock = clock.Add(time.Duration(1+rng.IntN(40)) * time.Hour)
			decide := func(dec Decision) {
				t.Helper()
				got, _, err := s.Decide(ctx, actor, d.ID, c.ID, dec)
				if err != nil {
					t.Fatal(err)
				}
				e := ledger[c.ID]
				e.status, e.by, e.at, e.reason = got.Status, actor.Name, clock, ""
				if got.Status == CodeRejected {
					e.reason = dec.Reason
				}
			}
			switch rng.IntN(6) {
			case 0: // left pending
			case 1, 2:
				decide(Decision{Action: "accept"})
			case 3:
				decide(Decision{Action: "reject", Reason: reasons[rng.IntN(len(reasons))]})
			case 4:
				decide(Decision{Action: "replace", Reason: "more specific",
					Replacement: &Code{Code: "J15.9", System: "icd10cm", Kind: coding.Diagnosis, Title: "Unspecified bacterial pneumonia"}})
			case 5: // rejected, then accepted by another coder a week later
				decide(Decision{Action: "reject", Reason: "ruled out"})
				actor.Name = coders[(slices.Index(coders, actor.Name)+1)%len(coders)]
				clock = clock.Add(7 * 24 * time.Hour)
				decide(Decision{Action: "accept"})
			}
		}
		if rng.IntN(3) == 0 {
			actor := Actor{Tenant: tenant, Name: coders[rng.IntN(len(coders))]}
			clock = clock.Add(time.Hour)
			c := &Code{Code: "L81.3", System: "icd10cm", Kind: coding.Diagnosis, Title: "Cafe au lait spots",
				Evidence: []coding.Evidence{span(note, "Café au lait spots")}}
			if err := s.AddCode(ctx, actor, d.ID, c); err != nil {
				t.Fatal(err)
			}
			ledger[c.ID] = &decided{tenant: tenant, system: "icd10cm", code: "L81.3", origin: OriginCoder, status: CodeAccepted, by: actor.Name, at: clock}
		}
	}
	return ledger
}

// mondayOf returns the Monday 00:00 UTC that starts t's week, by the
// calendar rather than by the store's integer arithmetic.
func mondayOf(t time.Time) time.Time {
	t = t.UTC()
	back := (int(t.Weekday()) + 6) % 7
	return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, time.UTC)
}

// want counts the ledger's decisions that f selects.
func want(ledger map[string]*decided, f SummaryFilter) *Summary {
	sum := &Summary{ByCode: []CodeCounts{}, ByCoder: []CoderCounts{}, ByWeek: []WeekCounts{}}
	codeIdx, coderIdx, weekIdx := map[string]int{}, map[string]int{}, map[time.Time]int{}
	rejected := map[string]map[string]int{}
	for _, e := range ledger {
		if e.status == CodePending || (!f.AllTenants && e.tenant != f.Tenant) ||
			(!f.From.IsZero() && e.at.Before(f.From)) || (!f.To.IsZero() && !e.at.Before(f.To)) {
			continue
		}
		inc := func(c *Counts) {
			if e.origin == OriginCoder {
				c.Added++
				return
			}
			c.Decided++
			switch e.status {
			case CodeAccepted:
				c.Accepted++
			case CodeRejected:
				c.Rejected++
			case CodeReplaced:
				c.Replaced++
			}
		}
		inc(&sum.Total)
		if _, ok := coderIdx[e.by]; !ok {
			coderIdx[e.by] = len(sum.ByCoder)
			sum.ByCoder = append(sum.ByCoder, CoderCounts{Coder: e.by})
		}
		inc(&sum.ByCoder[coderIdx[e.by]].Counts)
		w := mondayOf(e.at)
		if _, ok := weekIdx[w]; !ok {
			weekIdx[w] = len(sum.ByWeek)
			sum.ByWeek = append(sum.ByWeek, WeekCounts{Week: w})
		}
		inc(&sum.ByWeek[weekIdx[w]].Counts)
		if e.origin != OriginEngine {
			continue
		}
		if _, ok := codeIdx[e.code]; !ok {
			codeIdx[e.code] = len(sum.ByCode)
			sum.ByCode = append(sum.ByCode, CodeCounts{System: e.system, Code: e.code})
		}
		inc(&sum.ByCode[codeIdx[e.code]].Counts)
		if e.status == CodeRejected {
			if rejected[e.code] == nil {
				rejected[e.code] = map[string]int{}
			}
			rejected[e.code][e.reason]++
		}
	}
	for code, reasons := range rejected {
		rc := RejectedCode{System: "icd10cm", Code: code, Decided: sum.ByCode[codeIdx[code]].Decided}
		for r, n := range reasons {
			rc.Rejected += n
			rc.Reasons = append(rc.Reasons, ReasonCount{Reason: r, Count: n})
		}
		sum.MostRejected = append(sum.MostRejected, rc)
	}
	return sum
}

func summaryContract(t *testing.T, s *Store) {
	ctx := context.Background()
	prefix := strings.ReplaceAll(t.Name(), "/", "-")
	tenants := []string{prefix + "-north", prefix + "-south"}
	ledger := seedSummary(t, s, tenants)
	var foreign int
	if err := s.db.QueryRow(s.q(`SELECT COUNT(*) FROM documents WHERE tenant NOT IN (?, ?)`), tenants[0], tenants[1]).Scan(&foreign); err != nil {
		t.Fatal(err)
	}
	week3 := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		f    SummaryFilter
	}{
		{"one tenant", SummaryFilter{Tenant: tenants[0]}},
		{"the other tenant", SummaryFilter{Tenant: tenants[1]}},
		{"all tenants", SummaryFilter{AllTenants: true}},
		{"from week 3", SummaryFilter{Tenant: tenants[0], From: week3}},
		{"before week 3", SummaryFilter{Tenant: tenants[1], To: week3}},
		{"mid-week to mid-week", SummaryFilter{Tenant: tenants[0], From: week3.Add(-50 * time.Hour), To: week3.Add(60 * time.Hour)}},
		{"empty period", SummaryFilter{Tenant: tenants[0], From: week3, To: week3}},
		{"unknown tenant", SummaryFilter{Tenant: prefix + "-nobody"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.AllTenants && foreign > 0 {
				t.Skipf("the database holds %d documents of other tests' tenants", foreign)
			}
			tc.f.TopRejected = 100
			got, err := s.AuditSummary(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			exp := want(ledger, tc.f)
			if got.Total != exp.Total {
				t.Errorf("total = %+v, want %+v", got.Total, exp.Total)
			}
			if tc.name == "one tenant" && (exp.Total.Accepted == 0 || exp.Total.Rejected == 0 || exp.Total.Replaced == 0 || exp.Total.Added == 0) {
				t.Fatalf("the seed lacks a kind of decision: %+v", exp.Total)
			}
			// Titles come from the store; the expectations compare counts.
			for i := range got.ByCode {
				got.ByCode[i].Title = ""
			}
			for i := range got.MostRejected {
				got.MostRejected[i].Title = ""
			}
			slices.SortFunc(exp.ByCode, func(a, b CodeCounts) int { return strings.Compare(a.Code, b.Code) })
			slices.SortFunc(got.ByCode, func(a, b CodeCounts) int { return strings.Compare(a.Code, b.Code) })
			slices.SortFunc(exp.ByCoder, func(a, b CoderCounts) int { return strings.Compare(a.Coder, b.Coder) })
			slices.SortFunc(exp.ByWeek, func(a, b WeekCounts) int { return a.Week.Compare(b.Week) })
			if !reflect.DeepEqual(got.ByCode, exp.ByCode) {
				t.Errorf("by code:\n got %+v\nwant %+v", got.ByCode, exp.ByCode)
			}
			if !reflect.DeepEqual(got.ByCoder, exp.ByCoder) {
				t.Errorf("by coder:\n got %+v\nwant %+v", got.ByCoder, exp.ByCoder)
			}
			if !reflect.DeepEqual(got.ByWeek, exp.ByWeek) {
				t.Errorf("by week:\n got %+v\nwant %+v", got.ByWeek, exp.ByWeek)
			}
			for _, w := range got.ByWeek {
				if w.Week.Weekday() != time.Monday || w.Week.Hour() != 0 {
					t.Errorf("week %v does not start on a Monday at midnight", w.Week)
				}
			}
			// The most-rejected list is in descending order of rejections,
			// each with its reasons most frequent first.
			for i := 1; i < len(got.MostRejected); i++ {
				if got.MostRejected[i].Rejected > got.MostRejected[i-1].Rejected {
					t.Errorf("most rejected out of order: %+v", got.MostRejected)
				}
			}
			norm := func(rs []RejectedCode) map[string]string {
				m := map[string]string{}
				for _, r := range rs {
					reasons := slices.Clone(r.Reasons)
					slices.SortFunc(reasons, func(a, b ReasonCount) int { return strings.Compare(a.Reason, b.Reason) })
					m[r.Code] = fmt.Sprintf("%d/%d %v", r.Rejected, r.Decided, reasons)
				}
				return m
			}
			if g, w := norm(got.MostRejected), norm(exp.MostRejected); !reflect.DeepEqual(g, w) {
				t.Errorf("most rejected:\n got %v\nwant %v", g, w)
			}
			for _, r := range got.MostRejected {
				for i := 1; i < len(r.Reasons); i++ {
					if r.Reasons[i].Count > r.Reasons[i-1].Count {
						t.Errorf("reasons of %s out of order: %+v", r.Code, r.Reasons)
					}
				}
			}
		})
	}

	t.Run("top rejected is capped", func(t *testing.T) {
		got, err := s.AuditSummary(ctx, SummaryFilter{Tenant: tenants[0], TopRejected: 1})
		if err != nil {
			t.Fatal(err)
		}
		most := 0
		for _, r := range want(ledger, SummaryFilter{Tenant: tenants[0]}).MostRejected {
			most = max(most, r.Rejected)
		}
		if len(got.MostRejected) != 1 || got.MostRejected[0].Rejected != most {
			t.Fatalf("top 1 = %+v, want one code rejected %d times", got.MostRejected, most)
		}
	})

	t.Run("a tenant is required", func(t *testing.T) {
		if _, err := s.AuditSummary(ctx, SummaryFilter{}); err == nil {
			t.Fatal("a summary without a tenant was allowed")
		}
	})
}

func TestCountsRates(t *testing.T) {
	cases := []struct {
		c                                  Counts
		accept, reject, replace, agreement float64
	}{
		{Counts{}, 0, 0, 0, 0},
		{Counts{Decided: 4, Accepted: 2, Rejected: 1, Replaced: 1}, 0.5, 0.25, 0.25, 0.5},
		{Counts{Decided: 4, Accepted: 3, Rejected: 1, Added: 2}, 0.75, 0.25, 0, 0.5},
		{Counts{Added: 3}, 0, 0, 0, 0},
	}
	for _, tc := range cases {
		if got := [4]float64{tc.c.AcceptanceRate(), tc.c.RejectionRate(), tc.c.ReplacementRate(), tc.c.Agreement()}; got != [4]float64{tc.accept, tc.reject, tc.replace, tc.agreement} {
			t.Errorf("%+v: rates %v, want %v", tc.c, got, [4]float64{tc.accept, tc.reject, tc.replace, tc.agreement})
		}
	}
}
