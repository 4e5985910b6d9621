package jsonl

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
)

const sample = `{"id": "a", "text": "Niño con fiebre y tos.", "language": "es", "codes": [{"code": "r50.9", "system": "ICD-10-CM", "spans": [[9, 15]]}, "R05", {"code": "R509"}]}

{"id": "b", "text": "ecografía renal y luego derecha", "codes": [{"code": "bt41zzz", "system": "icd10pcs", "mentions": [[[0, 15], [24, 31]]]}]}
{"id": "c", "text": "no codes", "codes": []}
`

func TestRead(t *testing.T) {
	docs, err := Read(strings.NewReader(sample), "sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	a := docs[0]
	// "r50.9" and "R509" are one code; "R05" is a plain string.
	if len(a.Gold) != 2 || a.Gold[0].Code != "R50.9" || a.Gold[1].Code != "R05" || a.Gold[1].System != codesys.ICD10CM {
		t.Fatalf("gold = %+v", a.Gold)
	}
	// Characters 9-15 are "fiebre"; "ñ" makes the byte offsets differ.
	s := a.Gold[0].Evidence[0][0]
	if a.Text[s.Start:s.End] != "fiebre" || s.Start != 10 {
		t.Errorf("span = %+v (%q)", s, a.Text[s.Start:s.End])
	}
	b := docs[1]
	m := b.Gold[0].Evidence[0]
	if b.Gold[0].Code != "BT41ZZZ" || len(m) != 2 || b.Text[m[0].Start:m[0].End] != "ecografía renal" || b.Text[m[1].Start:m[1].End] != "derecha" {
		t.Errorf("discontinuous mention = %+v", b.Gold[0])
	}
	if len(docs[2].Gold) != 0 {
		t.Errorf("c has gold %v", docs[2].Gold)
	}
	var buf bytes.Buffer
	if err := Write(&buf, docs); err != nil {
		t.Fatal(err)
	}
	back, err := Read(&buf, "written")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, docs) {
		t.Errorf("round trip:\n%+v\nwant\n%+v", back, docs)
	}
}

func TestReadErrors(t *testing.T) {
	for _, bad := range []string{
		`{"text": "no id", "codes": []}`,
		`{"id": "a", "text": "abc", "codes": [{"code": "I10", "spans": [[2, 4]]}]}`,
		`{"id": "a", "text": "abc", "codes": [{"code": "I10", "spans": [[2, 2]]}]}`,
		`{"id": "a", "text": "abc", "codes": [{"code": " "}]}`,
		`{"id": "a", "text": "abc", "codes": [], "extra": 1}`,
		"{\"id\": \"a\", \"text\": \"\", \"codes\": []}\n{\"id\": \"a\", \"text\": \"\", \"codes\": []}",
		`{"id": "a",`,
	} {
		if _, err := Read(strings.NewReader(bad), "bad.jsonl"); err == nil || !strings.Contains(err.Error(), "line") {
			t.Errorf("Read(%s): err = %v", bad, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(sample)
	f.Add(`{"id": "x", "text": "é", "codes": [{"code": "A00", "spans": [[0, 1]]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		docs, err := Read(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, d := range docs {
			for _, g := range d.Gold {
				for _, m := range g.Evidence {
					for _, sp := range m {
						if sp.Start < 0 || sp.End > len(d.Text) || sp.Start >= sp.End {
							t.Fatalf("span %+v outside text of %d bytes", sp, len(d.Text))
						}
					}
				}
			}
		}
	})
}
