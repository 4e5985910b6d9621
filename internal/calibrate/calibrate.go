// Package calibrate maps a coder's scores to probabilities that a code is
// right, so that a minimum score means the same on every note and every
// release: a code scored 0.7 after calibration was right about 70% of the
// time on the data the table was fitted on.
//
// A table is fitted by isotonic regression (pool-adjacent-violators) per
// code system on a dev or train run of medcode eval, and kept in the data
// directory (FileName). Isotonic regression rather than Platt scaling:
// the offline coder's scores are a handful of rule-assigned levels (0.56,
// 0.72, 0.9, ...) whose precision need not follow a logistic curve, and a
// monotone step function fits any such shape without moving the coder's
// ranking; with the thousands of predictions of a CodiEsp split it has
// enough points per level not to overfit.
package calibrate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

// FileName is the calibration table's file in the data directory.
const FileName = "calibration.json"

// FormatVersion is the version of the table format.
const FormatVersion = 1

// MethodIsotonic names isotonic regression in a table.
const MethodIsotonic = "isotonic"

// MinPoints is the fewest predictions of a system a curve is fitted on;
// with fewer, the system's scores are left as the coder gives them.
const MinPoints = 30

// Point is one prediction of a fitting run: the coder's own score and
// whether the code was right.
type Point struct {
	Score   float64
	Correct bool
}

// Curve maps a raw score to a calibrated one: linear between its knots,
// flat beyond the first and last. Scores and Values are non-decreasing.
type Curve struct {
	Scores []float64 `json:"scores"`
	Values []float64 `json:"values"`
	// Predictions is the number of predictions it was fitted on.
	Predictions int `json:"predictions"`
}

// Map returns the calibrated score of raw.
func (c *Curve) Map(raw float64) float64 {
	n := len(c.Scores)
	if n == 0 {
		return raw
	}
	if raw <= c.Scores[0] {
		return c.Values[0]
	}
	if raw >= c.Scores[n-1] {
		return c.Values[n-1]
	}
	i, _ := slices.BinarySearch(c.Scores, raw) // c.Scores[i-1] < raw <= c.Scores[i]
	x0, x1, y0, y1 := c.Scores[i-1], c.Scores[i], c.Values[i-1], c.Values[i]
	if x1 == x0 {
		return y1
	}
	return y0 + (y1-y0)*(raw-x0)/(x1-x0)
}

// Fit fits an isotonic (non-decreasing) curve to the points by
// pool-adjacent-violators: points of equal score form one block, and
// neighbouring blocks whose precision falls as the score rises are merged
// until none does. Each block becomes a flat stretch from its lowest to
// its highest score at its precision.
func Fit(points []Point) (*Curve, error) {
	if len(points) == 0 {
		return nil, errors.New("fit calibration: no predictions")
	}
	type block struct {
		lo, hi float64
		right  float64
		n      float64
	}
	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b Point) int { return cmp.Compare(a.Score, b.Score) })
	var levels []block // one per distinct score
	for _, p := range sorted {
		r := 0.0
		if p.Correct {
			r = 1
		}
		if k := len(levels) - 1; k >= 0 && levels[k].hi == p.Score {
			levels[k].right += r
			levels[k].n++
			continue
		}
		levels = append(levels, block{lo: p.Score, hi: p.Score, right: r, n: 1})
	}
	var blocks []block
	for _, l := range levels {
		blocks = append(blocks, l)
		// Only the newest block can violate: the ones before it are
		// already non-decreasing.
		for k := len(blocks) - 1; k > 0 && blocks[k-1].right/blocks[k-1].n > blocks[k].right/blocks[k].n; k-- {
			prev, cur := blocks[k-1], blocks[k]
			blocks[k-1] = block{lo: prev.lo, hi: cur.hi, right: prev.right + cur.right, n: prev.n + cur.n}
			blocks = blocks[:k]
		}
	}
	c := &Curve{Predictions: len(points)}
	for _, b := range blocks {
		v := b.right / b.n
		c.Scores = append(c.Scores, b.lo)
		c.Values = append(c.Values, v)
		if b.hi > b.lo {
			c.Scores = append(c.Scores, b.hi)
			c.Values = append(c.Values, v)
		}
	}
	return c, nil
}

// Table is a fitted calibration: a curve per code system, for one coder.
type Table struct {
	Format int    `json:"format"`
	Method string `json:"method"`
	// Coder is the coder the run was made with (the run file's
	// meta.coder); the table applies to that coder only.
	Coder string `json:"coder"`
	// Source describes the run the table was fitted on.
	Source  string                    `json:"source"`
	Fitted  time.Time                 `json:"fitted"`
	Systems map[codesys.System]*Curve `json:"systems"`
}

