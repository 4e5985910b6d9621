package shareddata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindEnvOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvVar, dir)
	got, err := Find()
	if err != nil || got != dir {
		t.Fatalf("Find() = %q, %v; want %q", got, err, dir)
	}
	t.Setenv(EnvVar, filepath.Join(dir, "missing"))
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), EnvVar) {
		t.Fatalf("Find() with a missing folder: err = %v, want it to name %s", err, EnvVar)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvVar, file)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Find() with a file: err = %v", err)
	}
}

func TestFindBesideCheckout(t *testing.T) {
	t.Setenv(EnvVar, "")
	dir, err := Find()
	if err != nil {
		t.Fatalf("the shared data folder must be beside the checkout: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "icd10cm")); err != nil {
		t.Fatalf("shared data folder %s has no icd10cm folder: %v", dir, err)
	}
}
