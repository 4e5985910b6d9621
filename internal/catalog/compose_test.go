package catalog

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

const cmOrder2025 = "icd10cm/fy2025-apr2025/icd10cm_order_2025.txt.gz"

// TestOpenComposesTabular imports an ICD-10-CM release with only its
// order file beside one with a Tabular List, and checks that opening it
// composes its Tabular List with the other's notes, and says so.
func TestOpenComposesTabular(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Import(ctx, dir, "icd10cm", []string{filepath.Join(linkShared(t, cmOrder2025), filepath.Base(cmOrder2025))}, ImportOptions{Version: "2025"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		install   []string // shared files to import, as one release, before the check
		notesFrom string   // version whose notes the 2025 list carries
	}{
		{"no Tabular List installed", nil, ""},
		{"FY2021 Tabular List installed", []string{cmTabular2021, cmOrder2021}, "2021"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.install != nil {
				if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, tt.install...)}, ImportOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			in, err := Stat(dir, "icd10cm", "2025")
			if err != nil {
				t.Fatal(err)
			}
			infos, err := List(dir)
			if err != nil {
				t.Fatal(err)
			}
			listed := infos[slices.IndexFunc(infos, func(i *Info) bool { return i.Version == "2025" })]
			if !in.Composes() || !in.Serves(codesys.PartTabular) || in.TabularNotes != tt.notesFrom || listed.TabularNotes != tt.notesFrom {
				t.Errorf("Stat: composes %v, serves tabular %v, notes from %q (List: %q); want true, true, %q",
					in.Composes(), in.Serves(codesys.PartTabular), in.TabularNotes, listed.TabularNotes, tt.notesFrom)
			}
			r, err := OpenInfo(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			wantFrom := ""
			if tt.notesFrom != "" {
				wantFrom = "icd10cm-" + tt.notesFrom
			}
			if r.Tabular == nil || !r.Tabular.Composed || r.Tabular.Version != "2025" || r.Borrowed(codesys.PartTabular) != wantFrom {
				t.Fatalf("opened 2025: Tabular %v, notes from %q; want a composed 2025 list with notes from %q", r.Tabular != nil, r.Borrowed(codesys.PartTabular), wantFrom)
			}
			if slices.Contains(r.Parts(), codesys.PartTabular) || !slices.Contains(r.Missing(), codesys.PartTabular) {
				t.Errorf("parts %v, missing %v: the composed list is not the release's own", r.Parts(), r.Missing())
			}
			e, err := r.Lookup("E11.36")
			if err != nil {
				t.Fatal(err)
			}
			borrowed := slices.ContainsFunc(e.Notes, func(sn codesys.SourcedNotes) bool { return sn.NotesFrom == wantFrom && sn.Label != "" })
			if e.Status != codesys.Valid || borrowed != (wantFrom != "") {
				t.Errorf("E11.36: %s, notes %+v; want valid, notes from %q", e.Status, e.Notes, wantFrom)
			}
			// The release with its own list is opened as it is.
			if tt.notesFrom != "" {
				own, err := Open(ctx, dir, "icd10cm", tt.notesFrom)
				if err != nil {
					t.Fatal(err)
				}
				if own.Tabular.Composed || own.Borrowed(codesys.PartTabular) != "" {
					t.Errorf("%s: its own Tabular List is marked composed", own.ID())
				}
			}
		})
	}
}
