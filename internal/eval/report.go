package eval

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the compact summary of a run: headline code metrics
// per system with confidence intervals, evidence metrics, the release
// check and cost.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s\nscored split: %s, %d documents\n", describe(r.Meta), r.Meta.Split, r.Meta.Documents)
	if r.Meta.CodeForm != "" {
		fmt.Fprintf(w, "codes compared in the dataset's form (%s)\n", r.Meta.CodeForm)
	}
	if n := r.Meta.SubdividedMatches; n > 0 {
		fmt.Fprintf(w, "%d predictions scored as the gold code the scoring release has subdivided since (R51 for R51.9)\n", n)
	}
	if r.Meta.Scope != "" {
		fmt.Fprintf(w, "diagnoses reported in the %s scope (--scope reportable: the code set of the encounter)\n", r.Meta.Scope)
	}
	for _, l := range r.runLines() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "system\tgold\tpred\tmicro-P\tmicro-R\tmicro-F1\t95% CI\tmacro-F1\tcat-F1\tEMR\tMAP\t")
	for _, s := range r.Scores {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n",
			s.System, s.GoldCodes, s.PredictedCodes, s.Micro.Precision, s.Micro.Recall, s.Micro.F1,
			ci(s.CI, MetricMicroF1), s.Macro.F1, s.CategoryMicro.F1, s.ExactMatch, s.MAP)
	}
	for _, s := range r.Unrestricted {
		fmt.Fprintf(tw, "%s unrestricted\t%d\t%d\t%.3f\t%.3f\t%.3f\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n",
			s.System, s.GoldCodes, s.PredictedCodes, s.Micro.Precision, s.Micro.Recall, s.Micro.F1,
			ci(s.CI, MetricMicroF1), s.Macro.F1, s.CategoryMicro.F1, s.ExactMatch, s.MAP)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if hasEvidence(r.Scores) {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "evidence\tcodes\texact-P\texact-R\texact-F1\ttoken-P\ttoken-R\ttoken-F1\tX-P\tX-R\tX-F1\t")
		for _, s := range r.Scores {
			if s.Evidence == nil {
				continue
			}
			e, x := s.Evidence, s.CodiEspX
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", s.System, e.Codes,
				e.Exact.Precision, e.Exact.Recall, e.Exact.F1, e.Token.Precision, e.Token.Recall, e.Token.F1,
				x.Precision, x.Recall, x.F1)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for _, s := range r.Scores {
		if p := s.PartialCredit; p != nil {
			fmt.Fprintf(w, "%s: %s\n", s.System, partialLine(*p))
		}
	}
	for _, s := range r.Scores {
		if s.Release != nil {
			fmt.Fprintf(w, "%s: %s\n", s.System, releaseLine(s.Release, r.Meta.Release))
		}
	}
	for _, s := range r.Scores {
		if s.Calibration != nil {
			fmt.Fprintf(w, "%s: %s\n", s.System, calibrationLine(*s.Calibration))
		}
	}
	_, err := fmt.Fprintf(w, "cost: %s\n", costLine(r.Cost))
	return err
}

func hasEvidence(ss []Scores) bool {
	return slices.ContainsFunc(ss, func(s Scores) bool { return s.Evidence != nil })
}

func ci(m map[string]Interval, name string) string {
	iv, ok := m[name]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f-%.3f", iv.Low, iv.High)
}

func releaseLine(rc *ReleaseCheck, release string) string {
	if release == "" {
		release = "the active release"
	}
	return fmt.Sprintf("%d of %d gold codes (%.1f%%) are not in %s; recall ceiling %.3f",
		rc.Unknown, rc.Gold, 100*ratio(rc.Unknown, rc.Gold), release, rc.RecallCeiling)
}

func calibrationLine(c CalibrationError) string {
	if c.Calibrated {
		return fmt.Sprintf("expected calibration error (%d bins, %d predictions): %.3f raw, %.3f calibrated", c.Bins, c.Predictions, c.RawECE, c.ECE)
	}
	return fmt.Sprintf("expected calibration error (%d bins, %d predictions): %.3f", c.Bins, c.Predictions, c.ECE)
}

func partialLine(p PRF) string {
	return fmt.Sprintf("complete codes credited for the partial gold code they begin: micro-P %.3f, micro-R %.3f, micro-F1 %.3f",
		p.Precision, p.Recall, p.F1)
}

func costLine(c Cost) string {
	s := fmt.Sprintf("%.1f notes/s, p50 %s, p95 %s per note, peak memory %.0f MiB, wall %.1fs",
		c.NotesPerSecond, ms(c.P50), ms(c.P95), float64(c.PeakMemory)/(1<<20), c.Seconds)
	if c.CallsPerNote > 0 {
		s += fmt.Sprintf(", %.1f calls, %.0f input (%.0f cached) and %.0f output tokens per note",
			c.CallsPerNote, c.InputTokensPerNote, c.CachedTokensPerNote, c.OutputTokensPerNote)
	}
	if c.Usage.Cost > 0 {
		s += fmt.Sprintf(", cost %.4f in all", c.Usage.Cost)
	}
	return s
}

func ms(sec float64) string { return fmt.Sprintf("%.2fms", sec*1000) }

// MarkdownOptions control the Markdown report.
type MarkdownOptions struct {
	// TopCodes limits the per-code and per-category tables of each system
	// to the rows with the most gold occurrences; 0 means 50.
	TopCodes int
}

