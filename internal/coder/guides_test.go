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
	tests := []struct {
		name  string
		c     *Coder
		check func(s coding.Step) string
	}{
		{"FY2025 installed", withDoc, citesInstalled(doc)},
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
				walkGuidelineSteps(t, tt.c, f, func(s coding.Step) string {
					refs[s.Ref] = true
					steps++
					return tt.check(s)
				})
			}
			// A walk that met too few steps checks nothing.
			if steps < 300 || len(refs) < 6 {
				t.Errorf("%d guideline steps citing %d sections: want at least 300 and 6", steps, len(refs))
			}
			t.Logf("%d guideline steps, sections %v", steps, keys(refs))
		})
	}
}

// citesInstalled returns the check of a guideline step coded with doc
// installed: it cites a section doc has, with doc's year and words of the
// section's text or title, and does not claim to have applied the
// built-in summary.
func citesInstalled(doc *guidelines.Document) func(s coding.Step) string {
	space := regexp.MustCompile(`\s+`)
	return func(s coding.Step) string {
		sec := doc.Section(s.Ref)
		switch {
		case sec == nil:
			return "cites a section the FY" + doc.Year + " guidelines lack"
		case s.Year != doc.Year:
			return "cites guidelines year " + s.Year
		case s.Quote == "":
			return "quotes nothing"
		case !strings.Contains(space.ReplaceAllString(sec.Text+" "+sec.Title, " "), strings.TrimSuffix(s.Quote, " …")):
			return "quotes what section " + s.Ref + " does not say"
		case strings.Contains(s.Detail, "built-in summary"):
			return "says it applied the built-in summary"
		}
		return ""
	}
}

// walkGuidelineSteps codes the note in file in both settings with c and
// reports through t every ICD-10-CM guideline step (or step citing the
// guidelines) of the codes kept and dropped that check faults.
func walkGuidelineSteps(t *testing.T, c *Coder, file string, check func(s coding.Step) string) {
	t.Helper()
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, setting := range []coding.Setting{coding.Inpatient, coding.Outpatient} {
		res, err := c.Code(context.Background(), coding.Request{ID: filepath.Base(file), Text: string(text), Setting: setting})
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
				if why := check(s); why != "" {
					t.Errorf("%s (%s) %s: step %q %s", res.ID, setting, cd.Code, s.Detail, why)
				}
			}
		}
	}
}

// TestExampleGuidelineTrails codes the example notes of the repository
// with the FY2025 guidelines installed: every guideline step of their
// trails cites a section those guidelines have, as the review UI and the
// API then show it.
func TestExampleGuidelineTrails(t *testing.T) {
	realCoder(t)
	doc, err := guidelines.Import(shareddata.Path(t, testGuidelines), "2025")
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(testRef, Options{Guidelines: doc})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example notes: %v", err)
	}
	check := citesInstalled(doc)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			steps := 0
			walkGuidelineSteps(t, c, f, func(s coding.Step) string {
				steps++
				return check(s)
			})
			// An example whose trails cite no guideline checks nothing.
			if steps == 0 {
				t.Error("no guideline step in the trails")
			}
			t.Logf("%d guideline steps", steps)
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
