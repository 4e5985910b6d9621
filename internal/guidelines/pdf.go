package guidelines

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/ledongthuc/pdf"
)

// ErrNoText is returned (wrapped) by PDFText for a PDF that has pages but
// no readable text: a scanned image, or fonts without a Unicode mapping.
var ErrNoText = errors.New("no readable text in the PDF (a scanned image, or fonts without a Unicode mapping?): convert it with \"pdftotext -layout\" or OCR and import the text file")

// PDFText extracts the text of a PDF one printed line per line, which is
// what Parse needs to see the outline headings. It uses the pure-Go reader
// github.com/ledongthuc/pdf and rebuilds lines from glyph positions: glyphs
// on one baseline form a line, a superscript joins the line it is raised
// above, and a gap wider than a fraction of the font size between two
// glyphs is a space. Pages are separated by a blank line. A PDF whose text
// cannot be read fails with an error wrapping ErrNoText; files the reader
// cannot decode can be converted with poppler's "pdftotext -layout"
// instead and the text file imported.
func PDFText(r io.ReaderAt, size int64) (text string, err error) {
	rd, err := pdf.NewReader(r, size)
	if err != nil {
		return "", fmt.Errorf("read pdf: %w", err)
	}
	page := 0
	// The reader panics on some malformed content streams.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("read pdf: page %d: malformed content: %v", page, p)
		}
	}()
	var b strings.Builder
	var good, bad int
	for page = 1; page <= rd.NumPage(); page++ {
		p := rd.Page(page)
		if p.V.IsNull() {
			continue
		}
		for _, line := range pageLines(p.Content().Text) {
			g, x := letterCounts(line)
			good += g
			bad += x
			b.WriteString(line)
			b.WriteByte('\n')
		}
		b.WriteByte('\n')
	}
	if err := readable(good, bad); err != nil {
		return "", fmt.Errorf("read pdf: %d pages: %w", rd.NumPage(), err)
	}
	return b.String(), nil
}

// letterCounts counts the letters of s and the runes that stand for
// glyphs the reader could not map to text: the replacement character,
// private-use code points and control characters.
func letterCounts(s string) (good, bad int) {
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar || unicode.Is(unicode.Co, r) || unicode.IsControl(r):
			bad++
		case unicode.IsLetter(r):
			good++
		}
	}
	return good, bad
}

// minLetters is the fewest letters a PDF of guidelines can have: a title
// page holds more.
const minLetters = 20

// readable says whether text with good letters and bad unmapped glyphs is
// worth parsing; one unmapped glyph in ten letters means the fonts did
// not decode and the headings would not be found.
func readable(good, bad int) error {
	switch {
	case good < minLetters:
		return fmt.Errorf("%d letters: %w", good, ErrNoText)
	case bad*10 > good:
		return fmt.Errorf("%d of %d glyphs unmapped: %w", bad, good+bad, ErrNoText)
	}
	return nil
}

// pageLines groups glyphs into lines, top to bottom, left to right.
func pageLines(ts []pdf.Text) []string {
	var lines []*textLine
	for _, t := range ts {
		// The reader emits the end of each text-showing operator as a
		// "\n" glyph, which is not where the printed line ends: lines
		// come from the baselines alone.
		t.S = strings.Map(dropControl, t.S)
		if t.S == "" {
			continue
		}
		var l *textLine
		tol := math.Max(t.FontSize*0.3, 1)
		for _, c := range lines {
			if math.Abs(c.y-t.Y) <= tol {
				l = c
				break
			}
		}
		if l == nil {
			l = &textLine{y: t.Y}
			lines = append(lines, l)
		}
		l.ts = append(l.ts, t)
		l.fs = math.Max(l.fs, t.FontSize)
	}
	slices.SortStableFunc(lines, func(a, b *textLine) int {
		switch {
		case a.y > b.y:
			return -1
		case a.y < b.y:
			return 1
		}
		return 0
	})
	// A superscript ("7th", "1st") sits half a line above its baseline in
	// a smaller font: fold such a line into the full-size line below it,
	// or "7th Characters" would come out as "7 Characters" and a stray
	// "th" line.
	for i := 0; i+1 < len(lines); i++ {
		sup, base := lines[i], lines[i+1]
		if sup.fs < base.fs*0.85 && sup.y-base.y <= base.fs*0.5 && superscriptAt(sup, base) {
			base.ts = append(base.ts, sup.ts...)
			lines = slices.Delete(lines, i, i+1)
			i--
		}
	}
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

func dropControl(r rune) rune {
	if r < ' ' || r == 0x7f {
		return -1
	}
	return r
}

// textLine is the glyphs of one printed line: its baseline y and its
// largest font size fs.
type textLine struct {
	y, fs float64
	ts    []pdf.Text
}

// superscriptAt reports whether sup starts where a glyph of base ends, as
// a superscript follows the word it qualifies; a line of small print
// elsewhere (a footnote marker of a table, say) stays a line.
func superscriptAt(sup, base *textLine) bool {
	if len(sup.ts) == 0 {
		return false
	}
	x := slices.MinFunc(sup.ts, func(a, b pdf.Text) int { return cmp.Compare(a.X, b.X) }).X
	for _, t := range base.ts {
		if math.Abs(t.X+t.W-x) <= 1 {
			return true
		}
	}
	return false
}
