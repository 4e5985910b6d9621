package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SummaryFilter selects the decisions an audit summary counts.
type SummaryFilter struct {
	// Tenant restricts the summary to one tenant's documents. It is
	// required unless AllTenants is set, so that a caller that forgets it
	// never reads every tenant by accident.
	Tenant     string
	AllTenants bool
	// From and To bound the time of the decision: From <= decided < To.
	// Zero means unbounded.
	From, To time.Time
	// TopRejected caps the list of most-rejected codes (default 10).
	TopRejected int
}

// Counts are the decisions on engine codes in one group, and the codes
// coders added to the engine's.
type Counts struct {
	// Decided is Accepted + Rejected + Replaced: the engine codes a coder
	// decided on. Pending and superseded codes are not counted.
	Decided  int `json:"decided"`
	Accepted int `json:"accepted"`
	Rejected int `json:"rejected"`
	Replaced int `json:"replaced"`
	// Added are the codes coders added that the engine missed.
	Added int `json:"added"`
}

// AcceptanceRate is the share of decided engine codes accepted as
// proposed.
func (c Counts) AcceptanceRate() float64 { return ratio(c.Accepted, c.Decided) }

// RejectionRate is the share of decided engine codes rejected.
func (c Counts) RejectionRate() float64 { return ratio(c.Rejected, c.Decided) }

// ReplacementRate is the share of decided engine codes replaced.
func (c Counts) ReplacementRate() float64 { return ratio(c.Replaced, c.Decided) }

// Agreement is the share of the codes a coder finally stands behind that
// the engine proposed unchanged: accepted engine codes over decided
// engine codes plus the codes coders added. It is lower than the
// acceptance rate when the engine misses codes, which acceptance alone
// cannot show.
func (c Counts) Agreement() float64 { return ratio(c.Accepted, c.Decided+c.Added) }

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

func (c *Counts) add(o Counts) {
	c.Decided += o.Decided
	c.Accepted += o.Accepted
	c.Rejected += o.Rejected
	c.Replaced += o.Replaced
	c.Added += o.Added
}

// CodeCounts are the counts of one code of one classification.
type CodeCounts struct {
	System string `json:"system"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Counts
}

// CoderCounts are the counts of the decisions of one coder (the token
// name that decided).
type CoderCounts struct {
	Coder string `json:"coder"`
	Counts
}

// WeekCounts are the counts of the decisions made in one week, which
// starts on Monday 00:00 UTC.
type WeekCounts struct {
	Week time.Time `json:"week"`
	Counts
}

// ReasonCount is a rejection reason and how often it was given.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// RejectedCode is an engine code with its rejections and their reasons,
// most frequent first.
type RejectedCode struct {
	System   string        `json:"system"`
	Code     string        `json:"code"`
	Title    string        `json:"title"`
	Rejected int           `json:"rejected"`
	Decided  int           `json:"decided"`
	Reasons  []ReasonCount `json:"reasons"`
}

// Summary is what coders decided on the engine's codes over a period.
type Summary struct {
	Total   Counts        `json:"total"`
	ByCode  []CodeCounts  `json:"byCode"`
	ByCoder []CoderCounts `json:"byCoder"`
	ByWeek  []WeekCounts  `json:"byWeek"`
	// MostRejected are the engine codes rejected most often.
	MostRejected []RejectedCode `json:"mostRejected"`
}

// The week buckets are computed in SQL on the microsecond timestamps, the
// same integer arithmetic in both backends: the Unix epoch fell on a
// Thursday, so weeks are counted from Monday 1970-01-05.
const (
	weekMicros       = int64(7 * 24 * time.Hour / time.Microsecond)
	firstMondayMicro = int64(4 * 24 * time.Hour / time.Microsecond)
)

// AuditSummary counts the coders' decisions on engine codes, and the codes
// they added, decided within the filter's period: per code, per coder
// (who decided), per week, and the most-rejected codes with their
// reasons. A code counts in its final state: a code rejected and later
// accepted counts as accepted, at the time of the later decision.
func (s *Store) AuditSummary(ctx context.Context, f SummaryFilter) (*Summary, error) {
	if f.Tenant == "" && !f.AllTenants {
		return nil, errors.New("audit summary: no tenant given")
	}
	if f.TopRejected <= 0 {
		f.TopRejected = 10
	}
	where := []string{"c.decided_at > 0",
		"((c.origin = ? AND c.status IN (?, ?, ?)) OR c.origin = ?)"}
	args := []any{OriginEngine, CodeAccepted, CodeRejected, CodeReplaced, OriginCoder}
	if !f.AllTenants {
		where, args = append(where, "d.tenant = ?"), append(args, f.Tenant)
	}
	if !f.From.IsZero() {
		where, args = append(where, "c.decided_at >= ?"), append(args, micros(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "c.decided_at < ?"), append(args, micros(f.To))
	}
	cond := strings.Join(where, " AND ")
	week := fmt.Sprintf("((c.decided_at - %d) / %d)", firstMondayMicro, weekMicros)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.system, c.code, MAX(c.title), c.decided_by, `+week+` AS wk, c.origin, c.status, COUNT(*)
		FROM codes c JOIN documents d ON d.id = c.document_id
		WHERE `+cond+`
		GROUP BY c.system, c.code, c.decided_by, wk, c.origin, c.status`), args...)
	if err != nil {
		return nil, fmt.Errorf("audit summary: %w", err)
	}
	defer rows.Close()
	codes := map[codeKey]*CodeCounts{}
	coders := map[string]*CoderCounts{}
	weeks := map[int64]*WeekCounts{}
	sum := &Summary{}
	for rows.Next() {
		var system, code, title, coder, origin, status string
		var wk int64
		var n int
		if err := rows.Scan(&system, &code, &title, &coder, &wk, &origin, &status, &n); err != nil {
			return nil, fmt.Errorf("audit summary: %w", err)
		}
		var c Counts
		switch {
		case origin == OriginCoder:
			c.Added = n
		case status == CodeAccepted:
			c.Decided, c.Accepted = n, n
		case status == CodeRejected:
			c.Decided, c.Rejected = n, n
		case status == CodeReplaced:
			c.Decided, c.Replaced = n, n
		}
		sum.Total.add(c)
		// An added code is no decision on an engine code: it counts for
		// its coder and week, not as a code the engine proposed.
		if origin == OriginEngine {
			k := codeKey{system, code}
			cc := codes[k]
			if cc == nil {
				cc = &CodeCounts{System: system, Code: code, Title: title}
				codes[k] = cc
			}
			cc.add(c)
		}
		cd := coders[coder]
		if cd == nil {
			cd = &CoderCounts{Coder: coder}
			coders[coder] = cd
		}
		cd.add(c)
		w := weeks[wk]
		if w == nil {
			w = &WeekCounts{Week: fromMicros(wk*weekMicros + firstMondayMicro)}
			weeks[wk] = w
		}
		w.add(c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit summary: %w", err)
	}
	sum.ByCode = make([]CodeCounts, 0, len(codes))
	for _, c := range codes {
		sum.ByCode = append(sum.ByCode, *c)
	}
	slices.SortFunc(sum.ByCode, func(a, b CodeCounts) int {
		return cmp.Or(cmp.Compare(b.Decided, a.Decided), cmp.Compare(a.System, b.System), cmp.Compare(a.Code, b.Code))
	})
	sum.ByCoder = make([]CoderCounts, 0, len(coders))
	for _, c := range coders {
		sum.ByCoder = append(sum.ByCoder, *c)
	}
	slices.SortFunc(sum.ByCoder, func(a, b CoderCounts) int { return cmp.Compare(a.Coder, b.Coder) })
	sum.ByWeek = make([]WeekCounts, 0, len(weeks))
	for _, w := range weeks {
		sum.ByWeek = append(sum.ByWeek, *w)
	}
	slices.SortFunc(sum.ByWeek, func(a, b WeekCounts) int { return a.Week.Compare(b.Week) })

	if sum.MostRejected, err = s.mostRejected(ctx, cond, args, codes, f.TopRejected); err != nil {
		return nil, err
	}
	return sum, nil
}

