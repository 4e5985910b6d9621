package eval

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/medcode-dev/medcode/internal/codesys"
)

// FormatVersion is the version of the run file format written by
// Report.WriteJSON.
const FormatVersion = 1

// DocResult is one document of a run: its gold codes, the coder's
// predictions and what they cost. It holds no document text, so that run
// files of credentialed data (MIMIC-III) can be kept and compared without
// the notes.
type DocResult struct {
	ID          string       `json:"id"`
	Gold        []GoldCode   `json:"gold"`
	Predictions []Prediction `json:"predictions"`
	Seconds     float64      `json:"seconds"`
	Usage       Usage        `json:"usage"`
	// Evidence holds the evidence-level counts per system, computed from
	// the text when the run was made.
	Evidence map[codesys.System]EvidenceCounts `json:"evidence,omitempty"`
	// ReleaseChecked lists the systems whose gold codes were checked
	// against an active release; Unknown lists the codes it lacks, in
	// canonical form.
	ReleaseChecked []codesys.System `json:"releaseChecked,omitempty"`
	Unknown        []string         `json:"unknownGold,omitempty"`
	// Dropped holds the predictions a restricted run dropped because
	// their codes are outside the label space (Meta.Restriction).
	Dropped []Prediction `json:"droppedByRestriction,omitempty"`
	// Rejected holds the codes the coder considered and rejected that are
	// gold codes it missed, each with the coder's reason: why a false
	// negative is one.
	Rejected []Prediction `json:"rejectedGold,omitempty"`
	// Failed marks a document the coder could not code, with the
	// reasons; it is not scored (Result.Failed).
	Failed  bool     `json:"failed,omitempty"`
	Reasons []string `json:"failure,omitempty"`
}

// Meta describes a run.
type Meta struct {
	Format   int    `json:"format"`
	Dataset  string `json:"dataset"`
	Split    string `json:"split"`
	Language string `json:"language,omitempty"`
	Coder    string `json:"coder"`
	// Release names the active release the gold codes were checked
	// against, if any.
	Release string `json:"release,omitempty"`
	// CodeForm names the dataset code form codes were compared in
	// (Options.FormName), if any.
	CodeForm  string           `json:"codeForm,omitempty"`
	Systems   []codesys.System `json:"systems"`
	Documents int              `json:"documents"`
	Bootstrap int              `json:"bootstrap"`
	Seed      uint64           `json:"seed"`
	Started   time.Time        `json:"started"`

	// SubdividedMatches counts the predictions scored as a gold code the
	// scoring release has subdivided since (Options.Subdivided).
	SubdividedMatches int `json:"subdividedMatches,omitempty"`
	// Setting is the encounter setting the coder was asked to code in.
	Setting string `json:"setting,omitempty"`
	// Scope is the scope of diagnoses the coder was asked to report
	// (coding.Scope); empty when reportable.
	Scope string `json:"scope,omitempty"`
	// Text names which text of each encounter was coded, for datasets
	// that have more than one (ACI-Bench: note or dialogue).
	Text string `json:"text,omitempty"`
	// Restriction, when set, says the predictions were restricted to a
	// label space before scoring, and how many were dropped.
	Restriction *Restriction `json:"restriction,omitempty"`
	// Excluded lists what the loader could not score, and why.
	Excluded []Exclusion `json:"excluded,omitempty"`
	// Calibration describes the calibration table the coder's scores were
	// mapped through, if any; MinScore is the score below which codes
	// were dropped (after calibration), if set.
	Calibration string  `json:"calibration,omitempty"`
	MinScore    float64 `json:"minScore,omitempty"`
}

// Cost is what a run cost: speed, memory and language model use.
type Cost struct {
	// Seconds is the wall time of the whole run.
	Seconds float64 `json:"seconds"`
	// NotesPerSecond is documents per second of coder time.
	NotesPerSecond float64 `json:"notesPerSecond"`
	// P50 and P95 are percentiles of the time per document, in seconds.
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	// PeakMemory is the process's peak resident set size in bytes, or,
	// where the platform does not report it, the peak of memory obtained
	// from the OS by the Go runtime.
	PeakMemory int64 `json:"peakMemory"`
	// Per-document language model use.
	CallsPerNote        float64 `json:"callsPerNote,omitempty"`
	InputTokensPerNote  float64 `json:"inputTokensPerNote,omitempty"`
	CachedTokensPerNote float64 `json:"cachedTokensPerNote,omitempty"`
	OutputTokensPerNote float64 `json:"outputTokensPerNote,omitempty"`
	// Usage is the run's total language model use, cost included.
	Usage Usage `json:"usage"`
}

