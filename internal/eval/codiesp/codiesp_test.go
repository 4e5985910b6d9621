package codiesp

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const corpus = "eval/codiesp/final_dataset_v4_to_publish"

func corpusDir(t *testing.T) string {
	// Ask for a file so that a missing corpus fails loudly.
	return filepath.Dir(filepath.Dir(shareddata.Path(t, corpus+"/dev/devX.tsv")))
}

func TestLoadDevSpanish(t *testing.T) {
	dir := corpusDir(t)
	docs, err := Load(dir, "dev", Spanish)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 250 { // PROVENANCE.md: dev has 250 documents
		t.Fatalf("dev has %d documents, want 250", len(docs))
	}
	d := docs[slices.IndexFunc(docs, func(d eval.Document) bool { return d.ID == "S0004-06142005000900016-1" })]
	find := func(sys codesys.System, code string) *eval.GoldCode {
		for i := range d.Gold {
			if d.Gold[i].System == sys && d.Gold[i].Code == code {
				return &d.Gold[i]
			}
		}
		t.Fatalf("%s: no gold %s %s in %+v", d.ID, sys, code, d.Gold)
		return nil
	}
	// devD.tsv has "q62.11", devX.tsv references it twice, once
	// discontinuously.
	q := find(codesys.ICD10CM, "Q62.11")
	if len(q.Evidence) != 2 || d.Text[q.Evidence[0][0].Start:q.Evidence[0][0].End] != "estenosis en la unión pieloureteral derecha" {
		t.Errorf("Q62.11 evidence = %+v", q.Evidence)
	}
	// "ecografía renal derecha" at 307 316;348 361: the accent makes byte
	// and character offsets differ. The X file lists this row twice.
	b := find(codesys.ICD10PCS, "BT41ZZZ")
	if len(b.Evidence) != 1 || len(b.Evidence[0]) != 2 {
		t.Fatalf("BT41ZZZ evidence = %+v", b.Evidence)
	}
	m := b.Evidence[0]
	if got := d.Text[m[0].Start:m[0].End] + " " + d.Text[m[1].Start:m[1].End]; got != "ecografía renal derecha" {
		t.Errorf("BT41ZZZ evidence text = %q", got)
	}
	find(codesys.ICD10PCS, "CT13") // partial PCS code as annotated
}

