package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/agent"
	"github.com/medcode-dev/medcode/internal/baseline"
	"github.com/medcode-dev/medcode/internal/calibrate"
	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/eval/aci"
	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/eval/jsonl"
	"github.com/medcode-dev/medcode/internal/eval/mdace"
	"github.com/medcode-dev/medcode/internal/note/assert"
)

func newEvalCmd(a *app) *cobra.Command {
	var (
		path, split, lang, notes, setting, scope string
		coderName, version, out, report          string
		restrict, text                           string
		into, level                              string
		labels                                   []string
		systems                                  []string
		categories                               []string
		bootstrap                                int
		seed                                     uint64
		minScore                                 float64
		exactForm                                bool
		llmFlags                                 *agent.Flags
	)
	cmd := &cobra.Command{
		Use:   "eval DATASET",
		Short: "Score a coder on a benchmark (codiesp, mdace, aci) or your own JSONL data",
		Long: `Eval runs a coder over an evaluation set and scores it with the metrics
the field uses: micro and macro precision, recall and F1 at code and category
level, exact match, MAP, evidence span overlap and CodiEsp-X, with bootstrap
confidence intervals, cost per note, and the gold codes the active release
lacks. It writes every prediction, gold code and metric to a JSON run file
and prints a summary; "medcode eval compare" compares two run files.

Datasets: codiesp (--path to final_dataset_v4_to_publish, --lang es|en),
mdace (--path to the MDACE folder, --notes to your MIMIC-III NOTEEVENTS.csv),
aci (--path to ACI-Bench's challenge_data folder, --labels to the ICD-10-CM
label file; the clinical note of each encounter is coded, outpatient),
jsonl (--path to a file in the format of docs/eval.md).

--restrict gold (or a file of codes) drops the predictions outside that label
space before scoring, the "restricted code system" protocol of published
ACI-Bench and MDACE results; the summary then shows the restricted and the
unrestricted scores side by side.

Tune only on train and dev splits; the split scored is printed.`,
		Example: `  medcode eval codiesp --path ../shared/data/eval/codiesp/final_dataset_v4_to_publish --split dev --lang en
  medcode eval mdace --path MDACE --notes NOTEEVENTS.csv.gz --split dev
  medcode eval aci --path ../shared/data/eval/aci-bench/challenge_data \
      --labels ../shared/data/eval/aci-bench-icd10cm/amazon-icd10cm-train-valid.jsonl.gz --restrict gold
  medcode eval jsonl --path mine.jsonl --out mine.json --report md
  medcode eval compare base.json new.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			dataset := args[0]
			if path == "" {
				return fmt.Errorf("eval %s: --path is required", dataset)
			}
			var docs []eval.Document
			var excluded []eval.Exclusion
			var err error
			coderSetting := coding.Inpatient
			switch dataset {
			case "codiesp":
				docs, err = codiesp.Load(path, split, lang)
			case "mdace":
				setting = cmp.Or(setting, "Inpatient")
				if strings.EqualFold(setting, "Profee") {
					coderSetting = coding.Outpatient
				}
				docs, err = mdace.Load(ctx, path, notes, mdace.Options{Setting: setting, Split: split, DocOptions: mdace.DocOptions{Categories: categories}})
				lang = "en"
			case "aci":
				if len(labels) == 0 {
					return fmt.Errorf("eval aci: --labels is required")
				}
				coderSetting = coding.Outpatient
				text = cmp.Or(text, aci.Note)
				var cov *aci.Coverage
				docs, cov, err = aci.Load(ctx, path, labels, aci.Options{Split: split, Text: text})
				if cov != nil {
					excluded = cov.Exclusions()
				}
				lang = "en"
			case "jsonl":
				docs, err = jsonl.Open(path)
				if !cmd.Flags().Changed("split") {
					split = "all"
				}
				if !cmd.Flags().Changed("lang") {
					lang = ""
				}
			default:
				return fmt.Errorf("eval: unknown dataset %q (want codiesp, mdace, aci or jsonl)", dataset)
			}
			if err != nil {
				return err
			}
			if text != "" && dataset != "aci" {
				return fmt.Errorf("eval %s: --text applies to aci only", dataset)
			}
			if dataset != "mdace" && setting != "" {
				if coderSetting, err = coding.ParseSetting(strings.ToLower(setting)); err != nil {
					return fmt.Errorf("eval %s: %w", dataset, err)
				}
			}
			coderScope, err := coding.ParseScope(scope)
			if err != nil {
				return fmt.Errorf("eval %s: --scope: %w", dataset, err)
			}
			mentionsCoder := coderName == "offline" && into == ""
			switch {
			case scope == "" && mentionsCoder:
				coderScope = datasetScope(dataset)
			case coderScope != coding.Reportable && !mentionsCoder:
				return fmt.Errorf("eval %s: --scope %s: only the offline ICD-10-CM coder reports that scope", dataset, coderScope)
			}
			var space *eval.LabelSpace
			switch restrict {
			case "":
			case eval.RestrictGold:
				space = eval.GoldSpace()
			default:
				if space, err = eval.OpenLabelSpace(restrict); err != nil {
					return fmt.Errorf("eval %s: --restrict: %w", dataset, err)
				}
			}
			lvl, err := eval.ParseLevel(level)
			if err != nil {
				return fmt.Errorf("eval %s: --level: %w", dataset, err)
			}
			var sys []codesys.System
			for _, s := range systems {
				p, err := codesys.ParseSystem(s)
				if err != nil {
					return err
				}
				sys = append(sys, p)
			}
			rel, err := a.openRelease(ctx, codesys.ICD10CM, version, codesys.PartTabular)
			if err != nil {
				return err
			}
			var coder eval.Coder
			var scoreAs map[codesys.System]codesys.System
			var calib *calibrate.Table
			if into != "" {
				if coderName != "offline" {
					return fmt.Errorf("eval %s: --system applies to the offline coder only", dataset)
				}
				c, as, err := a.evalClassCoder(ctx, into, lvl)
				if err != nil {
					return fmt.Errorf("eval %s: %w", dataset, err)
				}
				if c != nil {
					coderName = "offline:" + string(c.System())
					r, t, err := a.calibrated(c, coderName, minScore)
					if err != nil {
						return err
					}
					calib = t
					coder = eval.FromReasoner(r, coderSetting, coderScope, nil)
					scoreAs = map[codesys.System]codesys.System{c.System(): as}
					if len(sys) == 0 {
						sys = []codesys.System{as}
					}
				}
			}
			switch coderName {
			case "offline":
				c, err := a.offlineCoder(ctx, rel.Version)
				if err != nil {
					return err
				}
				r, t, err := a.calibrated(c, coderName, minScore)
				if err != nil {
					return err
				}
				calib = t
				coder = eval.FromReasoner(r, coderSetting, coderScope, nil)
			case "baseline":
				if minScore > 0 {
					return fmt.Errorf("eval %s: --min-score: the baseline gives no scores", dataset)
				}
				coder = baseline.New(baseline.TabularTerms(rel.Tabular))
			case "llm":
				offline, err := a.llmOffline(ctx, llmFlags, rel.Version)
				if err != nil {
					return err
				}
				ag, err := a.newLLMReasoner(ctx, llmFlags, rel, offline)
				if err != nil {
					return fmt.Errorf("eval: %w", err)
				}
				coderName = "llm:" + ag.Config().Provider + ":" + ag.Config().Model + ":" + agent.PromptVersion
				r, t, err := a.calibrated(ag, coderName, minScore)
				if err != nil {
					return err
				}
				calib = t
				coder = eval.FromReasoner(r, coderSetting, coderScope, sys)
			default:
				if scoreAs == nil {
					return fmt.Errorf("eval: unknown coder %q (available: offline, baseline, llm)", coderName)
				}
			}
			if split == "test" {
				fmt.Fprintln(a.stderr, "note: scoring the test split; never tune on it")
			}
			opt := eval.Options{
				Dataset: dataset, Split: split, Language: lang, Coder: coderName,
				Systems: sys, ReleaseName: "ICD-10-CM " + rel.Version,
				ReleaseSystems: []codesys.System{codesys.ICD10CM}, Chapters: eval.NewChapters(rel.Tabular),
				Bootstrap: bootstrap, Seed: seed,
				Restrict: space, Setting: string(coderSetting), Text: text, Excluded: excluded,
				Scope: scopeName(coderScope),
				Level: lvl, ScoreAs: scoreAs, MinScore: minScore,
			}
			if calib != nil {
				opt.Calibration = calib.Describe()
			}
			cmKnown := releaseCatalog(rel)
			if dataset == "codiesp" && !exactForm {
				opt.Form, opt.FormName = codiesp.Form, codiesp.FormName
				cmKnown = formCatalog(rel)
			}
			if lvl == eval.LevelCategory {
				cmKnown = categoryCatalog(rel)
			}
			opt.Catalog = cmKnown
			if lvl != eval.LevelCategory {
				opt.Subdivided = func(sys codesys.System, code string) bool {
					return sys == codesys.ICD10CM && rel.Tabular.Node(code) != nil && !cmKnown.Known(sys, code)
				}
			}
			// The ICD-10-PCS release the offline coder codes procedures
			// with, so that the check is against the codes it can give.
			if in, err := a.pcsForCoder(); err == nil && in != nil {
				pcs, err := catalog.OpenInfo(ctx, in)
				if err != nil {
					return err
				}
				pcsKnown := pcsCatalog(pcs)
				opt.Catalog = eval.CatalogFunc(func(s codesys.System, code string) bool {
					if s == codesys.ICD10PCS {
						return pcsKnown.Known(s, code)
					}
					return cmKnown.Known(s, code)
				})
				opt.ReleaseName += ", ICD-10-PCS " + pcs.Version
				opt.ReleaseSystems = append(opt.ReleaseSystems, codesys.ICD10PCS)
			}
			if f, ok := a.stderr.(*os.File); ok {
				opt.Progress = eval.NewProgressBar(f, "eval "+dataset+" "+split).Update
			}
			rep, err := eval.Run(ctx, coder, docs, opt)
			if err != nil {
				return err
			}
			if out == "" {
				out = fmt.Sprintf("eval-%s-%s.json", dataset, split)
			}
			return writeRun(rep, out, report, a)
		},
	}
	cmd.Flags().StringVar(&path, "path", "", "dataset folder (codiesp, mdace, aci: challenge_data) or file (jsonl)")
	cmd.Flags().StringVar(&split, "split", "dev", "split to score: train, dev or test (aci also train+dev)")
	cmd.Flags().StringVar(&lang, "lang", "en", "codiesp text language: es (original, with evidence spans) or en (machine translation)")
	cmd.Flags().StringVar(&notes, "notes", "", "mdace: MIMIC-III NOTEEVENTS.csv or .csv.gz")
	cmd.Flags().StringVar(&scope, "scope", "", "the diagnoses the coder reports: reportable or mentions (default: the scope the dataset was annotated in, mentions for codiesp with the offline coder, else reportable)")
	cmd.Flags().StringVar(&setting, "setting", "", "mdace: Inpatient (default) or Profee; other datasets: the setting the coder codes in, inpatient or outpatient (default: outpatient for aci, else inpatient)")
	cmd.Flags().StringSliceVar(&labels, "labels", nil, "aci: ICD-10-CM label files (JSON lines, gzipped or not), joined to the encounters on encounter_id")
	cmd.Flags().StringVar(&text, "text", "", "aci: the text to code, note (the clinical note, default) or dialogue (the transcript)")
	cmd.Flags().StringVar(&restrict, "restrict", "", "drop predictions outside a label space before scoring: gold (the scored documents' gold codes) or a file of codes, one per line")
	cmd.Flags().BoolVar(&exactForm, "exact-form", false, "codiesp: compare codes exactly as coded, not in CodiEsp's form without the 7th character of injuries and external causes")
	cmd.Flags().StringSliceVar(&categories, "note-category", nil, "mdace: only notes of these categories (e.g. \"Discharge summary\")")
	cmd.Flags().StringVar(&coderName, "coder", "offline", "coder to evaluate: offline (the default reasoner), baseline or llm")
	cmd.Flags().StringVar(&coderName, "reasoner", "offline", "same as --coder")
	llmFlags = agent.RegisterFlags(cmd.Flags())
	cmd.Flags().StringVar(&version, "release", "", "ICD-10-CM release version (default: newest installed with a Tabular List or an order file)")
	cmd.Flags().StringSliceVar(&systems, "systems", nil, "systems to score (icd10cm, icd10pcs); default: all in the gold")
	cmd.Flags().StringVar(&into, "system", "", "offline coder: code diagnoses into this installed classification of ICD-10-CM's family instead (who-icd10, icd10uk), scored against the ICD-10-CM gold at --level category")
	cmd.Flags().StringVar(&level, "level", "code", "level codes are compared at: code, or category (the three-character categories of gold and predictions)")
	cmd.Flags().StringVar(&out, "out", "", "run file to write (default eval-DATASET-SPLIT.json)")
	cmd.Flags().StringVar(&report, "report", "", "also write a report beside the run file: md (Markdown) or html (one self-contained page with charts)")
	addMinScoreFlag(cmd.Flags(), &minScore)
	cmd.Flags().IntVar(&bootstrap, "bootstrap", 1000, "bootstrap resamples for confidence intervals (0: none)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "bootstrap seed")
	cmd.AddCommand(newEvalCompareCmd(a), newEvalAssertionsCmd(a), newEvalCalibrateCmd(a), newEvalReportCmd(a))
	return cmd
}

// releaseCatalog reports ICD-10-CM codes as known when the release has them
// as valid (reportable) codes.
func releaseCatalog(rel *codesys.Release) eval.Catalog {
	return eval.CatalogFunc(func(_ codesys.System, code string) bool {
		return rel.Tabular.Validate(code).Status == codesys.Valid
	})
}

// categoryCatalog reports an ICD-10-CM category as known when the
// release has it.
func categoryCatalog(rel *codesys.Release) eval.Catalog {
	return eval.CatalogFunc(func(_ codesys.System, code string) bool {
		return rel.Tabular.Node(code) != nil
	})
}

// evalClassCoder returns the coder of the classification named into and
// the classification of the gold its codes are scored as: ICD-10-CM for a
// classification of its family, compared at category level. It returns
// nil for ICD-10-CM itself, which the default coder codes.
func (a *app) evalClassCoder(ctx context.Context, into string, lvl eval.Level) (*coder.ClassCoder, codesys.System, error) {
	sys, err := codesys.SystemName(into)
	if err != nil {
		return nil, "", fmt.Errorf("--system: %w", err)
	}
	if sys == codesys.ICD10CM {
		return nil, "", nil
	}
	cls, cm := sys.Classification(), codesys.ICD10CM.Classification()
	if cls.Procedures || cls.Family() != cm.Family() {
		return nil, "", fmt.Errorf("--system %s: its codes cannot be scored against ICD-10-CM gold (not of the family of ICD-10-CM)", sys)
	}
	if lvl != eval.LevelCategory {
		return nil, "", fmt.Errorf("--system %s: codes of %s are compared with ICD-10-CM gold at their categories only: add --level category", sys, cls.Title)
	}
	c, err := a.classCoder(ctx, sys)
	if err != nil {
		return nil, "", err
	}
	return c, codesys.ICD10CM, nil
}

// pcsCatalog reports whether an ICD-10-PCS code is one of the release's
// tables: a complete code when the tables build it, a partial one (CodiEsp
// annotates some with 4 to 6 characters) when it begins a code they build.
func pcsCatalog(rel *codesys.Release) eval.Catalog {
	prefixes := map[string]bool{}
	rel.PCS.EachCode(func(code string) bool {
		for n := 3; n < len(code); n++ {
			prefixes[code[:n]] = true
		}
		return true
	})
	return eval.CatalogFunc(func(_ codesys.System, code string) bool {
		if len(code) == 7 {
			return rel.PCS.IsValid(code)
		}
		return prefixes[code]
	})
}

// formCatalog is releaseCatalog for gold codes written in CodiEsp's form:
// a code without its 7th character ("T14.90", "W19") is one the release
// has when the release has it with one ("T14.90XA").
func formCatalog(rel *codesys.Release) eval.Catalog {
	return eval.CatalogFunc(func(_ codesys.System, code string) bool {
		if rel.Tabular.Validate(code).Status == codesys.Valid {
			return true
		}
		return codiesp.OmitsSeventh(code) && rel.Tabular.Validate(codesys.PadX(code)+"A").Status == codesys.Valid
	})
}

func writeRun(rep *eval.Report, out, report string, a *app) error {
	f, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	if err := rep.WriteTable(a.stdout); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "run file: %s\n", out)
	switch report {
	case "":
	case "md", "html":
		path := strings.TrimSuffix(out, filepath.Ext(out)) + "." + report
		err := writeFile(path, func(w io.Writer) error {
			if report == "md" {
				return rep.WriteMarkdown(w, eval.MarkdownOptions{})
			}
			return rep.WriteHTML(w, eval.HTMLOptions{})
		})
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		fmt.Fprintf(a.stdout, "report: %s\n", path)
	default:
		return fmt.Errorf("eval: unknown report format %q (want md or html)", report)
	}
	if failed := rep.FailedDocuments(); len(failed) > 0 {
		// The run file and reports are written; the exit status says
		// the scores leave documents out.
		return &exitError{code: 1, msg: fmt.Sprintf("medcode: eval: %d of %d documents failed and are not scored", len(failed), len(rep.Documents))}
	}
	return nil
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newEvalCompareCmd(a *app) *cobra.Command {
	var (
		bootstrap   int
		seed        uint64
		report, out string
	)
	cmd := &cobra.Command{
		Use:               "compare RUN_A RUN_B",
		Short:             "Compare two eval runs: differences (B - A) with paired bootstrap p-values",
		Args:              cobra.ExactArgs(2),
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			ra, err := eval.OpenReport(args[0])
			if err != nil {
				return err
			}
			rb, err := eval.OpenReport(args[1])
			if err != nil {
				return err
			}
			c, err := eval.Compare(ra, rb, bootstrap, seed)
			if err != nil {
				return err
			}
			if err := c.WriteTable(a.stdout); err != nil {
				return err
			}
			switch report {
			case "":
				return nil
			case "html":
			default:
				return fmt.Errorf("eval compare: unknown report format %q (want html)", report)
			}
			chapters, err := eval.CompareChapters(ra, rb, bootstrap, seed)
			if err != nil {
				return err
			}
			if out == "" {
				base := func(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }
				out = filepath.Join(filepath.Dir(args[1]), "compare-"+base(args[0])+"-"+base(args[1])+".html")
			}
			if err := writeFile(out, func(w io.Writer) error { return c.WriteHTML(w, chapters) }); err != nil {
				return fmt.Errorf("eval compare: %w", err)
			}
			fmt.Fprintf(a.stdout, "report: %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&report, "report", "", "also write a report: html (one self-contained page with the per-metric and per-chapter differences)")
	cmd.Flags().StringVar(&out, "out", "", "report file (default compare-A-B.html beside RUN_B)")
	cmd.Flags().IntVar(&bootstrap, "bootstrap", 1000, "bootstrap resamples")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "bootstrap seed")
	return cmd
}

func newEvalAssertionsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "assertions PATH",
		Short: "Score the assertion classifier (negation, temporality, experiencer) on a NegEx/ConText annotation set",
		Long: `Assertions classifies every row of an annotation set in the NegEx/ConText
test-set layout (a header line, then tab-separated: row number, target phrase,
sentence, negation, temporality, experiencer) and prints precision, recall and
F1 per class.`,
		Example:           `  medcode eval assertions ../shared/data/eval/context/annotations-dev.tsv`,
		Args:              cobra.ExactArgs(1),
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := assert.EvaluateFile(cmd.Context(), assert.New(), args[0])
			if err != nil {
				return err
			}
			return rep.WriteText(a.stdout)
		},
	}
}

// datasetScope is the scope a dataset's gold codes were annotated in
// (codiesp.Scope); the other datasets list the codes reported for the
// encounter.
func datasetScope(dataset string) coding.Scope {
	if dataset == "codiesp" {
		return codiesp.Scope
	}
	return coding.Reportable
}

// scopeName is the scope as a run file records it: empty when reportable.
func scopeName(s coding.Scope) string {
	if s == coding.Reportable {
		return ""
	}
	return string(s)
}
