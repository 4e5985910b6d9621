package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/agent"
	"github.com/medcode-dev/medcode/internal/catalog"
	"github.com/medcode-dev/medcode/internal/coder"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
)

func newCodeCmd(a *app) *cobra.Command {
	var (
		format, version, setting, scope string
		explain                         bool
		minScore                        float64
		rf                              *reasonerFlags
		systems                         []string
	)
	cmd := &cobra.Command{
		Use:   "code FILE|DIR|- ...",
		Short: "Code clinical notes into ICD-10-CM and ICD-10-PCS, with evidence for every code",
		Long: `Code reads clinical notes and prints their ICD-10-CM codes, each with the
spans of the note that support it, its assertion and confidence. --explain
adds the trail: the mention, the table or index path, the Tabular List steps
and the guideline rules applied, and the codes considered and dropped.

One note (a file, or - for standard input) prints text, JSON or a FHIR R4
Bundle. Several files or a folder (its .txt files, recursively) are coded
on all cores and printed as JSON Lines, one result per note; a note that
cannot be read is reported on standard error and the others are coded.

The Tabular List is that of the installed ICD-10-CM release named by
--release (default: the newest with a Tabular List or an order file; a
release with only the order file has its Tabular List composed from it and
the notes of the newest installed Tabular List, see "medcode releases");
the Table of Neoplasms and the Alphabetic Index, if that release lacks
them, come from the newest installed release that has them.

--system codes into the classifications named instead: ICD-10-CM and
ICD-10-PCS as above, and any other installed classification (who-icd10,
icd10uk, opcs4, a list of your own) with the offline coder of its newest
release, from its class titles and inclusion terms (docs/classifications.md).
Every code names its classification.`,
		Example: `  medcode code discharge.txt
  medcode code --system icd10uk,opcs4 discharge.txt
  medcode code --explain --setting outpatient visit.txt
  medcode code --format fhir note.txt
  cat note.txt | medcode code -
  medcode code notes/ > codes.jsonl
  medcode code --reasoner llm --model openai:gpt-4o-mini note.txt`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := coding.ParseSetting(setting)
			if err != nil {
				return err
			}
			sc, err := coding.ParseScope(scope)
			if err != nil {
				return err
			}
			if sc != coding.Reportable && (rf.name != "offline" || len(systems) > 0) {
				return fmt.Errorf("--scope %s: only the offline ICD-10-CM coder reports that scope", sc)
			}
			tmpl := coding.Request{Setting: st, Scope: sc}
			if !slices.Contains([]string{"text", "json", "fhir"}, format) {
				return fmt.Errorf("unknown format %q (want text, json or fhir)", format)
			}
			files, batch, err := noteFiles(args)
			if err != nil {
				return err
			}
			if err := checkMinScore(minScore); err != nil {
				return err
			}
			var c coding.Reasoner
			name := rf.name
			if len(systems) > 0 {
				c, err = a.systemsReasoner(ctx, rf, version, systems)
			} else {
				c, name, err = a.reasoner(ctx, rf, version)
			}
			if err != nil {
				return err
			}
			if c, _, err = a.calibrated(c, name, minScore); err != nil {
				return err
			}
			if !batch {
				return a.codeOne(ctx, c, args[0], files[0], tmpl, format, explain)
			}
			return a.codeBatch(ctx, c, files, tmpl, explain)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format for one note: text, json or fhir (many notes: JSON Lines)")
	cmd.Flags().StringVar(&version, "release", "", "ICD-10-CM release whose Tabular List to code with, e.g. 2025 (default: newest with a Tabular List or an order file)")
	cmd.Flags().StringVar(&setting, "setting", "inpatient", "encounter setting, which decides uncertain diagnoses: inpatient or outpatient")
	cmd.Flags().StringVar(&scope, "scope", "reportable", "diagnoses to report: reportable (the code set for the encounter) or mentions (every condition mentioned, with its assertion)")
	cmd.Flags().BoolVar(&explain, "explain", false, "show the full trail of every code, and the codes dropped")
	cmd.Flags().StringSliceVar(&systems, "system", nil, "classifications to code into, comma-separated: icd10cm, icd10pcs, or any installed (who-icd10, icd10uk, opcs4, a list of your own) (default icd10cm,icd10pcs)")
	addMinScoreFlag(cmd.Flags(), &minScore)
	rf = addReasonerFlags(cmd.Flags())
	return cmd
}

// noteFiles expands the arguments into note files: a folder stands for its
// .txt files. batch is set when there is more than one note or a folder.
func noteFiles(args []string) (files []string, batch bool, err error) {
	for _, p := range args {
		if p == "-" {
			files = append(files, p)
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, false, err
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		batch = true
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.EqualFold(filepath.Ext(path), ".txt") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, false, fmt.Errorf("list notes in %s: %w", p, err)
		}
	}
	if len(files) == 0 {
		return nil, false, fmt.Errorf("no notes: %s has no .txt files", strings.Join(args, ", "))
	}
	if slices.Contains(files, "-") && len(files) > 1 {
		return nil, false, errors.New("standard input (-) must be the only note")
	}
	return files, batch || len(files) > 1, nil
}

// offlineCoder opens the releases the coder reads and builds it. The
// parts only the lexicon is built from (the indexes, the Table of
// Neoplasms) are opened only when the cache does not hold the lexicon.
func (a *app) offlineCoder(ctx context.Context, version string) (*coder.Coder, error) {
	cmInfo, err := a.pickRelease(codesys.ICD10CM, version, codesys.PartTabular)
	if err != nil {
		return nil, err
	}
	defer collectLess()()
	cm, err := a.open(ctx, cmInfo, []codesys.Part{codesys.PartTabular})
	if err != nil {
		return nil, err
	}
	if cm.Tabular == nil {
		return nil, fmt.Errorf("ICD-10-CM %s has no Tabular List: install one with \"medcode import --system icd10cm\"", cm.Version)
	}
	ref := coder.Reference{CM: cm}
	var tablesInfo *catalog.Info
	if !slices.Contains(cmInfo.Parts, codesys.PartNeoplasm) || !slices.Contains(cmInfo.Parts, codesys.PartIndex) {
		if tablesInfo, err = a.tablesRelease(cmInfo); err != nil {
			return nil, err
		}
	}
	key, err := catalog.Fingerprint(cmInfo)
	if err != nil {
		return nil, err
	}
	if tablesInfo != nil {
		if ref.Tables, err = a.open(ctx, tablesInfo, []codesys.Part{}); err != nil {
			return nil, err
		}
		fp, err := catalog.Fingerprint(tablesInfo)
		if err != nil {
			return nil, err
		}
		key += " " + fp
	}
	ref.Lexicon = &coder.LexiconSource{Key: key, Open: func() (full, tables *codesys.Release, err error) {
		// A list not yet kept in the cache was opened with the whole
		// release.
		full = cm
		if !hasParts(cm, cmInfo.Parts) {
			if full, err = a.open(ctx, cmInfo, nil); err != nil {
				return nil, nil, err
			}
		}
		if tablesInfo != nil {
			if tables, err = a.open(ctx, tablesInfo, nil); err != nil {
				return nil, nil, err
			}
		}
		return full, tables, nil
	}}
	if in, err := a.pcsForCoder(); err != nil {
		return nil, err
	} else if in != nil {
		if ref.PCS, err = a.open(ctx, in, []codesys.Part{codesys.PartPCSTables, codesys.PartPCSIndex}); err != nil {
			return nil, err
		}
	}
	set, err := a.ruleSet()
	if err != nil {
		return nil, err
	}
	gd, err := a.guidelinesFor(cm.Version)
	if err != nil {
		return nil, err
	}
	c, err := coder.New(ref, coder.Options{Cache: catalog.NewCache(a.dataDir), Rules: set, Guidelines: gd})
	if err != nil {
		return nil, err
	}
	a.startupWarnings(set, c.Warnings())
	return c, nil
}

// hasParts reports whether r was opened with every part of parts.
func hasParts(r *codesys.Release, parts []codesys.Part) bool {
	have := r.Parts()
	for _, p := range parts {
		if !slices.Contains(have, p) {
			return false
		}
	}
	return true
}

// buildMemory is the heap collectLess lets a build grow to before the
// collector runs.
const buildMemory = 400 << 20

// collectLess has the garbage collector wait until the heap reaches
// buildMemory, and returns the function that restores its settings.
// Building the coder from the cache allocates what it keeps (the Tabular
// List, the lexicon: over a hundred MiB) and little else, so that
// collecting while it is built only marks the same live data again: about
// a third of the CPU time of coding one note. A build that makes much
// garbage (the lexicon built afresh) still collects at buildMemory.
// Settings changed by another caller meanwhile are left alone.
func collectLess() (restore func()) {
	percent := debug.SetGCPercent(-1)
	if percent < 0 {
		debug.SetGCPercent(percent)
		return func() {}
	}
	limit := debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), buildMemory))
	return func() {
		debug.SetMemoryLimit(limit)
		debug.SetGCPercent(percent)
	}
}

