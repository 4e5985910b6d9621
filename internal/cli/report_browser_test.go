package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/medcode-dev/medcode/internal/browsertest"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// TestEvalReportsInBrowser writes the HTML report of a CodiEsp dev run and
// of an ACI-Bench run with the offline coder on the shared data, opens
// each from disk in headless Chromium, checks that the page requests
// nothing but itself and draws every chart of the report with a size, and
// keeps a full-page screenshot of each as a test artifact.
func TestEvalReportsInBrowser(t *testing.T) {
	shared, err := shareddata.Find()
	if err != nil {
		t.Fatalf("shared data is required: %v", err)
	}
	data, out := t.TempDir(), t.TempDir()
	run := func(args ...string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := Main(context.Background(), append([]string{"--data", data}, args...), &stdout, &stderr); code != 0 {
			t.Fatalf("medcode %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
	}
	run("import", "--system", "icd10cm", "--from", filepath.Join(shared, "icd10cm", "fy2021-jan2021"))
	run("import", "--system", "icd10pcs", "--from", filepath.Join(shared, "icd10pcs", "fy2025"))
	codiesp := filepath.Join(out, "codiesp-dev.html")
	run("eval", "codiesp", "--path", filepath.Join(shared, "eval", "codiesp", "final_dataset_v4_to_publish"),
		"--split", "dev", "--lang", "en", "--bootstrap", "20", "--out", filepath.Join(out, "codiesp-dev.json"), "--report", "html")
	aci := filepath.Join(out, "aci-dev.html")
	run("eval", "aci", "--path", filepath.Join(shared, "eval", "aci-bench", "challenge_data"),
		"--labels", filepath.Join(shared, "eval", "aci-bench-icd10cm", "amazon-icd10cm-train-valid.jsonl.gz"),
		"--bootstrap", "20", "--out", filepath.Join(out, "aci-dev.json"), "--report", "html")

	ctx := browsertest.New(t)
	requests := browsertest.WatchRequests(t, ctx)
	for _, page := range []struct{ name, path, dataset string }{
		{"report-codiesp-dev", codiesp, "codiesp"},
		{"report-aci-dev", aci, "aci"},
	} {
		t.Run(page.name, func(t *testing.T) {
			var charts, sized int
			var body string
			err := chromedp.Run(ctx,
				chromedp.Navigate("file://"+page.path),
				chromedp.WaitVisible("svg.chart", chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelectorAll('svg.chart').length`, &charts),
				chromedp.Evaluate(`[...document.querySelectorAll('svg.chart')].filter(s => {const r = s.getBoundingClientRect(); return r.width > 100 && r.height > 100}).length`, &sized),
				chromedp.Text("body", &body, chromedp.ByQuery))
			browsertest.Screenshot(t, ctx, page.name)
			if err != nil {
				t.Fatal(err)
			}
			// Per chapter, by code frequency, the minimum score, the
			// reliability diagram and latency: five charts at the least.
			if charts < 5 || sized != charts {
				t.Errorf("%d charts, %d drawn with a size; want at least 5, all drawn", charts, sized)
			}
			if !strings.Contains(strings.ToLower(body), page.dataset) {
				t.Errorf("the page does not name the dataset %q", page.dataset)
			}
			requests.CheckOffline(t)
		})
	}
}