// TestXOffsetsAreCharacters checks the conversion on every single-span X
// row: PROVENANCE.md found all but two of them to match the reference text
// by character offsets.
func TestXOffsetsAreCharacters(t *testing.T) {
	dir := corpusDir(t)
	for _, split := range []string{"train", "dev"} {
		docs, err := Load(dir, split, Spanish)
		if err != nil {
			t.Fatal(err)
		}
		texts := make(map[string]string)
		offsets := make(map[string]*eval.Offsets)
		for _, d := range docs {
			texts[d.ID] = d.Text
			offsets[d.ID] = eval.NewOffsets(d.Text)
		}
		f, err := os.Open(filepath.Join(dir, split, split+"X.tsv"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := ReadX(f, f.Name())
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		single, bad := 0, 0
		for _, r := range rows {
			if len(r.Positions) != 1 {
				continue
			}
			single++
			s, ok := offsets[r.Doc].ByteSpan(r.Positions[0][0], r.Positions[0][1])
			if !ok || texts[r.Doc][s.Start:s.End] != r.Reference {
				bad++
			}
		}
		if single == 0 || bad > 2 {
			t.Errorf("%s: %d of %d single-span references do not match their text", split, bad, single)
		}
	}
}

func TestLoadEnglish(t *testing.T) {
	dir := corpusDir(t)
	es, err := Load(dir, "train", Spanish)
	if err != nil {
		t.Fatal(err)
	}
	en, err := Load(dir, "train", English)
	if err != nil {
		t.Fatal(err)
	}
	if len(en) != 500 || len(es) != 500 {
		t.Fatalf("train: %d English, %d Spanish documents, want 500", len(en), len(es))
	}
	for i := range en {
		if en[i].ID != es[i].ID || len(en[i].Gold) != len(es[i].Gold) || en[i].Language != English {
			t.Fatalf("document %d: English %s (%d codes), Spanish %s (%d codes)", i, en[i].ID, len(en[i].Gold), es[i].ID, len(es[i].Gold))
		}
		for _, g := range en[i].Gold {
			if len(g.Evidence) > 0 {
				t.Fatalf("%s: English text has X evidence %v, which applies to the Spanish text only", en[i].ID, g)
			}
		}
	}
	if !strings.Contains(en[0].Text, "\n") {
		t.Error("English text is sentence-split by lines; none found")
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(t.TempDir(), "validation", Spanish); err == nil {
		t.Error("unknown split accepted")
	}
	if _, err := Load(t.TempDir(), "dev", "fr"); err == nil {
		t.Error("unknown language accepted")
	}
	if _, err := Load(t.TempDir(), "dev", Spanish); err == nil {
		t.Error("missing files accepted")
	}
	// A reference past the end of its text must fail, naming the line.
	dir := t.TempDir()
	sp := filepath.Join(dir, "dev")
	must(t, os.MkdirAll(filepath.Join(sp, "text_files"), 0o755))
	must(t, os.WriteFile(filepath.Join(sp, "text_files", "a.txt"), []byte("niño con fiebre"), 0o644))
	must(t, os.WriteFile(filepath.Join(sp, "devD.tsv"), []byte("a\tr50.9\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(sp, "devP.tsv"), nil, 0o644))
	must(t, os.WriteFile(filepath.Join(sp, "devX.tsv"), []byte("a\tDIAGNOSTICO\tr50.9\tfiebre\t9 15\n"), 0o644))
	docs, err := Load(dir, "dev", Spanish)
	if err != nil {
		t.Fatal(err)
	}
	g := docs[0].Gold[0]
	if g.Code != "R50.9" || len(g.Evidence) != 1 || docs[0].Text[g.Evidence[0][0].Start:g.Evidence[0][0].End] != "fiebre" {
		t.Errorf("gold = %+v", g)
	}
	must(t, os.WriteFile(filepath.Join(sp, "devX.tsv"), []byte("a\tDIAGNOSTICO\tr50.9\tfiebre\t9 16\n"), 0o644))
	if _, err := Load(dir, "dev", Spanish); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("out-of-range reference: err = %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParsePositions(t *testing.T) {
	got, err := ParsePositions("2654 2674;691 706")
	if err != nil || !slices.Equal(got, [][2]int{{2654, 2674}, {691, 706}}) {
		t.Errorf("ParsePositions = %v, %v", got, err)
	}
	// Empty pairs occur in the gold files and are dropped.
	got, err = ParsePositions("1402 1428;1446 1446;1455 1459")
	if err != nil || !slices.Equal(got, [][2]int{{1402, 1428}, {1455, 1459}}) {
		t.Errorf("ParsePositions with empty pair = %v, %v", got, err)
	}
	for _, bad := range []string{"", "1", "1 2 3", "5 5", "7 3", "-1 2", "1 2;", "a b"} {
		if _, err := ParsePositions(bad); err == nil {
			t.Errorf("ParsePositions(%q) succeeded", bad)
		}
	}
}

func FuzzReadX(f *testing.F) {
	f.Add("S1\tDIAGNOSTICO\tq62.11\testenosis\t540 583\n")
	f.Add("S1\tPROCEDIMIENTO\tbt41zzz\tecografía renal derecha\t307 316;348 361\r\n\n")
	f.Add("S1\tOTRO\tx\ty\t1 2")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ReadX(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, r := range rows {
			if len(r.Positions) == 0 {
				t.Fatalf("row without positions: %+v", r)
			}
			for _, p := range r.Positions {
				if p[0] < 0 || p[1] <= p[0] {
					t.Fatalf("bad position %v", p)
				}
			}
		}
	})
}

func FuzzReadCodes(f *testing.F) {
	f.Add("S1\tn28.89\nS1\tr31.9\n")
	f.Add("S1\n")
	f.Fuzz(func(t *testing.T, s string) {
		rows, err := ReadCodes(strings.NewReader(s), "fuzz", codesys.ICD10CM)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Doc == "" || r.Code == "" {
				t.Fatalf("empty field in %+v", r)
			}
		}
	})
}

func TestForm(t *testing.T) {
	cm, pcs := codesys.ICD10CM, codesys.ICD10PCS
	tests := []struct {
		sys      codesys.System
		in, want string
	}{
		{cm, "T14.90XA", "T14.90"}, // gold t14.90
		{cm, "T14.90", "T14.90"},   // the gold itself
		{cm, "T81.31XA", "T81.31"}, // gold t81.31x
		{cm, "T81.31X", "T81.31"},
		{cm, "W19.XXXA", "W19"}, // gold w19.xxx
		{cm, "W19.XXX", "W19"},
		{cm, "S52.521A", "S52.521"}, // gold s52.521
		{cm, "S72.001A", "S72.001"}, // gold s72.001a
		{cm, "T86.11", "T86.11"},    // no 7th character: as it is
		{cm, "E11.9", "E11.9"},      // other chapters: as they are
		{cm, "O32.1XX0", "O32.1XX0"},
		{pcs, "XW033E5", "XW033E5"},
		{pcs, "0DTJ", "0DTJ"},   // gold 0dtj: an incomplete code as annotated
		{pcs, "0DTJ0", "0DTJ"},  // a coder's prefix to the approach: CodiEsp's four characters
		{pcs, "0DTJ0Z", "0DTJ"}, // to the device
		{pcs, "0DT", "0DT"},     // no body part: as it is, matching no CodiEsp code
	}
	for _, tt := range tests {
		if got := Form(tt.sys, tt.in); got != tt.want {
			t.Errorf("Form(%s, %q) = %q, want %q", tt.sys, tt.in, got, tt.want)
		}
	}
}
