package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
)

func newReleasesCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "releases",
		Short: "List installed releases with the parts each has and lacks",
		Long: `Releases lists the installed releases with the parts each has and lacks.
An ICD-10-CM release with an order file but no Tabular List shows the part
"tabular (notes from YEAR)": opening it composes its Tabular List from its
order file (codes, titles, billable flags, hierarchy) and the instructional
notes of the newest installed Tabular List, ICD-10-CM YEAR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			infos, err := catalog.List(a.dataDir)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if infos == nil {
					infos = []*catalog.Info{}
				}
				return enc.Encode(infos)
			}
			if len(infos) == 0 {
				fmt.Fprintf(a.stdout, "No releases installed in %s.\nInstall one with \"medcode fetch icd10cm\" or \"medcode import --system icd10cm --from PATH\".\n", a.dataDir)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SYSTEM\tVERSION\tPARTS\tMISSING\tIMPORTED")
			for _, in := range infos {
				missing := in.Missing
				if in.Composes() {
					missing = slices.DeleteFunc(slices.Clone(missing), func(p codesys.Part) bool { return p == codesys.PartTabular })
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.System, in.Version, infoParts(in), orDash(partNames(missing), len(missing)), in.Imported.Format("2006-01-02 15:04"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "\nData directory: %s\n", a.dataDir)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func orDash(s string, n int) string {
	if n == 0 {
		return "-"
	}
	return s
}
