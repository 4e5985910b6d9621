package catalog

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// DefaultBaseURL is where CMS publishes the ICD-10 release archives.
const DefaultBaseURL = "https://www.cms.gov/files/zip/"

// DefaultMaxBytes bounds the size of one downloaded archive. CMS's largest
// ICD-10 archives are a few tens of MB.
const DefaultMaxBytes = 512 << 20

// archiveNames lists, per system, the CMS archives that make up a release,
// as patterns in which {year} is the fiscal year. CMS names them after the
// links on its "ICD-10-CM/PCS files" pages:
//
//   - ICD-10-CM "Code Tables, Tabular and Index" holds the Tabular List,
//     the Alphabetic Index, the External Cause Index and the Neoplasm and
//     Drug tables ("Table and Index/icd10cm_tabular_2026.xml" ...);
//   - ICD-10-CM "Code Descriptions in Tabular Order" holds the order file
//     (icd10cm_order_2026.txt);
//   - ICD-10-PCS "Code Tables and Index" holds the Tables, the Index and
//     the Definitions.
//
// CMS sometimes reposts a corrected archive under a new name (with
// "-updated-MM-DD-YYYY" added); FetchOptions.URLs then names it.
var archiveNames = map[codesys.System][]string{
	codesys.ICD10CM: {
		"{year}-code-tables-tabular-and-index.zip",
		"{year}-code-descriptions-tabular-order.zip",
	},
	codesys.ICD10PCS: {
		"{year}-icd-10-pcs-code-tables-and-index.zip",
	},
}

// ReleaseURLs returns the URLs of the publisher's archives for a release of
// system for fiscal year year, under baseURL (DefaultBaseURL if empty).
func ReleaseURLs(system string, year int, baseURL string) ([]string, error) {
	sys, err := codesys.ParseSystem(system)
	if err != nil {
		return nil, err
	}
	if year < 2016 || year > 9999 {
		return nil, fmt.Errorf("no %s release for fiscal year %d (ICD-10 releases start with FY2016)", sys.Title(), year)
	}
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	if !strings.HasSuffix(baseURL, "/") {
		baseURL += "/"
	}
	var urls []string
	for _, n := range archiveNames[sys] {
		urls = append(urls, baseURL+strings.ReplaceAll(n, "{year}", fmt.Sprint(year)))
	}
	return urls, nil
}

// FetchOptions adjusts Fetch.
type FetchOptions struct {
	// BaseURL replaces DefaultBaseURL, e.g. for a mirror.
	BaseURL string
	// URLs, when set, are downloaded instead of the archives ReleaseURLs
	// names.
	URLs []string
	// Client does the downloads; http.DefaultClient if nil.
	Client *http.Client
	// MaxBytes bounds each archive's size; DefaultMaxBytes if zero.
	MaxBytes int64
	// Progress, when set, is called as each download proceeds.
	Progress func(Progress)
	// Version is passed to Import (see ImportOptions.Version).
	Version string
}

// Progress reports how far a download has come.
type Progress struct {
	URL string
	// Done is the number of bytes received; Total the archive's size, or
	// -1 when the server does not say.
	Done, Total int64
}

// Fetch downloads the publisher's archives for a release of system for
// fiscal year year, checks that each is a complete zip and imports them
// into dir. The downloads go to temporary files inside dir that are
// removed afterwards.
func Fetch(ctx context.Context, dir, system string, year int, opts FetchOptions) (*Info, error) {
	sys, err := codesys.ParseSystem(system)
	if err != nil {
		return nil, err
	}
	urls := opts.URLs
	if len(urls) == 0 {
		if urls, err = ReleaseURLs(system, year, opts.BaseURL); err != nil {
			return nil, err
		}
	}
	if err := MkdirData(dir); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", sys.Title(), err)
	}
	tmpDir := releasesDir(dir)
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", sys.Title(), err)
	}
	cleanStaleTemp(tmpDir)
	var srcs []source
	defer func() {
		for _, src := range srcs {
			os.Remove(src.path)
		}
	}()
	for _, u := range urls {
		p, err := download(ctx, u, tmpDir, opts)
		if p != "" {
			srcs = append(srcs, source{p, archiveName(u)})
		}
		if err != nil {
			return nil, fmt.Errorf("fetch %s: %w", sys.Title(), err)
		}
		if err := verifyZip(p, archiveName(u)); err != nil {
			return nil, fmt.Errorf("fetch %s: %w", sys.Title(), err)
		}
	}
	version := opts.Version
	if version == "" && year > 0 {
		// The order file carries no version; the fiscal year asked for is
		// the release's version, and Import checks it against the files.
		version = fmt.Sprint(year)
	}
	return importSources(ctx, dir, sys, srcs, ImportOptions{Version: version, Source: strings.Join(urls, ", ")})
}

