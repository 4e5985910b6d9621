package agent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
)

// TestFatalEndpointErrorsStop: a refused key, a forbidden project or an
// unknown model fail every note alike; Code returns an error matching
// ErrStop after one request, never a result of "0 codes".
func TestFatalEndpointErrorsStop(t *testing.T) {
	for _, p := range providers {
		for _, status := range []int{401, 403, 404} {
			t.Run(p, func(t *testing.T) {
				f := newFake(t, p, step{status: status})
				a, _ := newAgent(t, f, nil)
				res, err := a.Code(context.Background(), coding.Request{ID: "n1", Text: testNote})
				if !errors.Is(err, ErrStop) || res != nil {
					t.Fatalf("HTTP %d: result %v, err %v; want ErrStop", status, res, err)
				}
				if f.requests() != 1 {
					t.Errorf("HTTP %d: %d requests, want 1 (no retry)", status, f.requests())
				}
			})
		}
	}
}

// TestFailedAndPartialStatus: persistent server errors, a context-length
// refusal (HTTP 400) or a timeout before Assign fail the note, with the
// reason; a Verify that does not finish leaves a partial result with
// Assign's codes.
func TestFailedAndPartialStatus(t *testing.T) {
	tests := []struct {
		name   string
		steps  []step
		want   coding.Status
		reason string
		codes  []string
	}{
		{"persistent 500", []step{{status: 500}, {status: 500}, {status: 500}}, coding.StatusFailed, "analyze: model call failed", nil},
		{"context length", []step{{status: 400}}, coding.StatusFailed, "HTTP 400", nil},
		{"clean", cleanScript(), coding.StatusComplete, "", []string{"E11.22", "I12.9", "N18.30"}},
		{"verify fails", slices.Concat(analyzeSteps(), locateSteps(), assignSteps(), []step{{status: 500}, {status: 500}, {status: 500}}),
			coding.StatusPartial, "verify: model call failed", []string{"E11.22", "I12.9", "N18.30"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, OpenAI, tc.steps...)
			a, _ := newAgent(t, f, nil)
			res, _ := code1(t, a)
			if res.Status != tc.want {
				t.Fatalf("status = %q (%v), want %q", res.Status, res.Reasons, tc.want)
			}
			if tc.reason != "" && !slices.ContainsFunc(res.Reasons, func(r string) bool { return strings.Contains(r, tc.reason) }) {
				t.Errorf("reasons = %v, want one with %q", res.Reasons, tc.reason)
			}
			if got := codesOf(res); !slices.Equal(got, tc.codes) {
				t.Errorf("codes = %v, want %v", got, tc.codes)
			}
		})
	}
}

// TestReplayMissStops: a request the recorded session lacks stops the
// run (ErrStop), rather than scoring the note as empty.
func TestReplayMissStops(t *testing.T) {
	empty := newFake(t, Anthropic)
	a, _ := newAgent(t, empty, func(c *Config) { c.CacheDir, c.CacheMode = t.TempDir(), CacheReplay })
	_, err := a.Code(context.Background(), coding.Request{Text: testNote})
	if !errors.Is(err, ErrStop) || !errors.Is(err, ErrNotRecorded) {
		t.Fatalf("err = %v, want ErrStop and ErrNotRecorded", err)
	}
	if empty.requests() != 0 {
		t.Errorf("replay made %d requests", empty.requests())
	}
}
