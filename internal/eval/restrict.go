package eval

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// RestrictGold is the Restriction.Source of a run restricted to the gold
// codes of its own documents.
const RestrictGold = "gold"

// LabelSpace is the set of codes a restricted run scores predictions from.
// Published results on ACI-Bench and MDACE use a "restricted code system":
// a model chooses only among the codes of a label space (often the codes
// that occur in the dataset's gold), so predictions outside it are dropped
// before scoring. Run applies a LabelSpace given in Options.Restrict.
type LabelSpace struct {
	source   string
	fromGold bool
	codes    map[key]bool
}

// GoldSpace returns the label space of the scored documents' own gold
// codes: the union over every document of the run, filled in by Run.
func GoldSpace() *LabelSpace { return &LabelSpace{source: RestrictGold, fromGold: true} }

// Source names where the label space comes from: RestrictGold or a file.
func (s *LabelSpace) Source() string { return s.source }

// Len returns the number of codes in the space (0 for GoldSpace before Run
// fills it).
func (s *LabelSpace) Len() int { return len(s.codes) }

// Contains reports whether code of system sys is in the space; code may be
// in any form CanonCode accepts.
func (s *LabelSpace) Contains(sys codesys.System, code string) bool {
	return s.codes[key{sys, CanonCode(sys, code)}]
}

// maxLineErrors bounds how many bad lines ReadLabelSpace reports.
const maxLineErrors = 20

// ReadLabelSpace reads a label space: one code per line, optionally after
// its system ("icd10pcs 0DTJ4ZZ", "cpt 99213"); '#' starts a comment, blank
// lines are skipped. A code without a system is ICD-10-CM when it has that
// shape, else ICD-10-PCS when it has that shape (3 to 7 letters and digits
// without I or O: complete or partial codes); anything else is an error.
// Every bad line is reported as name:line. name is used in errors and as
// the space's Source.
func ReadLabelSpace(r io.Reader, name string) (*LabelSpace, error) {
	s := &LabelSpace{source: name, codes: map[key]bool{}}
	var errs []error
	bad := 0
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		k, err := parseSpaceLine(fields)
		if err != nil {
			if bad++; bad <= maxLineErrors {
				errs = append(errs, fmt.Errorf("%s:%d: %w", name, n, err))
			}
			continue
		}
		s.codes[k] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read label space %s: %w", name, err)
	}
	if bad > maxLineErrors {
		errs = append(errs, fmt.Errorf("%s: %d more bad lines", name, bad-maxLineErrors))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("read label space %s: %d bad lines:\n%w", name, bad, errors.Join(errs...))
	}
	if len(s.codes) == 0 {
		return nil, fmt.Errorf("read label space %s: no codes", name)
	}
	return s, nil
}

func parseSpaceLine(fields []string) (key, error) {
	switch len(fields) {
	case 1:
		c := fields[0]
		if _, err := codesys.ParseCode(c); err == nil {
			return key{codesys.ICD10CM, CanonCode(codesys.ICD10CM, c)}, nil
		}
		if pcsShape(c) {
			return key{codesys.ICD10PCS, CanonCode(codesys.ICD10PCS, c)}, nil
		}
		return key{}, fmt.Errorf("%q is neither an ICD-10-CM nor an ICD-10-PCS code (put the system first for other systems: \"cpt 99213\")", c)
	case 2:
		sys, err := codesys.ParseSystem(fields[0])
		if err != nil {
			sys = codesys.System(strings.ToLower(fields[0]))
			if !alnum(string(sys)) {
				return key{}, fmt.Errorf("%q is not a system name", fields[0])
			}
		}
		c := fields[1]
		switch {
		case sys == codesys.ICD10CM:
			if _, err := codesys.ParseCode(c); err != nil {
				return key{}, err
			}
		case sys == codesys.ICD10PCS:
			if !pcsShape(c) {
				return key{}, fmt.Errorf("%q is not an ICD-10-PCS code (3 to 7 letters and digits without I or O)", c)
			}
		case !alnum(strings.ReplaceAll(c, ".", "")):
			return key{}, fmt.Errorf("code %q: only letters, digits and dots", c)
		}
		return key{sys, CanonCode(sys, c)}, nil
	}
	return key{}, fmt.Errorf("%d fields, want a code or a system and a code", len(fields))
}

