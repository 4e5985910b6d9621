package catalog

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// Fixtures of the codesys readers, written for the tests.
const (
	claMLSample = "../codesys/testdata/classes/sample.claml.xml"
	flatNodes   = "../codesys/testdata/classes/sample-nodes.tsv"
	flatCodes   = "../codesys/testdata/classes/sample-codes.csv"
)

func TestImportClasses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, system string
		from         []string
		opts         ImportOptions
		wantSystem   codesys.System
		version      string
		code, title  string
	}{
		{"ClaML told from its content", "who-icd10", []string{claMLSample}, ImportOptions{}, codesys.WHOICD10, "2024", "B10.01", "Sharp sample pain: Upper limb"},
		{"ClaML under a name of one's own", "Sample", []string{claMLSample}, ImportOptions{Format: FormatClaML}, "sample", "2024", "A00.0", "Sample fever with rash"},
		{"flat list with parents by node", "ICD-10-UK", []string{flatNodes}, ImportOptions{Version: "19"}, codesys.ICD10UK, "19", "A000", "Sample fever with rash"},
		{"flat list with named columns", "local-proc", []string{flatCodes},
			ImportOptions{Format: FormatFlat, Version: "2024.1", Columns: codesys.Columns{Code: "code", Title: "title", Parent: "parent"}}, "local-proc", "2024.1", "A01.1", `Sample excision, "total"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in, err := Import(ctx, dir, tt.system, tt.from, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if in.System != tt.wantSystem || in.Version != tt.version || !slices.Equal(in.Parts, []codesys.Part{codesys.PartClasses}) || len(in.Missing) != 0 {
				t.Errorf("installed %s %s parts %v missing %v", in.System, in.Version, in.Parts, in.Missing)
			}
			if len(in.Files) != 1 || in.Files[0].Part != codesys.PartClasses || len(in.Files[0].SHA256) != 64 {
				t.Errorf("files: %+v", in.Files)
			}
			infos, err := List(dir)
			if err != nil || len(infos) != 1 || infos[0].System != tt.wantSystem {
				t.Fatalf("List = %v, %v", infos, err)
			}
			r, err := Open(ctx, dir, tt.system, "")
			if err != nil {
				t.Fatal(err)
			}
			v, err := r.Validate(tt.code)
			if err != nil || v.Status != codesys.Valid || v.Title != tt.title {
				t.Errorf("validate %s: %+v %v", tt.code, v, err)
			}
		})
	}
}

func TestImportClassesErrors(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	twoLists := t.TempDir()
	writeFile(t, twoLists, "a.tsv", []byte("code\ttitle\nA\tx\n"))
	writeFile(t, twoLists, "b.csv", []byte("code,title\nB,y\n"))
	noList := t.TempDir()
	writeFile(t, noList, "README.md", []byte("nothing here\n"))
	tests := []struct {
		name, system string
		from         []string
		opts         ImportOptions
		want         []string
	}{
		{"unknown name without a format", "icd9", []string{flatCodes}, ImportOptions{}, []string{`unknown coding system "icd9"`, "who-icd10", "--format claml or flat"}},
		{"invalid name", "my list!", []string{flatCodes}, ImportOptions{Format: FormatFlat}, []string{`invalid classification name "my list!"`}},
		{"unknown format", "opcs4", []string{flatCodes}, ImportOptions{Format: "xlsx"}, []string{`unknown import format "xlsx"`}},
		{"format for ICD-10-CM", "icd10cm", []string{flatCodes}, ImportOptions{Format: FormatFlat}, []string{"ICD-10-CM is imported from the publisher's files"}},
		{"flat list without version", "opcs4", []string{flatCodes}, ImportOptions{}, []string{"sample-codes.csv carries no version", "--version"}},
		{"version disagrees", "who-icd10", []string{claMLSample}, ImportOptions{Version: "2019"}, []string{"version 2019 was given but", "has version 2024"}},
		{"two lists", "opcs4", []string{twoLists}, ImportOptions{Version: "1"}, []string{"a.tsv and", "b.csv both hold a classification"}},
		{"no list", "opcs4", []string{noList}, ImportOptions{Version: "1"}, []string{"no ClaML file or code list found"}},
		{"ClaML asked, list given", "opcs4", []string{flatCodes}, ImportOptions{Format: FormatClaML, Version: "1"}, []string{"no ClaML file or code list found"}},
		{"broken list", "opcs4", []string{writeFile(t, tmp, "broken.tsv", []byte("code\ttitle\tparent\nA\tx\tQ\n"))}, ImportOptions{Version: "1"},
			[]string{"import OPCS-4", "broken.tsv: line 2: parent Q is not the code of any row"}},
		{"missing column", "opcs4", []string{flatCodes}, ImportOptions{Version: "1", Columns: codesys.Columns{Selectable: "valid"}}, []string{`no column "valid" for the selectable`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Import(ctx, dir, tt.system, tt.from, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if infos, _ := List(dir); len(infos) != 0 {
				t.Errorf("a failed import installed %v", infos)
			}
		})
	}
}

// TestImportClassesReplace: a failed re-import leaves the installed release
// as it was; a good one replaces it, and Diff compares the two versions.
func TestImportClassesReplace(t *testing.T) {
	ctx := context.Background()
	dir, src := t.TempDir(), t.TempDir()
	v1 := writeFile(t, src, "v1.tsv", []byte("code\ttitle\tparent\nA\tChapter A\t\nA1\tOld one\tA\nA2\tTwo\tA\n"))
	if _, err := Import(ctx, dir, "mylist", []string{v1}, ImportOptions{Format: FormatFlat, Version: "1"}); err != nil {
		t.Fatal(err)
	}
	bad := writeFile(t, src, "bad.tsv", []byte("code\ttitle\tparent\nA\tChapter A\t\nA1\tNew one\tZ\n"))
	if _, err := Import(ctx, dir, "mylist", []string{bad}, ImportOptions{Format: FormatFlat, Version: "1"}); err == nil {
		t.Fatal("broken list imported")
	}
	r1, err := Open(ctx, dir, "mylist", "1")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r1.Validate("A1"); v.Title != "Old one" {
		t.Errorf("after a failed import A1 is %q", v.Title)
	}
	v2 := writeFile(t, src, "v2.csv", []byte("code,title,parent\nA,Chapter A,\nA1,New one,A\nA3,Three,A\n"))
	if _, err := Import(ctx, dir, "mylist", []string{v2}, ImportOptions{Format: FormatFlat, Version: "2"}); err != nil {
		t.Fatal(err)
	}
	r2, err := Open(ctx, dir, "mylist", "")
	if err != nil || r2.Version != "2" {
		t.Fatalf("latest: %v %v", r2, err)
	}
	ch, err := Diff(r1, r2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ch.Basis, []codesys.Part{codesys.PartClasses}) ||
		!slices.Equal(ch.Added, []CodeTitle{{"A3", "Three"}}) || !slices.Equal(ch.Deleted, []CodeTitle{{"A2", "Two"}}) ||
		!slices.Equal(ch.Retitled, []Retitle{{"A1", "Old one", "New one"}}) {
		t.Errorf("diff: %+v", ch)
	}
}

// TestListOrder: registered classifications come first, in the registry's
// order, then names of the user's own; directories that are not a
// classification's name are skipped.
func TestListOrder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, sys := range []string{"zeta", "opcs4", "alpha", "who-icd10"} {
		if _, err := Import(ctx, dir, sys, []string{flatCodes}, ImportOptions{Format: FormatFlat, Version: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "releases", "Not A Name"), 0o755); err != nil {
		t.Fatal(err)
	}
	infos, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range infos {
		got = append(got, string(in.System))
	}
	if want := []string{"who-icd10", "opcs4", "alpha", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("List order %v, want %v", got, want)
	}
}

// TestImportSharedClassifications imports the shared WHO ClaML file and the
// UK Biobank lists as a user would.
func TestImportSharedClassifications(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		system, from string
		opts         ImportOptions
		code, title  string
	}{
		{"who-icd10", "who-icd10/2019-claml-titles", ImportOptions{}, "I21.9", "Acute myocardial infarction, unspecified"},
		{"icd10uk", "icd10uk/ukbiobank-coding19", ImportOptions{Version: "coding19"}, "I219", "Acute myocardial infarction, unspecified"},
		{"opcs4", "opcs4/ukbiobank-coding240/OPCS4.coding240.tsv.gz", ImportOptions{Version: "coding240",
			Columns: codesys.Columns{Code: "coding", Title: "meaning", Parent: "parent_id", Node: "node_id", Selectable: "selectable"}}, "W37.1", ""},
	}
	for _, tt := range tests {
		in, err := Import(ctx, dir, tt.system, []string{shareddata.Path(t, tt.from)}, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		r, err := OpenInfo(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		v, err := r.Validate(tt.code)
		if err != nil || v.Status != codesys.Valid || tt.title != "" && v.Title != tt.title {
			t.Errorf("%s %s: %+v %v", tt.system, tt.code, v, err)
		}
		// The folders hold PROVENANCE.md beside the data: it is ignored.
		if strings.HasSuffix(tt.from, "19") && !slices.ContainsFunc(in.Notes, func(n string) bool { return strings.Contains(n, "ignored") && strings.Contains(n, "PROVENANCE.md") }) {
			t.Errorf("%s notes: %v", tt.system, in.Notes)
		}
	}
}
