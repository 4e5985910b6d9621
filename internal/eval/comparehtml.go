package eval

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// GroupDelta compares one chapter (or PCS section) of one system between
// two runs: micro precision, recall and F1 of each, the differences B - A
// and their two-sided paired bootstrap p-values, as Compare computes them
// for the headline metrics.
type GroupDelta struct {
	System string `json:"system"`
	Group  string `json:"group"`
	A      PRF    `json:"a"`
	B      PRF    `json:"b"`
	// DeltaP, DeltaR and DeltaF1 are B - A; PP, PR and PF1 their p-values.
	DeltaP  float64 `json:"deltaP"`
	DeltaR  float64 `json:"deltaR"`
	DeltaF1 float64 `json:"deltaF1"`
	PP      float64 `json:"pP"`
	PR      float64 `json:"pR"`
	PF1     float64 `json:"pF1"`
}

// CompareChapters compares runs a and b chapter by chapter for each scored
// system, resampling documents jointly (iterations resamples, seeded). The
// runs must be comparable as Compare requires; call Compare first.
func CompareChapters(a, b *Report, iterations int, seed uint64) ([]GroupDelta, error) {
	if iterations <= 0 {
		return nil, fmt.Errorf("compare chapters: iterations must be positive, got %d", iterations)
	}
	bDocs, err := pairDocuments(a, b)
	if err != nil {
		return nil, err
	}
	systems := a.Meta.Systems
	if len(systems) == 0 {
		systems = goldSystems(a.Documents)
	}
	var out []GroupDelta
	for _, sys := range systems {
		sel := []codesys.System{sys}
		chapter := mergedChapters(a, b, string(sys))
		var g groupTally
		ca, cb := g.count(a.Documents, sel, chapter, nil), g.count(bDocs, sel, chapter, nil)
		names := g.names
		sum := func(per []map[int][3]int, idx []int) []PRF {
			tot := g.sum(per, idx)
			prf := make([]PRF, len(names))
			for j, c := range tot {
				prf[j] = NewPRF(c[0], c[1], c[2])
			}
			return prf
		}
		n := len(a.Documents)
		all := allIndexes(n)
		pa, pb := sum(ca, all), sum(cb, all)
		deltas := func(x, y PRF) [3]float64 {
			return [3]float64{y.Precision - x.Precision, y.Recall - x.Recall, y.F1 - x.F1}
		}
		obs := make([][3]float64, len(names))
		far := make([][3]int, len(names))
		for j := range names {
			obs[j] = deltas(pa[j], pb[j])
		}
		rng := rand.New(rand.NewPCG(seed, 0x6368617074657273)) // "chapters"
		idx := make([]int, n)
		for range iterations {
			for i := range idx {
				idx[i] = rng.IntN(n)
			}
			ra, rb := sum(ca, idx), sum(cb, idx)
			for j := range names {
				d := deltas(ra[j], rb[j])
				for m := range 3 {
					if math.Abs(d[m]-obs[j][m]) >= math.Abs(obs[j][m]) {
						far[j][m]++
					}
				}
			}
		}
		p := func(count int) float64 { return float64(count+1) / float64(iterations+1) }
		var rows []GroupDelta
		for j, g := range names {
			rows = append(rows, GroupDelta{System: string(sys), Group: g, A: pa[j], B: pb[j],
				DeltaP: obs[j][0], DeltaR: obs[j][1], DeltaF1: obs[j][2],
				PP: p(far[j][0]), PR: p(far[j][1]), PF1: p(far[j][2])})
		}
		slices.SortStableFunc(rows, func(x, y GroupDelta) int { return chapterOrder(x.Group, y.Group) })
		out = append(out, rows...)
	}
	return out, nil
}

// pairDocuments returns b's documents in the order of a's.
func pairDocuments(a, b *Report) ([]DocResult, error) {
	if len(a.Documents) != len(b.Documents) {
		return nil, fmt.Errorf("compare runs: %d documents in A, %d in B", len(a.Documents), len(b.Documents))
	}
	byID := make(map[string]int, len(b.Documents))
	for i, d := range b.Documents {
		byID[d.ID] = i
	}
	out := make([]DocResult, len(a.Documents))
	for i, d := range a.Documents {
		j, ok := byID[d.ID]
		if !ok {
			return nil, fmt.Errorf("compare runs: document %s of A is not in B", d.ID)
		}
		out[i] = b.Documents[j]
	}
	return out, nil
}

// mergedChapters returns the chapter of a code of system as either run's
// per-code table records it.
func mergedChapters(a, b *Report, system string) func(key) string {
	var fs []func(key) string
	for _, r := range []*Report{a, b} {
		for i := range r.Scores {
			if r.Scores[i].System == system {
				fs = append(fs, chapterFunc(&r.Scores[i]))
			}
		}
	}
	return func(k key) string {
		fallback := Chapter(nil, k.sys, k.code)
		for _, f := range fs {
			if g := f(k); g != fallback {
				return g
			}
		}
		return fallback
	}
}

