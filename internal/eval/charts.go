package eval

import (
	"bytes"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// rgb is an opaque colour as 0xRRGGBB, so that the palette can be
// constants.
type rgb uint32

// RGBA implements color.Color.
func (c rgb) RGBA() (r, g, b, a uint32) {
	return color.RGBA{uint8(c >> 16), uint8(c >> 8), uint8(c), 255}.RGBA()
}

// The series colours, distinguishable in colour-blind vision (Okabe-Ito).
const (
	colourP    rgb = 0x0072b2 // blue: precision
	colourR    rgb = 0xe69f00 // orange: recall
	colourF1   rgb = 0x009e73 // green: F1
	colourGrey rgb = 0x787878 // reference lines
	colourRed  rgb = 0xd55e00 // a marked value
)

// svgOf draws p as an inline SVG element: without the XML prolog, which
// HTML does not take, and sized by the page through its viewBox.
func svgOf(p *plot.Plot, w, h vg.Length) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("draw chart: %w", err)
	}
	s := buf.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	s = strings.Replace(s, "<svg ", `<svg class="chart" role="img" aria-label="`+template.HTMLEscapeString(p.Title.Text)+`" `, 1)
	return template.HTML(s), nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	return p
}

// prfSeries is one group of a dot-and-whisker chart: a point estimate of
// precision, recall and F1 with their intervals (zero intervals draw no
// whiskers).
type prfSeries struct {
	Label    string
	P, R, F1 float64
	PI, RI   Interval
	F1I      Interval
	HasCI    bool
}

// prfChart draws P, R and F1 of each group side by side with their
// bootstrap intervals as whiskers: one column of three dots per group.
func prfChart(title, xLabel string, groups []prfSeries) (template.HTML, error) {
	p := newPlot(title, xLabel, "score")
	p.Y.Min, p.Y.Max = 0, 1
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.Label
	}
	type metric struct {
		name   string
		colour color.Color
		off    float64
		val    func(prfSeries) (float64, Interval)
		shape  draw.GlyphDrawer
	}
	metrics := []metric{
		{"precision", colourP, -0.22, func(g prfSeries) (float64, Interval) { return g.P, g.PI }, draw.CircleGlyph{}},
		{"recall", colourR, 0, func(g prfSeries) (float64, Interval) { return g.R, g.RI }, draw.SquareGlyph{}},
		{"F1", colourF1, 0.22, func(g prfSeries) (float64, Interval) { return g.F1, g.F1I }, draw.TriangleGlyph{}},
	}
	for _, m := range metrics {
		pts := make(plotter.XYs, len(groups))
		errs := make(plotter.YErrors, len(groups))
		for i, g := range groups {
			v, iv := m.val(g)
			pts[i] = plotter.XY{X: float64(i) + m.off, Y: v}
			if g.HasCI {
				errs[i] = struct{ Low, High float64 }{v - iv.Low, iv.High - v}
			}
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Shape, sc.GlyphStyle.Radius = m.colour, m.shape, vg.Points(3)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{pts, errs})
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		eb.LineStyle.Color = m.colour
		eb.CapWidth = vg.Points(4)
		p.Add(eb, sc)
		p.Legend.Add(m.name, sc)
	}
	p.Legend.Top = true
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	p.NominalX(names...)
	if len(groups) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	w := vg.Length(max(480, 52*len(groups)))
	return svgOf(p, w, 300)
}

// thresholdChart draws precision, recall and F1 of the predictions scored
// at least t against t, with the threshold of the best F1 marked.
func thresholdChart(title string, curve []ThresholdPoint) (template.HTML, error) {
	p := newPlot(title, "minimum score kept (--min-score)", "micro score")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	series := []struct {
		name   string
		colour color.Color
		val    func(ThresholdPoint) float64
	}{
		{"precision", colourP, func(t ThresholdPoint) float64 { return t.Precision }},
		{"recall", colourR, func(t ThresholdPoint) float64 { return t.Recall }},
		{"F1", colourF1, func(t ThresholdPoint) float64 { return t.F1 }},
	}
	for _, s := range series {
		pts := make(plotter.XYs, len(curve))
		for i, c := range curve {
			pts[i] = plotter.XY{X: c.Threshold, Y: s.val(c)}
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		l.Color, sc.Color, sc.Radius = s.colour, s.colour, vg.Points(2)
		p.Add(l, sc)
		p.Legend.Add(s.name, l)
	}
	if best, ok := BestThreshold(curve); ok {
		l, err := plotter.NewLine(plotter.XYs{{X: best.Threshold, Y: 0}, {X: best.Threshold, Y: 1}})
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		l.Color, l.Dashes = colourRed, []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("best F1 %.3f at %.2f", best.F1, best.Threshold), l)
	}
	p.Legend.Top = true
	return svgOf(p, 480, 320)
}

