package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

func TestParseHeader(t *testing.T) {
	for _, tc := range []struct {
		name, text, wantErr string
		rows                int
	}{
		{"good", "# pack: en/x\n# version: 2\n# source: a test\n#\n# what it is\na\tb\n\nc\n", "", 2},
		{"no header", "a\tb\n", "line 1: the header", 0},
		{"other pack", "# pack: en/y\n# version: 1\n# source: s\na\n", `line 1: header names pack "en/y"`, 0},
		{"bad version", "# pack: en/x\n# version: one\n# source: s\na\n", `line 2: version "one"`, 0},
		{"no source", "# pack: en/x\n# version: 1\na\n", "line 3: the header", 0},
		{"empty", "", "no header", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("en/x", "x.tsv", tc.text)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Rows) != tc.rows || p.Version != 2 || p.Source != "a test" || p.Rows[0].Line != 6 {
				t.Errorf("pack = %+v", p)
			}
		})
	}
}

func TestDefaultPacks(t *testing.T) {
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Packs() {
		if _, known := columns(p.Name); !known {
			t.Errorf("embedded pack %s is not one medcode reads", p.Name)
		}
		if len(p.Rows) == 0 {
			t.Errorf("embedded pack %s has no rows", p.Name)
		}
	}
	if s.Pack("icd10cm/history") == nil || s.Pack("en/words") == nil {
		t.Fatal("embedded packs missing")
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("en/suffixes.txt", "# pack: en/suffixes\n# version: 3\n# source: mine\nitis\n")
	write("icd10uk/exclusions.tsv", "# pack: icd10uk/exclusions\n# version: 1\n# source: mine\nA18\tA16\tT1\t1\n")
	write("en/notes.md", "not a pack")
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(filepath.Join(dir, "missing"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if p := s.Pack("en/suffixes"); p.Version != 3 || len(p.Rows) != 1 || p.File != filepath.Join(dir, "en/suffixes.txt") {
		t.Errorf("override: %+v", p)
	}
	if s.Pack("icd10uk/exclusions") == nil || len(s.Notes()) != 2 {
		t.Errorf("added pack missing or notes %q", s.Notes())
	}
	if s.Digest("en/suffixes") == def.Digest("en/suffixes") || s.Digest("en/words") != def.Digest("en/words") {
		t.Error("digest does not follow the packs' content")
	}
}

func TestRanges(t *testing.T) {
	for _, tc := range []struct {
		ranges string
		in     []string
		out    []string
	}{
		{"C00-D49", []string{"C00.0", "D49.9", "d4989", "C7A.0"}, []string{"D50.0", "B99.9", "-"}},
		{"V-Y U Z52", []string{"W19", "Y99.8", "V00.01XA", "U07.1", "Z52.4"}, []string{"Z53", "T14.90", "Z5"}},
		{"D490-D4989", []string{"D49.0", "D49.89"}, []string{"D49.9", "D48"}},
	} {
		rs, err := ParseRanges(tc.ranges)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tc.in {
			if !Ranges(rs).Holds(c) {
				t.Errorf("%s does not hold %s", tc.ranges, c)
			}
		}
		for _, c := range tc.out {
			if Ranges(rs).Holds(c) {
				t.Errorf("%s holds %s", tc.ranges, c)
			}
		}
	}
	for _, bad := range []string{"", "D49-C00", "-A"} {
		if _, err := ParseRanges(bad); err == nil {
			t.Errorf("ParseRanges(%q) accepted", bad)
		}
	}
}

// testRelease is a flat classification of a few codes.
func testRelease(t *testing.T) *codesys.Release {
	t.Helper()
	list := "code\ttitle\tparent\nA18\tTuberculosis of other organs\t\nA182\tTuberculous lymphadenopathy\tA18\nJ22\tLower respiratory infection\t\n"
	cl, err := codesys.ReadFlat(strings.NewReader(list), "list.tsv", codesys.FlatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &codesys.Release{System: codesys.ICD10UK, Version: "t", Classes: cl}
}

func TestCheck(t *testing.T) {
	pk, err := Parse("icd10uk/exclusions", "ex.tsv", "# pack: icd10uk/exclusions\n# version: 1\n# source: s\n"+
		"A182\tA18 J22X\tok\t1\n"+ // every code there, J22X the filler form of J22
		"A183\tJ22\tmissing\t2\n"+ // A183 is not in the list
		"020\tA18-A99\ttypo\t3\n") // a digit for the letter O; A99 missing
	if err != nil {
		t.Fatal(err)
	}
	other, err := Parse("icd10uk/typo", "typo.tsv", "# pack: icd10uk/typo\n# version: 1\n# source: s\nA18\n")
	if err != nil {
		t.Fatal(err)
	}
	s := &Set{packs: map[string]*Pack{pk.Name: pk, other.Name: other}}
	rep := s.Check(testRelease(t))
	var got []string
	for _, i := range rep.Issues {
		got = append(got, i.Code)
	}
	if strings.Join(got, " ") != "A183 020 A99" {
		t.Errorf("issues on %v, want A183 020 A99: %q", got, rep.Warnings())
	}
	if len(rep.Unknown) != 1 || rep.Unknown[0] != "icd10uk/typo" {
		t.Errorf("unknown = %q", rep.Unknown)
	}
	if w := rep.Warnings(); len(w) != 4 || !strings.HasPrefix(w[0], "ex.tsv line 5: no code of icd10uk-t begins A183") {
		t.Errorf("warnings = %q", w)
	}
}

func TestImportUK(t *testing.T) {
	src := `{"rules": [
		{"classification": "icd10", "rule_id": "T1:001:X", "rule": "?A182:!A163,A183", "source_line": 482},
		{"classification": "icd10", "rule_id": "S", "rule": "?S02:£S06", "source_line": 61},
		{"classification": "icd10", "rule_id": "C", "rule": "?A41:!A40", "commented_out": true, "source_line": 70},
		{"classification": "opcs4", "rule_id": "002PLAC:0:E", "rule": "?A05:!A221,A40", "source_line": 743}]}`
	packs, err := ImportUK(strings.NewReader(src), "rules.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(packs) != 2 || packs[0].Name != "icd10uk/exclusions" || packs[0].Rules != 1 || packs[0].Skipped != 2 ||
		packs[1].Name != "opcs4/exclusions" || packs[1].Rules != 1 {
		t.Fatalf("packs = %+v", packs)
	}
	p, err := Parse(packs[0].Name, "x", packs[0].Text)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rows) != 1 || p.Rows[0].Text != "A182\tA163 A183\tT1:001:X\t482" {
		t.Errorf("rows = %+v", p.Rows)
	}
	if _, err := ImportUK(strings.NewReader(`{"rules": []}`), "empty.json"); err == nil {
		t.Error("a file without rules was accepted")
	}
}
