// Package browsertest drives a headless Chromium for the tests that look
// at what medcode shows a person: the review UI and the HTML reports.
// Without a Chromium a test fails, unless MEDCODE_NO_BROWSER=1 says to skip
// it knowingly; screenshots go to $MEDCODE_ARTIFACTS.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of the Chromium to drive: $MEDCODE_CHROMIUM,
// else Debian's chromium. Without one the test fails (scripts/test-deps.sh
// installs it); only an explicit MEDCODE_NO_BROWSER=1 skips it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("MEDCODE_CHROMIUM"), "/usr/bin/chromium", "chromium", "chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("MEDCODE_NO_BROWSER") == "1" {
		t.Skip("MEDCODE_NO_BROWSER=1: the browser test is not run")
	}
	t.Fatal("Chromium is required for the browser tests: apt-get install chromium (scripts/test-deps.sh does), set MEDCODE_CHROMIUM, or set MEDCODE_NO_BROWSER=1 to skip them knowingly")
	return ""
}

// ArtifactDir is where a test leaves its screenshots: $MEDCODE_ARTIFACTS
// or a temporary directory.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("MEDCODE_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// New starts a headless Chromium with a fresh profile and returns a
// context to drive it, cancelled when the test ends. Its deadline is
// generous, the test's own less a minute when it has one (go test
// -timeout), else ten minutes: a test waits on the page's state, polling,
// and a loaded machine makes each step slow, not wrong.
func New(t testing.TB) context.Context {
	t.Helper()
	// Chromium's helpers may still write to the profile as the test ends:
	// remove it without failing the test.
	profile, err := os.MkdirTemp("", "medcode-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1600, 1000),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	deadline := time.Now().Add(10 * time.Minute)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok {
			deadline = td.Add(-time.Minute)
		}
	}
	ctx, cancel3 := context.WithDeadline(ctx, deadline)
	t.Cleanup(cancel3)
	return ctx
}

// Screenshot saves a full-page screenshot as NAME.png in the artifacts
// directory and returns its path; a failure to take it is logged, since
// a screenshot is taken most often as a test is failing.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(ArtifactDir(t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	return p
}
