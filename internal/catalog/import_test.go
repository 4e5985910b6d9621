package catalog

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

func TestDefaultDir(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, env, xdg, want string
	}{
		{"environment variable wins", "/srv/medcode", "/xdg", "/srv/medcode"},
		{"XDG data home", "", "/xdg", "/xdg/medcode"},
		{"relative XDG data home is ignored", "", "rel", filepath.Join(home, ".local", "share", "medcode")},
		{"home", "", "", filepath.Join(home, ".local", "share", "medcode")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvDataDir, tt.env)
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			got, err := DefaultDir()
			if err != nil {
				t.Fatal(err)
			}
			if got != filepath.FromSlash(tt.want) {
				t.Errorf("DefaultDir() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestImportSources imports releases from the forms the publisher and
// mirrors ship them in and checks what was installed.
func TestImportSources(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		system  string
		from    func(t *testing.T) []string
		opts    ImportOptions
		version string
		parts   []codesys.Part
		notes   []string // substrings expected among the notes
	}{
		{
			name:   "folder of gzipped files",
			system: "icd10pcs",
			from: func(t *testing.T) []string {
				return []string{linkShared(t, pcsTables2025, pcsIndex2025, pcsDefs2025)}
			},
			version: "2025",
			parts:   []codesys.Part{codesys.PartPCSTables, codesys.PartPCSIndex, codesys.PartPCSDefinitions},
		},
		{
			// The layout of CMS's "Code Tables, Tabular and Index" zip,
			// with a nested zip, a schema and a file of the other system.
			name:   "nested zip with folders",
			system: "ICD-10-CM",
			from: func(t *testing.T) []string {
				inner := buildZip(t, zipEntry{"icd10cm_drug_2026.xml", gunzipShared(t, cmDrug2026)})
				outer := buildZip(t,
					zipEntry{"Table and Index/icd10cm_neoplasm_2026.xml", gunzipShared(t, cmNeo2026)},
					zipEntry{"Table and Index/icd10cm_index.xsd", gunzipShared(t, cmXSD2026)},
					zipEntry{"Table and Index/drug.zip", inner},
					zipEntry{"Table and Index/icd10cm_eindex_2026.xml.gz", mustRead(t, cmEindex2026)},
					zipEntry{"PCS/icd10pcs_definitions_2026.xml", gunzipShared(t, pcsDefs2026)},
				)
				return []string{writeFile(t, t.TempDir(), "2026-code-tables-tabular-and-index.zip", outer)}
			},
			version: "2026",
			parts:   []codesys.Part{codesys.PartExternal, codesys.PartNeoplasm, codesys.PartDrug},
			notes:   []string{"icd10cm_index.xsd: not a release file", "icd10pcs_definitions_2026.xml: it is the ICD-10-PCS"},
		},
		{
			name:   "order file alone with a version",
			system: "icd10cm",
			from: func(t *testing.T) []string {
				return []string{linkShared(t, cmOrder2021) + "/" + filepath.Base(cmOrder2021)}
			},
			opts:    ImportOptions{Version: "2021"},
			version: "2021",
			parts:   []codesys.Part{codesys.PartOrder},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in, err := Import(ctx, dir, tt.system, tt.from(t), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if in.Version != tt.version || !slices.Equal(in.Parts, tt.parts) {
				t.Errorf("imported version %s parts %v, want %s %v", in.Version, in.Parts, tt.version, tt.parts)
			}
			sys, _ := codesys.ParseSystem(tt.system)
			for _, p := range codesys.PartsOf(sys) {
				if slices.Contains(in.Parts, p) == slices.Contains(in.Missing, p) {
					t.Errorf("part %s: in Parts %v and Missing %v, want exactly one", p, in.Parts, in.Missing)
				}
			}
			if len(in.Files) != len(tt.parts) {
				t.Errorf("%d source files recorded, want %d: %+v", len(in.Files), len(tt.parts), in.Files)
			}
			for _, f := range in.Files {
				if len(f.SHA256) != 64 || f.Size == 0 {
					t.Errorf("source file %+v: missing size or hash", f)
				}
			}
			for _, want := range tt.notes {
				if !slices.ContainsFunc(in.Notes, func(n string) bool { return strings.Contains(n, want) }) {
					t.Errorf("notes %q lack %q", in.Notes, want)
				}
			}

			infos, err := List(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(infos) != 1 || infos[0].ID() != in.ID() || !slices.Equal(infos[0].Parts, in.Parts) {
				t.Fatalf("List = %+v, want the one imported release %s", infos, in.ID())
			}
			r, err := Open(ctx, dir, tt.system, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Version != tt.version || !slices.Equal(r.Parts(), tt.parts) {
				t.Errorf("opened %s with parts %v, want version %s parts %v", r.ID(), r.Parts(), tt.version, tt.parts)
			}
			// An ICD-10-CM order file without a Tabular List opens with
			// the list composed from it; here no release lends notes.
			composes := slices.Contains(tt.parts, codesys.PartOrder) && !slices.Contains(tt.parts, codesys.PartTabular)
			if got := r.Tabular != nil && r.Tabular.Composed; got != composes || composes && r.Borrowed(codesys.PartTabular) != "" {
				t.Errorf("opened %s: composed Tabular List %v (notes from %q), want %v without notes", r.ID(), got, r.Borrowed(codesys.PartTabular), composes)
			}
			if left := workDirs(t, dir); len(left) > 0 {
				t.Errorf("work directories left behind: %v", left)
			}
		})
	}
}

func mustRead(t *testing.T, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(shareddata.Path(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestImportHashes checks the recorded SHA-256 against the values the
// shared data's PROVENANCE.md gives for the uncompressed files.
func TestImportHashes(t *testing.T) {
	in, err := Import(context.Background(), t.TempDir(), "icd10pcs", []string{linkShared(t, pcsTables2026, pcsDefs2026)}, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[codesys.Part]struct {
		size int64
		sha  string
	}{
		codesys.PartPCSTables:      {2992931, "8a9020bde754a93826ae122ac6bb293271a167e34c05181f1789b5fd3038e96a"},
		codesys.PartPCSDefinitions: {268657, "920d19c11639063bca0632e2dd230998b3137429702d0d6df143a285bb1167da"},
	}
	for _, f := range in.Files {
		if w := want[f.Part]; f.Size != w.size || f.SHA256 != w.sha {
			t.Errorf("%s: size %d sha256 %s, want %d %s", f.Name, f.Size, f.SHA256, w.size, w.sha)
		}
	}
}

// TestImportRoundTrip checks that the compiled form gives back the release
// as read from the publisher's files.
func TestImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := linkShared(t, cmTabular2021, cmOrder2021, cmNeo2025, cmDrug2025, cmEindex2025)
	// The FY2025 tables do not belong with the FY2021 Tabular List.
	if _, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "different releases") {
		t.Fatalf("import of mixed releases: err = %v, want a version disagreement", err)
	}
	// The order file, which carries no version, takes the Tabular List's.
	d := linkShared(t, cmTabular2021, cmOrder2021)
	from := []string{filepath.Join(d, filepath.Base(cmTabular2021)), filepath.Join(d, filepath.Base(cmOrder2021))}
	if _, err := Import(ctx, dir, "icd10cm", from, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(ctx, dir, "icd10cm", "2021")
	if err != nil {
		t.Fatal(err)
	}
	// Facts from the FY2021 files (see their PROVENANCE.md) and the
	// classification itself.
	if n := len(r.Order.Entries); n != 95358 {
		t.Errorf("order file has %d entries, want 95,358 lines", n)
	}
	var chapters int
	for _, n := range r.Tabular.Nodes {
		if n.Kind == codesys.KindChapter {
			chapters++
		}
	}
	if chapters != 22 {
		t.Errorf("%d chapters, want 22", chapters)
	}
	// The lookup maps are rebuilt after decoding.
	e, err := r.Lookup("E11.9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Title, "Type 2 diabetes mellitus without complications") {
		t.Errorf("E11.9 title %q", e.Title)
	}
	if v, err := r.Validate("S52.521A"); err != nil || !v.Billable() {
		t.Errorf("S52.521A: %+v, %v; want a valid code", v, err)
	}
}

// TestImportErrors checks that each failure is explained and installs
// nothing.
func TestImportErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		system string
		from   func(t *testing.T) []string
		opts   ImportOptions
		want   []string // substrings of the error
	}{
		{"unknown system", "icd9", func(t *testing.T) []string { return []string{t.TempDir()} }, ImportOptions{},
			[]string{`unknown coding system "icd9"`, "icd10cm"}},
		{"missing path", "icd10cm", func(t *testing.T) []string { return []string{filepath.Join(t.TempDir(), "nope.zip")} }, ImportOptions{},
			[]string{"nope.zip", "no such file"}},
		{"no files", "icd10cm", func(t *testing.T) []string { return nil }, ImportOptions{}, []string{"no files given"}},
		{"folder without release files", "icd10cm", func(t *testing.T) []string { return []string{linkShared(t, cmXSD2026)} }, ImportOptions{},
			[]string{"no ICD-10-CM release files found in", "expected one of", "Tabular List"}},
		{"only files of the other system", "icd10cm", func(t *testing.T) []string { return []string{linkShared(t, pcsDefs2026)} }, ImportOptions{},
			[]string{"no ICD-10-CM release files found"}},
		{"zip without release files", "icd10pcs", func(t *testing.T) []string {
			return []string{writeFile(t, t.TempDir(), "x.zip", buildZip(t, zipEntry{"readme.txt", []byte("hello\n")}))}
		}, ImportOptions{}, []string{"no ICD-10-PCS release files found", "x.zip"}},
		{"not a zip", "icd10pcs", func(t *testing.T) []string {
			return []string{writeFile(t, t.TempDir(), "x.zip", []byte("this is not a zip archive"))}
		}, ImportOptions{}, []string{"archive", "x.zip", "truncated or corrupt"}},
		{"versions disagree", "icd10pcs", func(t *testing.T) []string { return []string{linkShared(t, pcsTables2025, pcsDefs2026)} }, ImportOptions{},
			[]string{"different releases", "2025", "2026"}},
		{"version override disagrees", "icd10pcs", func(t *testing.T) []string { return []string{linkShared(t, pcsDefs2026)} }, ImportOptions{Version: "2025"},
			[]string{"version 2025 was given", "2026"}},
		{"order file without version", "icd10cm", func(t *testing.T) []string { return []string{linkShared(t, cmOrder2021)} }, ImportOptions{},
			[]string{"carries no version", "--version"}},
		{"two files for one part", "icd10cm", func(t *testing.T) []string { return []string{linkShared(t, cmDrug2026), linkShared(t, cmDrug2026)} }, ImportOptions{},
			[]string{"two files hold", "Drugs"}},
		{"bad version", "icd10cm", func(t *testing.T) []string { return []string{linkShared(t, cmOrder2021)} }, ImportOptions{Version: "../x"},
			[]string{"invalid release version"}},
		{"malformed XML", "icd10cm", func(t *testing.T) []string {
			// A Tabular List whose XML breaks on line 5.
			x := "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ICD10CM.tabular>\n<version>2021</version>\n<chapter><name>1</name>\n<desc>Certain infectious</oops></chapter>\n</ICD10CM.tabular>\n"
			return []string{writeFile(t, t.TempDir(), "broken_tabular.xml", []byte(x))}
		}, ImportOptions{}, []string{"broken_tabular.xml", "line 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Import(ctx, dir, tt.system, tt.from(t), tt.opts)
			if err == nil {
				t.Fatal("import succeeded, want an error")
			}
			t.Log(err)
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if infos, err := List(dir); err != nil || len(infos) > 0 {
				t.Errorf("after a failed import List = %v, %v; want nothing installed", infos, err)
			}
			if left := workDirs(t, dir); len(left) > 0 {
				t.Errorf("work directories left behind: %v", left)
			}
		})
	}
}

// TestImportAtomic checks that a failing import leaves the installed
// release untouched and that a re-import replaces it as a whole.
func TestImportAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, cmNeo2025, cmDrug2025)}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}

	// The same release again, with a second file cut short: reading it
	// fails midway through the import.
	src := linkShared(t, cmNeo2025, cmDrug2025)
	whole := mustRead(t, cmEindex2025)
	writeFile(t, src, filepath.Base(cmEindex2025), whole[:len(whole)/2])
	_, err := Import(ctx, dir, "icd10cm", []string{src}, ImportOptions{})
	if err == nil {
		t.Fatal("import of a truncated file succeeded")
	}
	if !strings.Contains(err.Error(), filepath.Base(cmEindex2025)) {
		t.Errorf("error %q does not name the truncated file", err)
	}
	r, err := Open(ctx, dir, "icd10cm", "2025")
	if err != nil {
		t.Fatalf("the installed release no longer opens: %v", err)
	}
	if want := []codesys.Part{codesys.PartNeoplasm, codesys.PartDrug}; !slices.Equal(r.Parts(), want) {
		t.Errorf("installed parts %v, want %v", r.Parts(), want)
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work directories left behind: %v", left)
	}

	// A canceled import changes nothing either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Import(cctx, dir, "icd10cm", []string{linkShared(t, cmDrug2025)}, ImportOptions{}); err == nil {
		t.Fatal("canceled import succeeded")
	}

	// Re-importing the version with Replace replaces it as a whole: now
	// with the External Cause Index and without the Neoplasm table.
	if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, cmEindex2025, cmDrug2025)}, ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, dir, "icd10cm", "2025")
	if err != nil {
		t.Fatal(err)
	}
	if want := []codesys.Part{codesys.PartExternal, codesys.PartDrug}; !slices.Equal(r.Parts(), want) {
		t.Errorf("after re-import parts %v, want %v", r.Parts(), want)
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work directories left behind: %v", left)
	}
}

