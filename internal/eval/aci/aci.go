// Package aci loads ACI-Bench (Yim et al., Scientific Data 2023) for the
// evaluation harness: the clinical notes of its doctor–patient encounters,
// with ICD-10-CM labels from a separate file joined on the encounter ID.
//
// ACI-Bench itself has no codes. Its challenge-data CSVs (train.csv,
// valid.csv and three test files; columns dataset, encounter_id, dialogue,
// note) hold each encounter's dialogue transcript and the clinical note
// written from it. The labels (Yuan et al., EMNLP 2025 Industry, as
// re-formatted by CodeLoop) are JSON lines, one encounter each, with codes
// only: no evidence spans.
//
// A coder codes the note, as a human coder would: the note is the record
// of the visit; the dialogue is the raw conversation it was written from.
// Options.Text selects the dialogue instead, for coding straight from an
// ambient transcript.
package aci

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
)

// Texts a document can be made of.
const (
	Note     = "note"     // the clinical note (the default)
	Dialogue = "dialogue" // the doctor–patient transcript
)

// splitFiles maps the harness's split names to the challenge-data files
// (without .csv or .csv.gz) and to the split names of the label file.
var splitFiles = map[string]struct {
	files  []string
	labels []string
}{
	"train":     {[]string{"train"}, []string{"train"}},
	"dev":       {[]string{"valid"}, []string{"valid"}},
	"valid":     {[]string{"valid"}, []string{"valid"}},
	"test":      {[]string{"clinicalnlp_taskB_test1", "clinicalnlp_taskC_test2", "clef_taskC_test3"}, []string{"test"}},
	"train+dev": {[]string{"train", "valid"}, []string{"train", "valid"}},
}

// Splits lists the split names Load accepts; dev is ACI-Bench's valid,
// test is its three test files together, and train+dev the two splits one
// may tune on, together (dev alone has only 16 labelled notes).
var Splits = []string{"train", "dev", "valid", "test", "train+dev"}

// Encounter is one row of a challenge-data CSV.
type Encounter struct {
	// Subset is the dataset column: aci, virtassist or virtscribe.
	Subset   string
	ID       string
	Dialogue string
	Note     string
}

// ReadEncounters reads a challenge-data CSV. The header names the columns;
// encounter_id, dialogue and note are required. name is used in errors.
func ReadEncounters(r io.Reader, name string) ([]Encounter, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read ACI-Bench %s: header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, c := range []string{"encounter_id", "dialogue", "note"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("read ACI-Bench %s: header has no %s column: %q", name, c, header)
		}
	}
	field := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var out []Encounter
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ACI-Bench %s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		e := Encounter{
			Subset: strings.TrimSpace(field(rec, "dataset")), ID: strings.TrimSpace(field(rec, "encounter_id")),
			Dialogue: field(rec, "dialogue"), Note: field(rec, "note"),
		}
		if e.ID == "" {
			return nil, fmt.Errorf("read ACI-Bench %s: line %d: empty encounter_id", name, line)
		}
		if prev, dup := seen[e.ID]; dup {
			return nil, fmt.Errorf("read ACI-Bench %s: line %d: encounter %s already on line %d", name, line, e.ID, prev)
		}
		seen[e.ID] = line
		out = append(out, e)
	}
}

// Label is the gold code set of one encounter.
type Label struct {
	EncounterID string
	// Split is the label file's split of the encounter (train, valid or
	// test), or empty when the file does not say.
	Split string
	// Codes are canonical ICD-10-CM codes, each once.
	Codes []string
}

// labelLine is one line of the label file. Other keys (match, source) are
// allowed and ignored.
type labelLine struct {
	EncounterID string `json:"encounter_id"`
	SplitOrig   string `json:"split_orig"`
	Codes       []struct {
		Code    string `json:"code"`
		CodeRaw string `json:"code_raw"`
	} `json:"codes"`
}

// ReadLabels reads a label file: one JSON object per encounter with
// encounter_id, codes (each with code_raw, the code as annotated, or code,
// the code without its dot) and optionally split_orig. Every code must have
// the shape of an ICD-10-CM code. name is used in errors.
func ReadLabels(r io.Reader, name string) ([]Label, error) {
	var out []Label
	seen := map[string]int{}
	br := bufio.NewReader(r)
	for n := 1; ; n++ {
		raw, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			var l labelLine
			if err := json.Unmarshal(raw, &l); err != nil {
				return nil, fmt.Errorf("read labels %s: line %d: %w", name, n, err)
			}
			id := strings.TrimSpace(l.EncounterID)
			if id == "" {
				return nil, fmt.Errorf("read labels %s: line %d: no encounter_id", name, n)
			}
			if prev, dup := seen[id]; dup {
				return nil, fmt.Errorf("read labels %s: line %d: encounter %s already on line %d", name, n, id, prev)
			}
			seen[id] = n
			lab := Label{EncounterID: id, Split: strings.TrimSpace(l.SplitOrig), Codes: []string{}}
			for i, c := range l.Codes {
				s := cmp.Or(strings.TrimSpace(c.CodeRaw), strings.TrimSpace(c.Code))
				code, err := codesys.ParseCode(s)
				if err != nil {
					return nil, fmt.Errorf("read labels %s: line %d: encounter %s: code %d: %w", name, n, id, i+1, err)
				}
				if !slices.Contains(lab.Codes, code.String()) {
					lab.Codes = append(lab.Codes, code.String())
				}
			}
			out = append(out, lab)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read labels %s: %w", name, err)
		}
	}
}

