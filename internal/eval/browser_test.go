package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/browsertest"
)

// TestBrowserReport opens a generated run report and a comparison from
// disk in headless Chromium, checks that nothing but the file itself is
// requested (the page works offline) and that every chart is drawn with a
// size, and leaves full-page screenshots in the artifacts directory.
func TestBrowserReport(t *testing.T) {
	a := htmlRun(t)
	b := htmlRun(t)
	b.Documents[0].Predictions = b.Documents[0].Predictions[:1]
	b.Scores = Score(b.Documents, ScoreOptions{Systems: b.Meta.Systems})
	c, err := Compare(a, b, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	chapters, err := CompareChapters(a, b, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pages := []struct {
		name   string
		write  func(f *os.File) error
		charts int
		text   string
	}{
		{"eval-report", func(f *os.File) error { return a.WriteHTML(f, HTMLOptions{}) }, 5, "The gold codes missed most often"},
		{"eval-compare", func(f *os.File) error { return c.WriteHTML(f, chapters) }, 2, "paired bootstrap"},
	}
	ctx := browsertest.New(t)
	requests := browsertest.WatchRequests(t, ctx)
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			path := filepath.Join(dir, p.name+".html")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.write(f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			var sized int
			var body string
			err = chromedp.Run(ctx,
				chromedp.Navigate("file://"+path),
				chromedp.WaitVisible("svg.chart", chromedp.ByQuery),
				chromedp.Evaluate(`[...document.querySelectorAll('svg.chart')].filter(s => {const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 100}).length`, &sized),
				chromedp.Text("body", &body, chromedp.ByQuery))
			if err != nil {
				browsertest.Screenshot(t, ctx, p.name+"-failure")
				t.Fatal(err)
			}
			browsertest.Screenshot(t, ctx, p.name)
			if sized < p.charts {
				t.Errorf("%d charts drawn with a size, want at least %d", sized, p.charts)
			}
			if !strings.Contains(body, p.text) {
				t.Errorf("the page does not say %q", p.text)
			}
			requests.CheckOffline(t)
		})
	}
}
