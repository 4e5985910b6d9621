// Package quote finds where a quoted passage occurs in a note, for evidence
// that must point at the text it came from. A quote (from a person or a
// language model) may differ from the note in case, accents, spacing, line
// breaks, hyphenation, punctuation or a few edited words.
//
// Matching compares words folded by textnorm. An exact match of the folded
// letters and digits, ignoring everything else, is found in linear time
// (Knuth-Morris-Pratt); only when there is none does the aligner look for
// near matches, by locating windows that share words with the quote and
// aligning the quote against each with a word-level edit distance.
package quote

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// DefaultThreshold is the lowest score a near match needs to be returned.
const DefaultThreshold = 0.75

// maxCandidates bounds the windows aligned in detail per quote, so fuzzy
// matching stays fast on long notes with many partial matches.
const maxCandidates = 16

// Match is a place where the quote occurs.
type Match struct {
	note.Span
	// Score is 1 for an exact match (after folding) and lower for near
	// matches: 1 minus the edit cost over the length of the quote, where
	// every word weighs its length in letters.
	Score float64
}

// ErrNotFound matches every *NotFoundError with errors.Is.
var ErrNotFound = errors.New("quote not found")

// NotFoundError reports a quote with no match at or above the threshold.
type NotFoundError struct {
	Quote     string
	BestScore float64 // the best score seen, 0 if there was no candidate
	Threshold float64
}

func (e *NotFoundError) Error() string {
	q := e.Quote
	if len(q) > 60 {
		q = q[:57] + "..."
	}
	return fmt.Sprintf("quote %q not found in note (best score %.2f, threshold %.2f)", q, e.BestScore, e.Threshold)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// Aligner finds quotes in one text. Build it once per note and use it for
// every quote; it is safe for concurrent use.
type Aligner struct {
	src    string
	words  []textnorm.Word
	stream string  // the Norm of every word, concatenated without separators
	owner  []int32 // for each byte of stream, the index of its word
	first  []int32 // for each word, its first byte in stream
}

// New indexes text for quote alignment. Offsets of matches are byte offsets
// into text.
func New(text string) *Aligner {
	a := &Aligner{src: text, words: words(text)}
	var b strings.Builder
	a.first = make([]int32, len(a.words)+1)
	for i, w := range a.words {
		a.first[i] = int32(b.Len())
		b.WriteString(w.Norm)
		for range len(w.Norm) {
			a.owner = append(a.owner, int32(i))
		}
	}
	a.first[len(a.words)] = int32(b.Len())
	a.stream = b.String()
	return a
}

// words returns the words of s that have letters or digits left after
// folding (a lone combining mark folds to nothing).
func words(s string) []textnorm.Word {
	ws := textnorm.Words(s)
	return slices.DeleteFunc(ws, func(w textnorm.Word) bool { return w.Norm == "" })
}

// Options tune Find.
type Options struct {
	// Threshold is the lowest score returned; DefaultThreshold if zero.
	Threshold float64
}

// Find returns every place the quote occurs, best score first and, among
// equal scores, in text order. If the quote has no word or no place scores
// at least the threshold, the error is a *NotFoundError.
func (a *Aligner) Find(q string, opt Options) ([]Match, error) {
	th := opt.Threshold
	if th <= 0 {
		th = DefaultThreshold
	}
	qw := words(q)
	if len(qw) == 0 {
		return nil, &NotFoundError{Quote: q, Threshold: th}
	}
	if ms := a.exact(qw); len(ms) > 0 {
		return ms, nil
	}
	ms, best := a.fuzzy(qw, th)
	if len(ms) == 0 {
		return nil, &NotFoundError{Quote: q, BestScore: best, Threshold: th}
	}
	slices.SortStableFunc(ms, func(x, y Match) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		}
		return x.Start - y.Start
	})
	return ms, nil
}

// Find is New(text).Find(quote, opt), for a single quote.
func Find(text, quote string, opt Options) ([]Match, error) {
	return New(text).Find(quote, opt)
}

