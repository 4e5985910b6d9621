package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/server"
	"github.com/medcode-dev/medcode/internal/shareddata"
	"github.com/medcode-dev/medcode/internal/store"
)

// /readyz names the releases the runs use. With ICD-10-PCS 2025 (tables
// and Index) and 2026 (tables only) installed the procedure coder reads
// 2025, so /readyz must say 2025, not the newest with tables.
func TestReadyzReleasesAreTheRuns(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var stderr bytes.Buffer
	for _, args := range [][]string{
		{"import", "--system", "icd10cm", "--from", shareddata.Path(t, "icd10cm/fy2025-apr2025")},
		{"import", "--system", "icd10pcs", "--from", shareddata.Path(t, "icd10pcs/fy2025")},
		{"import", "--system", "icd10pcs", "--from", shareddata.Path(t, "icd10pcs/fy2026")},
	} {
		if code := Main(ctx, append([]string{"--data", dir}, args...), io.Discard, &stderr); code != 0 {
			t.Fatalf("medcode %v: exit %d: %s", args, code, stderr.String())
		}
	}
	a := &app{dataDir: dir, stdout: io.Discard, stderr: io.Discard}
	log := slog.New(slog.DiscardHandler)
	rels, err := a.serveReleases(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := server.NewInstalled(dir, rels...)
	if err != nil {
		t.Fatal(err)
	}
	reasoner, _, err := a.reasoner(ctx, &reasonerFlags{name: "offline"}, rels[0].Version)
	if err != nil {
		t.Fatal(err)
	}
	res, err := reasoner.Code(ctx, coding.Request{ID: "n", Text: "Procedure: laparoscopic appendectomy.\nDiagnosis: acute appendicitis.", Setting: coding.Inpatient})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "medcode.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Store: st, Reasoner: reasoner, Codes: codes, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", rec.Code, rec.Body)
	}
	var ready struct{ Releases []string }
	if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(ready.Releases, "icd10pcs-2025") || slices.Contains(ready.Releases, "icd10pcs-2026") {
		t.Errorf("/readyz releases %q, want icd10pcs-2025 (the procedure coder's)", ready.Releases)
	}
	for _, id := range res.Releases {
		if strings.HasPrefix(id, "icd10") && !slices.Contains(ready.Releases, id) {
			t.Errorf("a run used %s, which /readyz (%q) does not name", id, ready.Releases)
		}
	}
}