// mostRejected returns the top engine codes by rejections, with their
// reasons, under the summary's conditions.
func (s *Store) mostRejected(ctx context.Context, cond string, args []any, codes map[codeKey]*CodeCounts, top int) ([]RejectedCode, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT c.system, c.code, c.reason, COUNT(*)
		FROM codes c JOIN documents d ON d.id = c.document_id
		WHERE `+cond+` AND c.origin = ? AND c.status = ?
		GROUP BY c.system, c.code, c.reason`), append(slices.Clone(args), OriginEngine, CodeRejected)...)
	if err != nil {
		return nil, fmt.Errorf("audit summary: rejections: %w", err)
	}
	defer rows.Close()
	byCode := map[codeKey]*RejectedCode{}
	for rows.Next() {
		var system, code, reason string
		var n int
		if err := rows.Scan(&system, &code, &reason, &n); err != nil {
			return nil, fmt.Errorf("audit summary: rejections: %w", err)
		}
		k := codeKey{system, code}
		rc := byCode[k]
		if rc == nil {
			rc = &RejectedCode{System: system, Code: code}
			if cc := codes[k]; cc != nil {
				rc.Title, rc.Decided = cc.Title, cc.Decided
			}
			byCode[k] = rc
		}
		rc.Rejected += n
		rc.Reasons = append(rc.Reasons, ReasonCount{Reason: reason, Count: n})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit summary: rejections: %w", err)
	}
	out := make([]RejectedCode, 0, len(byCode))
	for _, rc := range byCode {
		slices.SortFunc(rc.Reasons, func(a, b ReasonCount) int {
			return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Reason, b.Reason))
		})
		out = append(out, *rc)
	}
	slices.SortFunc(out, func(a, b RejectedCode) int {
		return cmp.Or(cmp.Compare(b.Rejected, a.Rejected), cmp.Compare(a.System, b.System), cmp.Compare(a.Code, b.Code))
	})
	if len(out) > top {
		out = out[:top]
	}
	return out, nil
}

// codeKey names a code of a classification.
type codeKey struct{ system, code string }

// GroupCounts are the counts of a group of codes, such as a chapter.
type GroupCounts struct {
	// Key identifies the group ("10", "J00-J99"); Title names it.
	Key   string `json:"key"`
	Title string `json:"title"`
	Counts
}

// GroupCodes adds up the per-code counts by the group group gives each
// code, such as its chapter in the release it was coded against, in
// descending order of decisions.
func GroupCodes(codes []CodeCounts, group func(CodeCounts) (key, title string)) []GroupCounts {
	byKey := map[string]*GroupCounts{}
	for _, c := range codes {
		k, t := group(c)
		g := byKey[k]
		if g == nil {
			g = &GroupCounts{Key: k, Title: t}
			byKey[k] = g
		}
		g.add(c.Counts)
	}
	out := make([]GroupCounts, 0, len(byKey))
	for _, g := range byKey {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b GroupCounts) int {
		return cmp.Or(cmp.Compare(b.Decided, a.Decided), cmp.Compare(a.Key, b.Key))
	})
	return out
}
