package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/rules"
)

// rulesDir is the data directory's folder of the user's rule packs.
func (a *app) rulesDir() string { return filepath.Join(a.dataDir, "rules") }

// ruleSet loads the rule packs in effect: the embedded ones, overridden by
// the data directory's rules folder, then by --rules.
func (a *app) ruleSet() (*rules.Set, error) {
	return rules.Load(a.rulesDir(), a.rulesFlag)
}

// startupWarnings reports on standard error which packs the folders
// overrode and what the coder found wrong when it was built (the rules
// naming what the release lacks among them).
func (a *app) startupWarnings(set *rules.Set, warnings []string) {
	for _, n := range set.Notes() {
		fmt.Fprintln(a.stderr, "note:", n)
	}
	for _, w := range warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
}

func newRulesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List, check and import rule packs",
		Long: `Rule packs are the classification- and language-specific knowledge the coders
read (term tables, presumed links, history codes, code groups, word lists),
kept as data. The packs built into medcode are overridden by files of the
same name in the data directory's rules folder, then in the folder --rules
names. A rule naming a code the release lacks is a warning: "medcode rules
check" lists them, and the coder reports them when it starts. See
docs/rules.md.`,
	}
	cmd.AddCommand(newRulesListCmd(a), newRulesCheckCmd(a), newRulesImportCmd(a))
	return cmd
}

func newRulesListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the rule packs in effect, with their version, rows and file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := a.ruleSet()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PACK\tVERSION\tROWS\tFILE")
			for _, p := range set.Packs() {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", p.Name, p.Version, len(p.Rows), p.File)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, n := range set.Notes() {
				fmt.Fprintln(a.stderr, "note:", n)
			}
			return nil
		},
	}
}

func newRulesCheckCmd(a *app) *cobra.Command {
	var strict bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "List every pack rule that names a code the installed releases lack",
		Long: `Check compares the packs of each installed classification with its newest
release that lists codes (for ICD-10-CM the one the coder codes with) and
lists every rule naming a code, prefix, range or chapter the release lacks,
with the pack's file and line. Such a rule is never fatal: a rule that would
emit the missing code is not applied, any other matches nothing. --strict
exits with status 1 when a rule is listed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := a.ruleSet()
			if err != nil {
				return err
			}
			for _, n := range set.Notes() {
				fmt.Fprintln(a.stderr, "note:", n)
			}
			found, checked := 0, 0
			for _, cls := range codesys.Classifications() {
				rel, err := a.releaseToCheck(cmd.Context(), cls.System)
				if err != nil {
					return err
				}
				if rel == nil {
					continue
				}
				checked++
				rep := set.Check(rel)
				n := 0
				for _, p := range set.Packs() {
					if p.Scope() == string(cls.System) {
						n++
					}
				}
				fmt.Fprintf(a.stdout, "%s: %d packs, %d rules name what the release lacks\n", rel.ID(), n, len(rep.Issues))
				for _, w := range rep.Warnings() {
					fmt.Fprintln(a.stdout, "  "+w)
				}
				found += len(rep.Issues) + len(rep.Unknown)
				if cls.System == codesys.ICD10CM {
					n, err := a.checkGuidelines(set, rel.Version)
					if err != nil {
						return err
					}
					found += n
				}
			}
			if checked == 0 {
				fmt.Fprintf(a.stdout, "No releases installed in %s: nothing to check the packs against.\n", a.dataDir)
			}
			if strict && found > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&strict, "strict", false, "exit with status 1 when a rule names what a release lacks")
	return cmd
}

// checkGuidelines checks the guideline rules (icd10cm/guidelines) against
// the installed guidelines the coder would quote with the release of year,
// and returns how many rules they do not bear out.
func (a *app) checkGuidelines(set *rules.Set, year string) (int, error) {
	gd, err := a.guidelinesFor(year)
	if err != nil {
		return 0, err
	}
	g, err := set.Guidelines(gd)
	if err != nil {
		return 0, err
	}
	if gd == nil {
		fmt.Fprintf(a.stdout, "guidelines: none installed; the coder's trails cite the built-in summaries of %s\n", rules.PackGuidelines)
		return 0, nil
	}
	ws := g.Warnings()
	fmt.Fprintf(a.stdout, "guidelines FY%s: %d rules of %s name a missing or retitled section\n", gd.Year, len(ws), rules.PackGuidelines)
	for _, w := range ws {
		fmt.Fprintln(a.stdout, "  "+w)
	}
	return len(ws), nil
}

// releaseToCheck opens the newest installed release of sys that lists its
// codes, or returns nil when none is installed.
func (a *app) releaseToCheck(ctx context.Context, sys codesys.System) (*codesys.Release, error) {
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(infos, func(in *catalog.Info) bool { return in.System == sys }) {
		return nil, nil
	}
	var need []codesys.Part
	switch sys {
	case codesys.ICD10CM:
		need = []codesys.Part{codesys.PartTabular}
	case codesys.ICD10PCS:
		need = []codesys.Part{codesys.PartPCSTables}
	}
	in, err := a.pickRelease(sys, "", need...)
	if err != nil {
		return nil, err
	}
	return a.open(ctx, in, nil)
}

func newRulesImportCmd(a *app) *cobra.Command {
	var from, to string
	cmd := &cobra.Command{
		Use:   "import --from FILE",
		Short: "Convert the UK coding standards rule file into exclusion packs for ICD-10 UK and OPCS-4",
		Long: `Import reads the UK coding standards rule file (uk-coding-standards-rules.json,
plain or gzipped; a folder holding it will do) and writes its "cannot be
coded with" pairs as the packs icd10uk/exclusions and opcs4/exclusions into
the data directory's rules folder (or --to DIR). Check them against the
installed releases with "medcode rules check".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return fmt.Errorf("rules import: --from is required")
			}
			path, err := ukRulesFile(from)
			if err != nil {
				return err
			}
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			packs, err := rules.ImportUK(f, filepath.Base(path))
			if err != nil {
				return err
			}
			if to == "" {
				to = a.rulesDir()
			}
			for _, p := range packs {
				dst := filepath.Join(to, filepath.FromSlash(p.Name)+".tsv")
				if err := writeFileAtomic(dst, []byte(p.Text)); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "wrote %s: %d rules (%d other rules not imported)\n", dst, p.Rules, p.Skipped)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the rule file, or a folder holding it")
	cmd.Flags().StringVar(&to, "to", "", "folder to write the packs to (default: the data directory's rules folder)")
	return cmd
}

// ukRulesFile returns from, or the rule file in the folder from.
func ukRulesFile(from string) (string, error) {
	fi, err := os.Stat(from)
	if err != nil {
		return "", fmt.Errorf("rules import: %w", err)
	}
	if !fi.IsDir() {
		return from, nil
	}
	for _, n := range []string{"uk-coding-standards-rules.json.gz", "uk-coding-standards-rules.json"} {
		p := filepath.Join(from, n)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("rules import: %s has no uk-coding-standards-rules.json(.gz)", from)
}

// writeFileAtomic writes data to path through a temporary file in its
// folder, so that a pack is never read half written.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pack-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
