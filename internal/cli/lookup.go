package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func newLookupCmd(a *app) *cobra.Command {
	var (
		system, version string
		asJSON          bool
	)
	cmd := &cobra.Command{
		Use:   "lookup CODE",
		Short: "Show a code's title, hierarchy, instructional notes (own and inherited), 7th characters and children",
		Example: `  medcode lookup E11.36
  medcode lookup S52.521A --json
  medcode lookup 0DTJ4ZZ`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sys, err := systemFor(system, args[0])
			if err != nil {
				return err
			}
			rel, err := a.openRelease(cmd.Context(), sys, version, lookupPart(sys))
			if err != nil {
				return err
			}
			e, err := rel.Lookup(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					Release string `json:"release"`
					// NotesFrom names the release that lent the notes of
					// a Tabular List composed from the order file.
					NotesFrom string `json:"tabularNotesFrom,omitempty"`
					codesys.Entry
				}{rel.ID(), rel.Borrowed(codesys.PartTabular), e}); err != nil {
					return err
				}
			} else {
				printEntry(a.stdout, rel, e)
			}
			if e.Status == codesys.Invalid {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "classification (icd10cm, icd10pcs, who-icd10, icd10uk, opcs4 or one imported under a name of your own); icd10cm or icd10pcs guessed from the code when empty")
	cmd.Flags().StringVar(&version, "release", "", "release version, e.g. 2026 (default: newest installed with the needed part)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// lookupPart is the part a release needs for lookup and validation.
func lookupPart(sys codesys.System) codesys.Part { return sys.Classification().CodePart() }

// systemFor returns the system named by flag, or guesses it from the shape
// of code: ICD-10-CM codes start with a letter and a digit, so a code that
// starts with a digit, or has seven characters without a dot and a letter
// second, is taken for ICD-10-PCS.
func systemFor(flag, code string) (codesys.System, error) {
	if flag != "" {
		return codesys.SystemName(flag)
	}
	c := strings.ToUpper(strings.TrimSpace(code))
	switch {
	case c != "" && c[0] >= '0' && c[0] <= '9':
		return codesys.ICD10PCS, nil
	case len(c) == 7 && !strings.Contains(c, ".") && (c[1] < '0' || c[1] > '9'):
		return codesys.ICD10PCS, nil
	}
	return codesys.ICD10CM, nil
}

func printEntry(w io.Writer, rel *codesys.Release, e codesys.Entry) {
	fmt.Fprintf(w, "%s  %s\n", orInput(e.Code, e.Input), e.Title)
	status := string(e.Status)
	if e.Status == codesys.Valid {
		status += " (billable)"
	}
	fmt.Fprintf(w, "  release: %s %s", rel.System.Title(), rel.Version)
	if from := rel.Borrowed(codesys.PartTabular); from != "" {
		fmt.Fprintf(w, " (Tabular List composed from its order file; notes from %s)", releaseTitle(from))
	}
	fmt.Fprintf(w, "   status: %s", status)
	if e.Kind != "" {
		fmt.Fprintf(w, "   level: %s", e.Kind)
	}
	fmt.Fprintln(w)
	if e.Reason != "" {
		fmt.Fprintf(w, "  %s\n", e.Reason)
	}
	if e.Short != "" && e.Short != e.Title {
		fmt.Fprintf(w, "  short title: %s\n", e.Short)
	}
	if len(e.Hierarchy) > 0 {
		fmt.Fprintln(w, "\nHierarchy:")
		for i, h := range e.Hierarchy {
			label := h.Code
			if h.Kind == "chapter" && !strings.HasPrefix(strings.ToLower(h.Code), "chapter") {
				label = "Chapter " + h.Code
			}
			fmt.Fprintf(w, "  %s%-10s %s\n", strings.Repeat("  ", i), label, h.Title)
		}
	}
	if len(e.Axes) > 0 {
		fmt.Fprintln(w, "\nAxes:")
		for _, ax := range e.Axes {
			fmt.Fprintf(w, "  %d %-20s %s  %s\n", ax.Pos, ax.Title, ax.Value, ax.Label)
		}
	}
	if len(e.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, sn := range e.Notes {
			from := "this code"
			if sn.From != e.Code {
				from = sn.From + " " + sn.FromTitle
			}
			if sn.Label != "" {
				from += " (" + sn.Label + ")"
			}
			fmt.Fprintf(w, "  from %s:\n", from)
			sn.Notes.Each(func(kind string, notes []string) {
				fmt.Fprintf(w, "    %s:\n", noteLabel(kind))
				for _, n := range notes {
					fmt.Fprintf(w, "      - %s\n", n)
				}
			})
		}
	}
	if len(e.SevenChr) > 0 {
		fmt.Fprintf(w, "\n7th characters (defined at %s):\n", e.SevenChrFrom)
		for _, s := range e.SevenChr {
			fmt.Fprintf(w, "  %s  %s\n", s.Char, s.Title)
		}
	}
	if e.Usage != "" || e.Modifier != "" {
		fmt.Fprintln(w)
		if e.Usage != "" {
			fmt.Fprintf(w, "  usage: %s\n", e.Usage)
		}
		if e.Modifier != "" {
			fmt.Fprintf(w, "  extended by modifier %s\n", e.Modifier)
		}
	}
	if len(e.Rubrics) > 0 {
		fmt.Fprintln(w, "\nRubrics:")
		for _, sr := range e.Rubrics {
			from := "this code"
			if sr.Inherited {
				from = sr.From + " " + sr.FromTitle
			}
			fmt.Fprintf(w, "  from %s:\n", from)
			for _, r := range sr.Rubrics {
				kind := r.Kind
				if r.Lang != "" {
					kind += " [" + r.Lang + "]"
				}
				text := strings.ReplaceAll(r.Text, "\n", "\n        ")
				fmt.Fprintf(w, "    %s: %s\n", kind, text)
			}
		}
	}
	if len(e.Children) > 0 {
		fmt.Fprintln(w, "\nChildren:")
		for _, c := range e.Children {
			fmt.Fprintf(w, "  %-10s %s\n", c.Code, c.Title)
		}
	}
	if len(e.Problems) > 0 {
		fmt.Fprintln(w, "\nProblems:")
		for _, p := range e.Problems {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}

// releaseTitle writes a release ID for a reader: "icd10cm-2021" is
// "ICD-10-CM 2021".
func releaseTitle(id string) string {
	sys, ver, ok := strings.Cut(id, "-")
	if !ok {
		return id
	}
	return codesys.System(sys).Title() + " " + ver
}

func orInput(code, input string) string {
	if code != "" {
		return code
	}
	return input
}

func noteLabel(kind string) string {
	switch kind {
	case "inclusionTerm":
		return "Inclusion terms"
	case "includes":
		return "Includes"
	case "excludes1":
		return "Excludes1"
	case "excludes2":
		return "Excludes2"
	case "codeFirst":
		return "Code first"
	case "useAdditionalCode":
		return "Use additional code"
	case "codeAlso":
		return "Code also"
	case "sevenChrNote":
		return "7th character note"
	}
	return "Notes"
}
