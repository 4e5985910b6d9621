package catalog

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func TestReleaseURLs(t *testing.T) {
	tests := []struct {
		system string
		year   int
		base   string
		want   []string
	}{
		{"icd10cm", 2026, "", []string{
			"https://www.cms.gov/files/zip/2026-code-tables-tabular-and-index.zip",
			"https://www.cms.gov/files/zip/2026-code-descriptions-tabular-order.zip",
		}},
		{"ICD-10-PCS", 2025, "http://mirror.example/cms", []string{
			"http://mirror.example/cms/2025-icd-10-pcs-code-tables-and-index.zip",
		}},
	}
	for _, tt := range tests {
		got, err := ReleaseURLs(tt.system, tt.year, tt.base)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("ReleaseURLs(%q, %d, %q) = %v, %v; want %v", tt.system, tt.year, tt.base, got, err, tt.want)
		}
	}
	for _, bad := range []struct {
		system string
		year   int
	}{{"icd9", 2026}, {"icd10cm", 2014}} {
		if _, err := ReleaseURLs(bad.system, bad.year, ""); err == nil {
			t.Errorf("ReleaseURLs(%q, %d) succeeded", bad.system, bad.year)
		}
	}
}

// pcsArchive builds a zip laid out like CMS's ICD-10-PCS "Code Tables and
// Index" archive from the shared FY2025 files.
func pcsArchive(t *testing.T) []byte {
	return buildZip(t,
		zipEntry{"icd10pcs_tables_2025.xml", gunzipShared(t, pcsTables2025)},
		zipEntry{"icd10pcs_index_2025.xml", gunzipShared(t, pcsIndex2025)},
		zipEntry{"icd10pcs_definitions_2025.xml", gunzipShared(t, pcsDefs2025)},
		zipEntry{"icd10pcs_tables.xsd", []byte("<?xml version=\"1.0\"?><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"/>\n")},
	)
}

func TestFetch(t *testing.T) {
	archive := pcsArchive(t)
	const name = "2025-icd-10-pcs-code-tables-and-index.zip"
	corrupt := slices.Clone(archive)
	// Damage the middle of the first entry's compressed data.
	for i := 200; i < 260; i++ {
		corrupt[i] ^= 0x55
	}
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter)
		max   int64
		want  []string // substrings of the error; none for success
	}{
		{"success", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", strconv.Itoa(len(archive)))
			w.Write(archive)
		}, 0, nil},
		{"success without a length", func(w http.ResponseWriter) { w.Write(archive) }, 0, nil},
		{"not found", func(w http.ResponseWriter) { http.Error(w, "not found", http.StatusNotFound) }, 0,
			[]string{"404", name, "give its URL"}},
		{"truncated archive", func(w http.ResponseWriter) { w.Write(archive[:len(archive)*2/3]) }, 0,
			[]string{"archive " + name + " is truncated or corrupt"}},
		{"corrupted archive", func(w http.ResponseWriter) { w.Write(corrupt) }, 0,
			[]string{"archive " + name + " is truncated or corrupt", "icd10pcs_tables_2025.xml"}},
		{"larger than the limit", func(w http.ResponseWriter) { w.Write(archive) }, 1000,
			[]string{"limit of 1000"}},
		{"not a zip", func(w http.ResponseWriter) { w.Write([]byte("<html>Moved</html>")) }, 0,
			[]string{"truncated or corrupt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requested []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requested = append(requested, r.URL.Path)
				mu.Unlock()
				tt.serve(w)
			}))
			defer srv.Close()
			dir := t.TempDir()
			var last Progress
			calls := 0
			in, err := Fetch(context.Background(), dir, "icd10pcs", 2025, FetchOptions{
				BaseURL:  srv.URL + "/files/zip",
				Client:   srv.Client(),
				MaxBytes: tt.max,
				Progress: func(p Progress) { last = p; calls++ },
			})
			if want := []string{"/files/zip/" + name}; !slices.Equal(requested, want) {
				t.Errorf("requested %v, want %v", requested, want)
			}
			if left := workDirs(t, dir); len(left) > 0 {
				t.Errorf("work files left behind: %v", left)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if want := []codesys.Part{codesys.PartPCSTables, codesys.PartPCSIndex, codesys.PartPCSDefinitions}; in.Version != "2025" || !slices.Equal(in.Parts, want) {
					t.Errorf("fetched %s with parts %v", in.ID(), in.Parts)
				}
				if !strings.Contains(in.Source, srv.URL) {
					t.Errorf("source %q does not name the URL", in.Source)
				}
				if calls < 2 || last.Done != int64(len(archive)) || (last.Total != int64(len(archive)) && last.Total != -1) {
					t.Errorf("%d progress calls, last %+v; want the whole archive of %d bytes", calls, last, len(archive))
				}
				if _, err := Open(context.Background(), dir, "icd10pcs", "2025"); err != nil {
					t.Error(err)
				}
				return
			}
			if err == nil {
				t.Fatal("fetch succeeded, want an error")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if infos, _ := List(dir); len(infos) > 0 {
				t.Errorf("a failed fetch installed %v", infos)
			}
		})
	}
}

func TestFetchCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(make([]byte, 1000))
		w.(http.Flusher).Flush()
		cancel()
		<-r.Context().Done()
	}))
	defer srv.Close()
	dir := t.TempDir()
	_, err := Fetch(ctx, dir, "icd10cm", 2026, FetchOptions{BaseURL: srv.URL, Client: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Fetch = %v, want a cancellation", err)
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work files left behind: %v", left)
	}
}

// TestFetchICD10CM fetches an ICD-10-CM release as CMS publishes it: two
// archives, the Tabular List (in its "Table and Index" folder) and the
// order file, from a local server serving zips built from the shared
// FY2021 files; the release installed has both parts and its codes.
func TestFetchICD10CM(t *testing.T) {
	tables := buildZip(t, zipEntry{"Table and Index/icd10cm_tabular_2021.xml", gunzipShared(t, cmTabular2021)})
	order := buildZip(t, zipEntry{"icd10cm_order_2021.txt", gunzipShared(t, cmOrder2021)})
	archives := map[string][]byte{
		"/files/zip/2021-code-tables-tabular-and-index.zip":   tables,
		"/files/zip/2021-code-descriptions-tabular-order.zip": order,
	}
	var mu sync.Mutex
	var requested []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requested = append(requested, r.URL.Path)
		mu.Unlock()
		b, ok := archives[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	dir := t.TempDir()
	in, err := Fetch(context.Background(), dir, "icd10cm", 2021, FetchOptions{BaseURL: srv.URL + "/files/zip", Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(requested)
	if len(requested) != 2 || !slices.Contains(requested, "/files/zip/2021-code-tables-tabular-and-index.zip") ||
		!slices.Contains(requested, "/files/zip/2021-code-descriptions-tabular-order.zip") {
		t.Errorf("requested %v", requested)
	}
	if in.Version != "2021" || !slices.Contains(in.Parts, codesys.PartTabular) || !slices.Contains(in.Parts, codesys.PartOrder) {
		t.Errorf("fetched %s with parts %v", in.ID(), in.Parts)
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work files left behind: %v", left)
	}
	rel, err := Open(context.Background(), dir, "icd10cm", "2021")
	if err != nil {
		t.Fatal(err)
	}
	// S52.521A is valid in FY2021 only with its 7th character.
	if v := rel.Tabular.Validate("S52.521A"); v.Status != codesys.Valid {
		t.Errorf("S52.521A: %s", v.Reason)
	}

	// A missing second archive fails the whole fetch: nothing installed.
	delete(archives, "/files/zip/2021-code-descriptions-tabular-order.zip")
	dir2 := t.TempDir()
	if _, err := Fetch(context.Background(), dir2, "icd10cm", 2021, FetchOptions{BaseURL: srv.URL + "/files/zip", Client: srv.Client()}); err == nil ||
		!strings.Contains(err.Error(), "2021-code-descriptions-tabular-order.zip") {
		t.Errorf("fetch without the order archive: %v", err)
	}
	if _, err := Open(context.Background(), dir2, "icd10cm", "2021"); err == nil {
		t.Error("a failed fetch installed a release")
	}
}
