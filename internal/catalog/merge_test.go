package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// tinyTabular is a one-code ICD-10-CM Tabular List of version 2021.
const tinyTabular = `<?xml version="1.0" encoding="utf-8"?>
<ICD10CM.tabular>
<version>2021</version>
<chapter><name>1</name><desc>Certain infectious and parasitic diseases (A00-B99)</desc>
<section id="A00-A09"><desc>Intestinal infectious diseases (A00-A09)</desc>
<diag><name>A00</name><desc>Cholera</desc></diag>
</section></chapter>
</ICD10CM.tabular>
`

// tinyOrder is a one-code ICD-10-CM order file; it carries no version.
const tinyOrder = "00001 A00     1 Cholera                                                      Cholera\n"

// TestImportMerge checks that importing some parts of an installed
// version keeps the parts not given, and that Replace drops them.
func TestImportMerge(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		first   []string // files of the first import
		second  []string // files of the second import, same version
		replace bool
		// compiledBy, if not 0, is the format the first release is made
		// to look compiled in.
		compiledBy int
		want       []codesys.Part
		note       string // substring of a note of the second import
	}{
		{"order file alone keeps the Tabular List", []string{"tab.xml"}, []string{"order.txt"}, false, 0,
			[]codesys.Part{codesys.PartTabular, codesys.PartOrder}, "kept tabular"},
		{"one-code Tabular List keeps the order file", []string{"tab.xml", "order.txt"}, []string{"tab.xml"}, false, 0,
			[]codesys.Part{codesys.PartTabular, codesys.PartOrder}, "kept order"},
		{"the same parts again replace them", []string{"tab.xml", "order.txt"}, []string{"tab.xml", "order.txt"}, false, 0,
			[]codesys.Part{codesys.PartTabular, codesys.PartOrder}, ""},
		{"replace drops the parts not given", []string{"tab.xml"}, []string{"order.txt"}, true, 0,
			[]codesys.Part{codesys.PartOrder}, ""},
		{"an incompatible release is replaced, with a note", []string{"tab.xml"}, []string{"order.txt"}, false, FormatVersion + 1,
			[]codesys.Part{codesys.PartOrder}, "incompatible medcode: replaced as a whole, without tabular"},
	}
	files := map[string]string{"tab.xml": tinyTabular, "order.txt": tinyOrder}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src := func(names []string) []string {
				d := t.TempDir()
				var ps []string
				for _, n := range names {
					ps = append(ps, writeFile(t, d, n, []byte(files[n])))
				}
				return ps
			}
			opts := ImportOptions{Version: "2021"}
			first, err := Import(ctx, dir, "icd10cm", src(tt.first), opts)
			if err != nil {
				t.Fatal(err)
			}
			if tt.compiledBy != 0 {
				editManifest(t, first.Dir, func(in *Info) { in.Format = tt.compiledBy })
			}
			opts.Replace = tt.replace
			in, err := Import(ctx, dir, "icd10cm", src(tt.second), opts)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(in.Parts, tt.want) {
				t.Errorf("import parts %v, want %v", in.Parts, tt.want)
			}
			var fileParts []codesys.Part
			for _, f := range in.Files {
				fileParts = append(fileParts, f.Part)
			}
			if !slices.Equal(fileParts, tt.want) {
				t.Errorf("manifest files of parts %v, want %v", fileParts, tt.want)
			}
			notes := strings.Join(in.Notes, "\n")
			if tt.note != "" && !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q lack %q", notes, tt.note)
			}
			if tt.note == "" && strings.Contains(notes, "kept") {
				t.Errorf("notes %q say parts were kept", notes)
			}
			r, err := Open(ctx, dir, "icd10cm", "2021")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(r.Parts(), tt.want) {
				t.Errorf("installed parts %v, want %v", r.Parts(), tt.want)
			}
			if st, err := Stat(dir, "icd10cm", "2021"); err != nil || !slices.Equal(st.Parts, tt.want) {
				t.Errorf("manifest parts %v (%v), want %v", st.Parts, err, tt.want)
			}
		})
	}
}