// Nearest returns the match of ms nearest to byte offset hint among those
// with the best score. It panics if ms is empty.
func Nearest(ms []Match, hint int) Match {
	best := ms[0]
	for _, m := range ms[1:] {
		if m.Score < best.Score {
			continue
		}
		if m.Score > best.Score || dist(m.Span, hint) < dist(best.Span, hint) {
			best = m
		}
	}
	return best
}

func dist(s note.Span, off int) int {
	switch {
	case off < s.Start:
		return s.Start - off
	case off > s.End:
		return off - s.End
	}
	return 0
}

func (a *Aligner) span(firstWord, lastWord int) note.Span {
	s, e := a.words[firstWord].Start, a.words[lastWord].End
	return note.Span{Start: s, End: e, Text: a.src[s:e]}
}

// exact finds the folded letters and digits of the quote in the stream with
// Knuth-Morris-Pratt, keeping occurrences that begin and end on word
// boundaries of the text.
func (a *Aligner) exact(qw []textnorm.Word) []Match {
	var pb strings.Builder
	for _, w := range qw {
		pb.WriteString(w.Norm)
	}
	p := pb.String()
	fail := make([]int, len(p))
	for i, k := 1, 0; i < len(p); i++ {
		for k > 0 && p[i] != p[k] {
			k = fail[k-1]
		}
		if p[i] == p[k] {
			k++
		}
		fail[i] = k
	}
	var out []Match
	s := a.stream
	for i, k := 0, 0; i < len(s); i++ {
		for k > 0 && s[i] != p[k] {
			k = fail[k-1]
		}
		if s[i] == p[k] {
			k++
		}
		if k == len(p) {
			start := i - len(p) + 1
			fw, lw := a.owner[start], a.owner[i]
			if a.first[fw] == int32(start) && a.first[lw+1] == int32(i+1) {
				out = append(out, Match{Span: a.span(int(fw), int(lw)), Score: 1})
			}
			k = fail[k-1]
		}
	}
	return out
}

// fuzzy finds near matches: windows of the text as long as the quote that
// share the most words with it are aligned in detail.
func (a *Aligner) fuzzy(qw []textnorm.Word, th float64) ([]Match, float64) {
	m, n := len(qw), len(a.words)
	if n == 0 {
		return nil, 0
	}
	inQuote := make(map[string]bool, m)
	for _, w := range qw {
		inQuote[w.Stem] = true
	}
	// hit[j] reports whether text word j occurs in the quote; a window of
	// m words can only score th if enough of its words are hits.
	hit := make([]int32, n+1) // prefix sums
	for j, w := range a.words {
		hit[j+1] = hit[j]
		if inQuote[w.Stem] {
			hit[j+1]++
		}
	}
	need := int32(math.Ceil(float64(m) * th * 0.5))
	need = max(need, 1)
	type cand struct {
		start int
		hits  int32
	}
	var cands []cand
	win := min(m, n)
	for s := 0; s+win <= n; s++ {
		h := hit[s+win] - hit[s]
		if h < need {
			continue
		}
		// keep only local maxima: a window better than its neighbors
		if len(cands) > 0 && s-cands[len(cands)-1].start < win {
			if h > cands[len(cands)-1].hits {
				cands[len(cands)-1] = cand{s, h}
			}
			continue
		}
		cands = append(cands, cand{s, h})
	}
	slices.SortStableFunc(cands, func(x, y cand) int { return int(y.hits - x.hits) })
	if len(cands) > maxCandidates {
		cands = cands[:maxCandidates]
	}
	var out []Match
	best := 0.0
	al := newAlignment(qw)
	for _, c := range cands {
		lo := max(0, c.start-m/2-1)
		hi := min(n, c.start+win+m/2+1)
		first, last, score := al.align(a.words[lo:hi])
		best = max(best, score)
		if score < th || first > last {
			continue
		}
		sp := a.span(lo+first, lo+last)
		if slices.ContainsFunc(out, func(o Match) bool { return o.Overlaps(sp) }) {
			continue
		}
		out = append(out, Match{Span: sp, Score: score})
	}
	return out, best
}

// alignment aligns a quote against stretches of text by word edit
// distance, the quote fully and the text with free ends.
type alignment struct {
	q    []textnorm.Word
	cost []float64 // (len(q)+1) x (w+1), reused
	from []uint8   // the step that reached each cell
}

