package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/server"
	"github.com/medcode-dev/medcode/internal/store"
)

// submitChunk is how many documents one transaction of medcode submit
// stores with their jobs: large enough to be quick, small enough that a
// failure costs little.
const submitChunk = 500

func newSubmitCmd(a *app) *cobra.Command {
	var (
		db             dbFlags
		tenant, name   string
		setting, batch string
		systems        []string
		attempts       int
	)
	cmd := &cobra.Command{
		Use:   "submit PATH...",
		Short: "Queue a batch of notes for the workers to code",
		Long: `Submit stores notes in the service's store, each with a coding job, as one
batch, and prints the batch's ID. The workers ("medcode worker", or "medcode
serve" with --workers) code them; "medcode batch status ID" shows the
progress and "medcode batch export ID" writes the results.

A PATH is a folder (its .txt files, recursively), a .txt file, or a JSON
Lines file (.jsonl): one note an object, {"text": "...", "externalId":
"...", "setting": "outpatient"}, only "text" required. The notes are stored
as the tenant's, submitted by --name. --batch names the batch (letters,
digits, ".", "_" and "-", up to 64); by default it is a new ID.`,
		Example: "  medcode submit --tenant north notes/\n  medcode submit notes.jsonl",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			defSetting, err := coding.ParseSetting(setting)
			if err != nil {
				return err
			}
			var syss []codesys.System
			for _, s := range systems {
				sys, err := codesys.ParseSystem(s)
				if err != nil {
					return fmt.Errorf("--system: %w", err)
				}
				syss = append(syss, sys)
			}
			if batch == "" {
				batch = store.NewBatchID()
			} else if !batchName.MatchString(batch) {
				return fmt.Errorf("--batch %q: a batch name is letters, digits, \".\", \"_\" and \"-\", up to 64", batch)
			}
			docs, err := readSubmission(args, defSetting)
			if err != nil {
				return err
			}
			st, dsn, err := a.openStoreNamed(ctx, db)
			if err != nil {
				return err
			}
			defer st.Close()
			q, err := jobs.Open(ctx, st, jobs.Config{DSN: dsn, MaxAttempts: attempts})
			if err != nil {
				return err
			}
			defer q.Stop(ctx)
			actor := store.Actor{Tenant: tenant, Name: name}
			for chunk := range slices.Chunk(docs, submitChunk) {
				if err := q.Enqueue(ctx, actor, chunk, syss, batch); err != nil {
					return err
				}
			}
			fmt.Fprintln(a.stdout, batch)
			fmt.Fprintf(a.stderr, "queued %d notes as batch %s for tenant %s: medcode batch status %s\n", len(docs), batch, tenant, batch)
			return nil
		},
	}
	db.add(cmd.Flags())
	cmd.Flags().StringVar(&tenant, "tenant", "default", "tenant the notes belong to")
	cmd.Flags().StringVar(&name, "name", "submit", "who submits, shown in the audit log")
	cmd.Flags().StringVar(&setting, "setting", "inpatient", "encounter setting of the notes that name none: inpatient or outpatient")
	cmd.Flags().StringVar(&batch, "batch", "", "name of the batch (default a new ID)")
	cmd.Flags().StringSliceVar(&systems, "system", nil, "classifications to code into (default: the workers' reasoner's)")
	cmd.Flags().IntVar(&attempts, "attempts", 5, "attempts at each note's coding before it is failed")
	return cmd
}

// batchName is what a batch may be named.
var batchName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// jsonlNote is one line of a JSON Lines submission.
type jsonlNote struct {
	Text       string `json:"text"`
	ExternalID string `json:"externalId,omitempty"`
	Setting    string `json:"setting,omitempty"`
}

// readSubmission reads the notes of the arguments of medcode submit.
func readSubmission(args []string, setting coding.Setting) ([]*store.Document, error) {
	var docs []*store.Document
	var files []string
	for _, p := range args {
		if ext := strings.ToLower(filepath.Ext(p)); ext == ".jsonl" || ext == ".ndjson" {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			ds, err := readJSONLNotes(f, setting)
			f.Close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			docs = append(docs, ds...)
			continue
		}
		files = append(files, p)
	}
	if len(files) > 0 {
		paths, _, err := noteFiles(files)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if p == "-" {
				return nil, errors.New("submit reads files and folders, not standard input")
			}
			id, text, err := readNote(p)
			if err != nil {
				return nil, err
			}
			if strings.IndexByte(text, 0) >= 0 {
				return nil, fmt.Errorf("note %s contains a NUL character", p)
			}
			docs = append(docs, &store.Document{Source: "text", ExternalID: id, Text: text, Setting: setting})
		}
	}
	if len(docs) == 0 {
		return nil, errors.New("no notes to submit")
	}
	return docs, nil
}