// pcsForCoder returns the installed ICD-10-PCS release the procedure
// coder reads: the newest with both the tables and the Index (the coder
// finds root operations through the Index), else the newest with the
// tables; nil when none has tables.
func (a *app) pcsForCoder() (*catalog.Info, error) {
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	var withTables *catalog.Info
	for _, in := range slices.Backward(infos) { // List is oldest first
		if in.System != codesys.ICD10PCS || !slices.Contains(in.Parts, codesys.PartPCSTables) {
			continue
		}
		if slices.Contains(in.Parts, codesys.PartPCSIndex) {
			return in, nil
		}
		if withTables == nil {
			withTables = in
		}
	}
	return withTables, nil
}

// tablesRelease returns the newest installed ICD-10-CM release, other than
// cm, with the Alphabetic Index or the Table of Neoplasms, or nil.
func (a *app) tablesRelease(cm *catalog.Info) (*catalog.Info, error) {
	infos, err := catalog.List(a.dataDir)
	if err != nil {
		return nil, err
	}
	for _, in := range slices.Backward(infos) { // List is oldest first
		if in.System != codesys.ICD10CM || in.Version == cm.Version {
			continue
		}
		if slices.Contains(in.Parts, codesys.PartIndex) || slices.Contains(in.Parts, codesys.PartNeoplasm) {
			return in, nil
		}
	}
	return nil, nil
}

