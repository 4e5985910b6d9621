package codesys

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/shareddata"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/classes")

// golden compares got, as indented JSON, with the golden file name, or
// rewrites the file with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(name)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from what was read; got:\n%s", name, b)
	}
}

func readSample(t *testing.T) *Classes {
	t.Helper()
	return readFixture(t, "testdata/classes/sample.claml.xml", func(b []byte, name string) (*Classes, error) {
		return ReadClaML(bytes.NewReader(b), name)
	})
}

func TestReadClaMLGolden(t *testing.T) {
	golden(t, "testdata/classes/sample.claml.golden.json", readSample(t))
}

func TestReadClaMLSample(t *testing.T) {
	c := readSample(t)
	if c.Title != "Sample Classification for Tests" || c.Name != "SAMPLE-10" || c.Version != "2024" || c.Date != "2024-01-01" {
		t.Errorf("title: %q %q %q %q", c.Title, c.Name, c.Version, c.Date)
	}
	if !slices.Equal(c.ClassKinds, []string{"chapter", "block", "category"}) {
		t.Errorf("class kinds: %v", c.ClassKinds)
	}
	if len(c.Identifiers) != 1 || c.Identifiers[0].UID != "sample-1" || len(c.Meta) != 1 {
		t.Errorf("identifiers %v, meta %v", c.Identifiers, c.Meta)
	}
	if len(c.UsageKinds) != 3 || c.UsageKinds[0] != (UsageKind{"dagger", "†"}) {
		t.Errorf("usage kinds: %v", c.UsageKinds)
	}
	if c.rubricInherited("inclusion") || !c.rubricInherited("exclusion") || c.rubricInherited("preferred") {
		t.Errorf("rubric inheritance wrong: %v", c.RubricKinds)
	}
	// The modifier's classes follow its SubClass order, not the file's.
	if got := c.Modifiers[0].Classes; len(got) != 3 || got[0].Code != "9" || got[1].Code != "0" || got[2].Title != "Upper limb" {
		t.Errorf("modifier S01_5 classes: %+v", got)
	}

	tests := []struct {
		code, title, kind, usage, parent string
		children                         []string
		selectable                       bool
	}{
		{"I", "Invented conditions", "chapter", "", "", []string{"A00-A09", "B10-B19"}, false},
		{"A00-A09", "Sample fevers", "block", "", "I", []string{"A00", "A01", "A02"}, false},
		// SubClass order wins over document order.
		{"A00", "Sample fever", "category", "", "A00-A09", []string{"A00.1", "A00.0"}, false},
		{"A00.0", "Sample fever with rash", "category", "dagger", "A00", nil, true},
		// A01 is modified at the 4th character by two of the three
		// modifier classes.
		{"A01", "Sample chill", "category", "", "A00-A09", []string{"A01.0", "A01.8"}, false},
		{"A01.0", "Sample chill: Mild", "category", "", "A01", nil, true},
		{"A02", "Sample fever in other sample conditions", "category", "aster", "A00-A09", nil, true},
		// B10's modifier applies to its subclasses, except where excluded.
		{"B10", "Sample pain", "category", "", "B10-B19", []string{"B10.0", "B10.1"}, false},
		{"B10.0", "Sharp sample pain", "category", "", "B10", []string{"B10.09", "B10.00", "B10.01"}, false},
		{"B10.01", "Sharp sample pain: Upper limb", "category", "optional", "B10.0", nil, true},
		{"B10.1", "Dull sample pain", "category", "", "B10", nil, true},
	}
	for _, tt := range tests {
		cl := c.Class(tt.code)
		if cl == nil {
			t.Errorf("%s: not found", tt.code)
			continue
		}
		parent := ""
		if cl.Parent >= 0 {
			parent = c.Classes[cl.Parent].Code
		}
		var children []string
		for _, ch := range cl.Children {
			children = append(children, c.Classes[ch].Code)
		}
		if cl.Code != tt.code || cl.Title != tt.title || cl.Kind != tt.kind || cl.Usage != tt.usage || parent != tt.parent ||
			!slices.Equal(children, tt.children) || cl.Selectable != tt.selectable {
			t.Errorf("%s: got %q %q %q usage %q parent %q children %v selectable %v", tt.code, cl.Code, cl.Title, cl.Kind, cl.Usage, parent, children, cl.Selectable)
		}
	}
	for _, code := range []string{"A01.9", "B10.10", "B10.11"} {
		if c.Class(code) != nil {
			t.Errorf("%s was generated, but the modifier does not apply to it", code)
		}
	}
	if a02 := c.Class("A02"); !slices.Equal(a02.Others, []string{"B10-B19"}) {
		t.Errorf("A02's further superclasses: %v", a02.Others)
	}
	if b := c.Class("B10.01"); b.Modifier != "S01_5" || len(b.Rubrics) != 1 || b.Rubrics[0].Text() != "Shoulder and elbow" {
		t.Errorf("B10.01: modifier %q rubrics %+v", b.Modifier, b.Rubrics)
	}
}

