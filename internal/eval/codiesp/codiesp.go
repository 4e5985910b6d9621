// Package codiesp loads the CodiEsp corpus (CLEF eHealth 2020, clinical
// case coding in Spanish) for the evaluation harness: the case reports in
// Spanish or in the organisers' English machine translation, with the gold
// ICD-10-CM diagnosis codes (CodiEsp-D), ICD-10-PCS procedure codes
// (CodiEsp-P) and evidence references (CodiEsp-X).
//
// The X references are Unicode character offsets into the Spanish text;
// the loader converts them to byte offsets. They do not apply to the
// English translation, whose documents carry codes without evidence.
package codiesp

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/eval"
)

// Languages of the corpus texts.
const (
	Spanish = "es" // the original case reports
	English = "en" // the organisers' machine translation
)

// Splits are the corpus splits as released.
var Splits = []string{"train", "dev", "test"}

// Load reads one split of the corpus from dir, the folder that holds the
// split folders (final_dataset_v4_to_publish), with the texts in lang.
// Documents come in the order of their identifiers.
func Load(dir, split, lang string) ([]eval.Document, error) {
	if !slices.Contains(Splits, split) {
		return nil, fmt.Errorf("codiesp: unknown split %q (want one of %s)", split, strings.Join(Splits, ", "))
	}
	textDir := "text_files"
	switch lang {
	case Spanish:
	case English:
		textDir = "text_files_en"
	default:
		return nil, fmt.Errorf("codiesp: unknown language %q (want %s or %s)", lang, Spanish, English)
	}
	base := filepath.Join(dir, split)
	var rows []Row
	for _, f := range []struct {
		suffix string
		sys    codesys.System
	}{{"D", codesys.ICD10CM}, {"P", codesys.ICD10PCS}} {
		name := filepath.Join(base, split+f.suffix+".tsv")
		r, err := readFile(name, func(r io.Reader) ([]Row, error) { return ReadCodes(r, name, f.sys) })
		if err != nil {
			return nil, err
		}
		rows = append(rows, r...)
	}
	xname := filepath.Join(base, split+"X.tsv")
	xrows, err := readFile(xname, func(r io.Reader) ([]Row, error) { return ReadX(r, xname) })
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(base, textDir))
	if err != nil {
		return nil, fmt.Errorf("codiesp: %w", err)
	}
	var docs []eval.Document
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(base, textDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("codiesp: %w", err)
		}
		docs = append(docs, eval.Document{ID: id, Text: string(b), Language: lang})
	}
	slices.SortFunc(docs, func(a, b eval.Document) int { return strings.Compare(a.ID, b.ID) })
	index := make(map[string]int, len(docs))
	for i, d := range docs {
		index[d.ID] = i
	}
	if err := attach(docs, index, rows, xrows, lang == Spanish); err != nil {
		return nil, fmt.Errorf("codiesp %s: %w", base, err)
	}
	return docs, nil
}

func readFile(name string, read func(io.Reader) ([]Row, error)) ([]Row, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("codiesp: %w", err)
	}
	defer f.Close()
	return read(f)
}

// attach adds the gold codes to the documents, and the X references as
// evidence when withSpans is set.
func attach(docs []eval.Document, index map[string]int, rows, xrows []Row, withSpans bool) error {
	type k struct {
		doc  int
		sys  codesys.System
		code string
	}
	at := make(map[k]int) // position in docs[doc].Gold
	add := func(r Row) (*eval.GoldCode, error) {
		i, ok := index[r.Doc]
		if !ok {
			return nil, fmt.Errorf("%s: line %d: document %s has no text file", r.File, r.Line, r.Doc)
		}
		key := k{i, r.System, eval.CanonCode(r.System, r.Code)}
		j, ok := at[key]
		if !ok {
			j = len(docs[i].Gold)
			at[key] = j
			docs[i].Gold = append(docs[i].Gold, eval.GoldCode{Code: key.code, System: r.System})
		}
		return &docs[i].Gold[j], nil
	}
	for _, r := range rows {
		if _, err := add(r); err != nil {
			return err
		}
	}
	offsets := make(map[int]*eval.Offsets)
	for _, r := range xrows {
		g, err := add(r)
		if err != nil {
			return err
		}
		if !withSpans {
			continue
		}
		i := index[r.Doc]
		o := offsets[i]
		if o == nil {
			o = eval.NewOffsets(docs[i].Text)
			offsets[i] = o
		}
		var m eval.Mention
		for _, p := range r.Positions {
			s, ok := o.ByteSpan(p[0], p[1])
			if !ok {
				return fmt.Errorf("%s: line %d: position %d %d is outside document %s (%d characters)", r.File, r.Line, p[0], p[1], r.Doc, o.Chars())
			}
			m = append(m, s)
		}
		if !slices.ContainsFunc(g.Evidence, func(e eval.Mention) bool { return slices.Equal(e, m) }) {
			g.Evidence = append(g.Evidence, m)
		}
	}
	return nil
}

// Row is one line of a CodiEsp gold file.
type Row struct {
	File   string
	Line   int
	Doc    string
	System codesys.System
	Code   string
	// Reference and Positions are set for X rows: the evidence text and
	// its character spans, in the order given (a discontinuous reference
	// has several).
	Reference string
	Positions [][2]int
}

