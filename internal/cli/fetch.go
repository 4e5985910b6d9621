package cli

import (
	"fmt"
	"io"
	"path"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/catalog"
)

func newFetchCmd(a *app) *cobra.Command {
	var (
		year int
		opts catalog.FetchOptions
	)
	cmd := &cobra.Command{
		Use:   "fetch SYSTEM [--year YEAR]",
		Short: "Download a release from the publisher (CMS) and install it",
		Long: `Fetch downloads the publisher's release archives for SYSTEM (icd10cm or
icd10pcs) and fiscal year, checks them, and installs the release atomically.
The archives come from ` + catalog.DefaultBaseURL + ` unless --base-url or
--url says otherwise (a mirror, or an archive CMS reposted under a new name).`,
		Example: `  medcode fetch icd10cm --year 2026
  medcode fetch icd10pcs
  medcode fetch icd10cm --year 2026 --url https://mirror.example/2026-code-tables-tabular-and-index.zip`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if year == 0 {
				year = defaultFetchYear(time.Now())
			}
			p := newDownloadProgress(a.stderr, isTerminal(a.stderr))
			opts.Progress = p.update
			start := time.Now()
			in, err := catalog.Fetch(cmd.Context(), a.dataDir, args[0], year, opts)
			p.finish()
			if err != nil {
				return err
			}
			printInstalled(a.stdout, in, time.Since(start))
			return nil
		},
	}
	cmd.Flags().IntVar(&year, "year", 0, "fiscal year of the release (default: the current fiscal year, which starts on October 1)")
	cmd.Flags().StringVar(&opts.BaseURL, "base-url", "", "download from this base URL instead of the publisher's")
	cmd.Flags().StringArrayVar(&opts.URLs, "url", nil, "download this archive instead of the standard ones (repeatable)")
	cmd.Flags().StringVar(&opts.Version, "version", "", "release version when the files carry none")
	return cmd
}

// defaultFetchYear returns the fiscal year in force at t: US fiscal years
// start on October 1, so FY2027 codes take effect on 2026-10-01.
func defaultFetchYear(t time.Time) int {
	if t.Month() >= time.October {
		return t.Year() + 1
	}
	return t.Year()
}

// downloadProgress shows download progress on a terminal, redrawing one
// line, and otherwise prints one line per archive when it completes.
type downloadProgress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	last     catalog.Progress
	drawn    time.Time
}

func newDownloadProgress(w io.Writer, terminal bool) *downloadProgress {
	return &downloadProgress{w: w, terminal: terminal}
}

func (p *downloadProgress) update(pr catalog.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last.URL != "" && p.last.URL != pr.URL {
		p.done()
	}
	p.last = pr
	if p.terminal && time.Since(p.drawn) > 100*time.Millisecond {
		p.drawn = time.Now()
		fmt.Fprintf(p.w, "\r\033[Kdownloading %s: %s", path.Base(pr.URL), sizeProgress(pr.Done, pr.Total))
	}
}

func (p *downloadProgress) done() {
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "downloaded %s (%s)\n", path.Base(p.last.URL), mb(p.last.Done))
}

func (p *downloadProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last.URL != "" {
		p.done()
		p.last = catalog.Progress{}
	}
}

func sizeProgress(done, total int64) string {
	if total <= 0 {
		return mb(done)
	}
	return fmt.Sprintf("%s / %s (%d%%)", mb(done), mb(total), done*100/total)
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
