package catalog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// TestCleanStaleTemp checks that the work directories and downloads of
// killed imports and fetches are removed at the next list, open or import
// once they are older than staleAfter, and that recent ones, which may
// belong to an import still running, are kept.
func TestCleanStaleTemp(t *testing.T) {
	ctx := context.Background()
	old := time.Now().Add(-staleAfter - time.Minute)
	actions := []struct {
		name string
		run  func(dir string) error
	}{
		{"list", func(dir string) error { _, err := List(dir); return err }},
		{"open", func(dir string) error { _, err := Open(ctx, dir, "icd10cm", "2021"); return err }},
		{"import", func(dir string) error {
			src := writeFile(t, t.TempDir(), "order.txt", []byte(tinyOrder))
			_, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{Version: "2021"})
			return err
		}},
	}
	for _, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeFile(t, t.TempDir(), "tab.xml", []byte(tinyTabular))
			if _, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			sd := systemDir(dir, codesys.ICD10CM)
			rd := releasesDir(dir)
			// stale: killed long ago; the others may be running.
			stale := []string{
				writeFile(t, filepath.Join(sd, tmpPrefix+"2021-killed"), releaseFile, []byte("partial")),
				writeFile(t, rd, tmpPrefix+"download-killed.zip", []byte("partial")),
			}
			running := []string{
				writeFile(t, filepath.Join(sd, tmpPrefix+"2021-running"), releaseFile, []byte("partial")),
				writeFile(t, rd, tmpPrefix+"download-running.zip", []byte("partial")),
				// An old directory with a file written just now.
				writeFile(t, filepath.Join(sd, tmpPrefix+"2021-writing"), releaseFile, []byte("partial")),
			}
			for _, p := range stale {
				setOld(t, p, old)
			}
			setOld(t, filepath.Join(sd, tmpPrefix+"2021-writing"), old)
			if err := a.run(dir); err != nil {
				t.Fatal(err)
			}
			for _, p := range stale {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("stale %s was kept", p)
				}
			}
			for _, p := range running {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("recent %s was removed: %v", p, err)
				}
			}
			if infos, err := List(dir); err != nil || len(infos) != 1 || !slices.Contains(infos[0].Parts, codesys.PartTabular) {
				t.Errorf("List = %v, %v; want the 2021 release with its Tabular List", infos, err)
			}
		})
	}
}

// setOld sets the times of p, and of its folder when p is in a work
// folder, to t.
func setOld(tb testing.TB, p string, t time.Time) {
	tb.Helper()
	if err := os.Chtimes(p, t, t); err != nil {
		tb.Fatal(err)
	}
	if d := filepath.Dir(p); filepath.Base(d)[0] == '.' {
		if err := os.Chtimes(d, t, t); err != nil {
			tb.Fatal(err)
		}
	}
}