// readJSONLNotes reads a JSON Lines file of notes; blank lines are
// skipped.
func readJSONLNotes(r io.Reader, setting coding.Setting) ([]*store.Document, error) {
	var docs []*store.Document
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var n jsonlNote
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&n); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if strings.TrimSpace(n.Text) == "" {
			return nil, fmt.Errorf("line %d: the note text is empty", line)
		}
		if strings.IndexByte(n.Text, 0) >= 0 {
			return nil, fmt.Errorf("line %d: the note text contains a NUL character", line)
		}
		st := setting
		if n.Setting != "" {
			s, err := coding.ParseSetting(n.Setting)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			st = s
		}
		docs = append(docs, &store.Document{Source: "text", ExternalID: n.ExternalID, Text: n.Text, Setting: st})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return docs, nil
}

func newBatchCmd(a *app) *cobra.Command {
	var (
		db     dbFlags
		tenant string
	)
	cmd := &cobra.Command{
		Use:   "batch",
		Short: "Follow and export a batch of notes queued with medcode submit",
	}
	db.add(cmd.PersistentFlags())
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "default", "tenant of the batch")

	var watch bool
	var every time.Duration
	status := &cobra.Command{
		Use:   "status ID",
		Short: "Show how many notes of a batch are coded, failed and pending",
		Long: `Status prints the batch's counts. With --watch it follows the batch until
no note is pending: a progress bar on a terminal, a line per change
otherwise.`,
		Args: cobra.ExactArgs(1),
		RunE: a.withStore(&db, func(ctx context.Context, st *store.Store, args []string) error {
			return a.batchStatus(ctx, st, tenant, args[0], watch, every)
		}),
	}
	status.Flags().BoolVar(&watch, "watch", false, "follow the batch until no note is pending")
	status.Flags().DurationVar(&every, "every", time.Second, "with --watch, how often to look")

	export := &cobra.Command{
		Use:   "export ID",
		Short: "Write the documents of a batch, with their codes and runs, as JSON Lines",
		Args:  cobra.ExactArgs(1),
		RunE: a.withStore(&db, func(ctx context.Context, st *store.Store, args []string) error {
			return a.batchExport(ctx, st, tenant, args[0])
		}),
	}
	cmd.AddCommand(status, export)
	return cmd
}

func (a *app) batchStatus(ctx context.Context, st *store.Store, tenant, id string, watch bool, every time.Duration) error {
	tty := isTerminal(a.stderr)
	start := time.Now()
	last := ""
	for {
		counts, err := st.BatchCounts(ctx, tenant, id)
		if err != nil {
			return err
		}
		b := server.BatchStatus(id, counts)
		if b.Total == 0 {
			return fmt.Errorf("no batch %s in tenant %s", id, tenant)
		}
		line := fmt.Sprintf("%s: %d notes, %d coded, %d failed, %d pending", id, b.Total, b.Done, b.Failed, b.Pending)
		switch {
		case !watch:
			fmt.Fprintln(a.stdout, line)
			return nil
		case tty:
			fmt.Fprintf(a.stderr, "\r%s  %d failed", progressBar(b.Done+b.Failed, b.Total, time.Since(start)), b.Failed)
		case line != last:
			fmt.Fprintln(a.stdout, line)
		}
		last = line
		if b.Pending == 0 {
			if tty {
				fmt.Fprintln(a.stderr)
				fmt.Fprintln(a.stdout, line)
			}
			if b.Failed > 0 {
				return &exitError{code: 1, msg: fmt.Sprintf("medcode: batch %s: %d of %d notes failed", id, b.Failed, b.Total)}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func (a *app) batchExport(ctx context.Context, st *store.Store, tenant, id string) error {
	w := bufio.NewWriter(a.stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	n := 0
	for before := ""; ; {
		page, err := st.ListDocuments(ctx, tenant, store.Filter{Batch: id, Limit: 500, Before: before})
		if err != nil {
			return err
		}
		for _, d := range page {
			full, err := st.GetDocument(ctx, tenant, d.ID)
			if err != nil {
				return err
			}
			if err := enc.Encode(full); err != nil {
				return err
			}
			n++
		}
		if len(page) < 500 {
			break
		}
		before = page[len(page)-1].ID
	}
	if n == 0 {
		return fmt.Errorf("no batch %s in tenant %s", id, tenant)
	}
	return w.Flush()
}

// withStore is a command's RunE that opens the store db names (read when
// the command runs, after its flags) and runs fn with it.
func (a *app) withStore(db *dbFlags, fn func(ctx context.Context, st *store.Store, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		st, err := a.openStore(ctx, *db)
		if err != nil {
			return err
		}
		defer st.Close()
		return fn(ctx, st, args)
	}
}
