// Package cli implements the medcode command line: one file per command,
// each a constructor returning a cobra command that closes over the shared
// *app.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/codesys"
)

// exitError carries a process exit code for failures that are not
// errors of the program, such as "a code was invalid" from validate.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// app holds what every command shares: where releases are installed and
// where output goes.
type app struct {
	dataDir string
	// rulesFlag is --rules: a folder of rule packs overriding the
	// embedded ones and the data directory's.
	rulesFlag string
	stdout    io.Writer
	stderr    io.Writer
}

// Main runs the medcode command line with args (without the program name)
// and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "medcode:", err)
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "medcode",
		Short: "Explainable medical coding: ICD-10-CM, ICD-10-PCS and more, with evidence for every code",
		Long: `medcode codes clinical documentation with the classification's own reference
(Alphabetic Index, Tabular List and its notes), and shows the evidence and the
trail behind every code.

Releases are data: install them with "medcode fetch" or "medcode import", list
them with "medcode releases". The data directory is $MEDCODE_DATA, else
$XDG_DATA_HOME/medcode, else ~/.local/share/medcode.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.dataDir != "" {
				return nil
			}
			d, err := catalog.DefaultDir()
			if err != nil {
				return fmt.Errorf("data directory: %w (set --data or MEDCODE_DATA)", err)
			}
			a.dataDir = d
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&a.dataDir, "data", "", "data directory with installed releases (default $MEDCODE_DATA or the XDG data directory)")
	root.PersistentFlags().StringVar(&a.rulesFlag, "rules", "", "folder of rule packs overriding the built-in ones and the data directory's rules folder")
	root.AddCommand(
		newLookupCmd(a),
		newValidateCmd(a),
		newReleasesCmd(a),
		newImportCmd(a),
		newFetchCmd(a),
		newDiffCmd(a),
		newSearchCmd(a),
		newGuidelinesCmd(a),
		newEvalCmd(a),
		newCodeCmd(a),
		newServeCmd(a),
		newWorkerCmd(a),
		newSubmitCmd(a),
		newBatchCmd(a),
		newTokenCmd(a),
		newRulesCmd(a),
	)
	return root
}

// openRelease opens the installed release of sys named by version, or,
// when version is empty, the newest installed release that has all the
// parts in need (the newest of all when none has them, so that the caller
// can say what is missing). An ICD-10-CM release with an order file has
// the Tabular List: opening composes it from the order file and the notes
// of the newest installed Tabular List (catalog.OpenInfo).
func (a *app) openRelease(ctx context.Context, sys codesys.System, version string, need ...codesys.Part) (*codesys.Release, error) {
	in, err := a.pickRelease(sys, version, need...)
	if err != nil {
		return nil, err
	}
	return a.open(ctx, in, nil)
}

// pickRelease returns the manifest of the release openRelease opens.
func (a *app) pickRelease(sys codesys.System, version string, need ...codesys.Part) (*catalog.Info, error) {
	if version != "" {
		return catalog.Stat(a.dataDir, string(sys), version)
	}
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	var newest *catalog.Info
	for _, in := range slices.Backward(infos) { // List is oldest first
		if in.System != sys {
			continue
		}
		if newest == nil {
			newest = in
		}
		if servesAll(in, need) {
			if in != newest {
				fmt.Fprintf(a.stderr, "note: using %s %s, the newest installed release with %s (%s %s has only %s)%s\n",
					sys.Title(), in.Version, partNames(need), sys.Title(), newest.Version, infoParts(newest), composedNote(in, need))
			}
			return in, nil
		}
	}
	if newest == nil {
		return nil, fmt.Errorf("no %s release is installed in %s: install one with %s", sys.Title(), a.dataDir, catalog.InstallHint(sys))
	}
	return newest, nil
}

// open opens the installed release in with the parts named (all when
// parts is nil), keeping its Tabular List in the data directory's cache
// so that a composed list is composed once; what goes wrong with the
// cache is a note on standard error, and the release is opened without
// it.
func (a *app) open(ctx context.Context, in *catalog.Info, parts []codesys.Part) (*codesys.Release, error) {
	return catalog.OpenWith(ctx, in, catalog.OpenOptions{Parts: parts, Cache: catalog.NewCache(a.dataDir),
		Warn: func(msg string) { fmt.Fprintln(a.stderr, "note:", msg) }})
}

// composedNote says, for a release whose Tabular List opening composes,
// where the list comes from, when the command needs it.
func composedNote(in *catalog.Info, need []codesys.Part) string {
	if !in.Composes() || !slices.Contains(need, codesys.PartTabular) {
		return ""
	}
	if in.TabularNotes == "" {
		return "; its Tabular List is composed from its order file, without instructional notes (no installed release has a Tabular List)"
	}
	return fmt.Sprintf("; its Tabular List is composed from its order file with the notes of the %s %s Tabular List", in.System.Title(), in.TabularNotes)
}

func servesAll(in *catalog.Info, need []codesys.Part) bool {
	for _, p := range need {
		if !in.Serves(p) {
			return false
		}
	}
	return true
}

// infoParts names the parts an installed release has once opened, the
// Tabular List composed from its order file marked with where its notes
// come from: "tabular (notes from 2021), order, index".
func infoParts(in *catalog.Info) string {
	if !in.Composes() {
		return partNames(in.Parts)
	}
	tab := "tabular (from the order file, no notes)"
	if in.TabularNotes != "" {
		tab = "tabular (notes from " + in.TabularNotes + ")"
	}
	return tab + ", " + partNames(in.Parts)
}

func partNames(parts []codesys.Part) string {
	if len(parts) == 0 {
		return "no parts"
	}
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += ", "
		}
		s += string(p)
	}
	return s
}

// isTerminal reports whether w is a terminal, for progress output.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
