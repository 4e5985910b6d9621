package cli

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medcode-dev/medcode/internal/calibrate"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/eval"
)

// addMinScoreFlag registers --min-score, the dial every command that codes
// shares.
func addMinScoreFlag(fs *pflag.FlagSet, p *float64) {
	fs.Float64Var(p, "min-score", 0, "drop codes scored below this, in [0, 1]; the scores are calibrated first when the data directory has a calibration table for the coder (medcode eval calibrate)")
}

func checkMinScore(m float64) error {
	if m < 0 || m > 1 {
		return fmt.Errorf("--min-score %g: want a score in [0, 1]", m)
	}
	return nil
}

// calibrated wraps r with the data directory's calibration table, when it
// was fitted for the coder named, then with the minimum score. It returns
// the table applied, if any. Without a table and a minimum score r is
// returned as it is, so that its results are exactly the coder's.
func (a *app) calibrated(r coding.Reasoner, coder string, minScore float64) (coding.Reasoner, *calibrate.Table, error) {
	if err := checkMinScore(minScore); err != nil {
		return nil, nil, err
	}
	t, err := calibrate.Load(a.dataDir)
	if err != nil {
		return nil, nil, err
	}
	if t != nil && !t.AppliesTo(coder) {
		t = nil
	}
	return calibrate.Wrap(r, t, minScore), t, nil
}

// unwrap returns the reasoner inside any calibration wrapper.
func unwrap(r coding.Reasoner) coding.Reasoner {
	for {
		w, ok := r.(interface{ Unwrap() coding.Reasoner })
		if !ok {
			return r
		}
		r = w.Unwrap()
	}
}

func newEvalCalibrateCmd(a *app) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "calibrate RUN.json",
		Short: "Fit a calibration of the coder's scores on a train or dev run and keep it in the data directory",
		Long: `Calibrate fits, for each code system of a run file, an isotonic regression
of whether a predicted code was right on the coder's score, and writes the
table to calibration.json in the data directory. From then on the coder the
run was made with (offline, or the same LLM) reports calibrated scores in
"medcode code", "medcode eval" and the service, keeping its own score in
rawConfidence; --min-score reads the calibrated scores. "medcode eval"
reports the expected calibration error before and after.

Fit on a train or dev run, never on test, and score the table on another
split. A restricted run is refused: its precision is not the coder's. A
system with fewer than 30 predictions is left uncalibrated. Delete the
file to go back to the coder's own scores.`,
		Example: `  medcode eval codiesp --path .../final_dataset_v4_to_publish --split train --lang en --out train.json
  medcode eval calibrate train.json
  medcode eval codiesp --path .../final_dataset_v4_to_publish --split dev --lang en`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := eval.OpenReport(args[0])
			if err != nil {
				return err
			}
			t, skipped, err := fitTable(rep, time.Now().UTC())
			if err != nil {
				return fmt.Errorf("eval calibrate %s: %w", args[0], err)
			}
			dir := a.dataDir
			if out != "" {
				dir = out
			}
			if err := calibrate.Save(dir, t); err != nil {
				return err
			}
			for _, sys := range slices.Sorted(maps.Keys(t.Systems)) {
				c := t.Systems[sys]
				fmt.Fprintf(a.stdout, "%s: %d predictions, %d knots\n", sys, c.Predictions, len(c.Scores))
				for i := range c.Scores {
					fmt.Fprintf(a.stdout, "  %.3f -> %.3f\n", c.Scores[i], c.Values[i])
				}
			}
			for _, s := range skipped {
				fmt.Fprintf(a.stdout, "%s: left uncalibrated\n", s)
			}
			fmt.Fprintf(a.stdout, "%s for coder %s written to %s\n", t.Describe(), t.Coder, filepath.Join(dir, calibrate.FileName))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder to write calibration.json to (default: the data directory)")
	return cmd
}

// fitTable fits a curve per system of the run's scored predictions, on
// the coder's own scores; skipped names the systems with too few
// predictions to fit.
func fitTable(rep *eval.Report, now time.Time) (t *calibrate.Table, skipped []string, err error) {
	m := rep.Meta
	if m.Split == "test" {
		return nil, nil, fmt.Errorf("a test run: fit on train or dev and keep test for the final score")
	}
	if m.Restriction != nil {
		return nil, nil, fmt.Errorf("a restricted run (%s): its precision is not the coder's; fit on an unrestricted run", m.Restriction.Source)
	}
	points := make(map[codesys.System][]calibrate.Point)
	for _, p := range eval.ScoredPredictions(rep.Documents, m.Systems) {
		points[p.System] = append(points[p.System], calibrate.Point{Score: p.Raw, Correct: p.Correct})
	}
	src := m.Dataset + " " + m.Split
	if m.Language != "" {
		src += " (" + m.Language + ")"
	}
	t = &calibrate.Table{Format: calibrate.FormatVersion, Method: calibrate.MethodIsotonic, Coder: m.Coder,
		Source: src, Fitted: now, Systems: map[codesys.System]*calibrate.Curve{}}
	for _, sys := range slices.Sorted(maps.Keys(points)) {
		ps := points[sys]
		if len(ps) < calibrate.MinPoints {
			skipped = append(skipped, fmt.Sprintf("%s (%d predictions, fewer than %d)", sys, len(ps), calibrate.MinPoints))
			continue
		}
		c, err := calibrate.Fit(ps)
		if err != nil {
			return nil, nil, err
		}
		t.Systems[sys] = c
	}
	if len(t.Systems) == 0 {
		return nil, nil, fmt.Errorf("no system has %d predictions to fit on", calibrate.MinPoints)
	}
	return t, skipped, nil
}
