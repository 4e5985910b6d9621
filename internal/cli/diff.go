package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
)

func newDiffCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "diff SYSTEM FROM TO",
		Short: "List codes added, deleted and retitled between two installed releases",
		Example: `  medcode diff icd10pcs 2025 2026
  medcode diff icd10cm 2025 2026 --json`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := codesys.SystemName(args[0])
			if err != nil {
				return err
			}
			from, err := catalog.Open(cmd.Context(), a.dataDir, string(sys), args[1])
			if err != nil {
				return err
			}
			to, err := catalog.Open(cmd.Context(), a.dataDir, string(sys), args[2])
			if err != nil {
				return err
			}
			ch, err := catalog.Diff(from, to)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ch)
			}
			printChanges(a, ch)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printChanges(a *app, ch *catalog.Changes) {
	w := a.stdout
	fmt.Fprintf(w, "%s %s → %s\n", ch.System.Title(), ch.From, ch.To)
	if len(ch.Basis) == 0 {
		fmt.Fprintln(w, "  the releases share no part that lists codes: codes not compared")
	} else {
		fmt.Fprintf(w, "  compared over: %s\n", partNames(ch.Basis))
		fmt.Fprintf(w, "  %d added, %d deleted, %d retitled\n", len(ch.Added), len(ch.Deleted), len(ch.Retitled))
	}
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		fmt.Fprintf(w, "\n%s (%d):\n", title, n)
		return true
	}
	if section("Added", len(ch.Added)) {
		for _, c := range ch.Added {
			fmt.Fprintf(w, "  + %-8s %s\n", c.Code, c.Title)
		}
	}
	if section("Deleted", len(ch.Deleted)) {
		for _, c := range ch.Deleted {
			fmt.Fprintf(w, "  - %-8s %s\n", c.Code, c.Title)
		}
	}
	if section("Retitled", len(ch.Retitled)) {
		for _, c := range ch.Retitled {
			fmt.Fprintf(w, "  ~ %-8s %s\n             → %s\n", c.Code, c.Old, c.New)
		}
	}
	for _, ix := range ch.Indexes {
		if len(ix.Added)+len(ix.Removed) == 0 {
			continue
		}
		fmt.Fprintf(w, "\nIndex %s: %d terms added, %d removed\n", ix.Part, len(ix.Added), len(ix.Removed))
		for _, t := range ix.Added {
			fmt.Fprintf(w, "  + %s\n", t)
		}
		for _, t := range ix.Removed {
			fmt.Fprintf(w, "  - %s\n", t)
		}
	}
}
