package cli

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/guidelines"
)

// TestInstalledGuidelines: the service loads every installed ICD-10-CM
// edition, oldest first, and none of the PCS ones.
func TestInstalledGuidelines(t *testing.T) {
	doc := func(system, year string) *guidelines.Document {
		return &guidelines.Document{Year: year, System: system, Sections: []guidelines.Section{{ID: "I", Title: "Conventions " + year}}}
	}
	tests := []struct {
		name    string
		install []*guidelines.Document
		want    []string
	}{
		{"none", nil, nil},
		{"one", []*guidelines.Document{doc(guidelines.SystemCM, "2025")}, []string{"2025"}},
		{"all years, not PCS", []*guidelines.Document{doc(guidelines.SystemCM, "2026"), doc(guidelines.SystemPCS, "2025"),
			doc(guidelines.SystemCM, "2024")}, []string{"2024", "2026"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{dataDir: t.TempDir()}
			for _, d := range tt.install {
				if err := guidelines.Install(a.dataDir, d); err != nil {
					t.Fatal(err)
				}
			}
			docs, err := a.installedGuidelines()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range docs {
				if d.Section("I") == nil || d.Section("I").Title != "Conventions "+d.Year {
					t.Errorf("edition %s holds another year's sections", d.Year)
				}
				got = append(got, d.Year)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("loaded %v, want %v", got, tt.want)
			}
		})
	}

	// A file that is not the guidelines stops the service from starting.
	a := &app{dataDir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(a.dataDir, "guidelines"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a.dataDir, "guidelines", "2025.json"), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := a.installedGuidelines(); err == nil {
		t.Error("a damaged edition loaded")
	}
}
