package guidelines

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ledongthuc/pdf"
)

// PDFText extracts the text of a PDF one printed line per line, which is
// what Parse needs to see the outline headings. It uses the pure-Go reader
// github.com/ledongthuc/pdf and rebuilds lines from glyph positions: glyphs
// on one baseline form a line, and a gap wider than a fraction of the font
// size between two glyphs is a space. Files whose text the reader cannot
// decode can be converted with poppler's "pdftotext -layout" instead and
// the text file imported.
func PDFText(r io.ReaderAt, size int64) (text string, err error) {
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("read pdf: %w", err)
	}
	// The reader panics on some malformed content streams.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read pdf: malformed content: %v", p)
		}
	}()
	var b strings.Builder
	for i := 1; i <= rd.NumPage(); i++ {
		p := rd.Page(i)
		if p.V.IsNull() {
			continue
		}
		for _, line := range pageLines(p.Content().Text) {
			b.WriteString(line)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// pageLines groups glyphs into lines, top to bottom, left to right.
func pageLines(ts []pdf.Text) []string {
	type line struct {
		y  float64
		ts []pdf.Text
	}
	var lines []*line
	for _, t := range ts {
		if t.S == "" {
			continue
		}
		var l *line
		tol := math.Max(t.FontSize*0.3, 1)
		for _, c := range lines {
			if math.Abs(c.y-t.Y) <= tol {
				l = c
				break
			}
		}
		if l == nil {
			l = &line{y: t.Y}
			lines = append(lines, l)
		}
		l.ts = append(l.ts, t)
	}
	slices.SortStableFunc(lines, func(a, b *line) int {
		switch {
		case a.y > b.y:
			return -1
		case a.y < b.y:
			return 1
		}
		return 0
	})
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		slices.SortStableFunc(l.ts, func(a, b pdf.Text) int {
			switch {
			case a.X < b.X:
				return -1
			case a.X > b.X:
				return 1
			}
			return 0
		})
		var sb strings.Builder
		end := math.Inf(-1)
		for _, t := range l.ts {
			if sb.Len() > 0 && t.X-end > t.FontSize*0.2 && !strings.HasPrefix(t.S, " ") {
				sb.WriteByte(' ')
			}
			sb.WriteString(t.S)
			end = t.X + t.W
		}
		out = append(out, strings.TrimSpace(sb.String()))
	}
	return out
}
