package pcs

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/eval/codiesp"
	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/note/assert"
	"github.com/medcode-dev/medcode/internal/shareddata"
)

const codiespDir = "eval/codiesp/final_dataset_v4_to_publish"

// codiespScore is a micro-averaged score over documents.
type codiespScore struct {
	tp, fp, fn int
}

func (s codiespScore) String() string {
	p := float64(s.tp) / max(1, float64(s.tp+s.fp))
	r := float64(s.tp) / max(1, float64(s.tp+s.fn))
	f := 0.0
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return fmt.Sprintf("P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d)", p, r, f, s.tp, s.fp, s.fn)
}

func (s codiespScore) f1() float64 {
	if s.tp == 0 {
		return 0
	}
	p := float64(s.tp) / float64(s.tp+s.fp)
	r := float64(s.tp) / float64(s.tp+s.fn)
	return 2 * p * r / (p + r)
}

func (s *codiespScore) add(pred, gold []string) {
	for _, p := range pred {
		if slices.Contains(gold, p) {
			s.tp++
		} else {
			s.fp++
		}
	}
	for _, g := range gold {
		if !slices.Contains(pred, g) {
			s.fn++
		}
	}
}

// readCodiespP reads the CodiEsp-P gold of a split: document → codes,
// upper case.
func readCodiespP(t testing.TB, split string) map[string][]string {
	path := shareddata.Path(t, filepath.Join(codiespDir, split, split+"P.tsv"))
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gold := make(map[string][]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		id, code, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		code = strings.ToUpper(strings.TrimSpace(code))
		if !slices.Contains(gold[id], code) {
			gold[id] = append(gold[id], code)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return gold
}

// codiespPredictions returns a document's codes as CodiEsp annotators
// wrote them: the complete codes, and with them the incomplete codes in
// CodiEsp's form (their first four characters, codiesp.Form).
func codiespPredictions(r *Result) (full, withPartial []string) {
	for _, c := range r.Codes {
		code := codiesp.Form(codesys.ICD10PCS, c.Code)
		if !c.Incomplete {
			full = append(full, code)
		}
		if !slices.Contains(withPartial, code) {
			withPartial = append(withPartial, code)
		}
	}
	return full, withPartial
}

type codiespReport struct {
	docs               int
	full, partial      codiespScore
	fullHist, partHist codiespScore
	fpCount, fnCount   map[string]int
}

// runCodiesp codes the English text of every document of split with the
// FY2025 release and scores against the CodiEsp-P gold.
func runCodiesp(t testing.TB, split string) codiespReport {
	gold := readCodiespP(t, split)
	dir := shareddata.Path(t, filepath.Join(codiespDir, split, "text_files_en"))
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := New(release(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := New(release(t), Options{Historical: true})
	if err != nil {
		t.Fatal(err)
	}
	p := note.NewParser()
	cls := assert.New()
	rep := codiespReport{fpCount: map[string]int{}, fnCount: map[string]int{}}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n, err := p.Parse(string(src))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		an := cls.Analyze(n)
		rep.docs++
		g := gold[id]
		r, err := cur.Code(context.Background(), n, an)
		if err != nil {
			t.Fatal(err)
		}
		full, part := codiespPredictions(r)
		rep.full.add(full, g)
		rep.partial.add(part, g)
		rh, err := hist.Code(context.Background(), n, an)
		if err != nil {
			t.Fatal(err)
		}
		fullH, partH := codiespPredictions(rh)
		rep.fullHist.add(fullH, g)
		rep.partHist.add(partH, g)
		for _, c := range partH {
			if !slices.Contains(g, c) {
				rep.fpCount[c]++
				if debugCode := os.Getenv("CODIESP_DEBUG"); debugCode != "" && strings.HasPrefix(c, debugCode) {
					for _, cd := range rh.Codes {
						if codiesp.Form(codesys.ICD10PCS, cd.Code) == c {
							t.Logf("FP %s %s: %q", id, c, cd.Evidence[0].Text)
						}
					}
				}
			}
		}
		for _, c := range g {
			if !slices.Contains(partH, c) {
				rep.fnCount[c]++
				if debugCode := os.Getenv("CODIESP_DEBUG"); debugCode != "" && strings.HasPrefix(c, debugCode) {
					t.Logf("FN %s %s; predicted %v", id, c, partH)
				}
			}
		}
	}
	return rep
}

func top(m map[string]int, n int) string {
	type kv struct {
		k string
		v int
	}
	var kvs []kv
	for k, v := range m {
		kvs = append(kvs, kv{k, v})
	}
	sort.Slice(kvs, func(i, j int) bool { return kvs[i].v > kvs[j].v || kvs[i].v == kvs[j].v && kvs[i].k < kvs[j].k })
	var b strings.Builder
	for i, x := range kvs {
		if i == n {
			break
		}
		fmt.Fprintf(&b, "%s:%d ", x.k, x.v)
	}
	return b.String()
}

// TestCodiEspDevProcedures codes CodiEsp dev (English translation) and
// reports micro P/R/F1 against the CodiEsp-P gold; the floor guards
// against regressions and sits below the score measured when the term
// table was written (error analysis on train; dev only measured). CODIESP_SPLIT=train runs the
// train split instead, for error analysis.
func TestCodiEspDevProcedures(t *testing.T) {
	split := "dev"
	if s := os.Getenv("CODIESP_SPLIT"); s != "" {
		split = s
	}
	rep := runCodiesp(t, split)
	t.Logf("CodiEsp-P %s, %d documents, FY2025 tables and index", split, rep.docs)
	t.Logf("encounter procedures, complete codes only:          %v", rep.full)
	t.Logf("encounter procedures, with incomplete codes:         %v", rep.partial)
	t.Logf("with historical, complete codes only:               %v", rep.fullHist)
	t.Logf("with historical, with incomplete codes:             %v", rep.partHist)
	t.Logf("top false positives: %s", top(rep.fpCount, 40))
	t.Logf("top false negatives: %s", top(rep.fnCount, 40))
	if split == "dev" && rep.partial.f1() < 0.37 {
		t.Errorf("F1 %.3f below the floor 0.37 (measured 0.399)", rep.partial.f1())
	}
}
