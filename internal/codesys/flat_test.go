package codesys

import (
	"bufio"
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

func readFlatFixture(t *testing.T, name string, opts FlatOptions) *Classes {
	t.Helper()
	return readFixture(t, name, func(b []byte, name string) (*Classes, error) {
		return ReadFlat(bytes.NewReader(b), name, opts)
	})
}

// classSummary is one class as the flat-list tests check it.
type classSummary struct {
	Code, ID, Title, Kind, Parent string
	Selectable                    bool
}

func summarize(c *Classes) []classSummary {
	out := make([]classSummary, len(c.Classes))
	for i, cl := range c.Classes {
		s := classSummary{Code: cl.Code, ID: cl.ID, Title: cl.Title, Kind: cl.Kind, Selectable: cl.Selectable}
		if cl.Parent >= 0 {
			s.Parent = c.Classes[cl.Parent].Code
		}
		out[i] = s
	}
	return out
}

func TestReadFlatFixtures(t *testing.T) {
	tests := []struct {
		file string
		opts FlatOptions
	}{
		// Parents by node identifier, columns recognized from the header.
		{"sample-nodes.tsv", FlatOptions{}},
		// The same with the columns named.
		{"sample-nodes.tsv", FlatOptions{Columns: Columns{Code: "coding", Title: "meaning", Parent: "parent_id", Node: "node_id", Selectable: "selectable"}}},
		// Parents by code, quoted CSV fields, no selectable column.
		{"sample-codes.csv", FlatOptions{}},
	}
	for _, tt := range tests {
		c := readFlatFixture(t, "testdata/classes/"+tt.file, tt.opts)
		golden(t, "testdata/classes/"+strings.ReplaceAll(tt.file, ".", "-")+".golden.json", summarize(c))
	}
}

func TestReadFlatNodes(t *testing.T) {
	c := readFlatFixture(t, "testdata/classes/sample-nodes.tsv", FlatOptions{})
	cls := Classification{Title: "sample"}
	for _, tt := range []struct {
		in, code string
		status   Status
		parent   string
	}{
		{"A00.0", "A00.0", Valid, "A00"},
		{"A000", "A00.0", Valid, "A00"},
		{"a01", "A01", Valid, "A00-A09"},
		{"A00", "A00", Header, "A00-A09"},
		{"Block_A00-A09", "A00-A09", Header, "Chapter_I"},
		{"A00-A09", "A00-A09", Header, "Chapter_I"},
		{"chapter ii", "Chapter_II", Header, ""},
		{"B10.00", "B10.00", Valid, "B10"},
	} {
		v := c.Validate(tt.in, cls)
		cl := c.Class(tt.in)
		parent := ""
		if cl != nil && cl.Parent >= 0 {
			parent = c.Classes[cl.Parent].Code
		}
		if v.Code != tt.code || v.Status != tt.status || parent != tt.parent {
			t.Errorf("%s: %q %s parent %q (%s)", tt.in, v.Code, v.Status, parent, v.Reason)
		}
	}
}

func TestParseColumns(t *testing.T) {
	c, err := ParseColumns("code=coding, title=meaning,parent=parent_id,node=node_id,selectable=selectable,kind=level")
	if err != nil {
		t.Fatal(err)
	}
	if c != (Columns{Code: "coding", Title: "meaning", Parent: "parent_id", Node: "node_id", Selectable: "selectable", Kind: "level"}) {
		t.Errorf("got %+v", c)
	}
	for _, bad := range []string{"code", "code=", "colour=red"} {
		if _, err := ParseColumns(bad); err == nil {
			t.Errorf("ParseColumns(%q): no error", bad)
		}
	}
}

func TestReadFlatErrors(t *testing.T) {
	tests := []struct {
		name, text string
		opts       FlatOptions
		want       string
	}{
		{"empty", "", FlatOptions{}, "list.tsv: no header line"},
		{"header only", "code\ttitle\n", FlatOptions{}, "no rows after the header"},
		{"no code column", "id\ttitle\nA\tx\n", FlatOptions{}, "line 1: no code column among id, title"},
		{"mapped column missing", "code\ttitle\nA\tx\n", FlatOptions{Columns: Columns{Parent: "up"}}, `line 1: no column "up" for the parent`},
		{"short row", "code\ttitle\tparent\nA\tx\tB\nB\n", FlatOptions{}, "line 3: 1 fields, but column \"title\" is field 2"},
		{"empty code", "code\ttitle\n\tx\n", FlatOptions{}, "line 2: no code"},
		{"unknown parent code", "code\ttitle\tparent\nA\tx\t\nB\ty\tQ\n", FlatOptions{}, "line 3: parent Q is not the code of any row"},
		{"unknown parent node", "code\ttitle\tnode_id\tparent_id\nA\tx\t1\t0\nB\ty\t2\t7\n", FlatOptions{}, "line 3: parent 7 is not the node identifier"},
		{"duplicate node", "code\ttitle\tnode_id\nA\tx\t1\nB\ty\t1\n", FlatOptions{}, "line 3: node identifier 1 is given twice"},
		{"duplicate code", "code\ttitle\nA\tx\nA\ty\n", FlatOptions{}, "line 3: class A is given twice"},
		{"loop", "code\ttitle\tparent\nA\tx\tB\nB\ty\tA\n", FlatOptions{}, "form a loop"},
		{"bad flag", "code\ttitle\tselectable\nA\tx\tmaybe\n", FlatOptions{}, `line 2: selectable: "maybe" is not Y/N`},
		{"bad csv", "code,title\nA,\"x\n", FlatOptions{}, "line 2"},
	}
	for _, tt := range tests {
		_, err := ReadFlat(strings.NewReader(tt.text), "list.tsv", tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDisplayCode(t *testing.T) {
	for _, tt := range []struct{ code, title, display, id, rest string }{
		{"I219", "I21.9 Acute infarct", "I21.9", "I219", "Acute infarct"},
		{"A00", "A00 Cholera", "A00", "", "Cholera"},
		{"Block_A00-A09", "A00-A09 Intestinal", "A00-A09", "Block_A00-A09", "Intestinal"},
		{"Chapter_I", "Chapter_I Certain diseases", "Chapter_I", "", "Certain diseases"},
		{"Chapter A", "Chapter A - Nervous System", "Chapter A", "", "Nervous System"},
		{"X1", "Something else", "X1", "", "Something else"},
		{"X1", "X1", "X1", "", "X1"},
		{"A01", "A01.1 Wrong code", "A01", "", "A01.1 Wrong code"},
	} {
		d, id, rest := displayCode(tt.code, tt.title)
		if d != tt.display || id != tt.id || rest != tt.rest {
			t.Errorf("displayCode(%q, %q) = %q %q %q", tt.code, tt.title, d, id, rest)
		}
	}
}

func FuzzReadFlat(f *testing.F) {
	for _, name := range []string{"testdata/classes/sample-nodes.tsv", "testdata/classes/sample-codes.csv"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("code\ttitle\tparent\nA\tx\t\nA1\ty\tA\n")
	f.Add("code,title\n\"A\",\"x,y\"\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		c, err := ReadFlat(strings.NewReader(text), "fuzz.tsv", FlatOptions{})
		if err != nil {
			return
		}
		for i := range c.Classes {
			cl := &c.Classes[i]
			if c.Class(cl.Code) == nil {
				t.Fatalf("class %q not found by its code", cl.Code)
			}
			for _, ch := range cl.Children {
				if c.Classes[ch].Parent != int32(i) {
					t.Fatalf("%q lists %q as a child, whose parent is %d", cl.Code, c.Classes[ch].Code, c.Classes[ch].Parent)
				}
			}
			if len(c.Ancestors(cl)) >= len(c.Classes) {
				t.Fatalf("%q: ancestors loop", cl.Code)
			}
		}
	})
}

// ukbRow is one row of a UK Biobank coding table as a plain split of the
// file's lines, independent of the reader.
type ukbRow struct{ coding, meaning, node, parent, selectable string }

func scanUKB(t *testing.T, data []byte) []ukbRow {
	t.Helper()
	var rows []ukbRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 5 {
			t.Fatalf("row %q has %d fields", sc.Text(), len(f))
		}
		rows = append(rows, ukbRow{f[0], f[1], f[2], f[3], f[4]})
	}
	return rows
}

// TestReadFlatUKBiobank reads UK Biobank's ICD-10 (coding 19) and OPCS-4
// (coding 240) lists and checks every row against a plain split of the
// file: each code found, selectable as the file says, under the parent its
// parent_id names, titled by the meaning less its leading code.
func TestReadFlatUKBiobank(t *testing.T) {
	tests := []struct {
		rel    string
		sys    System
		checks map[string]string // code -> title
	}{
		{"icd10uk/ukbiobank-coding19/ICD10.coding19.tsv.gz", ICD10UK, map[string]string{
			"I21.9": "Acute myocardial infarction, unspecified", "M80.00": "Postmenopausal osteoporosis with pathological fracture (Multiple sites)",
			"A00-A09": "Intestinal infectious diseases", "Chapter_IX": "Diseases of the circulatory system"}},
		{"opcs4/ukbiobank-coding240/OPCS4.coding240.tsv.gz", OPCS4, map[string]string{
			"A01.1": "Hemispherectomy", "A01": "Major excision of tissue of brain", "Chapter A": "Nervous System"}},
	}
	for _, tt := range tests {
		data := shareddata.ReadGz(t, tt.rel)
		c, err := ReadFlat(bytes.NewReader(data), tt.rel, FlatOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rows := scanUKB(t, data)
		if len(c.Classes) != len(rows) {
			t.Fatalf("%s: %d classes for %d rows", tt.rel, len(c.Classes), len(rows))
		}
		byNode := make(map[string]string, len(rows))
		for _, r := range rows {
			byNode[r.node] = r.coding
		}
		selectable := 0
		for _, r := range rows {
			cl := c.Class(r.coding)
			if cl == nil {
				t.Errorf("%s: %s not found", tt.rel, r.coding)
				continue
			}
			if cl.Selectable != (r.selectable == "Y") {
				t.Errorf("%s: %s selectable %v, file says %s", tt.rel, r.coding, cl.Selectable, r.selectable)
			}
			if cl.Selectable {
				selectable++
			}
			parent := ""
			if cl.Parent >= 0 {
				parent = c.Classes[cl.Parent].Code
			}
			if want := byNode[r.parent]; want == "" && parent != "" || want != "" && c.Class(want) != &c.Classes[cl.Parent] {
				t.Errorf("%s: %s has parent %q, the file says node %s (%s)", tt.rel, r.coding, parent, r.parent, want)
			}
			if !strings.HasSuffix(strings.TrimSpace(r.meaning), cl.Title) || cl.Title == "" {
				t.Errorf("%s: %s titled %q, meaning %q", tt.rel, r.coding, cl.Title, r.meaning)
			}
		}
		t.Logf("%s: %d classes, %d selectable", tt.rel, len(c.Classes), selectable)
		cls := tt.sys.Classification()
		for code, title := range tt.checks {
			if cl := c.Class(code); cl == nil || cl.Code != code || cl.Title != title {
				t.Errorf("%s: %s is %+v", tt.rel, code, cl)
			}
		}
		if v := c.Validate("Q99.99", cls); v.Status != Invalid {
			t.Errorf("Q99.99: %s", v.Status)
		}
		if cls.Code != nil {
			for code := range tt.checks {
				if cl := c.Class(code); cl.Selectable && !cls.Code.MatchString(lookupKey(code)) {
					t.Errorf("%s: %s does not have the shape of a %s code", tt.rel, code, cls.Title)
				}
			}
		}
		// A chapter is found by "chapter" and its number or letter.
		if !slices.ContainsFunc(c.Classes, func(cl Class) bool { return cl.Kind == "chapter" && cl.Parent < 0 }) {
			t.Errorf("%s: no top-level chapter", tt.rel)
		}
	}
}