// Describe names the table for reports and run files.
func (t *Table) Describe() string {
	return fmt.Sprintf("%s calibration fitted on %s (%s)", t.Method, t.Source, t.Fitted.Format("2006-01-02"))
}

// AppliesTo reports whether the table was fitted for the coder named (as
// the CLI names coders: "offline", "baseline", "llm:PROVIDER:MODEL").
// The run file's name of an LLM coder also carries its prompt version,
// which a command that codes does not name.
func (t *Table) AppliesTo(coder string) bool {
	return t.Coder == coder || strings.HasPrefix(t.Coder, coder+":") && strings.HasPrefix(coder, "llm:")
}

// Apply maps the confidence of every code of res, kept and dropped,
// through the curve of its system, and keeps the coder's own confidence
// in RawConfidence. Codes of systems without a curve are left alone.
func (t *Table) Apply(res *coding.Result) {
	for _, codes := range [][]coding.Code{res.Codes, res.Dropped} {
		for i := range codes {
			c := &codes[i]
			curve := t.Systems[c.System]
			if curve == nil || c.RawConfidence != nil {
				continue
			}
			raw := c.Confidence
			c.RawConfidence = &raw
			c.Confidence = curve.Map(raw)
		}
	}
}

// Load reads the table in dataDir; it returns nil and no error when there
// is none.
func Load(dataDir string) (*Table, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read calibration table: %w", err)
	}
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("read calibration table %s: %w", filepath.Join(dataDir, FileName), err)
	}
	if t.Format != FormatVersion {
		return nil, fmt.Errorf("read calibration table %s: format %d, want %d", filepath.Join(dataDir, FileName), t.Format, FormatVersion)
	}
	for sys, c := range t.Systems {
		if len(c.Scores) != len(c.Values) || !slices.IsSorted(c.Scores) || !slices.IsSorted(c.Values) {
			return nil, fmt.Errorf("read calibration table %s: the curve of %s is not non-decreasing", filepath.Join(dataDir, FileName), sys)
		}
	}
	return &t, nil
}

// Save writes t into dataDir, replacing any table there; a reader never
// sees a half-written file.
func Save(dataDir string, t *Table) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("write calibration table: %w", err)
	}
	// The data directory holds the service's database too: only its
	// owner may enter it.
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("write calibration table: %w", err)
	}
	tmp, err := os.CreateTemp(dataDir, FileName+".*")
	if err != nil {
		return fmt.Errorf("write calibration table: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write calibration table: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write calibration table: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, FileName)); err != nil {
		return fmt.Errorf("write calibration table: %w", err)
	}
	return nil
}

// DropBelow moves the codes of res whose confidence is below minScore to
// res.Dropped, with the reason, so that the trail still shows them.
func DropBelow(res *coding.Result, minScore float64) {
	if minScore <= 0 {
		return
	}
	kept := res.Codes[:0]
	for _, c := range res.Codes {
		if c.Confidence >= minScore {
			kept = append(kept, c)
			continue
		}
		c.Reason = fmt.Sprintf("confidence %.2f below the minimum score %g", c.Confidence, minScore)
		res.Dropped = append(res.Dropped, c)
	}
	res.Codes = kept
}

// Reasoner calibrates the scores of the reasoner it wraps and drops the
// codes below a minimum score, in that order: the dial reads calibrated
// scores whenever a table is present.
type Reasoner struct {
	Inner coding.Reasoner
	// Table, when set, maps the scores; MinScore, when above 0, drops
	// codes scored below it.
	Table    *Table
	MinScore float64
}

// Wrap returns r with the table and the minimum score applied, or r
// itself when there is neither, so that its results are untouched.
func Wrap(r coding.Reasoner, t *Table, minScore float64) coding.Reasoner {
	if t == nil && minScore <= 0 {
		return r
	}
	return &Reasoner{Inner: r, Table: t, MinScore: minScore}
}

// Code codes the note with the wrapped reasoner, then calibrates and
// applies the minimum score.
func (r *Reasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	res, err := r.Inner.Code(ctx, req)
	if err != nil || res == nil {
		return res, err
	}
	if r.Table != nil {
		r.Table.Apply(res)
	}
	DropBelow(res, r.MinScore)
	return res, nil
}

// Unwrap returns the wrapped reasoner.
func (r *Reasoner) Unwrap() coding.Reasoner { return r.Inner }