func newAlignment(q []textnorm.Word) *alignment { return &alignment{q: q} }

// wlen is the weight of a word in the edit cost: its folded length.
func wlen(w *textnorm.Word) float64 { return float64(len(w.Norm)) }

// subCost is the cost of aligning quote word x with text word y.
func subCost(x, y *textnorm.Word) float64 {
	switch {
	case x.Norm == y.Norm:
		return 0
	case x.Stem == y.Stem:
		return 0.2 * wlen(x)
	case len(x.Norm) >= 5 && len(y.Norm) >= 5 && oneEdit(x.Norm, y.Norm):
		return 0.4 * wlen(x) // a typo
	}
	return max(wlen(x), wlen(y))
}

// joined reports whether a equals b+c: a word split in two on the other
// side, by hyphenation at a line end or a space ("cardio- myopathy").
func joined(a, b, c *textnorm.Word) bool {
	return len(a.Norm) == len(b.Norm)+len(c.Norm) && strings.HasPrefix(a.Norm, b.Norm) && strings.HasSuffix(a.Norm, c.Norm)
}

// align returns the first and last text word of the best alignment and its
// score.
func (al *alignment) align(t []textnorm.Word) (first, last int, score float64) {
	m, w := len(al.q), len(t)
	cols := w + 1
	need := (m + 1) * cols
	if cap(al.cost) < need {
		al.cost = make([]float64, need)
		al.from = make([]uint8, need)
	}
	d, from := al.cost[:need], al.from[:need]
	for j := 0; j <= w; j++ {
		d[j] = 0 // the match may start anywhere
		from[j] = stepStart
	}
	total := 0.0
	for i := 1; i <= m; i++ {
		q := &al.q[i-1]
		total += wlen(q)
		row, prev := d[i*cols:], d[(i-1)*cols:]
		row[0] = prev[0] + wlen(q)
		from[i*cols] = stepDel
		for j := 1; j <= w; j++ {
			c, f := prev[j-1]+subCost(q, &t[j-1]), stepSub
			if x := prev[j] + wlen(q); x < c {
				c, f = x, stepDel
			}
			if x := row[j-1] + wlen(&t[j-1]); x < c {
				c, f = x, stepIns
			}
			if j >= 2 && joined(q, &t[j-2], &t[j-1]) && prev[j-2] < c {
				c, f = prev[j-2], stepSplitText
			}
			if i >= 2 && joined(&t[j-1], &al.q[i-2], q) && d[(i-2)*cols+j-1] < c {
				c, f = d[(i-2)*cols+j-1], stepSplitQuote
			}
			row[j], from[i*cols+j] = c, f
		}
	}
	end := 1
	lastRow := d[m*cols:]
	for j := 1; j <= w; j++ {
		if lastRow[j] < lastRow[end] {
			end = j
		}
	}
	// trace back to the first text word used
	i, j := m, end
	start := end
	for i > 0 {
		switch from[i*cols+j] {
		case stepSub:
			start = j
			i, j = i-1, j-1
		case stepDel:
			i--
		case stepIns:
			j--
		case stepSplitText:
			start = j - 1
			i, j = i-1, j-2
		case stepSplitQuote:
			start = j
			i, j = i-2, j-1
		}
	}
	textLen := 0.0
	for k := start - 1; k < end; k++ {
		textLen += wlen(&t[k])
	}
	score = 1 - lastRow[end]/max(total, textLen)
	return start - 1, end - 1, max(score, 0)
}

// Steps of the alignment, for the trace back.
const (
	stepStart uint8 = iota
	stepSub
	stepDel        // a quote word missing from the text
	stepIns        // a text word missing from the quote
	stepSplitText  // one quote word matches two text words
	stepSplitQuote // two quote words match one text word
)

// oneEdit reports whether a and b differ by at most one inserted, deleted or
// replaced byte, or two swapped adjacent bytes.
func oneEdit(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		return true
	}
	if len(a) == len(b) {
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	}
	return a[i:] == b[i+1:]
}
