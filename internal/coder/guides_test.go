package coder

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const testGuidelines = "guidelines/cm-fy2025/fy-2025-icd-10-cm-coding-guidelines.layout.txt"

// TestGuidelineTrails codes the CodiEsp dev notes in both settings, with
// the FY2025 guidelines installed and without, and checks every
// ICD-10-CM guideline step: with them, it cites a section the FY2025
// guidelines have, with their year and the beginning of its text; without
// them, it says the rule applied is its built-in summary.
func TestGuidelineTrails(t *testing.T) {
	realCoder(t)
	doc, err := guidelines.Import(shareddata.Path(t, testGuidelines), "2025")
	if err != nil {
		t.Fatal(err)
	}
	withDoc, err := New(testRef, Options{Guidelines: doc})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range withDoc.Warnings() {
		if strings.Contains(w, "guidelines") {
			t.Errorf("the FY2025 guidelines do not bear out a rule: %s", w)
		}
	}
	dir := shareddata.Path(t, "eval/codiesp/final_dataset_v4_to_publish/dev/text_files_en")
	files, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no notes in %s: %v", dir, err)
	}
	sort.Strings(files)
	space := regexp.MustCompile(`\s+`)
	tests := []struct {
		name  string
		c     *Coder
		check func(s coding.Step) string
	}{
		{"FY2025 installed", withDoc, func(s coding.Step) string {
			sec := doc.Section(s.Ref)
			switch {
			case sec == nil:
				return "cites a section the FY2025 guidelines lack"
			case s.Year != "2025":
				return "cites guidelines year " + s.Year
			case s.Quote == "":
				return "quotes nothing"
			case !strings.Contains(space.ReplaceAllString(sec.Text+" "+sec.Title, " "), strings.TrimSuffix(s.Quote, " …")):
				return "quotes what section " + s.Ref + " does not say"
			case strings.Contains(s.Detail, "built-in summary"):
				return "says it applied the built-in summary"
			}
			return ""
		}},
		{"none installed", realCoder(t), func(s coding.Step) string {
			if s.Year != "" || s.Quote != "" {
				return "cites installed guidelines"
			}
			if !strings.Contains(s.Detail, "built-in summary of "+s.Ref+" (no guidelines installed)") {
				return "does not say the rule applied is the built-in summary"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps, refs := 0, map[string]bool{}
			for _, f := range files {
				text, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, setting := range []coding.Setting{coding.Inpatient, coding.Outpatient} {
					res, err := tt.c.Code(context.Background(), coding.Request{ID: filepath.Base(f), Text: string(text), Setting: setting})
					if err != nil {
						t.Fatal(err)
					}
					for _, cd := range append(res.Codes, res.Dropped...) {
						if cd.System != codesys.ICD10CM {
							continue // ICD-10-PCS steps cite the PCS guidelines
						}
						for _, s := range cd.Trail {
							if s.Kind != coding.StepGuideline && s.Quote == "" && s.Year == "" {
								continue
							}
							steps++
							refs[s.Ref] = true
							if why := tt.check(s); why != "" {
								t.Errorf("%s (%s) %s: step %q %s", res.ID, setting, cd.Code, s.Detail, why)
							}
						}
					}
				}
			}
			// A walk that met too few steps checks nothing.
			if steps < 300 || len(refs) < 6 {
				t.Errorf("%d guideline steps citing %d sections: want at least 300 and 6", steps, len(refs))
			}
			t.Logf("%d guideline steps, sections %v", steps, keys(refs))
		})
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestNoGuidelineLiterals fails on a string literal naming a section of
// the ICD-10-CM guidelines in the coder's Go code: the coder refers to a
// guideline rule by its id in icd10cm/guidelines.
func TestNoGuidelineLiterals(t *testing.T) {
	section := regexp.MustCompile(`\b(?:I{1,3}|IV)\.[A-Z]\b`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		checked++
		fs := token.NewFileSet()
		file, err := parser.ParseFile(fs, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING && section.MatchString(lit.Value) {
				t.Errorf("%s: guideline section in a literal %s: key it in icd10cm/guidelines", fs.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no Go files checked")
	}
}