// Report is a scored run: what the run file holds.
type Report struct {
	Meta      Meta        `json:"meta"`
	Scores    []Scores    `json:"scores"`
	Cost      Cost        `json:"cost"`
	Documents []DocResult `json:"documents"`

	// Unrestricted holds the scores of a restricted run without its
	// restriction, every prediction counted, for reporting both.
	Unrestricted []Scores `json:"unrestrictedScores,omitempty"`
}

// Options describe and control a run.
type Options struct {
	Dataset  string
	Split    string
	Language string
	Coder    string
	// Systems to score; nil scores every system in the gold. Predictions
	// of other systems are kept in the run file but not scored.
	Systems []codesys.System
	// Catalog, when set, is the active release the gold codes are
	// checked against; ReleaseName names it in the report.
	// ReleaseSystems lists the systems the catalog covers; nil means
	// every system.
	Catalog        Catalog
	ReleaseName    string
	ReleaseSystems []codesys.System
	// Chapters, when set, are the ICD-10-CM chapters of the active
	// release, which per-chapter scores group codes by.
	Chapters *Chapters
	// Bootstrap resamples and Seed for confidence intervals.
	Bootstrap int
	Seed      uint64
	// Progress, when set, is called after each document.
	Progress func(done, total int)
	// Subdivided, when set, reports whether a gold code is a heading of
	// the scoring release rather than a code: a code of the release the
	// dataset was annotated in that the classification has since
	// subdivided (R51 Headache, a code until FY2020, is R51.0 and R51.9
	// now). A prediction of a code below such a gold code of its document
	// is scored as that gold code, the detail the annotators could write.
	Subdivided func(sys codesys.System, code string) bool
	// Form, when set, is the form the dataset writes codes in: gold codes
	// and predictions are compared after it rewrites both (a prediction
	// keeps its Code and records the compared form in Scored).
	Form FormFunc
	// FormName names Form in the report.
	FormName string
	// Level is the level codes are compared at; LevelCategory compares
	// their categories, after Form.
	Level Level
	// ScoreAs scores the predictions of a classification as codes of
	// another, at LevelCategory: a coder coding into WHO ICD-10 scored
	// against ICD-10-CM gold, both cut to their categories.
	ScoreAs map[codesys.System]codesys.System
	// Restrict, when set, drops predictions of the scored systems whose
	// codes are outside this label space before scoring (the "restricted
	// code system" protocol); the run then also reports the scores
	// without it.
	Restrict *LabelSpace
	// Setting, Scope and Text are recorded in the run file as given.
	Setting string
	Scope   string
	Text    string
	// Excluded is what the loader left out, recorded in the run file.
	Excluded []Exclusion
	// Calibration and MinScore are recorded in the run file as given
	// (Meta.Calibration, Meta.MinScore).
	Calibration string
	MinScore    float64
}

