package eval

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgressBar(&buf, "eval", func() time.Time { return now })
	now = now.Add(time.Second)
	p.Update(1, 4)
	p.Update(2, 4) // within 100ms of the last draw: skipped
	now = now.Add(time.Second)
	p.Update(4, 4) // the last item is always drawn and ends the line
	got := buf.String()
	if strings.Count(got, "\r") != 2 || !strings.HasSuffix(got, "\n") {
		t.Errorf("drawn %q, want two draws ending in a newline", got)
	}
	if !strings.Contains(got, "1/4 1.0/s") || !strings.Contains(got, "4/4 2.0/s") || !strings.Contains(got, "["+strings.Repeat("=", 30)+"]") {
		t.Errorf("drawn %q", got)
	}
	var nilBar *ProgressBar
	nilBar.Update(1, 2) // must not panic
}

func TestProgressBarOffWhenNotTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := NewProgressBar(f, "eval"); p != nil {
		t.Error("progress bar on a regular file")
	}
}