// reliabilityChart draws the observed precision of each score bin against
// the bin's mean score, the diagonal a calibrated coder follows, and the
// coder's own scores beside the calibrated ones when both are known.
func reliabilityChart(title string, bins, raw []ReliabilityBin) (template.HTML, error) {
	p := newPlot(title, "predicted score (bin mean)", "observed precision")
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	diag, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return "", fmt.Errorf("chart %s: %w", title, err)
	}
	diag.Color, diag.Dashes = colourGrey, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(diag)
	p.Legend.Add("perfectly calibrated", diag)
	add := func(name string, bs []ReliabilityBin, colour color.Color) error {
		var pts plotter.XYs
		for _, b := range bs {
			if b.Count > 0 {
				pts = append(pts, plotter.XY{X: b.MeanScore, Y: b.Precision})
			}
		}
		if len(pts) == 0 {
			return nil
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			return fmt.Errorf("chart %s: %w", title, err)
		}
		l.Color, sc.Color, sc.Radius = colour, colour, vg.Points(3)
		p.Add(l, sc)
		p.Legend.Add(fmt.Sprintf("%s (ECE %.3f)", name, ECE(bs)), l)
		return nil
	}
	if raw != nil {
		if err := add("coder's own scores", raw, colourR); err != nil {
			return "", err
		}
		if err := add("calibrated", bins, colourP); err != nil {
			return "", err
		}
	} else if err := add("scores", bins, colourP); err != nil {
		return "", err
	}
	p.Legend.Top, p.Legend.Left = true, true
	return svgOf(p, 420, 360)
}

// latencyChart draws the distribution of the time to code one document,
// with the median and the 95th percentile marked.
func latencyChart(title string, seconds []float64, p50, p95 float64) (template.HTML, error) {
	p := newPlot(title, "milliseconds per document", "documents")
	vals := make(plotter.Values, len(seconds))
	for i, s := range seconds {
		vals[i] = s * 1000
	}
	if len(vals) == 0 {
		vals = plotter.Values{0}
	}
	h, err := plotter.NewHist(vals, 30)
	if err != nil {
		return "", fmt.Errorf("chart %s: %w", title, err)
	}
	h.FillColor = colourP
	h.LineStyle.Color = color.White
	p.Add(h)
	top := 0.0
	for _, b := range h.Bins {
		top = max(top, b.Weight)
	}
	for _, m := range []struct {
		name string
		v    float64
		c    color.Color
	}{{"p50", p50 * 1000, colourF1}, {"p95", p95 * 1000, colourRed}} {
		l, err := plotter.NewLine(plotter.XYs{{X: m.v, Y: 0}, {X: m.v, Y: top}})
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		l.Color, l.Width, l.Dashes = m.c, vg.Points(1.5), []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("%s %.2f ms", m.name, m.v), l)
	}
	p.Legend.Top = true
	return svgOf(p, 480, 280)
}

// deltaChart draws differences B - A as horizontal bars, one per label,
// coloured by whether the paired bootstrap finds them significant at 5%.
func deltaChart(title string, labels []string, deltas, ps []float64) (template.HTML, error) {
	p := newPlot(title, "B - A", "")
	if len(labels) == 0 {
		return "", nil
	}
	lo, hi := 0.0, 0.0
	for _, d := range deltas {
		lo, hi = min(lo, d), max(hi, d)
	}
	pad := max((hi-lo)*0.1, 0.01)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	for _, sig := range []bool{true, false} {
		vals := make(plotter.Values, len(deltas))
		any := false
		for i, d := range deltas {
			if (ps[i] < 0.05) == sig {
				vals[i], any = d, true
			}
		}
		if !any {
			continue
		}
		b, err := plotter.NewBarChart(vals, vg.Points(12))
		if err != nil {
			return "", fmt.Errorf("chart %s: %w", title, err)
		}
		b.Horizontal = true
		b.LineStyle.Width = 0
		b.Color = colourGrey
		name := "p >= 0.05"
		if sig {
			b.Color, name = colourP, "p < 0.05"
		}
		p.Add(b)
		p.Legend.Add(name, b)
	}
	p.NominalY(labels...)
	p.Legend.Top = true
	return svgOf(p, 560, vg.Length(max(160, 22*len(labels)+90)))
}
