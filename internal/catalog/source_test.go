package catalog

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
)

// gzipBytes returns b gzipped.
func gzipBytes(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportArchiveLimits checks that archives and gzipped files that
// expand beyond the bounds of ImportOptions fail with ErrArchiveLimit,
// and that those within them import.
func TestImportArchiveLimits(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	// A Tabular List padded with a MiB of blanks inside the document, so
	// that it is identified as one and read until the bound stops it.
	padded := strings.Replace(tinyTabular, "<chapter>", strings.Repeat(" ", 1<<20)+"<chapter>", 1)
	tests := []struct {
		name string
		file string
		data func(t *testing.T) []byte
		opts ImportOptions
		want string // substring of the error; empty for success
	}{
		{"zip within the bounds", "ok.zip", func(t *testing.T) []byte {
			return buildZip(t, zipEntry{"tab.xml", []byte(tinyTabular)})
		}, ImportOptions{MaxExpanded: limit, MaxMembers: 2}, ""},
		{"zip entry declared too large", "bomb.zip", func(t *testing.T) []byte {
			return buildZip(t, zipEntry{"tab.xml", []byte(padded)})
		}, ImportOptions{MaxExpanded: limit}, "expand to more than 65536 bytes"},
		{"zip entries together too large", "bomb.zip", func(t *testing.T) []byte {
			var es []zipEntry
			for i := range 4 {
				es = append(es, zipEntry{fmt.Sprintf("f%d.txt", i), make([]byte, limit/3)})
			}
			return buildZip(t, es...)
		}, ImportOptions{MaxExpanded: limit}, "expand to more than 65536 bytes"},
		{"zip nested in a zip too large", "outer.zip", func(t *testing.T) []byte {
			inner := buildZip(t, zipEntry{"tab.xml", []byte(padded)})
			return buildZip(t, zipEntry{"inner.zip", inner})
		}, ImportOptions{MaxExpanded: limit}, "outer.zip:inner.zip:tab.xml"},
		{"too many files", "many.zip", func(t *testing.T) []byte {
			var es []zipEntry
			for i := range 5 {
				es = append(es, zipEntry{fmt.Sprintf("f%d.txt", i), []byte("x")})
			}
			return buildZip(t, es...)
		}, ImportOptions{MaxMembers: 3}, "more than 3 files"},
		{"gzip expands too much", "tab.xml.gz", func(t *testing.T) []byte {
			return gzipBytes(t, []byte(padded))
		}, ImportOptions{MaxExpanded: limit}, "tab.xml.gz: the import's archives expand to more than 65536 bytes"},
		{"gzip in a zip expands too much", "tab.zip", func(t *testing.T) []byte {
			return buildZip(t, zipEntry{"tab.xml.gz", gzipBytes(t, []byte(padded))})
		}, ImportOptions{MaxExpanded: limit}, "tab.zip:tab.xml.gz"},
		{"gzip within the bounds", "tab.xml.gz", func(t *testing.T) []byte {
			return gzipBytes(t, []byte(padded))
		}, ImportOptions{MaxExpanded: 2 << 20}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeFile(t, t.TempDir(), tt.file, tt.data(t))
			_, err := Import(ctx, dir, "icd10cm", []string{src}, tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("import succeeded, want an error")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if !errors.Is(err, ErrArchiveLimit) {
				t.Errorf("error %q is not ErrArchiveLimit", err)
			}
			if infos, err := List(dir); err != nil || len(infos) > 0 {
				t.Errorf("after a failed import List = %v, %v; want nothing installed", infos, err)
			}
		})
	}
}

// lyingZip returns a zip whose one entry, name, declares size bytes but
// holds data, stored uncompressed, as a crafted archive may.
func lyingZip(tb testing.TB, name string, size uint64, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{
		Name:               name,
		Method:             zip.Store,
		CRC32:              crc32.ChecksumIEEE(data),
		CompressedSize64:   uint64(len(data)),
		UncompressedSize64: size,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// TestArchiveDeclaredSize checks that an archive declaring more than the
// default bound fails before anything is expanded, both when it is
// imported and when a download is verified.
func TestArchiveDeclaredSize(t *testing.T) {
	big := lyingZip(t, "tab.xml", DefaultMaxExpanded+1, []byte(tinyTabular))
	p := writeFile(t, t.TempDir(), "big.zip", big)
	tests := []struct {
		name string
		run  func() error
	}{
		{"import", func() error {
			_, err := Import(context.Background(), t.TempDir(), "icd10cm", []string{p}, ImportOptions{})
			return err
		}},
		{"fetch verification", func() error { return verifyZip(p, "big.zip") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if !errors.Is(err, ErrArchiveLimit) {
				t.Fatalf("error %v, want ErrArchiveLimit", err)
			}
			if !strings.Contains(err.Error(), "big.zip:tab.xml") {
				t.Errorf("error %q does not name the entry", err)
			}
		})
	}
}