func readNote(path string) (id, text string, err error) {
	var b []byte
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
		id = "stdin"
	} else {
		b, err = os.ReadFile(path)
		id = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err != nil {
		return "", "", fmt.Errorf("read note %s: %w", path, err)
	}
	// The service refuses an empty note (422 empty_text): coding one
	// here would print "0 codes", which reads as a note with nothing
	// codable rather than a note that was never written.
	if len(bytes.TrimSpace(b)) == 0 {
		return "", "", fmt.Errorf("note %s is empty: there is nothing to code", path)
	}
	return id, string(b), nil
}

func (a *app) codeOne(ctx context.Context, c coding.Reasoner, arg, path string, tmpl coding.Request, format string, explain bool) error {
	id, text, err := readNote(path)
	if err != nil {
		return err
	}
	res, err := c.Code(ctx, coding.Request{ID: id, Text: text, Setting: tmpl.Setting, Scope: tmpl.Scope})
	if err != nil {
		return err
	}
	switch format {
	case "json":
		if !explain {
			res.Dropped = nil
		}
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	case "fhir":
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(coding.FHIRBundle(res))
	default:
		writeText(a.stdout, arg, res, explain)
	}
	if err != nil {
		return err
	}
	return failedNote(arg, res)
}

// failedNote is the error of a result its reasoner could not finish: a
// failed note exits non-zero even though its (empty) result was printed,
// so that a script never reads a failure as a note with nothing codable.
func failedNote(name string, res *coding.Result) error {
	if !res.Failed() {
		return nil
	}
	return &exitError{code: 1, msg: fmt.Sprintf("medcode: code: %s failed: %s", name, strings.Join(res.Reasons, "; "))}
}