func TestClaMLLabels(t *testing.T) {
	c := readSample(t)
	tests := []struct {
		code, kind string
		text       string
		refs       []string
		structured bool
	}{
		{"I", "note", "This chapter is invented for the tests.\n- first point\n- second point with B10\nGrades\nGrade | Meaning\n1 | light", []string{"B10"}, true},
		{"I", "exclusion", "conditions of chapter two (C00-C09)", []string{"C00-C09"}, true},
		{"A00", "inclusion", "sample ague", nil, false},
		{"A00", "exclusion", "fever of the other kind (A02.-)", []string{"A02"}, true},
		{"A00.0", "note", "See also rash.", nil, true},
		{"B10.1", "text", "Only one site.", nil, false},
	}
	for _, tt := range tests {
		var found bool
		for _, r := range c.Class(tt.code).Rubrics {
			if r.Kind != tt.kind {
				continue
			}
			found = true
			l := r.Labels[0]
			var refs []string
			for _, ref := range l.Refs {
				refs = append(refs, ref.Code)
			}
			if l.Text != tt.text || !slices.Equal(refs, tt.refs) || (l.Content != nil) != tt.structured || l.Lang != "en" {
				t.Errorf("%s %s: text %q refs %v structured %v lang %q", tt.code, tt.kind, l.Text, refs, l.Content != nil, l.Lang)
			}
		}
		if !found {
			t.Errorf("%s: no %s rubric", tt.code, tt.kind)
		}
	}
	if ls := c.Class("A00.0").Rubrics[0].Labels; len(ls) != 2 || ls[1].Lang != "fr" || ls[1].Text != "Fièvre d'exemple avec éruption" {
		t.Errorf("A00.0 labels: %+v", ls)
	}
}

func TestClassesLookup(t *testing.T) {
	c := readSample(t)
	cls := Classification{System: "sample", Title: "SAMPLE-10", Code: regexp.MustCompile(`^[A-Z][0-9]{2}[0-9]{0,2}$`), Example: "A00.0"}
	tests := []struct {
		in     string
		code   string
		status Status
		reason string
	}{
		{"A00.0", "A00.0", Valid, ""},
		{"a000", "A00.0", Valid, ""},
		{" b10.01 ", "B10.01", Valid, ""},
		{"A00", "A00", Header, "A00 is a category: use one of its 2 more specific codes"},
		{"B10", "B10", Header, "4 more specific codes"},
		{"A00-A09", "A00-A09", Header, "block"},
		{"chapter i", "I", Header, "chapter"},
		{"A00.7", "", Invalid, `A00.7 does not exist: A00 "Sample fever" has no such code`},
		{"Z99", "", Invalid, "does not exist in this release"},
		{"hello", "", Invalid, `"hello" is not a SAMPLE-10 code (codes look like A00.0)`},
		{"", "", Invalid, "empty code"},
	}
	for _, tt := range tests {
		v := c.Validate(tt.in, cls)
		if v.Code != tt.code || v.Status != tt.status || !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("Validate(%q) = %q %s %q, want %q %s %q", tt.in, v.Code, v.Status, v.Reason, tt.code, tt.status, tt.reason)
		}
	}
	golden(t, "testdata/classes/lookup-A00.0.golden.json", c.Lookup("A00.0", cls))
	golden(t, "testdata/classes/lookup-B10.01.golden.json", c.Lookup("B10.01", cls))
}

