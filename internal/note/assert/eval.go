package assert

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/medcode-dev/medcode/internal/note"
	"github.com/medcode-dev/medcode/internal/textnorm"
)

// ClassScore is the precision, recall and F1 of one class of a property.
type ClassScore struct {
	Class     string
	Support   int // rows whose gold label is Class
	Predicted int // rows predicted as Class
	Correct   int // rows both gold and predicted as Class
	Precision float64
	Recall    float64
	F1        float64
}

// PropertyScore is the evaluation of one property (negation, temporality or
// experiencer) over all rows.
type PropertyScore struct {
	Name     string
	Classes  []ClassScore
	Correct  int
	Total    int
	Accuracy float64
}

// Report is the result of evaluating the classifier on an annotated set.
type Report struct {
	Rows int
	// TargetNotFound counts rows whose target phrase could not be located
	// in the sentence; they are classified with the whole sentence as
	// target.
	TargetNotFound int
	// PossiblePredicted counts rows classified as possible; the negation
	// score counts them as affirmed, because the annotated set has only
	// negated and affirmed (uncertain mentions are annotated affirmed).
	PossiblePredicted int
	Negation          PropertyScore
	Temporality       PropertyScore
	Experiencer       PropertyScore
}

// EvaluateFile runs EvaluateTSV on the file at path.
func EvaluateFile(ctx context.Context, c *Classifier, path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evaluate assertions: %w", err)
	}
	defer f.Close()
	rep, err := EvaluateTSV(ctx, c, f)
	if err != nil {
		return nil, fmt.Errorf("evaluate assertions %s: %w", path, err)
	}
	return rep, nil
}

