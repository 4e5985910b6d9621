package eval

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ProgressBar draws a one-line progress bar for long runs. It is meant for
// a terminal's standard error; NewProgressBar returns nil elsewhere so
// that logs and pipes stay clean.
type ProgressBar struct {
	w     io.Writer
	label string
	start time.Time
	last  time.Time
	now   func() time.Time
}

// NewProgressBar returns a progress bar writing to f, or nil when f is not
// a terminal.
func NewProgressBar(f *os.File, label string) *ProgressBar {
	if f == nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return newProgressBar(f, label, time.Now)
}

func newProgressBar(w io.Writer, label string, now func() time.Time) *ProgressBar {
	t := now()
	return &ProgressBar{w: w, label: label, start: t, now: now}
}

// Update draws the bar for done of total items, at most ten times a second
// and always for the last item, which ends the line. It suits
// Options.Progress. A nil bar does nothing.
func (p *ProgressBar) Update(done, total int) {
	if p == nil {
		return
	}
	t := p.now()
	final := done >= total
	if !final && t.Sub(p.last) < 100*time.Millisecond {
		return
	}
	p.last = t
	const width = 30
	filled := 0
	if total > 0 {
		filled = width * done / total
	}
	rate := ""
	if el := t.Sub(p.start).Seconds(); el > 0 {
		rate = fmt.Sprintf(" %.1f/s", float64(done)/el)
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d%s", p.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled), done, total, rate)
	if final {
		fmt.Fprintln(p.w)
	}
}