// Run codes every document with c, scores the predictions and measures
// what it cost. Documents are coded one at a time, in order, so that times
// per document are honest and a deterministic coder gives identical
// predictions and scores on every run. A coder error stops the run.
func Run(ctx context.Context, c Coder, docs []Document, opt Options) (*Report, error) {
	rep := &Report{Meta: Meta{
		Format: FormatVersion, Dataset: opt.Dataset, Split: opt.Split,
		Language: opt.Language, Coder: opt.Coder, Release: opt.ReleaseName, CodeForm: opt.FormName,
		Systems: opt.Systems, Documents: len(docs),
		Bootstrap: opt.Bootstrap, Seed: opt.Seed, Started: time.Now().UTC(),
		Setting: opt.Setting, Scope: opt.Scope, Text: opt.Text, Excluded: opt.Excluded,
		Calibration: opt.Calibration, MinScore: opt.MinScore,
	}}
	var restrict *restrictor
	var full []DocResult // a restricted run's documents with every prediction
	form := opt.scoreForm()
	if opt.Restrict != nil {
		restrict = newRestrictor(opt.Restrict, docs, opt.Systems, form)
	}
	var peak peakMemory
	start := time.Now()
	for i, d := range docs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("eval %s: %w", opt.Dataset, err)
		}
		t0 := time.Now()
		res, err := c.Code(ctx, d)
		elapsed := time.Since(t0)
		if err != nil {
			return nil, fmt.Errorf("eval %s: code document %s: %w", opt.Dataset, d.ID, err)
		}
		if form != nil {
			d.Gold = applyForm(form, d.Gold)
			opt.setScored(form, res.Predictions)
			opt.setScored(form, res.Rejected)
		}
		if opt.Subdivided != nil {
			rep.Meta.SubdividedMatches += scoreSubdivided(opt.Subdivided, d.Gold, res.Predictions)
		}
		if err := checkSpans(d, res.Predictions); err != nil {
			return nil, fmt.Errorf("eval %s: %w", opt.Dataset, err)
		}
		peak.sample()
		dr := DocResult{
			ID: d.ID, Gold: d.Gold, Predictions: res.Predictions,
			Seconds: elapsed.Seconds(), Usage: res.Usage,
			Evidence: Evidence(d.Text, d.Gold, res.Predictions),
			Failed:   res.Failed, Reasons: res.Reasons,
		}
		if dr.Predictions == nil {
			dr.Predictions = []Prediction{}
		}
		dr.Rejected = rejectedGold(d.Gold, res.Predictions, res.Rejected)
		if opt.Catalog != nil {
			dr.ReleaseChecked = opt.ReleaseSystems
			if dr.ReleaseChecked == nil {
				dr.ReleaseChecked = goldSystems([]DocResult{{Gold: d.Gold}})
			}
			for _, k := range goldKeys(d.Gold, dr.ReleaseChecked) {
				if !opt.Catalog.Known(k.sys, k.code) && !slices.Contains(dr.Unknown, k.code) {
					dr.Unknown = append(dr.Unknown, k.code)
				}
			}
		}
		if restrict != nil {
			full = append(full, dr)
			dr.Predictions, dr.Dropped = restrict.apply(dr.Predictions)
			if dr.Predictions == nil {
				dr.Predictions = []Prediction{}
			}
			dr.Evidence = Evidence(d.Text, d.Gold, dr.Predictions)
		}
		rep.Documents = append(rep.Documents, dr)
		if opt.Progress != nil {
			opt.Progress(i+1, len(docs))
		}
	}
	rep.Cost = cost(rep.Documents, time.Since(start), peak.max())
	rep.Scores = Score(rep.Documents, ScoreOptions{Systems: opt.Systems, Bootstrap: opt.Bootstrap, Seed: opt.Seed, Chapters: opt.Chapters})
	if restrict != nil {
		info := restrict.info
		rep.Meta.Restriction = &info
		rep.Unrestricted = Score(full, ScoreOptions{Systems: opt.Systems, Bootstrap: opt.Bootstrap, Seed: opt.Seed, Chapters: opt.Chapters})
	}
	if len(rep.Meta.Systems) == 0 {
		rep.Meta.Systems = goldSystems(rep.Documents)
	}
	return rep, nil
}

// scoreSubdivided scores each prediction of a code below a gold code that
// subdivided reports as a heading as that gold code, and returns how many
// predictions it rewrote.
func scoreSubdivided(subdivided func(codesys.System, string) bool, gold []GoldCode, preds []Prediction) int {
	type heading struct {
		sys        codesys.System
		code, bare string
	}
	var hs []heading
	for _, g := range gold {
		sys := cmp.Or(g.System, GuessSystem(g.Code))
		if code := CanonCode(sys, g.Code); subdivided(sys, code) {
			hs = append(hs, heading{sys, code, strings.ReplaceAll(code, ".", "")})
		}
	}
	n := 0
	for i := range preds {
		p := &preds[i]
		sys := cmp.Or(p.System, GuessSystem(p.Code))
		bare := strings.ReplaceAll(CanonCode(sys, p.scoredCode()), ".", "")
		for _, h := range hs {
			if h.sys == sys && len(bare) > len(h.bare) && strings.HasPrefix(bare, h.bare) {
				p.Scored = h.code
				n++
				break
			}
		}
	}
	return n
}

// setScored records in each prediction the form its code is compared in.
func (opt *Options) setScored(form FormFunc, preds []Prediction) {
	for i := range preds {
		p := &preds[i]
		sys := cmp.Or(p.System, GuessSystem(p.Code))
		canon := CanonCode(sys, p.Code)
		p.Scored = ""
		if f := form(sys, canon); f != canon {
			p.Scored = f
		}
		if as, ok := opt.ScoreAs[sys]; ok && opt.Level == LevelCategory {
			p.ScoredSystem = as
		}
	}
}