// pcsShape reports whether c looks like a complete or partial ICD-10-PCS
// code: 3 to 7 characters of the PCS alphabet (digits and letters but I and
// O).
func pcsShape(c string) bool {
	if len(c) < 3 || len(c) > 7 {
		return false
	}
	for _, r := range strings.ToUpper(c) {
		if !('0' <= r && r <= '9' || 'A' <= r && r <= 'Z') || r == 'I' || r == 'O' {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// OpenLabelSpace reads the label space file at path.
func OpenLabelSpace(path string) (*LabelSpace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("label space: %w", err)
	}
	defer f.Close()
	return ReadLabelSpace(f, path)
}

// Restriction records in the run file how a restricted run was restricted.
type Restriction struct {
	// Source is RestrictGold or the label space file.
	Source string `json:"source"`
	// Codes is the number of codes of the scored systems in the space.
	Codes int `json:"codes"`
	// Predicted counts the distinct (document, code) predictions of the
	// scored systems before the restriction; Dropped how many of them
	// were outside the space. Predictions of systems not scored are kept.
	Predicted int `json:"predicted"`
	Dropped   int `json:"dropped"`
}

// restrictor applies a label space to one run's predictions.
type restrictor struct {
	space *LabelSpace
	sel   []codesys.System
	info  Restriction
}

// newRestrictor prepares s for the documents of a run scored in systems
// (nil: the gold's), with codes compared in form (nil: canonical): the
// space's codes are rewritten by form as the gold and predictions are.
func newRestrictor(s *LabelSpace, docs []Document, systems []codesys.System, form FormFunc) *restrictor {
	sel := systems
	if len(sel) == 0 {
		drs := make([]DocResult, len(docs))
		for i, d := range docs {
			drs[i].Gold = d.Gold
		}
		sel = goldSystems(drs)
	}
	codes := map[key]bool{}
	if s.fromGold {
		for _, d := range docs {
			gold := d.Gold
			if form != nil {
				gold = applyForm(form, gold)
			}
			for _, k := range goldKeys(gold, sel) {
				codes[k] = true
			}
		}
	} else {
		for k := range s.codes {
			if form != nil {
				k.code = form(k.sys, k.code)
			}
			codes[k] = true
		}
	}
	r := &restrictor{space: &LabelSpace{source: s.source, codes: codes}, sel: sel, info: Restriction{Source: s.source}}
	for k := range codes {
		if slices.Contains(sel, k.sys) {
			r.info.Codes++
		}
	}
	return r
}

// apply splits preds into those kept and those outside the space, keeping
// the coder's order, and counts them.
func (r *restrictor) apply(preds []Prediction) (kept, dropped []Prediction) {
	for _, p := range preds {
		sys := cmp.Or(p.ScoredSystem, p.System)
		if sys == "" {
			sys = GuessSystem(p.Code)
		}
		if slices.Contains(r.sel, sys) && !r.space.Contains(sys, p.scoredCode()) {
			dropped = append(dropped, p)
			continue
		}
		kept = append(kept, p)
	}
	before, after := len(predKeys(preds, r.sel)), len(predKeys(kept, r.sel))
	r.info.Predicted += before
	r.info.Dropped += before - after
	return kept, dropped
}

// Exclusion records units of a dataset its loader could not turn into
// scored documents, and why, so that a report never leaves them out
// silently.
type Exclusion struct {
	Reason string   `json:"reason"`
	Count  int      `json:"count"`
	IDs    []string `json:"ids,omitempty"`
}

// NewExclusion returns the exclusion of ids for reason.
func NewExclusion(reason string, ids []string) Exclusion {
	return Exclusion{Reason: reason, Count: len(ids), IDs: ids}
}

// maxListedIDs bounds the IDs the text and Markdown reports list per
// exclusion; the run file has them all.
const maxListedIDs = 20

func exclusionLine(e Exclusion) string {
	ids := e.IDs
	more := ""
	if len(ids) > maxListedIDs {
		more = fmt.Sprintf(" and %d more", len(ids)-maxListedIDs)
		ids = ids[:maxListedIDs]
	}
	s := fmt.Sprintf("excluded: %d %s", e.Count, e.Reason)
	if len(ids) > 0 {
		s += ": " + strings.Join(ids, " ") + more
	}
	return s
}

func restrictionLine(r *Restriction) string {
	what := "the gold codes of the scored documents"
	if r.Source != RestrictGold {
		what = "the label space in " + r.Source
	}
	return fmt.Sprintf("restricted to %s (%d codes): %d of %d predicted codes were outside it and dropped before scoring",
		what, r.Codes, r.Dropped, r.Predicted)
}

// runLines describes how the run was made beyond dataset and split: the
// setting, the text coded, the restriction and what the loader excluded.
func (r *Report) runLines() []string {
	var out []string
	if failed := r.FailedDocuments(); len(failed) > 0 {
		var ids []string
		for i, d := range failed {
			if i == 5 {
				ids = append(ids, fmt.Sprintf("and %d more", len(failed)-5))
				break
			}
			ids = append(ids, d.ID+" ("+strings.Join(d.Reasons, "; ")+")")
		}
		out = append(out, fmt.Sprintf("FAILED: %d of %d documents could not be coded and are not scored: %s", len(failed), len(r.Documents), strings.Join(ids, ", ")))
	}
	if m := r.Meta; m.Setting != "" || m.Text != "" {
		var parts []string
		if m.Setting != "" {
			parts = append(parts, "setting "+m.Setting)
		}
		if m.Text != "" {
			parts = append(parts, "text coded: "+m.Text)
		}
		out = append(out, strings.Join(parts, ", "))
	}
	if r.Meta.Restriction != nil {
		out = append(out, restrictionLine(r.Meta.Restriction))
	}
	for _, e := range r.Meta.Excluded {
		out = append(out, exclusionLine(e))
	}
	if c := r.Meta.Calibration; c != "" {
		out = append(out, "scores calibrated with "+c)
	}
	if m := r.Meta.MinScore; m > 0 {
		out = append(out, fmt.Sprintf("codes scored below %g dropped (--min-score)", m))
	}
	return out
}

// writeUnrestricted writes the scores of a restricted run without its
// restriction, beside the restricted ones.
func writeUnrestricted(b *strings.Builder, ss []Scores) {
	if len(ss) == 0 {
		return
	}
	b.WriteString("\n## Without the restriction\n\nEvery prediction scored, as if the run were not restricted.\n\n")
	b.WriteString("| system | gold | predicted | micro-P | micro-R | micro-F1 | 95% CI | macro-F1 | MAP |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range ss {
		fmt.Fprintf(b, "| %s | %d | %d | %.4f | %.4f | %.4f | %s | %.4f | %.4f |\n", s.System, s.GoldCodes, s.PredictedCodes,
			s.Micro.Precision, s.Micro.Recall, s.Micro.F1, ci(s.CI, MetricMicroF1), s.Macro.F1, s.MAP)
	}
}

// restrictionSource names a run's label space, or is empty when the run is
// not restricted.
func restrictionSource(m Meta) string {
	if m.Restriction == nil {
		return ""
	}
	return m.Restriction.Source
}

// FailedDocuments returns the documents the coder could not code.
func (r *Report) FailedDocuments() []DocResult {
	var out []DocResult
	for _, d := range r.Documents {
		if d.Failed {
			out = append(out, d)
		}
	}
	return out
}
