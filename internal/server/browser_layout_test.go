package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// manyReasoner codes what phraseReasoner codes, and n more made-up codes,
// one for each word "findingNN" of the note, with long titles.
type manyReasoner struct {
	phraseReasoner
	n int
}

func (m *manyReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	res, err := m.phraseReasoner.Code(ctx, req)
	if err != nil {
		return nil, err
	}
	for i := range m.n {
		w := fmt.Sprintf("finding%02d", i)
		at := strings.Index(req.Text, w)
		if at < 0 {
			continue
		}
		res.Codes = append(res.Codes, coding.Code{Code: fmt.Sprintf("R%02d.%d", 50+i/10, i%10), System: codesys.ICD10CM, Kind: coding.Diagnosis,
			Title:    fmt.Sprintf("Made-up finding number %d, with a title long enough that the list must cut it short", i),
			Evidence: []coding.Evidence{{Start: at, End: at + len(w), Text: w}}, Confidence: 0.8})
	}
	return res, nil
}

// TestBrowserLayout checks the review UI's layout on a 1080p screen: the
// code list fills its column (17 or more codes visible at once), the
// documents are listed by their first line and externalId, the new-note
// form is folded away once there are documents, a rejected code's
// evidence keeps a muted highlight, the index search offers only codes
// that can be reported, and adding a code the document has warns.
func TestBrowserLayout(t *testing.T) {
	ctx := browser(t)
	const n = 24
	e := newEnv(t, Config{Reasoner: &manyReasoner{n: n}})
	var words []string
	for i := range n {
		words = append(words, fmt.Sprintf("finding%02d", i))
	}
	text := "Discharge summary for the layout check\n\nAssessment: pneumonia. " + strings.Join(words, ", ") + ".\n"
	var d store.Document
	if code := e.do("north/coder", "POST", "/v1/documents", map[string]string{"text": text, "externalId": "enc-1001"}, &d); code != 201 {
		t.Fatalf("submit: %d", code)
	}
	if len(d.Codes) != n+1 {
		t.Fatalf("%d codes, want %d", len(d.Codes), n+1)
	}
	rejected := slices.IndexFunc(d.Codes, func(c *store.Code) bool { return c.Code == "R50.0" })
	if code := e.do("north/coder", "POST", "/v1/documents/"+d.ID+"/codes/"+d.Codes[rejected].ID+"/decision",
		map[string]string{"action": "reject", "reason": "not a diagnosis"}, nil); code != 200 {
		t.Fatalf("reject: %d", code)
	}
	if err := chromedp.Run(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		if err := chromedp.Run(ctx, actions...); err != nil {
			shot(t, ctx, "layout-failure")
			t.Fatalf("%s: %v", what, err)
		}
	}
	// poll waits for the page's state, however long a loaded machine
	// takes, within the browser's deadline.
	poll := func(js string) chromedp.Action {
		return chromedp.Poll(js, nil, chromedp.WithPollingTimeout(0), chromedp.WithPollingInterval(50*time.Millisecond))
	}
	var formOpen bool
	var listed string
	run("sign in on a 1080p screen",
		chromedp.EmulateViewport(1920, 1080),
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", e.tokens["north/coder"], chromedp.ByID),
		chromedp.Click("#signin-form button[type=submit]", chromedp.ByQuery),
		poll(`document.querySelectorAll('#docs li button').length === 1`),
		chromedp.Evaluate(`document.getElementById('new-box').open`, &formOpen),
		chromedp.Text("#docs li button", &listed, chromedp.ByQuery))
	if formOpen {
		t.Error("the new-note form is open though there are documents")
	}
	if !strings.Contains(listed, "Discharge summary for the layout check") || !strings.Contains(listed, "enc-1001") || strings.Contains(listed, d.ID) {
		t.Errorf("document listed as %q, want its first line and externalId", listed)
	}

	var visible int
	var mutedText []string
	run("open the document",
		chromedp.Click("#docs li button", chromedp.ByQuery),
		poll(fmt.Sprintf(`document.querySelectorAll('#codes > li').length === %d && document.querySelectorAll('#note mark').length > 0`, n+1)),
		chromedp.Evaluate(`(() => {
			const list = document.getElementById('codes').getBoundingClientRect();
			return [...document.querySelectorAll('#codes > li')].filter(li => {
				const r = li.getBoundingClientRect();
				return r.height > 0 && r.top >= list.top - 1 && r.bottom <= list.bottom + 1 && r.bottom <= innerHeight;
			}).length;
		})()`, &visible),
		chromedp.Evaluate(`[...document.querySelectorAll('#note mark.rej')].map(m => m.textContent)`, &mutedText))
	shot(t, ctx, "layout-1080p")
	if visible < 17 {
		t.Errorf("%d code rows fully visible on a 1080p screen, want 17 or more", visible)
	}
	if !slices.Equal(mutedText, []string{"finding00"}) {
		t.Errorf("muted highlights %q, want the rejected code's evidence only", mutedText)
	}

	// Adding a code: the search offers codes that can be reported only,
	// and a code the document has already is a warning.
	var hits []string
	var warning string
	run("search the index",
		selectInNote("Assessment"),
		chromedp.Click("#add-btn", chromedp.ByID),
		chromedp.SetValue("#search-q", "diabetes", chromedp.ByID),
		chromedp.Click("#search-form button[type=submit]", chromedp.ByQuery),
		poll(`[...document.querySelectorAll('#hits li button')].some(b => b.textContent === 'Add E11.9')`),
		chromedp.Evaluate(`[...document.querySelectorAll('#hits li button')].map(b => b.textContent)`, &hits))
	if slices.Contains(hits, "Add E11") {
		t.Errorf("the search offers the header E11: %v", hits)
	}
	run("add a code present",
		chromedp.SetValue("#add-code", "j18.9", chromedp.ByID),
		chromedp.Click("#add-direct", chromedp.ByID),
		chromedp.WaitVisible("#add-warning", chromedp.ByID),
		chromedp.Text("#add-warning", &warning, chromedp.ByID))
	if !strings.Contains(warning, "J18.9 is already on this document") {
		t.Errorf("warning %q", warning)
	}
	shot(t, ctx, "layout-duplicate")
	doc, _ := e.st.GetDocument(context.Background(), "north", d.ID)
	if len(doc.Codes) != n+1 {
		t.Errorf("%d codes after adding a duplicate, want %d", len(doc.Codes), n+1)
	}
}
