package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
)

// guideReasoner codes as phraseReasoner does and cites guidelines in
// every trail: steps quoting an installed edition, one quoting an edition
// the server lacks, and one applied from the built-in summary.
type guideReasoner struct {
	phraseReasoner
	steps []coding.Step
}

func (g *guideReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	res, err := g.phraseReasoner.Code(ctx, req)
	if err != nil {
		return nil, err
	}
	for i := range res.Codes {
		res.Codes[i].Trail = append(res.Codes[i].Trail, g.steps...)
	}
	return res, nil
}

// TestBrowserGuidelineSteps opens the guideline sections a code's trail
// cites in the review UI: each shows its number and year, and a click
// reads the section's text from the server; a section of an edition the
// server lacks falls back to the step's quote, and a rule applied from
// the built-in summary says so.
func TestBrowserGuidelineSteps(t *testing.T) {
	ctx := browser(t)
	doc := testGuidelines(t, "2025")
	steps := []coding.Step{
		{Kind: coding.StepGuideline, Detail: "raised pressure with kidney disease: combination code", Ref: "I.C.1.a.2", Year: "2025", Quote: "Assign a combination code …"},
		{Kind: coding.StepGuideline, Detail: "stage of the kidney disease", Ref: "I.C.1.a.2.(a)", Year: "2025", Quote: "Use an additional code …"},
		{Kind: coding.StepGuideline, Detail: "an older edition", Ref: "I.B.1", Year: "2019", Quote: "Do not report a sign …"},
		{Kind: coding.StepGuideline, Detail: "uncertain diagnosis: built-in summary of II.A (no guidelines installed)", Ref: "II.A"},
	}
	e := newEnv(t, Config{Reasoner: &guideReasoner{steps: steps}, Guidelines: []*guidelines.Document{doc}})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			shot(t, ctx, "guidelines-failure")
			t.Fatalf("%s: %v", what, err)
		}
	}
	// The coder codes the note; the auditor, who may not, reads it and
	// the guidelines it cites.
	e.submit("Assessment: hypertension.")
	run("sign in and open the document",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", e.tokens["north/auditor"], chromedp.ByID),
		chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#app", chromedp.ByID),
		chromedp.WaitVisible("#docs li button", chromedp.ByQuery),
		chromedp.Click("#docs li button", chromedp.ByQuery),
		chromedp.WaitVisible("#codes .guides button.gl-ref", chromedp.ByQuery))

	var labels []string
	var builtin string
	run("read the references",
		chromedp.Evaluate(`[...document.querySelector('#codes .guides').querySelectorAll('button.gl-ref')].map(b => b.textContent)`, &labels),
		chromedp.Text("#codes .guides span.gl-ref", &builtin, chromedp.ByQuery))
	if want := "I.C.1.a.2 (FY2025)|I.C.1.a.2.(a) (FY2025)|I.B.1 (FY2019)"; strings.Join(labels, "|") != want {
		t.Errorf("references %q, want %q", strings.Join(labels, "|"), want)
	}
	if builtin != "II.A (built-in summary)" {
		t.Errorf("built-in step shown as %q", builtin)
	}

	tests := []struct {
		ref, year string
		head      string
		body      string
	}{
		{"I.C.1.a.2", "2025", "Section I.C.1.a.2 Raised pressure with kidney disease · ICD-10-CM Official Guidelines FY2025", doc.Section("I.C.1.a.2").Text},
		{"I.C.1.a.2.(a)", "2025", "Section I.C.1.a.2.(a) Stage five · ICD-10-CM Official Guidelines FY2025", doc.Section("I.C.1.a.2.(a)").Text},
		{"I.B.1", "2019", "Section I.B.1 (FY2019): no ICD-10-CM guidelines of year \"2019\" are installed; installed: 2025", "Do not report a sign …"},
	}
	for _, tt := range tests {
		var head, body string
		btn := `#codes > li:first-child .guides button.gl-ref[data-ref="` + tt.ref + `"][data-year="` + tt.year + `"]`
		run("open "+tt.ref,
			chromedp.Click(btn, chromedp.ByQuery),
			chromedp.WaitVisible(`#codes > li:first-child .gl-text .gl-head`, chromedp.ByQuery),
			chromedp.Poll(`document.querySelector('#codes > li:first-child .gl-text .gl-head').textContent.includes(`+jsString(tt.ref+" ")+`)`, nil),
			chromedp.Text(`#codes > li:first-child .gl-text .gl-head`, &head, chromedp.ByQuery),
			chromedp.Text(`#codes > li:first-child .gl-text .gl-body`, &body, chromedp.ByQuery))
		if head != tt.head || body != tt.body {
			t.Errorf("%s: shows %q / %q, want %q / %q", tt.ref, head, body, tt.head, tt.body)
		}
		if tt.ref == "I.C.1.a.2" {
			shot(t, ctx, "guideline-section")
		}
	}
	var hidden bool
	run("close",
		chromedp.Click(`#codes > li:first-child .guides button.gl-ref[data-year="2019"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#codes > li:first-child .gl-text').hidden`, &hidden))
	if !hidden {
		t.Error("a second click leaves the section open")
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}
