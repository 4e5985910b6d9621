package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/eval"
)

func newEvalReportCmd(a *app) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "report RUN.json",
		Short: "Write the report of a run file again: html (one self-contained page with charts) or md",
		Long: `Report writes the report of an existing run file, as "medcode eval --report"
does when it makes the run: html, one self-contained page whose charts are
inline SVG (it opens offline), or md. The report goes beside the run file
unless --out names another file.`,
		Example:           "  medcode eval report eval-codiesp-dev.json\n  medcode eval report --format md --out dev.md eval-codiesp-dev.json",
		Args:              cobra.ExactArgs(1),
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := eval.OpenReport(args[0])
			if err != nil {
				return err
			}
			if format != "html" && format != "md" {
				return fmt.Errorf("eval report: unknown format %q (want html or md)", format)
			}
			if out == "" {
				out = strings.TrimSuffix(args[0], filepath.Ext(args[0])) + "." + format
			}
			err = writeFile(out, func(w io.Writer) error {
				if format == "md" {
					return rep.WriteMarkdown(w, eval.MarkdownOptions{})
				}
				return rep.WriteHTML(w, eval.HTMLOptions{})
			})
			if err != nil {
				return fmt.Errorf("eval report: %w", err)
			}
			fmt.Fprintf(a.stdout, "report: %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "html", "report format: html or md")
	cmd.Flags().StringVar(&out, "out", "", "file to write (default: the run file's name with the format's extension)")
	return cmd
}
