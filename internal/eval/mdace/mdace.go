// Package mdace loads MDACE (MIMIC Documents Annotated with Code Evidence,
// Cheng et al., ACL 2023) for the evaluation harness.
//
// MDACE ships only annotations: per admission (chart), the notes' IDs and
// the coders' evidence spans as character offsets into the MIMIC-III
// NOTEEVENTS text. The text is credentialed and never shipped; a user with
// MIMIC-III access points Load at their NOTEEVENTS.csv (or .csv.gz) and gets
// one document per chart: its annotated notes joined in chart order, with
// the gold codes and evidence spans converted to byte offsets.
package mdace

import (
	"bufio"
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
	"strconv"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval"
)

// Chart is one MDACE annotation file: an admission and its annotated notes.
type Chart struct {
	HadmID  int    `json:"hadm_id"`
	Comment string `json:"comment"`
	Notes   []Note `json:"notes"`
}

// Note is one annotated MIMIC-III note.
type Note struct {
	// NoteID is the ROW_ID of the note in NOTEEVENTS.
	NoteID      int          `json:"note_id"`
	Category    string       `json:"category"`
	Description string       `json:"description"`
	Annotations []Annotation `json:"annotations"`
	// Text is the note's text where the chart file carries it (the
	// organisers' inject-note-text.py adds it); MDACE as distributed
	// does not.
	Text string `json:"text,omitempty"`
}

// Annotation is one evidence span for one code: [Begin, End) in characters
// of the note's TEXT.
type Annotation struct {
	Begin       int    `json:"begin"`
	End         int    `json:"end"`
	Code        string `json:"code"`
	CodeSystem  string `json:"code_system"`
	Description string `json:"description"`
	Type        string `json:"type"`
}

// ReadChart reads one MDACE annotation file.
func ReadChart(r io.Reader, name string) (*Chart, error) {
	var c Chart
	dec := json.NewDecoder(r)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("read MDACE chart %s: %w", name, err)
	}
	if c.HadmID <= 0 {
		return nil, fmt.Errorf("read MDACE chart %s: missing hadm_id", name)
	}
	for _, n := range c.Notes {
		for i, a := range n.Annotations {
			if a.Begin < 0 || a.End <= a.Begin {
				return nil, fmt.Errorf("read MDACE chart %s: note %d: annotation %d: bad span %d-%d", name, n.NoteID, i, a.Begin, a.End)
			}
			if strings.TrimSpace(a.Code) == "" {
				return nil, fmt.Errorf("read MDACE chart %s: note %d: annotation %d: empty code", name, n.NoteID, i)
			}
		}
	}
	return &c, nil
}

// Settings are MDACE's two coding settings.
var Settings = []string{"Inpatient", "Profee"}

// LoadCharts reads every chart of one setting ("Inpatient" or "Profee")
// and code version ("ICD-10" or "ICD-9") from root, the MDACE folder with
// data/ and splits/, in order of admission ID.
func LoadCharts(root, setting, version string) ([]*Chart, error) {
	if !slices.Contains(Settings, setting) {
		return nil, fmt.Errorf("mdace: unknown setting %q (want %s)", setting, strings.Join(Settings, " or "))
	}
	dir := filepath.Join(root, "data", setting, version, "1.0")
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("mdace: %w", err)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("mdace: no chart files in %s", dir)
	}
	var charts []*Chart
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("mdace: %w", err)
		}
		c, err := ReadChart(f, name)
		f.Close()
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	slices.SortFunc(charts, func(a, b *Chart) int { return a.HadmID - b.HadmID })
	return charts, nil
}

// Splits maps the split names the harness accepts to MDACE's file names;
// "dev" is MDACE's "val".
var Splits = map[string]string{"train": "train", "dev": "val", "val": "val", "test": "test"}

// SplitFile returns the path of a split's list of admission IDs. codeEv
// selects the code+evidence lists (MDace-code-ev-*), otherwise the evidence
// lists (MDace-ev-*).
func SplitFile(root, setting, split string, codeEv bool) (string, error) {
	s, ok := Splits[split]
	if !ok {
		return "", fmt.Errorf("mdace: unknown split %q (want train, dev or test)", split)
	}
	kind := "MDace-ev-"
	if codeEv {
		kind = "MDace-code-ev-"
	}
	return filepath.Join(root, "splits", setting, kind+s+".csv"), nil
}

// ReadSplit reads a split file: one admission ID per line, with an
// optional header line.
func ReadSplit(r io.Reader, name string) ([]int, error) {
	var ids []int
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		id, err := strconv.Atoi(line)
		if err != nil {
			if n == 1 {
				continue // header
			}
			return nil, fmt.Errorf("read MDACE split %s: line %d: %w", name, n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read MDACE split %s: %w", name, err)
	}
	return ids, nil
}

// ReadNotes reads a MIMIC-III NOTEEVENTS CSV file and returns the TEXT of
// the notes whose ROW_ID is in want. The file's header names the columns.
// It reads the whole file (several gigabytes) but keeps only wanted notes,
// and stops early once it has them all.
func ReadNotes(ctx context.Context, r io.Reader, name string, want map[int]bool) (map[int]string, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read notes %s: header: %w", name, err)
	}
	idCol, textCol := -1, -1
	for i, h := range header {
		switch strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "ROW_ID":
			idCol = i
		case "TEXT":
			textCol = i
		}
	}
	if idCol < 0 || textCol < 0 {
		return nil, fmt.Errorf("read notes %s: header has no ROW_ID and TEXT columns: %q", name, header)
	}
	notes := make(map[int]string, len(want))
	for n := 0; len(notes) < len(want); n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("read notes %s: %w", name, err)
			}
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read notes %s: %w", name, err)
		}
		if idCol >= len(rec) || textCol >= len(rec) {
			line, _ := cr.FieldPos(0)
			return nil, fmt.Errorf("read notes %s: line %d: %d fields", name, line, len(rec))
		}
		id, err := strconv.Atoi(strings.TrimSpace(rec[idCol]))
		if err != nil {
			line, _ := cr.FieldPos(idCol)
			return nil, fmt.Errorf("read notes %s: line %d: ROW_ID: %w", name, line, err)
		}
		if want[id] {
			notes[id] = strings.Clone(rec[textCol])
		}
	}
	return notes, nil
}

