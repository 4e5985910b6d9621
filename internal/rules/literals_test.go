package rules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// codeShaped matches a string literal that begins like an ICD-10 code: a
// letter and two digits ("Z52", "C00", "I10-I16").
var codeShaped = regexp.MustCompile(`^[A-Z][0-9][0-9]`)

// TestNoCodeLiterals scans the non-test Go files for string literals shaped
// like ICD-10 codes: classification knowledge belongs in rule packs, where
// it is versioned, documented and checked against the release.
func TestNoCodeLiterals(t *testing.T) {
	// The readers whose literals describe the format of a
	// classification's files (a code's shape, an example in a message),
	// not clinical or classification knowledge.
	formatFiles := map[string]bool{"internal/codesys/classification.go": true}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	scanned := 0
	for _, dir := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			if formatFiles[rel] {
				return nil
			}
			scanned++
			for _, lit := range codeLiterals(t, p) {
				t.Errorf("%s: string literal %s is shaped like a code: put it in a rule pack (internal/rules/packs)", lit.pos, lit.text)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if scanned < 50 {
		t.Fatalf("scanned %d Go files under %s: the walk found too few, so the test would pass without looking", scanned, root)
	}
}

type literal struct{ pos, text string }

// codeLiterals returns the code-shaped string literals of a Go file.
func codeLiterals(t *testing.T, path string) []literal {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []literal
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err == nil && codeShaped.MatchString(s) {
			out = append(out, literal{pos: fset.Position(lit.Pos()).String(), text: lit.Value})
		}
		return true
	})
	return out
}

// TestCodeLiteralsFound makes sure the scan can fail: it finds the
// literals of a file that has them and none in one that does not.
func TestCodeLiteralsFound(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		src  string
		want int
	}{
		{`package x; func f(c string) bool { return c >= "C00" && c < "D5" }`, 1},
		{`package x; var skip = []string{"Z52", "I10-I16"}`, 2},
		{`package x; // "Z52" in a comment is no literal
func f() string { return "a0" }`, 0},
	} {
		p := filepath.Join(dir, "x.go")
		if err := os.WriteFile(p, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := codeLiterals(t, p); len(got) != tc.want {
			t.Errorf("%q: found %v, want %d", tc.src, got, tc.want)
		}
	}
}
