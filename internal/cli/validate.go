package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func newValidateCmd(a *app) *cobra.Command {
	var (
		system, version string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "validate CODE...",
		Short: "Check codes against a release: valid (billable), header (not billable) or invalid, and why",
		Long: `Validate checks each code against an installed release under the
classification's conventions (7th characters, placeholder X, PCS tables).
It exits 0 when every code is valid and billable, 1 otherwise.`,
		Example: `  medcode validate E11.9 S52.521A T36.0X1A
  medcode validate --system icd10pcs 0DTJ4ZZ`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			releases := map[codesys.System]*codesys.Release{}
			var results []codesys.Validation
			allValid := true
			for _, code := range args {
				sys, err := systemFor(system, code)
				if err != nil {
					return err
				}
				rel, ok := releases[sys]
				if !ok {
					if rel, err = a.openRelease(cmd.Context(), sys, version, lookupPart(sys)); err != nil {
						return err
					}
					releases[sys] = rel
				}
				v, err := rel.Validate(code)
				if err != nil {
					return err
				}
				results = append(results, v)
				allValid = allValid && v.Status == codesys.Valid
				if !asJSON {
					text := v.Title
					if v.Status != codesys.Valid {
						text = v.Reason
					}
					fmt.Fprintf(a.stdout, "%-10s %-8s %s\n", orInput(v.Code, v.Input), v.Status, text)
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			if !allValid {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "classification (icd10cm, icd10pcs, who-icd10, icd10uk, opcs4 or one of your own); icd10cm or icd10pcs guessed from each code when empty")
	cmd.Flags().StringVar(&version, "release", "", "release version (default: newest installed with the needed part)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