// OpenNotes reads the wanted notes from the NOTEEVENTS file at path, which
// may be gzipped (NOTEEVENTS.csv.gz, as PhysioNet distributes it).
func OpenNotes(ctx context.Context, path string, want map[int]bool) (map[int]string, error) {
	r, err := eval.Open(path)
	if err != nil {
		return nil, fmt.Errorf("mdace: notes: %w", err)
	}
	defer r.Close()
	return ReadNotes(ctx, r, path, want)
}

// NoteSeparator joins the notes of a chart into one document.
const NoteSeparator = "\n\n"

// DocOptions control how charts become documents.
type DocOptions struct {
	// Categories keeps only notes of these categories ("Discharge
	// summary", "Radiology", ...); nil keeps all.
	Categories []string
}

// systemOf maps MDACE's code_system values to medcode's systems.
func systemOf(s string) codesys.System {
	if sys, err := codesys.ParseSystem(s); err == nil {
		return sys
	}
	return codesys.System(strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(s)))
}

// Documents turns charts into documents, one per chart, using the note
// texts from notes (keyed by note ID). A missing note, or an annotation
// outside its note, is an error: the notes file does not match.
func Documents(charts []*Chart, notes map[int]string, opt DocOptions) ([]eval.Document, error) {
	var docs []eval.Document
	for _, c := range charts {
		d := eval.Document{ID: strconv.Itoa(c.HadmID), Language: "en"}
		var text strings.Builder
		at := make(map[[2]string]int)
		for _, n := range c.Notes {
			if opt.Categories != nil && !slices.Contains(opt.Categories, n.Category) {
				continue
			}
			body, ok := notes[n.NoteID]
			if !ok && n.Text != "" {
				body, ok = n.Text, true
			}
			if !ok {
				return nil, fmt.Errorf("mdace: chart %d: note %d is not in the notes file", c.HadmID, n.NoteID)
			}
			if text.Len() > 0 {
				text.WriteString(NoteSeparator)
			}
			base := text.Len()
			text.WriteString(body)
			off := eval.NewOffsets(body)
			for _, a := range n.Annotations {
				sp, ok := off.ByteSpan(a.Begin, a.End)
				if !ok {
					return nil, fmt.Errorf("mdace: chart %d: note %d: annotation %s %d-%d is outside the note (%d characters)", c.HadmID, n.NoteID, a.Code, a.Begin, a.End, off.Chars())
				}
				sys := systemOf(a.CodeSystem)
				code := eval.CanonCode(sys, a.Code)
				k := [2]string{string(sys), code}
				i, seen := at[k]
				if !seen {
					i = len(d.Gold)
					at[k] = i
					d.Gold = append(d.Gold, eval.GoldCode{Code: code, System: sys})
				}
				d.Gold[i].Evidence = append(d.Gold[i].Evidence, eval.Mention{{Start: base + sp.Start, End: base + sp.End}})
			}
		}
		d.Text = text.String()
		docs = append(docs, d)
	}
	return docs, nil
}

// Options select what Load reads.
type Options struct {
	// Setting is "Inpatient" (default) or "Profee".
	Setting string
	// Version is the code version folder, "ICD-10" (default) or "ICD-9".
	Version string
	// Split is "train", "dev" (MDACE's val) or "test"; empty loads every
	// chart.
	Split string
	// CodeEv selects the code+evidence split lists instead of the
	// evidence ones.
	CodeEv bool
	DocOptions
}

// Load reads the MDACE annotations under root, selects the charts of the
// split, reads their notes from the NOTEEVENTS file at notesPath and
// returns one document per chart. With notesPath empty the chart files must
// carry the note texts themselves.
func Load(ctx context.Context, root, notesPath string, opt Options) ([]eval.Document, error) {
	setting, version := cmp.Or(opt.Setting, "Inpatient"), cmp.Or(opt.Version, "ICD-10")
	charts, err := LoadCharts(root, setting, version)
	if err != nil {
		return nil, err
	}
	if opt.Split != "" {
		path, err := SplitFile(root, setting, opt.Split, opt.CodeEv)
		if err != nil {
			return nil, err
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("mdace: %w", err)
		}
		ids, err := ReadSplit(f, path)
		f.Close()
		if err != nil {
			return nil, err
		}
		charts = slices.DeleteFunc(charts, func(c *Chart) bool { return !slices.Contains(ids, c.HadmID) })
	}
	want := make(map[int]bool)
	for _, c := range charts {
		for _, n := range c.Notes {
			if opt.Categories == nil || slices.Contains(opt.Categories, n.Category) {
				want[n.NoteID] = true
			}
		}
	}
	var notes map[int]string
	if notesPath != "" {
		if notes, err = OpenNotes(ctx, notesPath, want); err != nil {
			return nil, err
		}
	}
	return Documents(charts, notes, opt.DocOptions)
}
