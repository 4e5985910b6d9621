package cli

import (
	"errors"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/guidelines"
)

// guidelinesFor opens the installed guidelines the offline coder quotes:
// the edition of the release's year when installed, else the newest, else
// none (nil).
func (a *app) guidelinesFor(year string) (*guidelines.Document, error) {
	ys, err := guidelines.Years(a.dataDir)
	if err != nil || len(ys) == 0 {
		return nil, err
	}
	if !slices.Contains(ys, year) {
		year = ys[len(ys)-1]
	}
	return guidelines.Load(a.dataDir, year)
}

// installedGuidelines loads every installed edition of the ICD-10-CM
// guidelines, oldest first: the service serves them all, since a stored
// trail cites the edition it was coded with.
func (a *app) installedGuidelines() ([]*guidelines.Document, error) {
	ys, err := guidelines.Years(a.dataDir)
	if err != nil {
		return nil, err
	}
	docs := make([]*guidelines.Document, 0, len(ys))
	for _, y := range ys {
		d, err := guidelines.Load(a.dataDir, y)
		if err != nil {
			return nil, err
		}
		if d.Year != y {
			return nil, fmt.Errorf("load guidelines %s: the file says year %q", y, d.Year)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func newGuidelinesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "guidelines",
		Short: "Install and search the ICD-10-CM Official Guidelines for Coding and Reporting",
		Long: `The Official Guidelines are published by CMS and CDC each fiscal year as a
PDF. "medcode guidelines import" reads the PDF (or a text rendering of it,
e.g. from "pdftotext -layout") into numbered sections (I.C.9.a.2 ...) and
installs them in the data directory as guidelines/<year>.json, where the LLM
reasoner's search_guidelines tool finds them and the offline coder quotes
them in its trails (the edition of the release's year, else the newest).
"medcode guidelines diff" lists what changed from one installed year to
the next. The ICD-10-PCS guidelines (A1, B3.1a ...) are recognised by
their numbering, installed as guidelines/pcs-<year>.json and searched with
--system icd10pcs.`,
	}
	var year string
	imp := &cobra.Command{
		Use:     "import PATH",
		Short:   "Import the guidelines from a PDF or text file",
		Example: `  medcode guidelines import --year 2026 fy2026-icd-10-cm-coding-guidelines.pdf`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if year == "" {
				return errors.New("guidelines import: --year is required (the fiscal year, e.g. 2026)")
			}
			d, err := guidelines.Import(args[0], year)
			if err != nil {
				return err
			}
			if err := guidelines.Install(a.dataDir, d); err != nil {
				return err
			}
			what := "guidelines"
			if d.System == guidelines.SystemPCS {
				what = "ICD-10-PCS guidelines"
			}
			fmt.Fprintf(a.stdout, "installed the FY%s %s: %d sections\n", d.Year, what, len(d.Sections))
			return nil
		},
	}
	imp.Flags().StringVar(&year, "year", "", "fiscal year of the guidelines, e.g. 2026")
	var limit int
	var gyear, gsystem string
	search := &cobra.Command{
		Use:   "search QUERY | show SECTION",
		Short: "Search the installed guidelines, or show a section by its number",
		Example: `  medcode guidelines search "hypertension chronic kidney disease"
  medcode guidelines search I.C.9.a.2`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := guidelines.LoadSystem(a.dataDir, gsystem, gyear)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				if s := d.Section(args[0]); s != nil {
					fmt.Fprintf(a.stdout, "%s %s\n\n%s\n", s.ID, s.Title, s.Text)
					return nil
				}
			}
			q := ""
			for i, w := range args {
				if i > 0 {
					q += " "
				}
				q += w
			}
			for _, h := range d.Search(q, limit) {
				fmt.Fprintf(a.stdout, "%-22s %s\n", h.ID, h.Title)
			}
			return nil
		},
	}
	search.Flags().IntVar(&limit, "limit", 10, "sections to list")
	search.Flags().StringVar(&gyear, "year", "", "fiscal year (default: newest installed)")
	search.Flags().StringVar(&gsystem, "system", guidelines.SystemCM, "whose guidelines: "+guidelines.SystemCM+" or "+guidelines.SystemPCS)
	cmd.AddCommand(imp, search, newGuidelinesDiffCmd(a))
	return cmd
}
