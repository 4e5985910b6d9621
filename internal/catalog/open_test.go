package catalog

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// installComposing installs an ICD-10-CM 2025 release with only its order
// file and a 2021 release with a Tabular List to lend it notes.
func installComposing(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Import(ctx, dir, "icd10cm", []string{filepath.Join(linkShared(t, cmOrder2025), filepath.Base(cmOrder2025))}, ImportOptions{Version: "2025"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, cmTabular2021, cmOrder2021)}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// sameTabular reports how two lists differ in looking codes up, "" when
// they agree.
func sameTabular(a, b *codesys.Tabular) string {
	if a.Version != b.Version || a.NotesFrom != b.NotesFrom || a.Composed != b.Composed || len(a.Nodes) != len(b.Nodes) {
		return "version, notes, composed or size"
	}
	for _, code := range []string{"E11.36", "E11.9", "S52.521A", "T36.0X1A", "I10", "chapter 4", "E08-E13", "Z99.99"} {
		if x, y := a.Lookup(code), b.Lookup(code); !reflect.DeepEqual(x, y) {
			return code
		}
	}
	return ""
}

// TestOpenWithCache checks that the Tabular List opening composes is kept
// in the cache and read back as composed, alone when only it is asked for,
// with the rest of the release otherwise; that a change to the release
// lending the notes is never read stale; and that a damaged entry is
// reported and composed again.
func TestOpenWithCache(t *testing.T) {
	ctx := context.Background()
	dir := installComposing(t)
	in, err := Stat(dir, "icd10cm", "2025")
	if err != nil {
		t.Fatal(err)
	}
	want, err := OpenInfo(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	tabOnly := OpenOptions{Parts: []codesys.Part{codesys.PartTabular}, Cache: NewCache(dir), Warn: func(m string) { warnings = append(warnings, m) }}
	entries := func() []string {
		names, _ := filepath.Glob(filepath.Join(dir, "cache", tabularCachePrefix+"*"+cacheSuffix))
		return names
	}

	first, err := OpenWith(ctx, in, tabOnly)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameTabular(first.Tabular, want.Tabular); d != "" || len(entries()) != 1 {
		t.Fatalf("first open: differs at %q, %d cache entries; want the composed list, kept once", d, len(entries()))
	}
	kept, err := OpenWith(ctx, in, tabOnly)
	if err != nil {
		t.Fatal(err)
	}
	if kept.Order != nil || kept.Tabular == nil {
		t.Fatalf("second open: order %v, Tabular List %v; want the kept list alone", kept.Order != nil, kept.Tabular != nil)
	}
	if d := sameTabular(kept.Tabular, want.Tabular); d != "" || !slices.Equal(kept.Problems, want.Problems) || len(want.Problems) == 0 {
		t.Errorf("kept list differs from the composed one at %q, or problems %d, want %d (> 0)", d, len(kept.Problems), len(want.Problems))
	}
	full, err := OpenWith(ctx, in, OpenOptions{Cache: tabOnly.Cache})
	if err != nil {
		t.Fatal(err)
	}
	if full.Order == nil || full.Tabular == nil || sameTabular(full.Tabular, want.Tabular) != "" || !slices.Equal(full.Parts(), want.Parts()) {
		t.Errorf("all parts: order %v, parts %v; want the release with the kept list, parts %v", full.Order != nil, full.Parts(), want.Parts())
	}
	none, err := OpenWith(ctx, in, OpenOptions{Parts: []codesys.Part{}})
	if err != nil || none.ID() != in.ID() || none.Tabular != nil || none.Order != nil {
		t.Errorf("no parts: %v, %v; want the release's identity alone", none, err)
	}

	// The release lending the notes is imported again: its fingerprint,
	// and the 2025 list's, change.
	before, _ := Fingerprint(in)
	notes, err := Stat(dir, "icd10cm", "2021")
	if err != nil {
		t.Fatal(err)
	}
	notes.Imported = notes.Imported.Add(time.Second)
	b, _ := json.Marshal(notes)
	if err := os.WriteFile(filepath.Join(notes.Dir, manifestFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if after, _ := Fingerprint(in); after == before {
		t.Fatal("the notes release was imported again: the fingerprint did not change")
	}
	again, err := OpenWith(ctx, in, tabOnly)
	if err != nil {
		t.Fatal(err)
	}
	if again.Order == nil || len(entries()) != 2 {
		t.Errorf("after the notes release changed: order %v, %d entries; want the list composed again and kept apart", again.Order != nil, len(entries()))
	}

	// A damaged entry is a warning, and the list is composed again.
	for _, name := range entries() {
		b, _ := os.ReadFile(name)
		b[len(b)/2] ^= 1
		os.WriteFile(name, b, 0o644)
	}
	warnings = nil
	damaged, err := OpenWith(ctx, in, tabOnly)
	if err != nil {
		t.Fatal(err)
	}
	if damaged.Order == nil || sameTabular(damaged.Tabular, want.Tabular) != "" || len(warnings) != 1 || !strings.Contains(warnings[0], "damaged") {
		t.Errorf("damaged entry: order %v, warnings %q; want it reported and the list composed again", damaged.Order != nil, warnings)
	}
	if healed, _ := OpenWith(ctx, in, tabOnly); healed.Order != nil {
		t.Error("the entry composed again after damage was not kept")
	}
}

// TestFingerprint checks that a release's fingerprint is stable, and
// changes with the files it was imported from.
func TestFingerprint(t *testing.T) {
	dir := installComposing(t)
	in, err := Stat(dir, "icd10cm", "2021")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Fingerprint(in)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := Fingerprint(in); a != b {
		t.Errorf("two fingerprints of one release: %s, %s", a, b)
	}
	in.Files[0].SHA256 = strings.Repeat("0", 64)
	if b, _ := Fingerprint(in); a == b {
		t.Error("a file of the release changed: the fingerprint did not")
	}
}
