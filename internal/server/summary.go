package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/store"
)

// allTenants is the tenant parameter with which an admin asks for the
// summary of every tenant.
const allTenants = "*"

// countsView is a group's counts with the rates computed from them, so
// that clients (the dashboard, a spreadsheet) need not divide.
type countsView struct {
	store.Counts
	AcceptanceRate  float64 `json:"acceptanceRate"`
	RejectionRate   float64 `json:"rejectionRate"`
	ReplacementRate float64 `json:"replacementRate"`
	Agreement       float64 `json:"agreement"`
}

func viewCounts(c store.Counts) countsView {
	return countsView{Counts: c, AcceptanceRate: c.AcceptanceRate(), RejectionRate: c.RejectionRate(),
		ReplacementRate: c.ReplacementRate(), Agreement: c.Agreement()}
}

type codeView struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Title   string `json:"title"`
	Chapter string `json:"chapter"`
	countsView
}

type chapterView struct {
	System string `json:"system"`
	// Chapter is the top of the code's hierarchy in the release served:
	// the chapter of ICD-10-CM and of a classification read as classes,
	// the section of ICD-10-PCS; "" when the release has none for it.
	Chapter string `json:"chapter"`
	Title   string `json:"title"`
	countsView
}

type coderView struct {
	Coder string `json:"coder"`
	countsView
}

type weekView struct {
	Week string `json:"week"`
	countsView
}

// summaryView is the body of GET /v1/audit/summary.
type summaryView struct {
	Tenant       string               `json:"tenant"`
	From         *time.Time           `json:"from,omitempty"`
	To           *time.Time           `json:"to,omitempty"`
	Total        countsView           `json:"total"`
	ByCode       []codeView           `json:"byCode"`
	ByChapter    []chapterView        `json:"byChapter"`
	ByCoder      []coderView          `json:"byCoder"`
	ByWeek       []weekView           `json:"byWeek"`
	MostRejected []store.RejectedCode `json:"mostRejected"`
}

