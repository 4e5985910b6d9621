package browsertest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Requests records the URLs the pages of a browser context request, so
// that a test can check that a page works offline.
type Requests struct {
	mu   sync.Mutex
	urls []string
}

// WatchRequests starts recording the requests of the pages of ctx.
func WatchRequests(t testing.TB, ctx context.Context) *Requests {
	t.Helper()
	r := &Requests{}
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			r.mu.Lock()
			r.urls = append(r.urls, e.Request.URL)
			r.mu.Unlock()
		}
	})
	if err := chromedp.Run(ctx, network.Enable()); err != nil {
		t.Fatal(err)
	}
	return r
}

// CheckOffline reports, as errors of t, every request since the last call
// that left the page's own file (anything but file:, data: and
// about:blank), and forgets them.
func (r *Requests) CheckOffline(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range r.urls {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") && u != "about:blank" {
			t.Errorf("the page requested %s: it does not work offline", u)
		}
	}
	r.urls = nil
}