func TestReadClaMLErrors(t *testing.T) {
	const head = `<ClaML><Title version="1">t</Title>` + "\n"
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"empty", ``, []string{"bad.xml", "no <ClaML> root"}},
		{"other root", `<ICD10CM.tabular/>`, []string{"root element is <ICD10CM.tabular>"}},
		{"no classes", head + `</ClaML>`, []string{"bad.xml", "no <Class> elements"}},
		{"truncated", head + `<Class code="A" kind="chapter">`, []string{"bad.xml", "line 2", "truncated"}},
		{"syntax", head + "\n<Class code=\"A\"></Klass></ClaML>", []string{"bad.xml", "line 3"}},
		{"duplicate", head + `<Class code="A"/>` + "\n" + `<Class code="A"/></ClaML>`, []string{"line 3", "class A is given twice"}},
		{"no code", head + `<Class kind="chapter"/></ClaML>`, []string{"line 2", "class without a code"}},
		{"unknown super", head + "\n" + `<Class code="A"><SuperClass code="Q"/></Class></ClaML>`, []string{"line 3", "superclass Q, which is not in the file"}},
		{"loop", head + `<Class code="A"><SuperClass code="B"/></Class><Class code="B"><SuperClass code="A"/></Class></ClaML>`, []string{"form a loop"}},
		{"unknown modifier", head + `<Class code="A"><ModifiedBy code="M"/></Class></ClaML>`, []string{"modified by M, which is not in the file"}},
		{"modifier class without modifier", head + "\n" + `<ModifierClass modifier="M" code="1"/><Class code="A"/></ClaML>`, []string{"line 3", `modifier "M", which is not in the file`}},
		{"bad all", head + `<Class code="A"><ModifiedBy code="M" all="yes"/></Class></ClaML>`, []string{"line 2", "<Class>", `all: "yes" is not true or false`}},
		{"bad position", head + `<Class code="A"><ModifiedBy code="M" position="five"/></Class></ClaML>`, []string{`position "five" is not a number`}},
		{"bad inherited", head + `<RubricKinds><RubricKind name="x" inherited="maybe"/></RubricKinds><Class code="A"/></ClaML>`, []string{"RubricKind x: inherited"}},
		{"deep label", head + `<Class code="A"><Rubric kind="preferred"><Label>` + strings.Repeat("<Para>", 40) + `</Label></Rubric></Class></ClaML>`, []string{"nested more than 32 levels"}},
		{"charset", `<?xml version="1.0" encoding="EBCDIC"?><ClaML/>`, []string{`unsupported character encoding "EBCDIC"`}},
	}
	for _, tt := range tests {
		_, err := ReadClaML(strings.NewReader(tt.doc), "bad.xml")
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tt.name, err, w)
			}
		}
	}
}

func TestReadClaMLLatin1(t *testing.T) {
	doc := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><ClaML><Class code=\"A\" kind=\"category\"><Rubric kind=\"preferred\"><Label>Fi\xe8vre</Label></Rubric></Class></ClaML>"
	c, err := ReadClaML(strings.NewReader(doc), "latin1.xml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Class("A").Title; got != "Fièvre" {
		t.Errorf("title %q", got)
	}
}