// archiveName is the file name at the end of an URL, for messages.
func archiveName(u string) string {
	if pu, err := url.Parse(u); err == nil && path.Base(pu.Path) != "." && path.Base(pu.Path) != "/" {
		return path.Base(pu.Path)
	}
	return u
}

// download fetches u into a new temporary file in dir and returns its
// path; the caller removes it, also on error.
func download(ctx context.Context, u, dir string, opts FetchOptions) (string, error) {
	client := opts.Client
	if client == nil {
		client = http.DefaultClient
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", u, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("download %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusNotFound {
			hint = " (the publisher may not have released it yet, or may have renamed the archive: give its URL explicitly)"
		}
		return "", fmt.Errorf("download %s: %s%s", u, resp.Status, hint)
	}
	if resp.ContentLength > limit {
		return "", fmt.Errorf("download %s: archive is %d bytes, more than the limit of %d", u, resp.ContentLength, limit)
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"download-*.zip")
	if err != nil {
		return "", fmt.Errorf("download %s: %w", u, err)
	}
	p := f.Name()
	pw := &progressWriter{w: f, p: Progress{URL: u, Total: resp.ContentLength}, fn: opts.Progress}
	if pw.p.Total <= 0 {
		pw.p.Total = -1
	}
	pw.report()
	n, err := io.Copy(pw, io.LimitReader(resp.Body, limit+1))
	if pw.last != pw.p.Done {
		pw.report()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return p, fmt.Errorf("download %s: %w", u, err)
	case n > limit:
		return p, fmt.Errorf("download %s: archive is larger than the limit of %d bytes", u, limit)
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		return p, fmt.Errorf("archive %s is truncated or corrupt: received %d of %d bytes", archiveName(u), n, resp.ContentLength)
	}
	return p, nil
}

type progressWriter struct {
	w    io.Writer
	p    Progress
	fn   func(Progress)
	last int64
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.p.Done += int64(n)
	// Report every 256 KiB and at the end, not on every small write.
	if pw.p.Done-pw.last >= 256<<10 || pw.p.Done == pw.p.Total {
		pw.report()
	}
	return n, err
}

func (pw *progressWriter) report() {
	if pw.fn != nil {
		pw.last = pw.p.Done
		pw.fn(pw.p)
	}
}

// verifyZip checks that the file at p is a complete zip whose every entry
// decompresses with a correct checksum, so that a truncated or damaged
// download is reported as such rather than as missing release files.
func verifyZip(p, name string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return fmt.Errorf("archive %s is truncated or corrupt: %w", name, err)
	}
	defer zr.Close()
	if len(zr.File) == 0 {
		return fmt.Errorf("archive %s is empty", name)
	}
	// The bounds of the import are checked on the sizes the entries
	// declare before any is expanded: the zip reader fails an entry that
	// expands beyond its declared size.
	ss := newSourceSet(ImportOptions{})
	for _, f := range zr.File {
		if err := ss.listed(name+":"+f.Name, f.UncompressedSize64); err != nil {
			return err
		}
	}
	for _, f := range zr.File {
		if err := checkEntry(f); err != nil {
			return fmt.Errorf("archive %s is truncated or corrupt: %s: %w", name, f.Name, err)
		}
	}
	return nil
}

func checkEntry(f *zip.File) error {
	if f.FileInfo().IsDir() {
		return nil
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("data ends early: %w", err)
	}
	return err
}