func (s *Server) auditSummary(w http.ResponseWriter, r *http.Request) *apiError {
	tok := token(r)
	q := r.URL.Query()
	f := store.SummaryFilter{Tenant: tok.Tenant}
	switch v := q.Get("tenant"); {
	case v == "" || v == tok.Tenant:
	case tok.Role != store.Admin:
		// An auditor reads their own tenant only; saying so is no leak,
		// since no other tenant's figures are given.
		e := errorf(http.StatusForbidden, "forbidden", "the "+string(tok.Role)+" role may read its own tenant's summary only")
		e.Field = "tenant"
		return e
	case v == allTenants:
		f.Tenant, f.AllTenants = "", true
	default:
		f.Tenant = v
	}
	if e := dateRange(q, &f.From, &f.To); e != nil {
		return e
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return errorf(http.StatusBadRequest, "invalid_format", "format must be json or csv")
	}
	sum, err := s.cfg.Store.AuditSummary(r.Context(), f)
	if err != nil {
		return s.internal(r, "audit summary", err)
	}
	v := s.summaryView(r.Context(), sum)
	v.Tenant = f.Tenant
	if f.AllTenants {
		v.Tenant = allTenants
	}
	if !f.From.IsZero() {
		v.From = &f.From
	}
	if !f.To.IsZero() {
		v.To = &f.To
	}
	if format == "csv" {
		return writeSummaryCSV(w, v)
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// summaryView adds the chapters, from the releases served, and the rates.
func (s *Server) summaryView(ctx context.Context, sum *store.Summary) summaryView {
	v := summaryView{Total: viewCounts(sum.Total), ByCode: []codeView{}, ByChapter: []chapterView{}, ByCoder: []coderView{},
		ByWeek: []weekView{}, MostRejected: sum.MostRejected}
	type chapter struct{ code, title string }
	chapters := map[string]chapter{}
	for _, c := range sum.ByCode {
		code, title := s.chapterOf(ctx, c.System, c.Code)
		chapters[c.System+"\x00"+c.Code] = chapter{code, title}
		v.ByCode = append(v.ByCode, codeView{System: c.System, Code: c.Code, Title: c.Title, Chapter: code, countsView: viewCounts(c.Counts)})
	}
	groups := store.GroupCodes(sum.ByCode, func(c store.CodeCounts) (string, string) {
		ch := chapters[c.System+"\x00"+c.Code]
		return c.System + "\x00" + ch.code, ch.title
	})
	for _, g := range groups {
		sys, code, _ := strings.Cut(g.Key, "\x00")
		v.ByChapter = append(v.ByChapter, chapterView{System: sys, Chapter: code, Title: g.Title, countsView: viewCounts(g.Counts)})
	}
	for _, c := range sum.ByCoder {
		v.ByCoder = append(v.ByCoder, coderView{Coder: c.Coder, countsView: viewCounts(c.Counts)})
	}
	for _, wk := range sum.ByWeek {
		v.ByWeek = append(v.ByWeek, weekView{Week: wk.Week.Format(time.DateOnly), countsView: viewCounts(wk.Counts)})
	}
	if v.MostRejected == nil {
		v.MostRejected = []store.RejectedCode{}
	}
	return v
}

// chapterOf returns the top of a code's hierarchy in the release served
// of its classification: its chapter (its section in ICD-10-PCS). A code
// the release does not place, or a classification with no release, has
// none, and says why in the title.
func (s *Server) chapterOf(ctx context.Context, system, code string) (string, string) {
	sys, err := codesys.SystemName(system)
	if err != nil {
		return "", "unknown classification"
	}
	e, err := s.cfg.Codes.Lookup(ctx, sys, code)
	if err != nil {
		return "", "no release installed"
	}
	if len(e.Hierarchy) == 0 {
		return "", "not placed in " + sys.Title()
	}
	top := e.Hierarchy[0]
	return top.Code, top.Title
}

// csvHeader are the columns of the CSV export: one table whose section
// column says which part of the summary a row belongs to.
var csvHeader = []string{"section", "system", "key", "title", "decided", "accepted", "rejected", "replaced", "added",
	"acceptance_rate", "rejection_rate", "replacement_rate", "agreement", "reasons"}

func writeSummaryCSV(w http.ResponseWriter, v summaryView) *apiError {
	var rows [][]string
	row := func(section, system, key, title string, c countsView, reasons string) {
		rate := func(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }
		rows = append(rows, []string{section, system, key, title, strconv.Itoa(c.Decided), strconv.Itoa(c.Accepted),
			strconv.Itoa(c.Rejected), strconv.Itoa(c.Replaced), strconv.Itoa(c.Added),
			rate(c.AcceptanceRate), rate(c.RejectionRate), rate(c.ReplacementRate), rate(c.Agreement), reasons})
	}
	row("total", "", v.Tenant, "", v.Total, "")
	for _, c := range v.ByChapter {
		row("chapter", c.System, c.Chapter, c.Title, c.countsView, "")
	}
	for _, c := range v.ByCode {
		row("code", c.System, c.Code, c.Title, c.countsView, "")
	}
	for _, c := range v.ByCoder {
		row("coder", "", c.Coder, "", c.countsView, "")
	}
	for _, c := range v.ByWeek {
		row("week", "", c.Week, "", c.countsView, "")
	}
	for _, c := range v.MostRejected {
		reasons := make([]string, len(c.Reasons))
		for i, r := range c.Reasons {
			reasons[i] = fmt.Sprintf("%s (%d)", r.Reason, r.Count)
		}
		n := viewCounts(store.Counts{Decided: c.Decided, Rejected: c.Rejected})
		for _, cv := range v.ByCode {
			if cv.System == c.System && cv.Code == c.Code {
				n = cv.countsView
			}
		}
		row("most_rejected", c.System, c.Code, c.Title, n, strings.Join(reasons, "; "))
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-summary.csv"`)
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	for _, r := range rows {
		for i, f := range r {
			r[i] = defuse(f)
		}
		cw.Write(r)
	}
	cw.Flush()
	return nil
}

// defuse keeps a spreadsheet from reading a cell as a formula: reasons
// are free text typed by coders, and a cell starting with =, +, - or @ is
// run by common spreadsheets when the file is opened.
func defuse(f string) string {
	if f != "" && strings.ContainsRune("=+-@\t\r", rune(f[0])) {
		return "'" + f
	}
	return f
}