// OpenLabels reads the label file at path, gzipped or not.
func OpenLabels(path string) ([]Label, error) {
	r, err := eval.Open(path)
	if err != nil {
		return nil, fmt.Errorf("aci: labels: %w", err)
	}
	defer r.Close()
	return ReadLabels(r, path)
}

// OpenEncounters reads the challenge-data file dir/base.csv, or
// dir/base.csv.gz when there is no plain one.
func OpenEncounters(dir, base string) ([]Encounter, error) {
	path := filepath.Join(dir, base+".csv")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		path += ".gz"
	}
	r, err := eval.Open(path)
	if err != nil {
		return nil, fmt.Errorf("aci: %w", err)
	}
	defer r.Close()
	return ReadEncounters(r, path)
}

// Options select what Load reads.
type Options struct {
	// Split is one of Splits; empty means dev.
	Split string
	// Text is Note (the default) or Dialogue.
	Text string
}

// Coverage says which encounters of a split became documents and which
// could not, so that nothing is left out silently.
type Coverage struct {
	// Encounters is the number of encounters in the split's CSV files.
	Encounters int
	// Documents is the number of them that became documents.
	Documents int
	// Unlabelled lists the encounters the label files have no labels for
	// (the labels' held-out part): they are not scored.
	Unlabelled []string
	// NoText lists labelled encounters whose chosen text is empty.
	NoText []string
	// NoEncounter lists labels of the split whose encounter is in none of
	// the split's CSV files.
	NoEncounter []string
}

// Exclusions returns what the coverage left out, for the run file.
func (c *Coverage) Exclusions() []eval.Exclusion {
	var out []eval.Exclusion
	if len(c.Unlabelled) > 0 {
		out = append(out, eval.NewExclusion("encounters without labels (not scored)", c.Unlabelled))
	}
	if len(c.NoText) > 0 {
		out = append(out, eval.NewExclusion("labelled encounters with an empty text (not scored)", c.NoText))
	}
	if len(c.NoEncounter) > 0 {
		out = append(out, eval.NewExclusion("labels of the split whose encounter has no row in the CSV files", c.NoEncounter))
	}
	return out
}

// Load reads one split of the challenge data from dir (the challenge_data
// folder) and joins the labels of the files in labelPaths on the encounter
// ID. Documents are the labelled encounters, in file and row order; the
// coverage accounts for the rest. A label whose split disagrees with the
// file its encounter is in is an error: the files do not belong together.
func Load(ctx context.Context, dir string, labelPaths []string, opt Options) ([]eval.Document, *Coverage, error) {
	split := cmp.Or(opt.Split, "dev")
	sf, ok := splitFiles[split]
	if !ok {
		return nil, nil, fmt.Errorf("aci: unknown split %q (want one of %s)", split, strings.Join(Splits, ", "))
	}
	text := cmp.Or(opt.Text, Note)
	if text != Note && text != Dialogue {
		return nil, nil, fmt.Errorf("aci: unknown text %q (want %s or %s)", text, Note, Dialogue)
	}
	if len(labelPaths) == 0 {
		return nil, nil, errors.New("aci: no label file")
	}
	labels := map[string]Label{}
	for _, p := range labelPaths {
		ls, err := OpenLabels(p)
		if err != nil {
			return nil, nil, err
		}
		for _, l := range ls {
			if _, dup := labels[l.EncounterID]; dup {
				return nil, nil, fmt.Errorf("aci: labels %s: encounter %s is labelled in an earlier label file too", p, l.EncounterID)
			}
			labels[l.EncounterID] = l
		}
	}
	cov := &Coverage{}
	var docs []eval.Document
	found := map[string]bool{}
	for _, base := range sf.files {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("aci: %w", err)
		}
		encs, err := OpenEncounters(dir, base)
		if err != nil {
			return nil, nil, err
		}
		labelSplit := fileSplit(base)
		for _, e := range encs {
			if found[e.ID] {
				return nil, nil, fmt.Errorf("aci: encounter %s is in more than one file of split %s", e.ID, split)
			}
			found[e.ID] = true
			cov.Encounters++
			l, ok := labels[e.ID]
			if !ok {
				cov.Unlabelled = append(cov.Unlabelled, e.ID)
				continue
			}
			if l.Split != "" && l.Split != labelSplit {
				return nil, nil, fmt.Errorf("aci: the labels put encounter %s in %s, but it is in %s", e.ID, l.Split, base)
			}
			t := e.Note
			if text == Dialogue {
				t = e.Dialogue
			}
			if strings.TrimSpace(t) == "" {
				cov.NoText = append(cov.NoText, e.ID)
				continue
			}
			d := eval.Document{ID: e.ID, Text: t, Language: "en"}
			for _, c := range l.Codes {
				d.Gold = append(d.Gold, eval.GoldCode{Code: c, System: codesys.ICD10CM})
			}
			docs = append(docs, d)
		}
	}
	for _, id := range sortedIDs(labels) {
		if l := labels[id]; !found[id] && slices.Contains(sf.labels, l.Split) {
			cov.NoEncounter = append(cov.NoEncounter, id)
		}
	}
	cov.Documents = len(docs)
	if len(docs) == 0 {
		return nil, cov, fmt.Errorf("aci: none of the %d encounters of split %s has labels in %s", cov.Encounters, split, strings.Join(labelPaths, ", "))
	}
	return docs, cov, nil
}

// fileSplit is the label file's split name for a challenge-data file.
func fileSplit(base string) string {
	switch base {
	case "train", "valid":
		return base
	}
	return "test"
}

func sortedIDs(m map[string]Label) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