// WriteMarkdown writes a Markdown report of the run: the summary with
// confidence intervals for every metric, per-chapter tables and the most
// frequent codes. The run file has the full per-code table.
func (r *Report) WriteMarkdown(w io.Writer, opt MarkdownOptions) error {
	top := opt.TopCodes
	if top <= 0 {
		top = 50
	}
	var b strings.Builder
	m := r.Meta
	fmt.Fprintf(&b, "# Evaluation: %s %s", m.Dataset, m.Split)
	if m.Language != "" {
		fmt.Fprintf(&b, " (%s)", m.Language)
	}
	fmt.Fprintf(&b, ", coder %s\n\n", m.Coder)
	fmt.Fprintf(&b, "- Scored split: **%s**, %d documents\n", m.Split, m.Documents)
	fmt.Fprintf(&b, "- Systems: %s\n", joinSystems(m.Systems))
	fmt.Fprintf(&b, "- Started: %s\n", m.Started.Format("2006-01-02 15:04:05Z"))
	if m.Bootstrap > 0 {
		fmt.Fprintf(&b, "- Confidence intervals: 95%% percentile bootstrap over documents, %d resamples, seed %d\n", m.Bootstrap, m.Seed)
	}
	fmt.Fprintf(&b, "- Cost: %s\n", costLine(r.Cost))
	for _, l := range r.runLines() {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	for _, s := range r.Scores {
		if s.Release != nil {
			fmt.Fprintf(&b, "- %s: %s\n", s.System, releaseLine(s.Release, m.Release))
		}
		if s.PartialCredit != nil {
			fmt.Fprintf(&b, "- %s: %s\n", s.System, partialLine(*s.PartialCredit))
		}
		if s.Calibration != nil {
			fmt.Fprintf(&b, "- %s: %s\n", s.System, calibrationLine(*s.Calibration))
		}
	}
	b.WriteString("\n## Summary")
	if m.Restriction != nil {
		b.WriteString(" (restricted)")
	}
	b.WriteString("\n\n| system | metric | value | 95% CI |\n|---|---|---:|---:|\n")
	for _, s := range r.Scores {
		vals := map[string]float64{
			MetricMicroP: s.Micro.Precision, MetricMicroR: s.Micro.Recall, MetricMicroF1: s.Micro.F1,
			MetricMacroF1: s.Macro.F1, MetricCatMicroF1: s.CategoryMicro.F1, MetricCatMacroF1: s.CategoryMacro.F1,
			MetricExactMatch: s.ExactMatch, MetricMAP: s.MAP,
		}
		if s.Evidence != nil {
			vals[MetricEvExactF1] = s.Evidence.Exact.F1
			vals[MetricEvTokenF1] = s.Evidence.Token.F1
			vals[MetricCodiEspXF1] = s.CodiEspX.F1
		}
		for _, name := range Metrics {
			v, ok := vals[name]
			if !ok {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %.4f | %s |\n", s.System, name, v, ci(s.CI, name))
		}
	}
	b.WriteString("\n## Counts\n\n| system | gold | predicted | TP | FP | FN | macro codes | macro-P | macro-R |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Scores {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d | %.4f | %.4f |\n", s.System, s.GoldCodes, s.PredictedCodes,
			s.Micro.TP, s.Micro.FP, s.Micro.FN, s.MacroCodes, s.Macro.Precision, s.Macro.Recall)
	}
	writeUnrestricted(&b, r.Unrestricted)
	if hasEvidence(r.Scores) {
		b.WriteString("\n## Evidence\n\nOver the correctly predicted codes that have gold evidence.\n\n")
		b.WriteString("| system | codes | exact P | exact R | exact F1 | token P | token R | token F1 | CodiEsp-X P | CodiEsp-X R | CodiEsp-X F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, s := range r.Scores {
			if e, x := s.Evidence, s.CodiEspX; e != nil {
				fmt.Fprintf(&b, "| %s | %d | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f |\n", s.System, e.Codes,
					e.Exact.Precision, e.Exact.Recall, e.Exact.F1, e.Token.Precision, e.Token.Recall, e.Token.F1,
					x.Precision, x.Recall, x.F1)
			}
		}
	}
	for _, s := range r.Scores {
		if s.System == All {
			continue
		}
		fmt.Fprintf(&b, "\n## %s by chapter\n\n| chapter | codes | TP | FP | FN | P | R | F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", s.System)
		for _, g := range s.PerChapter {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", g.Group, g.Codes, g.TP, g.FP, g.FN, g.Precision, g.Recall, g.F1)
		}
		writeTop(&b, s.System+": the %d most frequent gold codes", "code", s.PerCode, top)
		writeTop(&b, s.System+": the %d most frequent gold categories", "category", s.PerCategory, top)
		if s.Release != nil && len(s.Release.UnknownCodes) > 0 {
			fmt.Fprintf(&b, "\nGold codes not in %s: %s\n", orDefault(m.Release, "the active release"), strings.Join(s.Release.UnknownCodes, ", "))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeTop writes the rows with the most gold occurrences as a table.
func writeTop(b *strings.Builder, title, what string, rows []CodeScore, top int) {
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(x, y CodeScore) int { return (y.TP + y.FN) - (x.TP + x.FN) })
	if len(rows) > top {
		rows = rows[:top]
	}
	fmt.Fprintf(b, "\n## "+title+"\n\n| %s | gold | TP | FP | FN | P | R | F1 |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", len(rows), what)
	for _, c := range rows {
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", c.Code, c.TP+c.FN, c.TP, c.FP, c.FN, c.Precision, c.Recall, c.F1)
	}
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