func TestReadClaMLModifierLimit(t *testing.T) {
	// Ten modifiers of ten classes each on one class would make 10^10
	// classes: the reader must refuse rather than try.
	var b strings.Builder
	b.WriteString(`<ClaML>`)
	for m := range 10 {
		b.WriteString(`<Modifier code="M` + string(rune('0'+m)) + `"/>`)
		for k := range 10 {
			b.WriteString(`<ModifierClass modifier="M` + string(rune('0'+m)) + `" code="` + string(rune('0'+k)) + `"/>`)
		}
	}
	b.WriteString(`<Class code="A">`)
	for m := range 10 {
		b.WriteString(`<ModifiedBy code="M` + string(rune('0'+m)) + `"/>`)
	}
	b.WriteString(`</Class></ClaML>`)
	_, err := ReadClaML(strings.NewReader(b.String()), "many.xml")
	if err == nil || !strings.Contains(err.Error(), "modifiers would add more than") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzReadClaML(f *testing.F) {
	sample, err := os.ReadFile("testdata/classes/sample.claml.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(sample))
	f.Add(`<ClaML><Class code="A" kind="chapter"><SubClass code="A1"/></Class><Class code="A1"><SuperClass code="A"/></Class></ClaML>`)
	f.Add(`<ClaML><Modifier code="M"/><ModifierClass modifier="M" code="1"/><Class code="A"><ModifiedBy code="M"/></Class></ClaML>`)
	f.Add(`<ClaML><Class code="A"><Rubric kind="preferred"><Label>a<List><ListItem><Table><Row><Cell>x</Cell></Row></Table></ListItem></List></Label></Rubric></Class></ClaML>`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := ReadClaML(strings.NewReader(doc), "fuzz.xml")
		if err != nil {
			return
		}
		// Whatever was read must hang together: each class found by its
		// code, parents and children agreeing, no class its own ancestor.
		for i := range c.Classes {
			cl := &c.Classes[i]
			if got := c.Class(cl.Code); got == nil {
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
			if cl.Selectable && len(cl.Children) > 0 {
				t.Fatalf("%q is selectable with subclasses", cl.Code)
			}
		}
	})
}

// TestReadClaMLWHO reads the WHO ICD-10 2019 titles in ClaML and checks the
// counts of each kind of class, and of classes without subclasses, against
// a plain scan of the file's elements that does not use the reader.
func TestReadClaMLWHO(t *testing.T) {
	const rel = "who-icd10/2019-claml-titles/icd10-2019-titles.claml.xml.gz"
	data := shareddata.ReadGz(t, rel)
	c, err := ReadClaML(bytes.NewReader(data), rel)
	if err != nil {
		t.Fatal(err)
	}

	// The scan: each <Class ...> opening tag's kind, and whether a
	// <SubClass> comes before its </Class>.
	want := map[string]int{}
	leaves := 0
	classTag := regexp.MustCompile(`<Class code="[^"]*" kind="([a-z]+)"`)
	for _, chunk := range bytes.Split(data, []byte("</Class>")) {
		m := classTag.FindSubmatch(chunk)
		if m == nil {
			continue
		}
		want[string(m[1])]++
		if !bytes.Contains(chunk[bytes.Index(chunk, m[0]):], []byte("<SubClass ")) {
			leaves++
		}
	}
	if want["chapter"] == 0 || want["block"] == 0 || want["category"] == 0 {
		t.Fatalf("the scan found no classes of some kind: %v", want)
	}
	got := map[string]int{}
	selectable := 0
	for i := range c.Classes {
		got[c.Classes[i].Kind]++
		if c.Classes[i].Selectable {
			selectable++
		}
	}
	for kind, n := range want {
		if got[kind] != n {
			t.Errorf("%s: read %d classes, the file has %d", kind, got[kind], n)
		}
	}
	if len(c.Classes) != want["chapter"]+want["block"]+want["category"] {
		t.Errorf("read %d classes, the file has %v", len(c.Classes), want)
	}
	// Every class without subclasses is a category here, so the
	// selectable classes are exactly the leaves.
	if selectable != leaves {
		t.Errorf("%d selectable classes, the file has %d classes without subclasses", selectable, leaves)
	}
	if c.Version != "2019" || c.Name != "ICD-10" {
		t.Errorf("version %q name %q", c.Version, c.Name)
	}
	cls := WHOICD10.Classification()
	for _, tt := range []struct {
		code, title string
		status      Status
		parent      string
	}{
		{"I21.9", "Acute myocardial infarction, unspecified", Valid, "I21"},
		{"J18.9", "Pneumonia, unspecified", Valid, "J18"},
		{"I21", "Acute myocardial infarction", Header, "I20-I25"},
		{"U07.1", "", Valid, "U07"},
		{"I20-I25", "", Header, "IX"},
	} {
		v := c.Validate(tt.code, cls)
		cl := c.Class(tt.code)
		if v.Status != tt.status || cl == nil || tt.title != "" && v.Title != tt.title || c.Classes[cl.Parent].Code != tt.parent {
			t.Errorf("%s: %s %q %s", tt.code, v.Status, v.Title, v.Reason)
		}
	}
}