// rejectedGold returns the rejected codes that are gold codes the
// predictions miss, the first of each, so that a report can say why a
// false negative is one without keeping every code the coder considered.
func rejectedGold(gold []GoldCode, preds, rejected []Prediction) []Prediction {
	if len(rejected) == 0 {
		return nil
	}
	predicted := make(map[key]bool)
	for _, k := range predKeys(preds, nil) {
		predicted[k] = true
	}
	missed := make(map[key]bool)
	for _, k := range goldKeys(gold, nil) {
		if !predicted[k] {
			missed[k] = true
		}
	}
	var out []Prediction
	for _, r := range rejected {
		ks := predKeys([]Prediction{r}, nil)
		if len(ks) == 1 && missed[ks[0]] {
			delete(missed, ks[0])
			out = append(out, r)
		}
	}
	return out
}

// checkSpans rejects evidence outside the text: a coder bug that would
// otherwise skew the evidence metrics silently.
func checkSpans(d Document, preds []Prediction) error {
	for _, p := range preds {
		for _, s := range p.Evidence {
			if s.Start < 0 || s.End > len(d.Text) || s.Start >= s.End {
				return fmt.Errorf("document %s: code %s: evidence span [%d, %d) is empty or outside the text (%d bytes)", d.ID, p.Code, s.Start, s.End, len(d.Text))
			}
		}
	}
	return nil
}

func cost(docs []DocResult, wall time.Duration, peak int64) Cost {
	c := Cost{Seconds: wall.Seconds(), PeakMemory: peak}
	if len(docs) == 0 {
		return c
	}
	times := make([]float64, len(docs))
	var total float64
	var u Usage
	for i, d := range docs {
		times[i] = d.Seconds
		total += d.Seconds
		u.Calls += d.Usage.Calls
		u.InputTokens += d.Usage.InputTokens
		u.CachedTokens += d.Usage.CachedTokens
		u.OutputTokens += d.Usage.OutputTokens
		u.Cost += d.Usage.Cost
	}
	c.Usage = u
	slices.Sort(times)
	if total > 0 {
		c.NotesPerSecond = float64(len(docs)) / total
	}
	c.P50 = quantile(times, 0.50)
	c.P95 = quantile(times, 0.95)
	n := float64(len(docs))
	c.CallsPerNote = float64(u.Calls) / n
	c.InputTokensPerNote = float64(u.InputTokens) / n
	c.CachedTokensPerNote = float64(u.CachedTokens) / n
	c.OutputTokensPerNote = float64(u.OutputTokens) / n
	return c
}

// peakMemory tracks the Go runtime's memory obtained from the OS, the
// fallback where the OS does not report peak resident set size.
type peakMemory struct{ sys uint64 }

func (p *peakMemory) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	p.sys = max(p.sys, ms.Sys)
}

func (p *peakMemory) max() int64 {
	if rss := peakRSS(); rss > 0 {
		return rss
	}
	return int64(p.sys)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write run report: %w", err)
	}
	return nil
}

// ReadReport reads a run file written by WriteJSON.
func ReadReport(r io.Reader, name string) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(r)
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("read run %s: %w", name, err)
	}
	if rep.Meta.Format != FormatVersion {
		return nil, fmt.Errorf("read run %s: format %d, want %d", name, rep.Meta.Format, FormatVersion)
	}
	return &rep, nil
}

// OpenReport reads the run file at path.
func OpenReport(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open run: %w", err)
	}
	defer f.Close()
	return ReadReport(f, path)
}

// applyForm returns gold with every code rewritten by form; codes that
// become equal are merged, with their evidence.
func applyForm(form FormFunc, gold []GoldCode) []GoldCode {
	out := make([]GoldCode, 0, len(gold))
	for _, g := range gold {
		g.Code = form(g.System, CanonCode(g.System, g.Code))
		if i := slices.IndexFunc(out, func(o GoldCode) bool { return o.System == g.System && o.Code == g.Code }); i >= 0 {
			out[i].Evidence = append(slices.Clone(out[i].Evidence), g.Evidence...)
			continue
		}
		out = append(out, g)
	}
	return out
}
