// Package shareddata locates the official release files and evaluation sets
// that sit beside the checkout in ../shared/data, for tests and benchmarks.
// The files are never copied into the repository; a test that needs them
// fails loudly when they are missing instead of skipping.
package shareddata

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides the location of the shared data folder.
const EnvVar = "MEDCODE_SHARED_DATA"

// Find returns the shared data folder: $MEDCODE_SHARED_DATA if set, else
// ../shared/data relative to the module root found by walking up from the
// working directory to go.mod.
func Find() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		return checkDir(d)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find shared data: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return checkDir(filepath.Join(dir, "..", "shared", "data"))
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("find shared data: no go.mod above " + wd)
		}
	}
}

func checkDir(d string) (string, error) {
	fi, err := os.Stat(d)
	if err != nil {
		return "", fmt.Errorf("shared data folder %s: %w (set %s or put shared/data beside the checkout)", d, err, EnvVar)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("shared data folder %s is not a directory", d)
	}
	return filepath.Abs(d)
}

// Path returns the path of rel inside the shared data folder, failing the
// test at once if the folder or the file is missing.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir, err := Find()
	if err != nil {
		tb.Fatalf("shared data is required for this test: %v", err)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("shared data file is required for this test: %v", err)
	}
	return p
}

// ReadGz returns the uncompressed content of a gzip-compressed file of the
// shared data folder (the release files are stored as .xml.gz and .txt.gz),
// failing the test at once when it is missing or unreadable.
func ReadGz(tb testing.TB, rel string) []byte {
	tb.Helper()
	f, err := os.Open(Path(tb, rel))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("shared data file %s: %v", rel, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("shared data file %s: %v", rel, err)
	}
	return data
}

// Load reads a gzip-compressed file of the shared data folder with read
// (one of the codesys readers, say), failing the test at once when the
// file is missing or does not read.
func Load[T any](tb testing.TB, rel string, read func(io.Reader, string) (T, error)) T {
	tb.Helper()
	v, err := read(bytes.NewReader(ReadGz(tb, rel)), rel)
	if err != nil {
		tb.Fatalf("read shared data file %s: %v", rel, err)
	}
	return v
}
