package mdace

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

// testdata holds a synthetic chart in MDACE's format and a synthetic
// NOTEEVENTS.csv in MIMIC-III's shape, both written for these tests: the
// real note text is credentialed.

func evidenceText(d eval.Document, code string) []string {
	var out []string
	for _, g := range d.Gold {
		if g.Code == code {
			for _, m := range g.Evidence {
				for _, s := range m {
					out = append(out, d.Text[s.Start:s.End])
				}
			}
		}
	}
	return out
}

func TestLoadSynthetic(t *testing.T) {
	docs, err := Load(context.Background(), "testdata", "testdata/NOTEEVENTS.csv", Options{Split: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].ID != "900001" {
		t.Fatalf("dev split gave %d documents (%v), want chart 900001", len(docs), docs)
	}
	d := docs[0]
	// The discharge summary comes first, as listed in the chart, and the
	// degree sign before "pneumonia" makes character and byte offsets
	// differ.
	if !strings.HasPrefix(d.Text, "Admission Date:") || !strings.Contains(d.Text, "mellitus.\n\n\nCHEST X-RAY") {
		t.Errorf("text = %q", d.Text)
	}
	if got := evidenceText(d, "J18.9"); !slices.Equal(got, []string{"pneumonia", "consolidation"}) {
		t.Errorf("J18.9 evidence = %q", got)
	}
	if got := evidenceText(d, "E11.9"); !slices.Equal(got, []string{"type 2 diabetes mellitus"}) {
		t.Errorf("E11.9 evidence = %q", got)
	}
	var systems []codesys.System
	for _, g := range d.Gold {
		systems = append(systems, g.System)
	}
	if len(d.Gold) != 4 || !slices.Contains(systems, codesys.ICD10PCS) {
		t.Errorf("gold = %+v", d.Gold)
	}
	if got := evidenceText(d, "BW03ZZZ"); !slices.Equal(got, []string{"CHEST X-RAY"}) {
		t.Errorf("BW03ZZZ evidence = %q", got)
	}

	// Only radiology notes.
	docs, err = Load(context.Background(), "testdata", "testdata/NOTEEVENTS.csv", Options{Split: "dev", DocOptions: DocOptions{Categories: []string{"Radiology"}}})
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Text != "CHEST X-RAY: right lower lobe consolidation." || len(docs[0].Gold) != 2 {
		t.Errorf("radiology only: %q %+v", docs[0].Text, docs[0].Gold)
	}

	// All charts, notes gzipped as PhysioNet ships them.
	raw, err := os.ReadFile("testdata/NOTEEVENTS.csv")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	gz := filepath.Join(t.TempDir(), "NOTEEVENTS.csv.gz")
	if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	docs, err = Load(context.Background(), "testdata", gz, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[1].ID != "900002" || evidenceText(docs[1], "R06.00")[0] != "distress" {
		t.Errorf("all charts: %+v", docs)
	}
}

func TestNotesMismatch(t *testing.T) {
	charts, err := LoadCharts("testdata", "Inpatient", "ICD-10")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Documents(charts, map[int]string{9001: "too short", 9002: "x", 9003: "y"}, DocOptions{}); err == nil || !strings.Contains(err.Error(), "outside the note") {
		t.Errorf("short note: err = %v", err)
	}
	if _, err := Documents(charts, nil, DocOptions{}); err == nil || !strings.Contains(err.Error(), "note 9001") {
		t.Errorf("no notes: err = %v", err)
	}
	if _, err := ReadNotes(context.Background(), strings.NewReader("A,B\n1,2\n"), "x.csv", map[int]bool{1: true}); err == nil {
		t.Error("notes file without ROW_ID and TEXT accepted")
	}
}

// TestRealAnnotations reads the MDACE annotation files as distributed and
// checks the counts PROVENANCE.md gives.
func TestRealAnnotations(t *testing.T) {
	root := filepath.Dir(filepath.Dir(shareddata.Path(t, "eval/mdace/splits/Inpatient")))
	for _, tc := range []struct {
		setting string
		charts  int
		spans   map[string]int
	}{
		{"Inpatient", 302, map[string]int{"ICD-10-CM": 3662, "ICD-10-PCS": 272, "ICD-9-CM": 2}},
		{"Profee", 52, map[string]int{"ICD-10-CM": 5217, "CPT": 346}},
	} {
		charts, err := LoadCharts(root, tc.setting, "ICD-10")
		if err != nil {
			t.Fatal(err)
		}
		if len(charts) != tc.charts {
			t.Errorf("%s: %d charts, want %d", tc.setting, len(charts), tc.charts)
		}
		spans := map[string]int{}
		for _, c := range charts {
			for _, n := range c.Notes {
				for _, a := range n.Annotations {
					spans[a.CodeSystem]++
				}
			}
		}
		for sys, n := range tc.spans {
			if spans[sys] != n {
				t.Errorf("%s: %d %s spans, want %d (all: %v)", tc.setting, spans[sys], sys, n, spans)
			}
		}
		// The evidence splits partition the charts.
		seen := map[int]bool{}
		for _, split := range []string{"train", "dev", "test"} {
			path, err := SplitFile(root, tc.setting, split, false)
			if err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			ids, err := ReadSplit(f, path)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if seen[id] {
					t.Errorf("%s: chart %d in two splits", tc.setting, id)
				}
				seen[id] = true
			}
		}
		for _, c := range charts {
			if !seen[c.HadmID] {
				t.Errorf("%s: chart %d in no evidence split", tc.setting, c.HadmID)
			}
		}
		// Without the credentialed notes, the loader must say which note
		// is missing rather than produce empty documents.
		if _, err := Documents(charts, map[int]string{}, DocOptions{}); err == nil || !strings.Contains(err.Error(), "not in the notes file") {
			t.Errorf("%s: documents without notes: err = %v", tc.setting, err)
		}
	}
}

func FuzzReadChart(f *testing.F) {
	seed, err := os.ReadFile("testdata/data/Inpatient/ICD-10/1.0/900001-ICD-10.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add(`{"hadm_id": 1, "notes": [{"note_id": 2, "annotations": [{"begin": 5, "end": 3, "code": "I10"}]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ReadChart(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		for _, n := range c.Notes {
			for _, a := range n.Annotations {
				if a.Begin < 0 || a.End <= a.Begin {
					t.Fatalf("accepted bad span %+v", a)
				}
			}
		}
	})
}

func FuzzReadNotes(f *testing.F) {
	seed, err := os.ReadFile("testdata/NOTEEVENTS.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("ROW_ID,TEXT\n1,\"a\"\"b\"\n2,x\n")
	f.Fuzz(func(t *testing.T, s string) {
		notes, err := ReadNotes(context.Background(), strings.NewReader(s), "fuzz", map[int]bool{1: true, 9001: true})
		if err == nil && len(notes) > 2 {
			t.Fatalf("got %d notes, asked for 2", len(notes))
		}
	})
}