// writeText prints a result for a reader: each code with its title,
// confidence, assertion and evidence; with explain, its trail, then the
// codes dropped and the queries. An incomplete code is printed with its
// characters followed by "?" and marked as not reportable.
func writeText(w io.Writer, name string, res *coding.Result, explain bool) {
	incomplete := 0
	for _, c := range res.Codes {
		if !c.Reportable() {
			incomplete++
		}
	}
	count := fmt.Sprintf("%d codes", len(res.Codes)-incomplete)
	if incomplete > 0 {
		count += fmt.Sprintf(", %d incomplete", incomplete)
	}
	if res.Failed() {
		// Not "0 codes": the note was not coded.
		count = "FAILED, not coded"
	}
	fmt.Fprintf(w, "%s: %s (%s; %s)\n", name, count, strings.Join(res.Releases, ", "), res.Setting)
	if res.Status != "" && res.Status != coding.StatusComplete {
		fmt.Fprintf(w, "status: %s: %s\n", res.Status, strings.Join(res.Reasons, "; "))
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	for _, c := range res.Codes {
		if c.Reportable() {
			fmt.Fprintf(w, "%-9s %s  [%s, %.2f]\n", c.Code, c.Title, c.Assertion, c.Confidence)
		} else {
			fmt.Fprintf(w, "%-9s INCOMPLETE, not reportable: %s; %s not documented  [%s, %.2f]\n",
				c.Code+"?", c.Title, strings.ToLower(c.Missing), c.Assertion, c.Confidence)
		}
		for _, e := range c.Evidence {
			fmt.Fprintf(w, "          %q @%d-%d", e.Text, e.Start, e.End)
			if e.Section != "" && e.Section != "none" {
				fmt.Fprintf(w, " (%s)", e.Section)
			}
			fmt.Fprintln(w)
		}
		if explain {
			for _, s := range c.Trail {
				fmt.Fprintf(w, "          - %s: %s\n", s.Kind, s.Detail)
				if s.Quote != "" {
					fmt.Fprintf(w, "            guidelines FY%s %s: %q\n", s.Year, s.Ref, s.Quote)
				}
			}
		}
	}
	if explain && len(res.Dropped) > 0 {
		fmt.Fprintf(w, "dropped:\n")
		for _, c := range res.Dropped {
			ev := ""
			if len(c.Evidence) > 0 {
				ev = fmt.Sprintf(" %q", c.Evidence[0].Text)
			}
			fmt.Fprintf(w, "%-9s %s%s: %s\n", c.Code, c.Title, ev, c.Reason)
		}
	}
	for _, q := range res.Queries {
		fmt.Fprintf(w, "query: %s\n", q.Question)
	}
}

// codeBatch codes many notes on all cores and writes one JSON line per
// note, in the order of files. With explain, each line keeps the codes
// dropped and why, as the single-note JSON output does.
func (a *app) codeBatch(ctx context.Context, c coding.Reasoner, files []string, tmpl coding.Request, explain bool) error {
	type out struct {
		line []byte
		err  error
	}
	results := make([]chan out, len(files))
	for i := range results {
		results[i] = make(chan out, 1)
	}
	jobs := make(chan int)
	// A failure that would fail every note (a refused key, an unknown
	// model, a replay miss) stops the batch.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	if ag, ok := unwrap(c).(*agent.Agent); ok {
		// The LLM agent waits on the network, not the CPU: as many notes
		// at once as its concurrency limit allows.
		workers = max(workers, ag.Config().Concurrency)
	}
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				id, text, err := readNote(files[i])
				if err != nil {
					results[i] <- out{err: err}
					continue
				}
				res, err := c.Code(ctx, coding.Request{ID: id, Text: text, Setting: tmpl.Setting, Scope: tmpl.Scope})
				if err != nil {
					if errors.Is(err, agent.ErrStop) {
						stop(err)
					}
					results[i] <- out{err: fmt.Errorf("%s: %w", files[i], err)}
					continue
				}
				if res.Failed() {
					// The line is written, and the note counted as failed.
					b, merr := json.Marshal(res)
					results[i] <- out{line: b, err: cmp.Or(merr, fmt.Errorf("%s: failed: %s", files[i], strings.Join(res.Reasons, "; ")))}
					continue
				}
				if !explain {
					res.Dropped = nil
				}
				b, err := json.Marshal(res)
				results[i] <- out{line: b, err: err}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range files {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	progress := isTerminal(a.stderr)
	start := time.Now()
	failed := 0
	for i := range files {
		var o out
		select {
		case o = <-results[i]:
		case <-ctx.Done():
			wg.Wait()
			if err := context.Cause(ctx); errors.Is(err, agent.ErrStop) {
				return &exitError{code: 1, msg: fmt.Sprintf("medcode: code: stopped after %d of %d notes: %v", i, len(files), err)}
			}
			return context.Cause(ctx)
		}
		if o.line != nil {
			a.stdout.Write(append(o.line, '\n'))
		}
		if o.err != nil {
			failed++
			if progress {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
			fmt.Fprintln(a.stderr, "medcode: code:", o.err)
			if errors.Is(o.err, agent.ErrStop) {
				wg.Wait()
				return &exitError{code: 1, msg: fmt.Sprintf("medcode: code: stopped after %d of %d notes: %v", i+1, len(files), o.err)}
			}
		}
		if progress {
			fmt.Fprintf(a.stderr, "\r%s", progressBar(i+1, len(files), time.Since(start)))
		}
	}
	if progress {
		fmt.Fprintln(a.stderr)
	}
	wg.Wait()
	if failed > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("medcode: code: %d of %d notes failed", failed, len(files))}
	}
	return nil
}

func progressBar(done, total int, elapsed time.Duration) string {
	const width = 30
	fill := done * width / total
	rate := float64(done) / max(elapsed.Seconds(), 1e-3)
	return fmt.Sprintf("[%s%s] %d/%d notes  %.0f/s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), done, total, rate)
}