// ReadCodes reads a CodiEsp-D or -P file: lines of articleID, tab, code.
func ReadCodes(r io.Reader, name string, sys codesys.System) ([]Row, error) {
	var rows []Row
	err := eachLine(r, name, func(n int, fields []string) error {
		if len(fields) != 2 {
			return fmt.Errorf("%s: line %d: want 2 tab-separated fields, got %d", name, n, len(fields))
		}
		if fields[0] == "" || strings.TrimSpace(fields[1]) == "" {
			return fmt.Errorf("%s: line %d: empty article ID or code", name, n)
		}
		rows = append(rows, Row{File: name, Line: n, Doc: fields[0], System: sys, Code: strings.TrimSpace(fields[1])})
		return nil
	})
	return rows, err
}

// ReadX reads a CodiEsp-X file: lines of articleID, label (DIAGNOSTICO or
// PROCEDIMIENTO), code, reference text and reference position.
func ReadX(r io.Reader, name string) ([]Row, error) {
	var rows []Row
	err := eachLine(r, name, func(n int, fields []string) error {
		if len(fields) != 5 {
			return fmt.Errorf("%s: line %d: want 5 tab-separated fields, got %d", name, n, len(fields))
		}
		var sys codesys.System
		switch fields[1] {
		case "DIAGNOSTICO":
			sys = codesys.ICD10CM
		case "PROCEDIMIENTO":
			sys = codesys.ICD10PCS
		default:
			return fmt.Errorf("%s: line %d: unknown label %q", name, n, fields[1])
		}
		pos, err := ParsePositions(fields[4])
		if err != nil {
			return fmt.Errorf("%s: line %d: %w", name, n, err)
		}
		if fields[0] == "" || strings.TrimSpace(fields[2]) == "" {
			return fmt.Errorf("%s: line %d: empty article ID or code", name, n)
		}
		rows = append(rows, Row{File: name, Line: n, Doc: fields[0], System: sys,
			Code: strings.TrimSpace(fields[2]), Reference: fields[3], Positions: pos})
		return nil
	})
	return rows, err
}

// ParsePositions parses a CodiEsp-X reference position: "start end", or
// several such pairs joined by ";" for discontinuous evidence. Offsets are
// characters, end exclusive. The gold files have a few empty pairs
// ("1446 1446") inside discontinuous references; they are dropped.
func ParsePositions(s string) ([][2]int, error) {
	var out [][2]int
	for part := range strings.SplitSeq(s, ";") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return nil, fmt.Errorf("reference position %q: want \"start end\" pairs separated by ';'", s)
		}
		a, err1 := strconv.Atoi(f[0])
		b, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil || a < 0 || b < a {
			return nil, fmt.Errorf("reference position %q: want 0 <= start <= end", s)
		}
		if a < b {
			out = append(out, [2]int{a, b})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reference position %q: all spans are empty", s)
	}
	return out, nil
}

func eachLine(r io.Reader, name string, fn func(n int, fields []string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := fn(n, strings.Split(line, "\t")); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// Scope is the scope CodiEsp's gold was annotated in: its annotators coded
// every mention of a condition, also those the text says are absent
// ("HIV serology negative" as B20), symptoms of a diagnosed disease and
// unspecified codes beside specific ones.
const Scope = coding.Mentions

// FormName names Form in reports.
const FormName = "codiesp: no 7th character; incomplete PCS codes as 4 characters"

// Form rewrites a canonical ICD-10-CM code into the form CodiEsp's gold
// writes it in. The CodiEsp annotators coded injuries and external causes
// without their 7th character (episode of care), and wrote the placeholder
// X only sometimes ("t14.90", "t81.31x", "w19.xxx" for what a release-aware
// coder reports as T14.90XA, T81.31XA, W19.XXXA). For codes of chapters 19
// and 20 (S00-Y99), Form drops a 7th character and then any trailing
// placeholder X, so that both sides compare at the detail the gold has.
// Other ICD-10-CM codes are returned as they are.
//
// CodiEsp writes an ICD-10-PCS code the documentation does not complete
// as its first four characters (section, body system, root operation,
// body part): every partial code of the train and dev gold has exactly
// four. Form cuts an incomplete ICD-10-PCS code of five or six characters
// (a coder's determined prefix, e.g. "0DTJ0" when the device is not
// documented) to those four; complete codes and shorter prefixes are
// returned as they are.
func Form(sys codesys.System, code string) string {
	if sys == codesys.ICD10PCS {
		if len(code) > PCSPartialLen && len(code) < 7 {
			return code[:PCSPartialLen]
		}
		return code
	}
	if sys != codesys.ICD10CM || !OmitsSeventh(code) {
		return code
	}
	bare := strings.ReplaceAll(code, ".", "")
	if len(bare) == 7 {
		bare = bare[:6]
	}
	bare = strings.TrimRight(bare, "X")
	if len(bare) <= 3 {
		return bare
	}
	return bare[:3] + "." + bare[3:]
}

// PCSPartialLen is the length of the partial ICD-10-PCS codes CodiEsp
// annotates where the documentation does not support a complete code.
const PCSPartialLen = 4

// OmitsSeventh reports whether CodiEsp writes an ICD-10-CM code without
// its 7th character: the codes of chapters 19 and 20 (S00-Y99).
func OmitsSeventh(code string) bool {
	return code != "" && strings.ContainsRune("STVWXY", rune(code[0]))
}