// TestRecover simulates imports and removals killed between their steps.
func TestRecover(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Import(ctx, dir, "icd10cm", []string{linkShared(t, cmNeo2026)}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sd := systemDir(dir, codesys.ICD10CM)
	// Killed after the old release stepped aside, before the new one
	// was renamed into place.
	if err := os.Rename(filepath.Join(sd, "2026"), filepath.Join(sd, oldPrefix+"2026")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dir, "icd10cm", "2026"); err != nil {
		t.Fatalf("the release stepped aside was not restored: %v", err)
	}
	// Killed while deleting a removed release.
	if err := os.Mkdir(filepath.Join(sd, delPrefix+"2024"), 0o755); err != nil {
		t.Fatal(err)
	}
	infos, err := List(dir)
	if err != nil || len(infos) != 1 || infos[0].Version != "2026" {
		t.Errorf("List = %v, %v; want only 2026", infos, err)
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work directories left behind: %v", left)
	}
}

func TestListOpenRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if infos, err := List(dir); err != nil || len(infos) != 0 {
		t.Fatalf("List of an empty data directory = %v, %v", infos, err)
	}
	if _, err := Open(ctx, dir, "icd10pcs", ""); err == nil || !strings.Contains(err.Error(), "no ICD-10-PCS release installed") {
		t.Errorf("Open with nothing installed: %v", err)
	}
	for _, src := range [][]string{{pcsDefs2026}, {pcsDefs2025}, {cmNeo2026}} {
		if _, err := Import(ctx, dir, "", []string{linkShared(t, src...)}, ImportOptions{}); err == nil {
			t.Fatal("import with an empty system succeeded")
		}
		sys := "icd10pcs"
		if strings.HasPrefix(src[0], "icd10cm") {
			sys = "icd10cm"
		}
		if _, err := Import(ctx, dir, sys, []string{linkShared(t, src...)}, ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range infos {
		ids = append(ids, in.ID())
	}
	if want := []string{"icd10cm-2026", "icd10pcs-2025", "icd10pcs-2026"}; !slices.Equal(ids, want) {
		t.Errorf("List = %v, want %v", ids, want)
	}
	r, err := Open(ctx, dir, "ICD-10-PCS", "")
	if err != nil || r.Version != "2026" {
		t.Fatalf("latest PCS release: %v, %v; want 2026", r, err)
	}
	if _, err := Open(ctx, dir, "icd10pcs", "2019"); err == nil || !strings.Contains(err.Error(), "2019 is not installed") {
		t.Errorf("Open of a missing version: %v", err)
	}
	if err := Remove(dir, "icd10pcs", ""); err == nil {
		t.Error("Remove without a version succeeded")
	}
	if err := Remove(dir, "icd10pcs", "2026"); err != nil {
		t.Fatal(err)
	}
	r, err = Open(ctx, dir, "icd10pcs", "")
	if err != nil || r.Version != "2025" {
		t.Fatalf("latest PCS release after removing 2026: %v, %v; want 2025", r, err)
	}
	if err := Remove(dir, "icd10pcs", "2026"); err == nil {
		t.Error("removing a removed release succeeded")
	}
	if left := workDirs(t, dir); len(left) > 0 {
		t.Errorf("work directories left behind: %v", left)
	}
}

// TestOpenIncompatible checks that a release compiled by another format, or
// damaged, asks for a re-import.
func TestOpenIncompatible(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		damage func(t *testing.T, rdir string)
	}{
		{"older format in manifest", func(t *testing.T, rdir string) {
			editManifest(t, rdir, func(in *Info) { in.Format = FormatVersion - 1 })
		}},
		{"older format in compiled file", func(t *testing.T, rdir string) {
			p := filepath.Join(rdir, releaseFile)
			b, _ := os.ReadFile(p)
			b[8]++
			os.WriteFile(p, b, 0o644)
		}},
		{"truncated compiled file", func(t *testing.T, rdir string) {
			p := filepath.Join(rdir, releaseFile)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}},
		{"not a compiled file", func(t *testing.T, rdir string) {
			os.WriteFile(filepath.Join(rdir, releaseFile), []byte("hello"), 0o644)
		}},
	}
	base := t.TempDir()
	if _, err := Import(ctx, base, "icd10cm", []string{linkShared(t, cmNeo2026)}, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(base)); err != nil {
				t.Fatal(err)
			}
			in, err := Stat(dir, "icd10cm", "2026")
			if err != nil {
				t.Fatal(err)
			}
			tt.damage(t, in.Dir)
			_, err = Open(ctx, dir, "icd10cm", "2026")
			if err == nil || !strings.Contains(err.Error(), "import the release again") {
				t.Errorf("Open = %v, want an error asking to import again", err)
			}
		})
	}
}

func editManifest(t *testing.T, rdir string, edit func(*Info)) {
	t.Helper()
	in, err := readManifest(rdir)
	if err != nil {
		t.Fatal(err)
	}
	edit(in)
	os.Remove(filepath.Join(rdir, manifestFile))
	if _, err := writeFileSync(filepath.Join(rdir, manifestFile), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(in)
	}); err != nil {
		t.Fatal(err)
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2025", "2026", -1},
		{"2026", "2026", 0},
		{"999", "2026", -1},
		{"2026", "2026.1", -1},
		{"2026-apr", "2026", 1},
		{"2026.10", "2026.9", 1},
	}
	for _, tt := range tests {
		if got := compareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := compareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