// EvaluateTSV classifies every row of an assertion annotation set in the
// NegEx/ConText test-set layout (a header line, then tab-separated: row
// number, target phrase, sentence, negation, temporality, experiencer) and
// scores the result per class. Each sentence is parsed as a note of its
// own, the target is located in it, and the classifier decides.
func EvaluateTSV(ctx context.Context, c *Classifier, r io.Reader) (*Report, error) {
	p := note.NewParser()
	neg := newTally("negation", "affirmed", "negated")
	tmp := newTally("temporality", "recent", "historical", "hypothetical")
	exp := newTally("experiencer", "patient", "family", "other")
	rep := &Report{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			continue // header
		}
		if line%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		f := strings.Split(text, "\t")
		if len(f) < 6 {
			return nil, fmt.Errorf("line %d: want 6 tab-separated fields, got %d", line, len(f))
		}
		gNeg, err1 := goldLabel(f[3], map[string]string{"affirmed": "affirmed", "negated": "negated", "possible": "affirmed"})
		gTmp, err2 := goldLabel(f[4], map[string]string{"recent": "recent", "historical": "historical", "hypothetical": "hypothetical", "not particular": "hypothetical"})
		gExp, err3 := goldLabel(f[5], map[string]string{"patient": "patient", "family member": "family", "family": "family", "other": "other"})
		for _, err := range []error{err1, err2, err3} {
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
		}
		n, err := p.Parse(f[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		target, found := locateTarget(n, f[1])
		if !found {
			rep.TargetNotFound++
		}
		a := c.Classify(n, target)
		pNeg := "affirmed"
		switch a.Negation {
		case Negated:
			pNeg = "negated"
		case Possible:
			rep.PossiblePredicted++
		}
		neg.add(gNeg, pNeg)
		tmp.add(gTmp, a.Temporality.String())
		exp.add(gExp, a.Experiencer.String())
		rep.Rows++
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	rep.Negation, rep.Temporality, rep.Experiencer = neg.score(), tmp.score(), exp.score()
	return rep, nil
}

func goldLabel(s string, m map[string]string) (string, error) {
	if v, ok := m[strings.ToLower(strings.TrimSpace(s))]; ok {
		return v, nil
	}
	return "", fmt.Errorf("unknown label %q", s)
}

// locateTarget finds the target phrase in the one-sentence note: first as
// the same words in order (ignoring case, spacing and punctuation), then as
// the run of upper-case words the annotators used to mark the target. When
// neither works the whole text is the target.
func locateTarget(n *note.Note, target string) (note.Span, bool) {
	want := textnorm.Words(target)
	toks := make([]note.Token, 0, len(n.Tokens))
	for _, t := range n.Tokens {
		if t.Kind != note.Punct {
			toks = append(toks, t)
		}
	}
	if len(want) > 0 {
	next:
		for i := 0; i+len(want) <= len(toks); i++ {
			for j, w := range want {
				if toks[i+j].Norm != w.Norm {
					continue next
				}
			}
			return n.Text.Span(toks[i].Start, toks[i+len(want)-1].End), true
		}
	}
	// the longest run of upper-case words of two letters or more
	src := n.Text.String()
	bestStart, bestEnd, runStart := -1, -1, -1
	for i, t := range toks {
		if isUpperWord(t.Text) {
			if runStart < 0 {
				runStart = i
			}
			if bestStart < 0 || t.End-toks[runStart].Start > bestEnd-bestStart {
				bestStart, bestEnd = toks[runStart].Start, t.End
			}
			continue
		}
		runStart = -1
	}
	if bestStart >= 0 {
		return note.Span{Start: bestStart, End: bestEnd, Text: src[bestStart:bestEnd]}, false
	}
	return n.Text.Span(n.Text.Start(), len(src)), false
}

func isUpperWord(s string) bool {
	letters := 0
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
		if unicode.IsLetter(r) {
			letters++
		}
	}
	return letters >= 2
}

type tally struct {
	name    string
	classes []string
	support map[string]int
	pred    map[string]int
	correct map[string]int
	total   int
}

func newTally(name string, classes ...string) *tally {
	return &tally{name: name, classes: classes, support: map[string]int{}, pred: map[string]int{}, correct: map[string]int{}}
}

func (t *tally) add(gold, pred string) {
	t.total++
	t.support[gold]++
	t.pred[pred]++
	if gold == pred {
		t.correct[gold]++
	}
}

func (t *tally) score() PropertyScore {
	ps := PropertyScore{Name: t.name, Total: t.total}
	for _, c := range t.classes {
		cs := ClassScore{Class: c, Support: t.support[c], Predicted: t.pred[c], Correct: t.correct[c]}
		cs.Precision = ratio(cs.Correct, cs.Predicted)
		cs.Recall = ratio(cs.Correct, cs.Support)
		if cs.Precision+cs.Recall > 0 {
			cs.F1 = 2 * cs.Precision * cs.Recall / (cs.Precision + cs.Recall)
		}
		ps.Classes = append(ps.Classes, cs)
		ps.Correct += cs.Correct
	}
	ps.Accuracy = ratio(ps.Correct, ps.Total)
	return ps
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Class returns the score of the named class, or the zero value.
func (p PropertyScore) Class(name string) ClassScore {
	for _, c := range p.Classes {
		if c.Class == name {
			return c
		}
	}
	return ClassScore{}
}

// WriteText writes the report as aligned text tables.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "rows\t%d\t\n", r.Rows)
	fmt.Fprintf(tw, "target not found\t%d\t\n", r.TargetNotFound)
	fmt.Fprintf(tw, "predicted possible (scored as affirmed)\t%d\t\n", r.PossiblePredicted)
	for _, p := range []PropertyScore{r.Negation, r.Temporality, r.Experiencer} {
		fmt.Fprintf(tw, "\t\t\t\t\t\t\t\n%s\tgold\tpredicted\tcorrect\tprecision\trecall\tF1\t\n", p.Name)
		for _, c := range p.Classes {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.Class, c.Support, c.Predicted, c.Correct, c.Precision, c.Recall, c.F1)
		}
		fmt.Fprintf(tw, "accuracy\t%d/%d\t\t\t%.3f\t\t\t\n", p.Correct, p.Total, p.Accuracy)
	}
	return tw.Flush()
}
