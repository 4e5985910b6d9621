package server

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/browsertest"
)

// TestBrowserAuditDashboard opens the audit dashboard as an auditor over a
// seeded store: the totals, the per-code, per-chapter and per-coder rows,
// the weekly chart and the most-rejected codes with their reasons are
// those counted from the documents. A coder is not offered it.
func TestBrowserAuditDashboard(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, Config{})
	seedDecisions(t, e)
	north := expect(t, e, "north")
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			shot(t, ctx, "dashboard-failure")
			t.Fatalf("%s: %v", what, err)
		}
	}
	signIn := func(who string) {
		t.Helper()
		run("sign in as "+who,
			chromedp.WaitVisible("#token", chromedp.ByID),
			chromedp.SendKeys("#token", e.tokens[who], chromedp.ByID),
			chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
			chromedp.WaitVisible("#app", chromedp.ByID))
	}

	run("open the UI", chromedp.Navigate(e.url+"/"))
	signIn("north/coder")
	var hidden bool
	run("coder's header", chromedp.Evaluate(`document.getElementById("dash-btn").hidden`, &hidden))
	if !hidden {
		t.Error("a coder is offered the audit dashboard")
	}

	run("sign out", chromedp.Click("#signout", chromedp.ByID))
	signIn("north/auditor")
	run("open the dashboard",
		chromedp.Click("#dash-btn", chromedp.ByID),
		chromedp.WaitVisible("#dash", chromedp.ByID),
		chromedp.WaitVisible("#dash-code tbody tr td.num", chromedp.ByQuery),
		chromedp.WaitVisible("#dash-chart svg", chromedp.ByQuery))
	var totals map[string]string
	var codes, chapters, coders []string
	var rejected []string
	var bars int
	run("read the dashboard",
		chromedp.Evaluate(`Object.fromEntries([...document.querySelectorAll('#dash-total div')].map(d => [d.querySelector('dt').textContent, d.querySelector('dd').textContent]))`, &totals),
		chromedp.Evaluate(`[...document.querySelectorAll('#dash-code tbody tr')].map(r => [...r.cells].slice(0, 8).map(c => c.textContent).join('|'))`, &codes),
		chromedp.Evaluate(`[...document.querySelectorAll('#dash-chapter tbody tr')].map(r => r.cells[1].textContent + '|' + r.cells[3].textContent)`, &chapters),
		chromedp.Evaluate(`[...document.querySelectorAll('#dash-coder tbody tr')].map(r => r.cells[0].textContent + '|' + r.cells[1].textContent + '|' + r.cells[5].textContent)`, &coders),
		chromedp.Evaluate(`[...document.querySelectorAll('#dash-rejected tbody tr')].map(r => r.cells[0].textContent + ': ' + [...r.querySelectorAll('li')].map(l => l.textContent).join('; '))`, &rejected),
		chromedp.Evaluate(`document.querySelectorAll('#dash-chart rect').length`, &bars))
	pct := func(n, d int) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(d)) }
	if totals["Engine codes decided"] != fmt.Sprint(north.total.Decided) || totals["Accepted"] != pct(north.total.Accepted, north.total.Decided) ||
		totals["Agreement"] != pct(north.total.Accepted, north.total.Decided+north.total.Added) || totals["Tenant"] != "north" {
		t.Errorf("totals %v, want %+v", totals, north.total)
	}
	var wantCodes []string
	for code, c := range north.codes {
		wantCodes = append(wantCodes, fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%d", code, titleOf(code), fixtureChapters[code], c.Decided, c.Accepted, c.Rejected, c.Replaced, c.Added))
	}
	slices.Sort(codes)
	slices.Sort(wantCodes)
	if !slices.Equal(codes, wantCodes) {
		t.Errorf("code rows:\n got %q\nwant %q", codes, wantCodes)
	}
	var wantChapters []string
	for ch, c := range north.chapters {
		wantChapters = append(wantChapters, fmt.Sprintf("%s|%d", ch, c.Decided))
	}
	slices.Sort(chapters)
	slices.Sort(wantChapters)
	if !slices.Equal(chapters, wantChapters) {
		t.Errorf("chapter rows: got %q, want %q", chapters, wantChapters)
	}
	var wantCoders []string
	for name, c := range north.coders {
		wantCoders = append(wantCoders, fmt.Sprintf("%s|%d|%d", name, c.Decided, c.Added))
	}
	slices.Sort(coders)
	slices.Sort(wantCoders)
	if !slices.Equal(coders, wantCoders) {
		t.Errorf("coder rows: got %q, want %q", coders, wantCoders)
	}
	slices.Sort(rejected)
	if want := []string{"E11: header, not reportable (2)", "I10: =cmd|' /C calc'!A0 (1); not documented (1)"}; !slices.Equal(rejected, want) {
		t.Errorf("most rejected: got %q, want %q", rejected, want)
	}
	if bars != len(north.weeks) {
		t.Errorf("%d bars in the weekly chart, want %d", bars, len(north.weeks))
	}
	browsertest.Screenshot(t, ctx, "review-ui-audit-dashboard")

	// A period with no decisions empties the tables.
	run("filter to an empty period",
		chromedp.SetValue("#dash-from", "2001-01-01", chromedp.ByID),
		chromedp.SetValue("#dash-to", "2001-01-31", chromedp.ByID),
		chromedp.Click("#dash-apply", chromedp.ByID),
		chromedp.WaitVisible("#dash-code td.dash-empty", chromedp.ByQuery))
}

// titleOf is the title the phrase reasoner gives a code.
func titleOf(code string) string {
	for _, p := range phrases {
		if p.code == code {
			return p.title
		}
	}
	return ""
}
