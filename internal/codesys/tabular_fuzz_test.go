package codesys

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func FuzzReadTabular(f *testing.F) {
	f.Add(`<ICD10CM.tabular><version>2021</version><chapter><name>4</name><desc>Endocrine (E00-E89)</desc><section id="E08-E13"><desc>Diabetes</desc><diag><name>E11</name><desc>Type 2 diabetes mellitus</desc><excludes1><note>type 1 (E10.-)</note></excludes1><diag><name>E11.9</name><desc>Type 2 diabetes mellitus without complications</desc></diag></diag></section></chapter></ICD10CM.tabular>`)
	f.Add(`<ICD10CM.tabular><chapter><name>19</name><section id="S50-S59"><diag><name>S52</name><sevenChrDef><extension char="A">initial</extension></sevenChrDef><diag><name>S52.9</name><desc>x</desc></diag></diag></section></chapter></ICD10CM.tabular>`)
	f.Add(`<ICD10CM.tabular>`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, doc string) {
		tab, err := ReadTabular(strings.NewReader(doc), "fuzz.xml")
		if err != nil {
			return
		}
		// Whatever was read must be consistent: every node found by its
		// own code, every full code it generates valid.
		for i := range tab.Nodes {
			n := &tab.Nodes[i]
			if n.Kind >= KindCategory && tab.Node(n.Code) == nil {
				t.Fatalf("node %q not found by its code", n.Code)
			}
		}
		tab.Codes(func(code, title string) bool {
			if v := tab.Validate(code); v.Status != Valid {
				t.Fatalf("generated code %s does not validate: %s", code, v.Reason)
			}
			return true
		})
	})
}

func FuzzReadOrder(f *testing.F) {
	f.Add("00001 A00     0 Cholera                                                      Cholera\n")
	f.Add("00002 A000    1 Short                                                        Long title\r\n")
	f.Add("x")
	f.Fuzz(func(t *testing.T, text string) {
		o, err := ReadOrder(strings.NewReader(text), "fuzz.txt")
		if err != nil {
			return
		}
		for _, e := range o.Entries {
			if _, err := ParseCode(e.Code); err != nil {
				t.Fatalf("entry code %q does not parse: %v", e.Code, err)
			}
		}
	})
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"E11.9", "e119", "S52.521A", "T36.0X1A", "I10", "", "E1", "E11..9", " z99.89 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			return
		}
		again, err := ParseCode(c.String())
		if err != nil || again != c {
			t.Fatalf("ParseCode(%q) = %q, which parses to %q, %v", s, c, again, err)
		}
		if again, err := ParseCode(c.Compact()); err != nil || again != c {
			t.Fatalf("compact form %q of %q parses to %q, %v", c.Compact(), c, again, err)
		}
	})
}

func FuzzComposeTabular(f *testing.F) {
	b, err := os.ReadFile("testdata/compose/invented-order.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("00001 S52     0 Fracture                                                     Fracture\n00002 S52521A 1 x                                                            Fracture, initial\n")
	f.Add("00001 T3A0XXA 1 x                                                            x\n")
	xml, err := os.ReadFile("testdata/compose/tabular_notes.xml")
	if err != nil {
		f.Fatal(err)
	}
	notes, err := ReadTabular(bytes.NewReader(xml), "tabular_notes.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		o, err := ReadOrder(strings.NewReader(text), "fuzz.txt")
		if err != nil {
			return
		}
		tab, _ := ComposeTabular(o, notes, "icd10cm-2021")
		for i := range tab.Nodes {
			n := &tab.Nodes[i]
			if n.Kind >= KindCategory && tab.Node(n.Code) != n {
				t.Fatalf("node %q not found by its code", n.Code)
			}
			if n.Parent >= int32(i) {
				t.Fatalf("node %q comes before its parent", n.Code)
			}
			tab.Lookup(n.Code)
		}
		tab.Codes(func(code, title string) bool {
			if v := tab.Validate(code); v.Status != Valid {
				t.Fatalf("generated code %s does not validate: %s", code, v.Reason)
			}
			return true
		})
	})
}

func FuzzParenCodes(f *testing.F) {
	for _, s := range []string{"type 1 (E10.-)", "(I10-I16)", "(S52.521A)", "((E1", "(A00.0000000)", ")", "vitamin B12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, r := range parenCodes(s) {
			if !strings.Contains(s, r.code) {
				t.Fatalf("parenCodes(%q) returned %q, not in the note", s, r.code)
			}
		}
	})
}