type compareSystem struct {
	System   string
	Metrics  []CompareRow
	Chart    template.HTML
	Chapters []GroupDelta
	ChChart  template.HTML
}

// WriteHTML writes the comparison as one self-contained HTML page, as
// Report.WriteHTML does for a run: per system the differences of every
// metric and of each chapter's F1 with their paired bootstrap p-values.
func (c *Comparison) WriteHTML(w io.Writer, chapters []GroupDelta) error {
	var systems []compareSystem
	bySys := map[string]int{}
	for _, r := range c.Rows {
		i, ok := bySys[r.System]
		if !ok {
			i = len(systems)
			bySys[r.System] = i
			systems = append(systems, compareSystem{System: r.System})
		}
		systems[i].Metrics = append(systems[i].Metrics, r)
	}
	for _, g := range chapters {
		if i, ok := bySys[g.System]; ok {
			systems[i].Chapters = append(systems[i].Chapters, g)
		}
	}
	for i := range systems {
		s := &systems[i]
		var labels []string
		var d, p []float64
		for _, r := range s.Metrics {
			labels, d, p = append(labels, r.Metric), append(d, r.Delta), append(p, r.P)
		}
		var err error
		if s.Chart, err = deltaChart(s.System+": metrics, B - A", labels, d, p); err != nil {
			return err
		}
		labels, d, p = nil, nil, nil
		for _, g := range s.Chapters {
			labels, d, p = append(labels, shortChapter(g.Group)), append(d, g.DeltaF1), append(p, g.PF1)
		}
		if s.ChChart, err = deltaChart(s.System+": F1 by chapter, B - A", labels, d, p); err != nil {
			return err
		}
	}
	data := struct {
		C       *Comparison
		A, B    string
		Systems []compareSystem
	}{c, describe(c.A), describe(c.B), systems}
	if err := compareTemplate().Execute(w, data); err != nil {
		return fmt.Errorf("write HTML comparison: %w", err)
	}
	return nil
}

// compareTemplate returns the template of the comparison report.
func compareTemplate() *template.Template {
	return template.Must(template.New("compare").Funcs(reportFuncs()).Funcs(template.FuncMap{
		"d": func(v float64) template.HTML {
			cls := "pos"
			if v < 0 {
				cls = "neg"
			}
			return template.HTML(fmt.Sprintf(`<span class="%s">%+.4f</span>`, cls, v))
		},
		"p": func(v float64) template.HTML {
			if v < 0.05 {
				return template.HTML(fmt.Sprintf(`<span class="sig">%.4f</span>`, v))
			}
			return template.HTML(fmt.Sprintf("%.4f", v))
		},
	}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comparison: {{.C.A.Dataset}} {{.C.A.Split}}</title>
` + reportStyle + `
</head><body>
<h1>Comparison: {{.C.A.Dataset}} {{.C.A.Split}}</h1>
<ul class="meta">
<li>A: {{.A}}</li>
<li>B: {{.B}}</li>
<li>{{.C.Documents}} documents, paired bootstrap with {{.C.Iterations}} resamples: documents resampled jointly; the p-value is two-sided, the share of resamples whose difference lies at least as far from the observed one as the observed one lies from zero. <span class="sig">Bold</span>: p &lt; 0.05.</li>
</ul>
{{range .Systems}}
<h2>{{.System}}</h2>
<div class="charts"><div>{{.Chart}}</div>
<div><table><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th><th>p</th></tr>
{{range .Metrics}}<tr><td>{{.Metric}}</td><td class="n">{{printf "%.4f" .A}}</td><td class="n">{{printf "%.4f" .B}}</td><td class="n">{{d .Delta}}</td><td class="n">{{p .P}}</td></tr>
{{end}}</table></div></div>
{{if .Chapters}}<h3>By chapter</h3>
{{.ChChart}}
<table><tr><th>chapter</th><th>A F1</th><th>B F1</th><th>F1 B − A</th><th>p</th><th>precision B − A</th><th>p</th><th>recall B − A</th><th>p</th></tr>
{{range .Chapters}}<tr><td>{{.Group}}</td><td class="n">{{f3 .A.F1}}</td><td class="n">{{f3 .B.F1}}</td><td class="n">{{d .DeltaF1}}</td><td class="n">{{p .PF1}}</td>
<td class="n">{{d .DeltaP}}</td><td class="n">{{p .PP}}</td><td class="n">{{d .DeltaR}}</td><td class="n">{{p .PR}}</td></tr>
{{end}}</table>{{end}}
{{end}}
</body></html>
`))
}
