package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
)

func newImportCmd(a *app) *cobra.Command {
	var (
		system, columns string
		opts            catalog.ImportOptions
	)
	cmd := &cobra.Command{
		Use:   "import --system SYSTEM --from PATH [--from PATH...]",
		Short: "Install a release from the publisher's files (folder, zip or .gz files)",
		Long: `Import reads the publisher's release files (Tabular List, order file,
Alphabetic Index, External Cause Index, Neoplasm and Drug tables, PCS tables,
index and definitions), recognises each by its content, and installs the
release atomically: a failed import leaves what was installed untouched.
A release may be partial; the parts found and missing are reported.
Importing some parts of a version already installed (an order file alone,
a corrected table) replaces those parts and keeps the others, with a note
naming them; --replace installs only what is given, dropping the others.

Other classifications (who-icd10, icd10uk, opcs4, or a name of your own) are
imported from one ClaML 2.0 file (--format claml) or one flat code list
(--format flat: TSV or CSV with a header; --columns names the columns that
hold the code, title, parent, node, selectable flag and kind).`,
		Example: `  medcode import --system icd10cm --from ~/Downloads/2026-code-tables-tabular-and-index.zip
  medcode import --system icd10pcs --from ./icd10pcs_2026/
  medcode import --system who-icd10 --from icd102019en.xml
  medcode import --system icd10uk --version coding19 --from ICD10.coding19.tsv.gz \
      --columns code=coding,title=meaning,parent=parent_id,node=node_id,selectable=selectable
  medcode import --system local-proc --format flat --version 2024 --from procedures.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, _ := cmd.Flags().GetStringArray("from")
			if len(from) == 0 {
				return fmt.Errorf("import: --from PATH is required (a folder, a zip or files of the publisher's release)")
			}
			if columns != "" {
				var err error
				if opts.Columns, err = codesys.ParseColumns(columns); err != nil {
					return fmt.Errorf("import: --columns: %w", err)
				}
			}
			start := time.Now()
			in, err := catalog.Import(cmd.Context(), a.dataDir, system, from, opts)
			if err != nil {
				return err
			}
			printInstalled(a.stdout, in, time.Since(start))
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "classification: icd10cm, icd10pcs, who-icd10, icd10uk, opcs4, or a name of your own with --format (required)")
	cmd.Flags().StringVar(&opts.Format, "format", "", "format of a classification other than ICD-10-CM/PCS: claml or flat (default: told from the content)")
	cmd.Flags().StringVar(&columns, "columns", "", "columns of a flat list: field=header pairs, e.g. code=coding,title=meaning,parent=parent_id,node=node_id,selectable=selectable")
	cmd.Flags().StringArray("from", nil, "folder, zip or file of the publisher's release (repeatable)")
	cmd.Flags().StringVar(&opts.Version, "version", "", "release version when the files carry none (e.g. an order file alone)")
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace an installed release of the same version as a whole, dropping the parts not given (default: keep them)")
	_ = cmd.MarkFlagRequired("system")
	return cmd
}

func printInstalled(w io.Writer, in *catalog.Info, took time.Duration) {
	fmt.Fprintf(w, "installed %s %s in %s (%.1fs)\n", in.System.Title(), in.Version, in.Dir, took.Seconds())
	fmt.Fprintf(w, "  parts:   %s\n", partNames(in.Parts))
	if len(in.Missing) > 0 {
		fmt.Fprintf(w, "  missing: %s\n", partNames(in.Missing))
	}
	for _, n := range in.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
