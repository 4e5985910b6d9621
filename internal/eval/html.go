package eval

import (
	"fmt"
	"html/template"
	"io"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// HTMLOptions control the HTML report.
type HTMLOptions struct {
	// Worst is the number of false positives and false negatives listed
	// per system; 0 means 25.
	Worst int
}

// htmlSystem is one system's section of the report.
type htmlSystem struct {
	Scores       *Scores
	Chapters     []GroupCI
	ChapterChart template.HTML
	Buckets      []GroupCI
	BucketChart  template.HTML
	Curve        template.HTML
	Best         *ThresholdPoint
	AllKept      *ThresholdPoint
	Reliability  template.HTML
	Bins         []ReliabilityBin
	Evidence     template.HTML
	FalsePos     []FalsePositive
	FalseNeg     []FalseNegative
	HasRejected  bool
}

type htmlReport struct {
	R       *Report
	Lines   []string
	Cost    string
	Systems []htmlSystem
	Latency template.HTML
}

// WriteHTML writes the run as one self-contained HTML page: every chart an
// inline SVG drawn here, the styles inline, no script and nothing fetched,
// so that it opens offline and can be mailed or archived as one file.
// Intervals are 95% percentile bootstrap intervals over documents with the
// run's resamples and seed.
func (r *Report) WriteHTML(w io.Writer, opt HTMLOptions) error {
	worst := opt.Worst
	if worst <= 0 {
		worst = 25
	}
	data := htmlReport{R: r, Lines: r.runLines(), Cost: costLine(r.Cost)}
	for i := range r.Scores {
		s := &r.Scores[i]
		if s.System == All {
			continue
		}
		sec, err := r.htmlSection(s, worst)
		if err != nil {
			return err
		}
		data.Systems = append(data.Systems, sec)
	}
	secs := make([]float64, len(r.Documents))
	for i, d := range r.Documents {
		secs[i] = d.Seconds
	}
	var err error
	if data.Latency, err = latencyChart("Time to code one document", secs, r.Cost.P50, r.Cost.P95); err != nil {
		return err
	}
	if err := reportTemplate().Execute(w, data); err != nil {
		return fmt.Errorf("write HTML report: %w", err)
	}
	return nil
}

func (r *Report) htmlSection(s *Scores, worst int) (htmlSystem, error) {
	sel := []codesys.System{codesys.System(s.System)}
	docs := r.Documents
	chapter := chapterFunc(s)
	sec := htmlSystem{Scores: s}
	sec.Chapters = groupScores(docs, sel, chapter, chapterOrder, r.Meta.Bootstrap, r.Meta.Seed)
	sec.Buckets = groupScores(docs, sel, frequencyFunc(docs, sel), bucketCompare, r.Meta.Bootstrap, r.Meta.Seed)
	var err error
	if sec.ChapterChart, err = prfChart(s.System+": by chapter", "", seriesOf(sec.Chapters, shortChapter)); err != nil {
		return sec, err
	}
	var buckets []GroupCI
	for _, b := range sec.Buckets {
		if b.Group != BucketNoGold { // recall and F1 are 0 by definition
			buckets = append(buckets, b)
		}
	}
	if sec.BucketChart, err = prfChart(s.System+": by how often the code is in the gold", "documents whose gold has the code", seriesOf(buckets, func(g string) string { return g })); err != nil {
		return sec, err
	}
	preds := ScoredPredictions(docs, sel)
	curve := ThresholdCurve(preds, s.GoldCodes)
	if len(curve) > 0 {
		best, _ := BestThreshold(curve)
		sec.Best, sec.AllKept = &best, &curve[len(curve)-1]
		if sec.Curve, err = thresholdChart(s.System+": precision and recall by minimum score", curve); err != nil {
			return sec, err
		}
		sec.Bins = Reliability(preds, false)
		var raw []ReliabilityBin
		if s.Calibration != nil && s.Calibration.Calibrated {
			raw = Reliability(preds, true)
		}
		if sec.Reliability, err = reliabilityChart(s.System+": reliability", sec.Bins, raw); err != nil {
			return sec, err
		}
	}
	if e, x := s.Evidence, s.CodiEspX; e != nil && x != nil {
		groups := []prfSeries{
			{Label: "exact span", P: e.Exact.Precision, R: e.Exact.Recall, F1: e.Exact.F1},
			{Label: "token overlap", P: e.Token.Precision, R: e.Token.Recall, F1: e.Token.F1},
			{Label: "CodiEsp-X", P: x.Precision, R: x.Recall, F1: x.F1},
		}
		if sec.Evidence, err = prfChart(fmt.Sprintf("%s: evidence of the %d correct codes with gold evidence", s.System, e.Codes), "", groups); err != nil {
			return sec, err
		}
	}
	sec.FalsePos = worstFalsePositives(docs, sel, chapter, worst)
	sec.FalseNeg = worstFalseNegatives(docs, sel, chapter, worst)
	sec.HasRejected = slices.ContainsFunc(docs, func(d DocResult) bool { return len(d.Rejected) > 0 })
	return sec, nil
}

func seriesOf(gs []GroupCI, label func(string) string) []prfSeries {
	out := make([]prfSeries, len(gs))
	for i, g := range gs {
		out[i] = prfSeries{Label: label(g.Group), P: g.Precision, R: g.Recall, F1: g.F1,
			PI: g.PrecisionCI, RI: g.RecallCI, F1I: g.F1CI, HasCI: g.HasCI}
	}
	return out
}

// shortChapter labels a chapter on a chart axis by its number ("CM 4",
// "PCS B"); the table beside it has the titles.
func shortChapter(g string) string {
	n := 0
	for i, c := range g {
		if c == ' ' {
			n++
			if n == 2 {
				return g[:i]
			}
		}
	}
	return g
}

// reportFuncs are the functions of the report templates.
func reportFuncs() template.FuncMap {
	return template.FuncMap{
		"f3":   func(v float64) string { return fmt.Sprintf("%.3f", v) },
		"ci":   func(m map[string]Interval, name string) string { return ci(m, name) },
		"date": func(r *Report) string { return r.Meta.Started.Format("2006-01-02 15:04:05Z") },
		"join": joinSystems,
		"add":  func(a, b int) int { return a + b },
		"prfCI": func(g GroupCI, v float64, i Interval) template.HTML {
			if !g.HasCI {
				return template.HTML(fmt.Sprintf("%.3f", v))
			}
			return template.HTML(fmt.Sprintf(`%.3f <span class="ci">%.3f–%.3f</span>`, v, i.Low, i.High))
		},
	}
}

// reportStyle is shared by the run and comparison reports.
const reportStyle = `<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0 auto;max-width:1200px;padding:1.5em;color:#1b1b1b;background:#fff}
h1{font-size:1.6em;margin:.2em 0}h2{border-bottom:2px solid #0072b2;padding-bottom:.2em;margin-top:2em}h3{margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #d0d0d0;padding:.25em .55em;vertical-align:top}
th{background:#eef4f9;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.ci{color:#666;font-size:.85em}.meta li{margin:.1em 0}.muted{color:#666}
svg.chart{max-width:100%;height:auto;display:block;margin:.6em 0;background:#fff}
.charts{display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start}.charts>div{flex:1 1 440px;min-width:0}
details{margin:.1em 0}summary{cursor:pointer;color:#0072b2}ol.trail{margin:.2em 0 .2em 1.2em;padding:0;font-size:.9em}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace}.sig{font-weight:bold;color:#005a8c}
.pos{color:#007a56}.neg{color:#b34700}
</style>`

// reportTemplate returns the template of the run report.
func reportTemplate() *template.Template {
	return template.Must(template.New("report").Funcs(reportFuncs()).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation: {{.R.Meta.Dataset}} {{.R.Meta.Split}}, coder {{.R.Meta.Coder}}</title>
` + reportStyle + `
</head><body>
<h1>Evaluation: {{.R.Meta.Dataset}} {{.R.Meta.Split}}{{with .R.Meta.Language}} ({{.}}){{end}}, coder {{.R.Meta.Coder}}</h1>
<ul class="meta">
<li>Scored split: <b>{{.R.Meta.Split}}</b>, {{.R.Meta.Documents}} documents; systems: {{join .R.Meta.Systems}}</li>
{{with .R.Meta.Release}}<li>Release: {{.}}</li>{{end}}
{{with .R.Meta.CodeForm}}<li>Codes compared in the dataset's form: {{.}}</li>{{end}}
<li>Started {{date .R}}{{if .R.Meta.Bootstrap}}; intervals: 95% percentile bootstrap over documents, {{.R.Meta.Bootstrap}} resamples, seed {{.R.Meta.Seed}}{{end}}</li>
{{range .Lines}}<li>{{.}}</li>{{end}}
<li>Cost: {{.Cost}}</li>
</ul>

<h2 id="summary">Summary</h2>
<table><tr><th>system</th><th>gold</th><th>predicted</th><th>micro-P</th><th>micro-R</th><th>micro-F1 (95% CI)</th><th>macro-F1</th><th>category micro-F1</th><th>MAP</th><th>ECE</th></tr>
{{range .R.Scores}}<tr><td>{{.System}}</td><td class="n">{{.GoldCodes}}</td><td class="n">{{.PredictedCodes}}</td>
<td class="n">{{f3 .Micro.Precision}}</td><td class="n">{{f3 .Micro.Recall}}</td><td class="n"><b>{{f3 .Micro.F1}}</b> <span class="ci">{{ci .CI "micro_f1"}}</span></td>
<td class="n">{{f3 .Macro.F1}}</td><td class="n">{{f3 .CategoryMicro.F1}}</td><td class="n">{{f3 .MAP}}</td>
<td class="n">{{with .Calibration}}{{if .Calibrated}}{{f3 .RawECE}} → {{f3 .ECE}}{{else}}{{f3 .ECE}}{{end}}{{else}}–{{end}}</td></tr>
{{end}}</table>
<p class="muted">ECE: expected calibration error over 10 equal-width score bins{{if .R.Meta.Calibration}}, the coder's own scores → calibrated{{end}}.</p>

{{range .Systems}}{{$s := .Scores}}
<h2 id="sys-{{$s.System}}">{{$s.System}}</h2>

<h3>By chapter</h3>
{{.ChapterChart}}
<table><tr><th>chapter</th><th>codes</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr>
{{range .Chapters}}<tr><td>{{.Group}}</td><td class="n">{{.Codes}}</td><td class="n">{{.TP}}</td><td class="n">{{.FP}}</td><td class="n">{{.FN}}</td>
<td class="n">{{prfCI . .Precision .PrecisionCI}}</td><td class="n">{{prfCI . .Recall .RecallCI}}</td><td class="n">{{prfCI . .F1 .F1CI}}</td></tr>
{{end}}</table>

<h3>By code frequency</h3>
<p>Codes grouped by the number of scored documents whose gold has them; predicted codes never in the gold count only as false positives.</p>
{{.BucketChart}}
<table><tr><th>gold frequency</th><th>codes</th><th>TP</th><th>FP</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th></tr>
{{range .Buckets}}<tr><td>{{.Group}}</td><td class="n">{{.Codes}}</td><td class="n">{{.TP}}</td><td class="n">{{.FP}}</td><td class="n">{{.FN}}</td>
<td class="n">{{prfCI . .Precision .PrecisionCI}}</td><td class="n">{{prfCI . .Recall .RecallCI}}</td><td class="n">{{prfCI . .F1 .F1CI}}</td></tr>
{{end}}</table>

{{if .Best}}
<h3>Scores: the minimum-score dial and calibration</h3>
<div class="charts"><div>{{.Curve}}
<p>Keeping the codes scored at least <b>{{printf "%.2f" .Best.Threshold}}</b> gives the best F1 on this split: {{f3 .Best.F1}} (precision {{f3 .Best.Precision}}, recall {{f3 .Best.Recall}}, {{.Best.Kept}} codes), against {{f3 .AllKept.F1}} keeping all {{.AllKept.Kept}}. Chosen on this split, it is optimistic here: choose on dev, confirm on test.</p></div>
<div>{{.Reliability}}
<table><tr><th>score bin</th><th>codes</th><th>mean score</th><th>precision</th></tr>
{{range .Bins}}{{if .Count}}<tr><td>{{printf "%.1f–%.1f" .Low .High}}</td><td class="n">{{.Count}}</td><td class="n">{{f3 .MeanScore}}</td><td class="n">{{f3 .Precision}}</td></tr>{{end}}
{{end}}</table></div></div>
{{end}}

{{if .Evidence}}<h3>Evidence overlap</h3>{{.Evidence}}{{else}}<h3>Evidence overlap</h3><p class="muted">No gold evidence spans for this run's text: evidence is not scored.</p>{{end}}

<h3>The false positives the coder was surest of</h3>
{{if .FalsePos}}<table><tr><th>#</th><th>document</th><th>code</th><th>score</th><th>chapter</th><th>evidence (bytes)</th><th>trail</th></tr>
{{range $i, $p := .FalsePos}}<tr><td class="n">{{add $i 1}}</td><td>{{$p.Document}}</td><td><code>{{$p.Prediction.Code}}</code></td>
<td class="n">{{f3 $p.Score}}{{if $p.Prediction.RawScore}} <span class="ci">raw {{f3 $p.Raw}}</span>{{end}}</td><td>{{$p.Chapter}}</td>
<td>{{range $p.Prediction.Evidence}}{{.Start}}–{{.End}} {{end}}</td>
<td>{{if $p.Prediction.Trail}}<details><summary>trail ({{len $p.Prediction.Trail}})</summary><ol class="trail">{{range $p.Prediction.Trail}}<li><b>{{.Kind}}</b>: {{.Detail}}</li>{{end}}</ol></details>{{else}}<span class="muted">no trail in the run file</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None.</p>{{end}}

<h3>The gold codes missed most often</h3>
{{if not .HasRejected}}<p class="muted">The run file records no codes the coder considered and rejected: the trail of a miss is not known.</p>{{end}}
{{if .FalseNeg}}<table><tr><th>code</th><th>missed</th><th>gold</th><th>chapter</th><th>documents</th><th>the coder considered it and rejected it because</th></tr>
{{range .FalseNeg}}<tr><td><code>{{.Code}}</code></td><td class="n">{{.Missed}}</td><td class="n">{{.Gold}}</td><td>{{.Chapter}}</td><td>{{range .Documents}}{{.}}<br>{{end}}</td>
<td>{{range .Rejected}}<details><summary>{{.Document}}: {{.Reason}}</summary><ol class="trail">{{range .Trail}}<li><b>{{.Kind}}</b>: {{.Detail}}</li>{{end}}</ol></details>{{else}}<span class="muted">not among the codes it considered</span>{{end}}</td></tr>
{{end}}</table>{{else}}<p class="muted">None.</p>{{end}}
{{end}}

<h2 id="cost">Latency</h2>
{{.Latency}}
<p>{{.Cost}}</p>
</body></html>
`))
}
