package aci

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const (
	fixtureDir    = "testdata/challenge_data"
	fixtureLabels = "testdata/labels.jsonl"
)

func goldCodes(d eval.Document) []string {
	var out []string
	for _, g := range d.Gold {
		if g.System != codesys.ICD10CM {
			return nil
		}
		out = append(out, g.Code)
	}
	return out
}

func TestLoadFixture(t *testing.T) {
	docs, cov, err := Load(t.Context(), fixtureDir, []string{fixtureLabels}, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	// T001 and T002 are labelled and have notes; T003 has no labels, T004
	// an empty note, and the label of T099 has no encounter.
	if len(docs) != 2 || docs[0].ID != "T001" || docs[1].ID != "T002" {
		t.Fatalf("documents = %+v", docs)
	}
	if got := goldCodes(docs[0]); !slices.Equal(got, []string{"M17.0"}) {
		t.Errorf("T001 gold = %v, want M17.0 (code_raw, with its dot)", got)
	}
	if got := goldCodes(docs[1]); !slices.Equal(got, []string{"I10"}) {
		t.Errorf("T002 gold = %v, want I10 once", got)
	}
	if !strings.HasPrefix(docs[0].Text, "CHIEF COMPLAINT\n\nBilateral knee pain.") || docs[0].Language != "en" {
		t.Errorf("T001 text = %q", docs[0].Text)
	}
	if cov.Encounters != 4 || cov.Documents != 2 || !slices.Equal(cov.Unlabelled, []string{"T003"}) ||
		!slices.Equal(cov.NoText, []string{"T004"}) || !slices.Equal(cov.NoEncounter, []string{"T099"}) {
		t.Errorf("coverage = %+v", cov)
	}
	ex := cov.Exclusions()
	if len(ex) != 3 || ex[0].Count != 1 || ex[0].IDs[0] != "T003" {
		t.Errorf("exclusions = %+v", ex)
	}

	// The dialogue of T004 is not empty, so it is a document.
	docs, cov, err = Load(t.Context(), fixtureDir, []string{fixtureLabels}, Options{Split: "train", Text: Dialogue})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 || docs[2].ID != "T004" || !strings.HasPrefix(docs[0].Text, "[doctor] how are your knees?") || len(cov.NoText) != 0 {
		t.Errorf("dialogue documents = %+v, coverage %+v", docs, cov)
	}

	// dev is ACI-Bench's valid file; the train labels are not its concern.
	docs, cov, err = Load(t.Context(), fixtureDir, []string{fixtureLabels}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].ID != "V001" || len(cov.NoEncounter) != 0 {
		t.Errorf("dev = %+v, coverage %+v", docs, cov)
	}

	// train+dev: both files, in that order.
	docs, cov, err = Load(t.Context(), fixtureDir, []string{fixtureLabels}, Options{Split: "train+dev"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	if !slices.Equal(ids, []string{"T001", "T002", "V001"}) || cov.Encounters != 5 {
		t.Errorf("train+dev = %v, coverage %+v", ids, cov)
	}
}

// TestLoadGzip: the files as stored in ../shared/data are gzipped; a file
// is read as gzip by its content.
func TestLoadGzip(t *testing.T) {
	dir := t.TempDir()
	gz := func(src, dst string) {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gz(filepath.Join(fixtureDir, "train.csv"), filepath.Join(dir, "train.csv.gz"))
	gz(fixtureLabels, filepath.Join(dir, "labels.jsonl.gz"))
	want, _, err := Load(t.Context(), fixtureDir, []string{fixtureLabels}, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := Load(t.Context(), dir, []string{filepath.Join(dir, "labels.jsonl.gz")}, Options{Split: "train"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || got[0].Text != want[0].Text || !slices.Equal(goldCodes(got[1]), goldCodes(want[1])) {
		t.Errorf("gzipped: %+v, want %+v", got, want)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wrongSplit := write("wrong.jsonl", `{"codes": [{"code_raw": "M17.0"}], "encounter_id": "T001", "split_orig": "valid"}`+"\n")
	for _, tc := range []struct {
		name   string
		dir    string
		labels []string
		opt    Options
		want   string
	}{
		{"unknown split", fixtureDir, []string{fixtureLabels}, Options{Split: "val2"}, `unknown split "val2"`},
		{"unknown text", fixtureDir, []string{fixtureLabels}, Options{Text: "summary"}, `unknown text "summary"`},
		{"no labels", fixtureDir, nil, Options{}, "no label file"},
		{"missing labels", fixtureDir, []string{filepath.Join(dir, "none.jsonl")}, Options{}, "none.jsonl"},
		{"missing csv", dir, []string{fixtureLabels}, Options{}, "valid.csv"},
		{"split disagrees", fixtureDir, []string{wrongSplit}, Options{Split: "train"}, "the labels put encounter T001 in valid, but it is in train"},
		{"labels twice", fixtureDir, []string{fixtureLabels, fixtureLabels}, Options{}, "labelled in an earlier label file"},
		{"nothing labelled", fixtureDir, []string{wrongSplit}, Options{Split: "test"}, "clinicalnlp_taskB_test1"},
	} {
		if _, _, err := Load(t.Context(), tc.dir, tc.labels, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := Load(ctx, fixtureDir, []string{fixtureLabels}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
	// A split none of whose encounters is labelled is an error that still
	// reports the coverage.
	only := write("only-valid.jsonl", `{"codes": [{"code_raw": "E11.9"}], "encounter_id": "V001", "split_orig": "valid"}`+"\n")
	_, cov, err := Load(t.Context(), fixtureDir, []string{only}, Options{Split: "train"})
	if err == nil || cov == nil || len(cov.Unlabelled) != 4 {
		t.Errorf("nothing labelled: err = %v, coverage %+v", err, cov)
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"codes": [], "encounter_id": ""}`, "line 1: no encounter_id"},
		{"{\"codes\": [], \"encounter_id\": \"A\"}\n{\"codes\": [], \"encounter_id\": \"A\"}", "line 2: encounter A already on line 1"},
		{"\n{\"codes\": [{\"code_raw\": \"M17.0.1\"}], \"encounter_id\": \"A\"}", "line 2: encounter A: code 1"},
		{`{"codes": [{"code_raw": ""}], "encounter_id": "A"}`, "line 1: encounter A: code 1"},
		{`{"codes": {}, "encounter_id": "A"}`, "line 1"},
	} {
		if _, err := ReadLabels(strings.NewReader(tc.in), "l.jsonl"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadLabels(%q): err = %v, want %q", tc.in, err, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"dataset,encounter_id,note\naci,A,x\n", "no dialogue column"},
		{"dataset,encounter_id,dialogue,note\naci,,d,n\n", "line 2: empty encounter_id"},
		{"dataset,encounter_id,dialogue,note\naci,A,d,n\naci,A,d,\"two\nlines\"\naci,A,d,n\n", "line 3: encounter A already on line 2"},
		{"dataset,encounter_id,dialogue,note\naci,A,\"d,n\n", "c.csv"},
		{"", "header"},
	} {
		if _, err := ReadEncounters(strings.NewReader(tc.in), "c.csv"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadEncounters(%q): err = %v, want %q", tc.in, err, tc.want)
		}
	}
}

// provenanceUnlabelled are the train and valid encounters without labels
// in the label file, as its PROVENANCE.md lists them (CodeLoop's holdout).
var provenanceUnlabelled = map[string][]string{
	"train": {"D2N001", "D2N009", "D2N010", "D2N016", "D2N017", "D2N020", "D2N021", "D2N029", "D2N030", "D2N033", "D2N049", "D2N051", "D2N059", "D2N060", "D2N063", "D2N066"},
	"dev":   {"D2N071", "D2N076", "D2N081", "D2N084"},
}

// TestRealData loads the real files and checks the join against one
// computed here directly from the CSVs and the JSON lines, and against the
// dataset facts PROVENANCE.md documents: 67 train and 20 valid encounters,
// 51 and 16 of them labelled, 140 code rows, every label joined.
func TestRealData(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "eval/aci-bench/challenge_data/train.csv.gz"))
	labelPath := shareddata.Path(t, "eval/aci-bench-icd10cm/amazon-icd10cm-train-valid.jsonl.gz")

	type label struct {
		split string
		codes map[string]bool
	}
	labels := map[string]label{}
	rows := 0
	for _, line := range bytes.Split(bytes.TrimSpace(shareddata.ReadGz(t, "eval/aci-bench-icd10cm/amazon-icd10cm-train-valid.jsonl.gz")), []byte("\n")) {
		var l struct {
			ID    string `json:"encounter_id"`
			Split string `json:"split_orig"`
			Codes []struct {
				Raw string `json:"code_raw"`
			} `json:"codes"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatal(err)
		}
		lb := label{l.Split, map[string]bool{}}
		for _, c := range l.Codes {
			lb.codes[c.Raw] = true
			rows++
		}
		labels[l.ID] = lb
	}
	if len(labels) != 67 || rows != 140 {
		t.Fatalf("label file: %d encounters, %d code rows; PROVENANCE.md says 67 and 140", len(labels), rows)
	}

	total := 0
	for split, file := range map[string]string{"train": "train", "dev": "valid"} {
		recs, err := csv.NewReader(bytes.NewReader(shareddata.ReadGz(t, "eval/aci-bench/challenge_data/"+file+".csv.gz"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var wantIDs, wantUnlabelled []string
		wantCodes := 0
		for _, r := range recs[1:] { // encounter_id is column 1, note column 3
			if lb, ok := labels[r[1]]; ok && strings.TrimSpace(r[3]) != "" {
				wantIDs = append(wantIDs, r[1])
				wantCodes += len(lb.codes)
			} else if !ok {
				wantUnlabelled = append(wantUnlabelled, r[1])
			}
		}
		docs, cov, err := Load(t.Context(), dir, []string{labelPath}, Options{Split: split})
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		gotCodes := 0
		for _, d := range docs {
			gotIDs = append(gotIDs, d.ID)
			for _, g := range d.Gold {
				if !labels[d.ID].codes[g.Code] {
					t.Errorf("%s: gold %s is not in the label file", d.ID, g.Code)
				}
			}
			gotCodes += len(d.Gold)
			if !strings.Contains(d.Text, "\n") {
				t.Errorf("%s: text %.40q is not a note", d.ID, d.Text)
			}
		}
		if !slices.Equal(gotIDs, wantIDs) || gotCodes != wantCodes {
			t.Errorf("%s: documents %v with %d codes, want %v with %d", split, gotIDs, gotCodes, wantIDs, wantCodes)
		}
		if cov.Encounters != len(recs)-1 || !slices.Equal(cov.Unlabelled, wantUnlabelled) ||
			!slices.Equal(cov.Unlabelled, provenanceUnlabelled[split]) || len(cov.NoText) != 0 || len(cov.NoEncounter) != 0 {
			t.Errorf("%s: coverage %+v, want %d encounters, unlabelled %v", split, cov, len(recs)-1, provenanceUnlabelled[split])
		}
		total += len(docs)
	}
	if total != 67 {
		t.Errorf("%d documents in train and dev, want the 67 labelled encounters", total)
	}
}

func FuzzReadLabels(f *testing.F) {
	b, err := os.ReadFile(fixtureLabels)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add(`{"codes": [{"code": "E119"}], "encounter_id": "X"}`)
	f.Fuzz(func(t *testing.T, s string) {
		ls, err := ReadLabels(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, l := range ls {
			if l.EncounterID == "" || seen[l.EncounterID] {
				t.Fatalf("encounter %q empty or repeated", l.EncounterID)
			}
			seen[l.EncounterID] = true
			for _, c := range l.Codes {
				if p, err := codesys.ParseCode(c); err != nil || p.String() != c {
					t.Fatalf("code %q not canonical ICD-10-CM", c)
				}
			}
		}
	})
}

func FuzzReadEncounters(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(fixtureDir, "train.csv"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("encounter_id,note,dialogue\nA,n,d\n")
	f.Fuzz(func(t *testing.T, s string) {
		es, err := ReadEncounters(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, e := range es {
			if e.ID == "" || seen[e.ID] {
				t.Fatalf("encounter %q empty or repeated", e.ID)
			}
			seen[e.ID] = true
		}
	})
}
