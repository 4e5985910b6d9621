package server

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/browsertest"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

func browser(t *testing.T) context.Context { return browsertest.New(t) }

type markInfo struct {
	Codes string `json:"codes"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

const marksJS = `[...document.querySelectorAll('#note mark')].map(m => ({codes: m.dataset.codes, start: +m.dataset.start, end: +m.dataset.end, text: m.textContent}))`

// TestBrowserReview drives the review UI in headless Chromium: sign in,
// code a note, check each highlight covers exactly the evidence bytes,
// accept (by button and by keyboard), reject with a reason, add a missed
// code from a text selection and an index search, reload, and find the
// decisions kept and in the audit history.
func TestBrowserReview(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, Config{})
	note := testNote
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			shot(t, ctx, "failure")
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("sign in",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", e.tokens["north/coder"], chromedp.ByID),
		chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#app", chromedp.ByID))
	run("code a note",
		chromedp.SetValue("#new-text", note, chromedp.ByID),
		chromedp.Click("#code-btn", chromedp.ByID),
		chromedp.WaitVisible("#note mark", chromedp.ByQuery))

	docs, err := e.st.ListDocuments(context.Background(), "north", store.Filter{})
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents: %d %v", len(docs), err)
	}
	doc, _ := e.st.GetDocument(context.Background(), "north", docs[0].ID)
	idx := map[string]int{}
	for i, c := range doc.Codes {
		idx[c.Code] = i
	}

	// The rendered note is the note, and every highlight is exactly the
	// evidence bytes of its codes.
	var shown string
	var marks []markInfo
	run("read highlights", chromedp.Text("#note", &shown, chromedp.ByID), chromedp.Evaluate(marksJS, &marks))
	// Each highlight is visibly coloured, one colour per code (a content
	// security policy that blocked the styles would leave them blank).
	var bgs []string
	run("read colours", chromedp.Evaluate(`[...document.querySelectorAll('#note mark')].map(m => getComputedStyle(m).backgroundColor)`, &bgs))
	seen := map[string]bool{}
	for _, bg := range bgs {
		if bg == "rgba(0, 0, 0, 0)" || bg == "transparent" {
			t.Errorf("a highlight has no background colour")
		}
		seen[bg] = true
	}
	if len(seen) < 3 {
		t.Errorf("highlights of %d codes use %d colours", len(doc.Codes), len(seen))
	}
	if shown != note {
		t.Fatalf("rendered note differs:\n%q\n%q", shown, note)
	}
	for _, m := range marks {
		if note[m.Start:m.End] != m.Text {
			t.Errorf("mark %d-%d shows %q, note has %q", m.Start, m.End, m.Text, note[m.Start:m.End])
		}
	}
	covered := func(code string) [][2]int {
		var out [][2]int
		for _, m := range marks {
			if slices.Contains(strings.Fields(m.Codes), fmt.Sprint(idx[code])) {
				if n := len(out); n > 0 && out[n-1][1] == m.Start {
					out[n-1][1] = m.End
				} else {
					out = append(out, [2]int{m.Start, m.End})
				}
			}
		}
		return out
	}
	for code, quote := range map[string]string{"J18.9": "Pneumonia", "I10": "hypertension", "E11.9": "type 2 diabetes"} {
		i := strings.Index(note, quote)
		if got := covered(code); len(got) != 1 || got[0] != [2]int{i, i + len(quote)} {
			t.Errorf("%s highlighted at %v, want [%d %d] (%q)", code, got, i, i+len(quote), quote)
		}
	}
	// "diabetes" (E11) lies inside "type 2 diabetes" (E11.9): the overlap
	// is one mark carrying both codes.
	if got := covered("E11"); len(got) != 1 || note[got[0][0]:got[0][1]] != "diabetes" {
		t.Errorf("E11 highlighted at %v", got)
	}

	sel := func(code string) string { return "#code-" + doc.Codes[idx[code]].ID }
	var tip string
	var emph int
	run("hover and click",
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector('#note mark[data-codes="%d"]').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))`, idx["J18.9"]), nil),
		chromedp.Text("#tip", &tip, chromedp.ByID),
		chromedp.Click(sel("J18.9")+" .cd", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#note mark.emph').length`, &emph))
	if !strings.Contains(tip, "J18.9 Pneumonia, unspecified organism") || emph != 1 {
		t.Errorf("hover tip %q, emphasised marks %d", tip, emph)
	}

	run("accept by button",
		chromedp.Click(sel("I10")+" button.accept", chromedp.ByQuery),
		chromedp.WaitVisible(sel("I10")+" .badge.accepted", chromedp.ByQuery))
	run("reject with reason",
		chromedp.Click(sel("E11")+" button.reject", chromedp.ByQuery),
		chromedp.WaitVisible("#inline-reject", chromedp.ByID),
		chromedp.SendKeys("#inline-reject", "header code: E11.9 is coded", chromedp.ByID),
		chromedp.Click(sel("E11")+" form.inline button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible(sel("E11")+" .badge.rejected", chromedp.ByQuery))
	run("accept by keyboard",
		chromedp.Click(sel("E11.9")+" .cd", chromedp.ByQuery),
		chromedp.KeyEvent("a"),
		chromedp.WaitVisible(sel("E11.9")+" .badge.accepted", chromedp.ByQuery))

	// Add a missed code: select its evidence in the note, search the
	// index, choose its assertion, add the hit.
	run("add a missed code",
		selectInNote("Café au lait spots"),
		chromedp.Click("#add-btn", chromedp.ByID),
		chromedp.WaitVisible("#hits li button", chromedp.ByQuery),
		chromedp.SetValue("#add-assertion", "historical", chromedp.ByID),
		chromedp.Click("#hits li button", chromedp.ByQuery),
		chromedp.WaitVisible(`#codes li.accepted`, chromedp.ByQuery),
		chromedp.WaitNotVisible("#add-panel", chromedp.ByID))
	doc, _ = e.st.GetDocument(context.Background(), "north", doc.ID)
	added := doc.Codes[len(doc.Codes)-1]
	if i := strings.Index(note, "Café au lait spots"); added.Code != "L81.3" || added.Origin != store.OriginCoder ||
		added.Evidence[0].Start != i || added.Evidence[0].End != i+len("Café au lait spots") || added.Assertion != coding.Historical {
		t.Fatalf("added code: %+v", added)
	}

	// Reload: the decisions and the audit history come back from the
	// server.
	var statuses, actions, assertions []string
	run("reload",
		chromedp.Reload(),
		chromedp.WaitVisible("#note mark", chromedp.ByQuery),
		chromedp.WaitVisible("#audit-rows tr", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#codes > li')].map(li => li.querySelector('.cd').textContent + ':' + li.querySelector('.badge').textContent)`, &statuses),
		chromedp.Evaluate(`[...document.querySelectorAll('#audit-rows td.action')].map(td => td.textContent)`, &actions),
		chromedp.Evaluate(`[...document.querySelectorAll('#codes > li')].map(li => li.querySelector('.cd').textContent + ':' + (li.querySelector('.assert')?.textContent || ''))`, &assertions))
	// The test reasoner gives no assertion; the added code has its own.
	if want := []string{"J18.9:", "I10:", "E11.9:", "E11:", "L81.3:historical"}; !slices.Equal(assertions, want) {
		t.Errorf("assertions shown: %v, want %v", assertions, want)
	}
	want := []string{"J18.9:pending", "I10:accepted", "E11.9:accepted", "E11:rejected", "L81.3:accepted · coder"}
	// The codes come in the reasoner's order; L81.3 was added last.
	if !slices.Equal(statuses, want) {
		t.Errorf("after reload: %v, want %v", statuses, want)
	}
	if got := strings.Join(actions, " "); got != "document.create coding.run code.accept code.reject code.accept code.add" {
		t.Errorf("audit history after reload: %s", got)
	}
	// A code's reason shows when it is selected; the rejected code's
	// evidence keeps a muted highlight.
	var rejected string
	var muted []markInfo
	run("read reason",
		chromedp.Click(sel("E11")+" .title", chromedp.ByQuery),
		chromedp.Text(sel("E11")+" .reason", &rejected, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#note mark')].filter(m => getComputedStyle(m).borderBottomStyle === 'dashed').map(m => ({codes: m.dataset.codes, start: +m.dataset.start, end: +m.dataset.end, text: m.textContent}))`, &muted))
	if !strings.Contains(rejected, "header code: E11.9 is coded") {
		t.Errorf("rejection reason shown as %q", rejected)
	}
	// "diabetes" carries E11.9 (accepted) and E11 (rejected): coloured
	// as E11.9's. No other evidence of E11 is in the note, so no mark is
	// muted there; a note where only the rejected code quotes a span is
	// checked in TestBrowserLayout.
	for _, m := range muted {
		t.Errorf("mark %q (%s) muted, though an accepted code quotes it", m.Text, m.Codes)
	}
	shot(t, ctx, "review")
}

// TestBrowserLargeNote opens a 60 KB note with hundreds of highlights and
// reports how long rendering takes; the highlights must still be exact.
func TestBrowserLargeNote(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, Config{})
	var b strings.Builder
	for i := 0; b.Len() < 60<<10; i++ {
		fmt.Fprintf(&b, "Day %d: patient’s pneumonia improving; hypertension controlled, urinary tract infection treated. Café au lait spots unchanged.\n", i)
	}
	note := b.String()
	d := e.submit(note)
	spans := 0
	for _, c := range d.Codes {
		spans += len(c.Evidence)
	}
	var marks []markInfo
	var ms float64
	if err := chromedp.Run(ctx,
		chromedp.Navigate(e.url+"/#doc="+d.ID),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", e.tokens["north/coder"], chromedp.ByID),
		chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
		// Wait on the page's state, not a step's time: the note is drawn
		// once every highlight is in, however loaded the machine.
		chromedp.Poll(fmt.Sprintf(`document.querySelectorAll('#note mark').length === %d`, spans), nil,
			chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(100*time.Millisecond)),
		chromedp.Evaluate(`(() => { const t = performance.now(); for (let i = 0; i < 5; i++) renderNote(); return (performance.now() - t) / 5; })()`, &ms),
		chromedp.Evaluate(marksJS, &marks),
	); err != nil {
		shot(t, ctx, "large-note-failure")
		t.Fatal(err)
	}
	if len(marks) != spans {
		t.Fatalf("%d marks for %d evidence spans", len(marks), spans)
	}
	for _, m := range marks {
		if note[m.Start:m.End] != m.Text {
			t.Fatalf("mark %d-%d shows %q", m.Start, m.End, m.Text)
		}
	}
	t.Logf("%d-byte note, %d highlights: render %.1f ms", len(note), len(marks), ms)
	shot(t, ctx, "large-note")
}

func shot(t *testing.T, ctx context.Context, name string) {
	browsertest.Screenshot(t, ctx, "review-ui-"+name)
}

// TestBrowserOtherClassifications codes a note into classifications read
// as classes from the review UI: the form offers the installed ones, each
// code shows its classification, and a missed OPCS-4 code is found by
// searching that classification and added.
func TestBrowserOtherClassifications(t *testing.T) {
	ctx := browser(t)
	e, _ := classEnv(t, true)
	// Start the browser on ctx, so that a step's timeout ends the step,
	// not the browser.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			shot(t, ctx, "classes-failure")
			t.Fatalf("%s: %v", what, err)
		}
	}
	var offered, searchable []string
	run("sign in",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", e.tokens["north/coder"], chromedp.ByID),
		chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#app", chromedp.ByID),
		chromedp.WaitVisible("#new-systems option", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#new-systems option')].map(o => o.value)`, &offered),
		chromedp.Evaluate(`[...document.querySelectorAll('#search-system option')].map(o => o.value)`, &searchable))
	if want := []string{"icd10cm", "icd10uk", "opcs4", "local-dx"}; !slices.Equal(offered, want) || !slices.Equal(searchable, want) {
		t.Fatalf("classifications offered %v, searchable %v, want %v", offered, searchable, want)
	}
	var tags []string
	run("code into ICD-10 (UK) and OPCS-4",
		chromedp.SetValue("#new-text", "Assessment: pneumonia.\nProcedures: appendicectomy.", chromedp.ByID),
		chromedp.Evaluate(`for (const o of document.querySelectorAll('#new-systems option')) o.selected = o.value === 'icd10uk' || o.value === 'opcs4'`, nil),
		chromedp.Click("#code-btn", chromedp.ByID),
		chromedp.WaitVisible("#note mark", chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('#codes > li')].map(li => li.querySelector('.cd').textContent + ':' + li.querySelector('.sys').textContent)`, &tags))
	if !slices.Contains(tags, "J18.9:ICD-10 (UK)") || !slices.ContainsFunc(tags, func(s string) bool { return strings.HasSuffix(s, ":OPCS-4") }) {
		t.Fatalf("codes shown %v, want J18.9 of ICD-10 (UK) and an OPCS-4 code", tags)
	}
	run("add an OPCS-4 code found by search",
		selectInNote("Procedures"),
		chromedp.Click("#add-btn", chromedp.ByID))
	run("search",
		chromedp.SetValue("#search-system", "opcs4", chromedp.ByID),
		chromedp.SetValue("#search-q", "emergency excision of appendix", chromedp.ByID),
		chromedp.Click("#search-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible(`#hits li button`, chromedp.ByQuery))
	run("add",
		// The first hit is the category H01, which cannot be reported.
		chromedp.Evaluate(`[...document.querySelectorAll('#hits li button')].find(b => b.textContent === 'Add H01.1').click()`, nil),
		chromedp.WaitNotVisible("#add-panel", chromedp.ByID))
	docs, _ := e.st.ListDocuments(context.Background(), "north", store.Filter{})
	doc, _ := e.st.GetDocument(context.Background(), "north", docs[0].ID)
	added := doc.Codes[len(doc.Codes)-1]
	if added.System != "opcs4" || added.Kind != coding.Procedure || added.Code != "H01.1" {
		t.Fatalf("added code: %+v", added)
	}
	shot(t, ctx, "classes")
}

// selectInNote selects the first occurrence of phrase in the note's text,
// as a coder's mouse would, and tells the page the selection changed.
func selectInNote(phrase string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const phrase = %s;
		const note = document.getElementById('note');
		const walker = document.createTreeWalker(note, NodeFilter.SHOW_TEXT);
		for (let n; (n = walker.nextNode());) {
			const i = n.data.indexOf(phrase);
			if (i >= 0) {
				const r = document.createRange();
				r.setStart(n, i); r.setEnd(n, i + phrase.length);
				getSelection().removeAllRanges(); getSelection().addRange(r);
				note.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
				return true;
			}
		}
		return false;
	})()`, strconv.Quote(phrase)), nil)
}
