package codesys

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadPCSTables checks that the reader never panics and that whatever
// it accepts is internally consistent: declared code counts match, every
// enumerated code validates and the tables survive re-reading.
func FuzzReadPCSTables(f *testing.F) {
	good := fixture(f, "tables.xml")
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`<ICD10PCS.tabular><version>1</version></ICD10PCS.tabular>`))
	f.Add([]byte(`<ICD10PCS.tabular><version>1</version><pcsTable><axis pos="1" values="1"><title>S</title><label code="0">M</label></axis></pcsTable></ICD10PCS.tabular>`))
	f.Add(bytes.Replace(good, []byte(`codes="6"`), []byte(`codes="x"`), 1))
	f.Add(bytes.Replace(good, []byte(`code="J"`), []byte(`code="6"`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		pt, err := ReadPCSTables(bytes.NewReader(data), "fuzz.xml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read PCS tables fuzz.xml: line ") {
				t.Fatalf("error does not name file and line: %v", err)
			}
			return
		}
		declared := 0
		for _, tab := range pt.Tables {
			for _, r := range tab.Rows {
				declared += r.Codes
			}
		}
		if n := pt.NumCodes(); n != declared {
			t.Fatalf("NumCodes %d, declared %d", n, declared)
		}
		count := 0
		pt.EachCode(func(code string) bool {
			count++
			if c := pt.Validate(code); !c.Valid() || !pt.IsValid(code) {
				t.Fatalf("enumerated code %q: %v %s", code, c.Problem, c.Reason)
			}
			return count < 1000
		})
		if count == 0 {
			t.Fatal("accepted tables with no codes")
		}
	})
}

// FuzzReadPCSDefinitions checks that the reader never panics and names the
// file and line in its errors.
func FuzzReadPCSDefinitions(f *testing.F) {
	good := fixture(f, "definitions.xml")
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte(`<ICD10PCS.definitions><version>1</version><section code="0"><title>M</title></section></ICD10PCS.definitions>`))
	f.Add(bytes.Replace(good, []byte(`value="M"`), []byte(`value=""`), 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ReadPCSDefinitions(bytes.NewReader(data), "fuzz.xml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "read PCS definitions fuzz.xml: line ") {
				t.Fatalf("error does not name file and line: %v", err)
			}
			return
		}
		for _, s := range d.Sections {
			for _, a := range s.Axes {
				for _, term := range a.Terms {
					if len(term.Titles) == 0 {
						t.Fatal("term without title")
					}
					if d.Lookup(s.Code, a.Pos, term.Titles[0]) == nil {
						t.Fatalf("Lookup(%c, %d, %q) = nil", s.Code, a.Pos, term.Titles[0])
					}
				}
			}
		}
	})
}

// FuzzPCSValidate checks Validate's invariants on the fixture tables for
// any input: it agrees with IsValid, valid codes have seven described axes,
// and every value offered as next is accepted at that position.
func FuzzPCSValidate(f *testing.F) {
	pt := fixtureTables(f)
	for _, s := range []string{"", "0", "0DT", "0DTJ4", "0DTJ4ZG", "0DTJ0ZG", "0dt 64zz", "XW033A", "XW033A2", "0DIJ4ZZ", "D0Y0FZZ", "0DTJ4ZZZ", "\xff", "ZZZZZZZ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		c := pt.Validate(code)
		if c.Valid() != pt.IsValid(code) {
			t.Fatalf("%q: Validate %v, IsValid %v", code, c.Problem, pt.IsValid(code))
		}
		if c.Valid() {
			if len(c.Code) != 7 || len(c.Axes) != 7 || c.Description == "" || c.Reason != "" {
				t.Fatalf("valid %q: %+v", code, c)
			}
			return
		}
		if c.Reason == "" || c.Pos < 1 || c.Pos > 8 {
			t.Fatalf("invalid %q without reason or position: %+v", code, c)
		}
		if c.Problem == PCSIncomplete && len(c.Next) == 0 {
			t.Fatalf("incomplete %q offers nothing next", code)
		}
		if c.Problem == PCSTooLong || c.Problem == PCSBadChar {
			return
		}
		// Every value offered at Pos is accepted there.
		prefix := c.Code[:c.Pos-1]
		for _, v := range c.Next {
			n := pt.Validate(prefix + string(v.Code))
			if !n.Valid() && n.Problem != PCSIncomplete {
				t.Fatalf("%q offers %c at %d, but %q is %v: %s", code, v.Code, c.Pos, prefix+string(v.Code), n.Problem, n.Reason)
			}
		}
	})
}
