package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/guidelines"
)

func newGuidelinesDiffCmd(a *app) *cobra.Command {
	var asJSON bool
	var system string
	cmd := &cobra.Command{
		Use:   "diff FROM TO",
		Short: "List the sections added, removed and changed between two installed editions",
		Long: `Compares two installed editions of the guidelines section by section
number and lists the sections added, removed and changed, with the
sentences of a changed section that only the older (-) or only the newer
(+) edition has. Rewrapped or respaced text is not a change. A heading
inserted before its siblings renumbers them, and the renumbered sections
show as changed, as they do for a coder who cites them.`,
		Example: `  medcode guidelines diff 2025 2026
  medcode guidelines diff --json 2025 2026`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			older, err := guidelines.LoadSystem(a.dataDir, system, args[0])
			if err != nil {
				return err
			}
			newer, err := guidelines.LoadSystem(a.dataDir, system, args[1])
			if err != nil {
				return err
			}
			ch := guidelines.Diff(older, newer)
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if ch == nil {
					ch = []guidelines.Change{}
				}
				return enc.Encode(ch)
			}
			printGuidelineChanges(a, older.Year, newer.Year, ch)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&system, "system", guidelines.SystemCM, "whose guidelines: "+guidelines.SystemCM+" or "+guidelines.SystemPCS)
	return cmd
}

func printGuidelineChanges(a *app, from, to string, ch []guidelines.Change) {
	w := a.stdout
	n := map[guidelines.ChangeKind]int{}
	for _, c := range ch {
		n[c.Kind]++
	}
	fmt.Fprintf(w, "guidelines FY%s → FY%s: %d added, %d removed, %d changed\n",
		from, to, n[guidelines.Added], n[guidelines.Removed], n[guidelines.Changed])
	for _, kind := range []guidelines.ChangeKind{guidelines.Added, guidelines.Removed, guidelines.Changed} {
		if n[kind] == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s (%d):\n", kind, n[kind])
		for _, c := range ch {
			if c.Kind != kind {
				continue
			}
			fmt.Fprintf(w, "  %-20s %s\n", c.ID, c.Title)
			if c.OldTitle != "" {
				fmt.Fprintf(w, "      title was: %s\n", c.OldTitle)
			}
			for _, s := range c.Deleted {
				fmt.Fprintf(w, "      - %s\n", s)
			}
			for _, s := range c.Inserted {
				fmt.Fprintf(w, "      + %s\n", s)
			}
		}
	}
}
