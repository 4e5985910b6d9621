package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/search"
)

func newSearchCmd(a *app) *cobra.Command {
	var (
		system, version string
		sources         []string
		limit           int
		follow, asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "search TEXT...",
		Short: "Search the indexes, tables and Tabular List titles and inclusion terms the way a coder reads them",
		Long: `Search finds entries of the Alphabetic Index (main term, then subterms;
nonessential modifiers optional), the External Cause Index, the Neoplasm and
Drug tables (per column), the ICD-10-PCS Index and the titles and inclusion
terms of the Tabular List. Word order is free; plurals, stems, common
abbreviations and small typos match. Each hit shows its source, its path of
terms and its code or cross-reference.`,
		Example: `  medcode search fall from ladder
  medcode search type 2 diabetes with diabetic cataract
  medcode search --source drug acetaminophen poisoning
  medcode search --system icd10pcs appendectomy`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys := codesys.ICD10CM
			if system != "" {
				var err error
				if sys, err = codesys.SystemName(system); err != nil {
					return err
				}
			}
			opts := search.Options{Limit: limit, FollowSee: follow}
			for _, s := range sources {
				src, err := search.ParseSource(s)
				if err != nil {
					return err
				}
				opts.Sources = append(opts.Sources, src)
			}
			need := lookupPart(sys)
			if sys == codesys.ICD10PCS {
				need = codesys.PartPCSIndex
			}
			rel, err := a.openRelease(cmd.Context(), sys, version, need)
			if err != nil {
				return err
			}
			missing := rel.Missing()
			if rel.Tabular != nil {
				// A Tabular List composed from the order file is searched.
				missing = slices.DeleteFunc(missing, func(p codesys.Part) bool { return p == codesys.PartTabular })
			}
			if len(missing) > 0 {
				fmt.Fprintf(a.stderr, "note: %s %s has no %s; searching what it has\n", rel.System.Title(), rel.Version, partNames(missing))
			}
			set, err := a.ruleSet()
			if err != nil {
				return err
			}
			sr, err := search.NewWithRules(rel, set)
			if err != nil {
				return err
			}
			hits := sr.Search(strings.Join(args, " "), opts)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Release string       `json:"release"`
					Hits    []search.Hit `json:"hits"`
				}{rel.ID(), hits})
			}
			if len(hits) == 0 {
				fmt.Fprintln(a.stdout, "no match")
				return &exitError{code: 1}
			}
			for _, h := range hits {
				fmt.Fprintf(a.stdout, "%-8s %-20s %s\n", codeOrDash(h.Code), h.Source, h)
				if h.Title != "" && h.Source != search.SourceTabular {
					fmt.Fprintf(a.stdout, "%-8s %-20s   = %s\n", "", "", h.Title)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "classification (icd10cm, icd10pcs, who-icd10, icd10uk, opcs4 or one of your own); default icd10cm")
	cmd.Flags().StringVar(&version, "release", "", "release version, e.g. 2026 (default: newest installed with the needed part)")
	cmd.Flags().StringSliceVar(&sources, "source", nil, "restrict to sources: index, eindex, neoplasm, drug, tabular, inclusion, pcs-index")
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "maximum number of hits")
	cmd.Flags().BoolVar(&follow, "follow", false, "follow see references to the term they name")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func codeOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
