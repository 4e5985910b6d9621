package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/medcode-dev/medcode/internal/baseline"
	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/eval"
	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/server"
	"github.com/medcode-dev/medcode/internal/store"
)

// llmServeTimeout is the default request timeout of a service whose
// reasoner is the LLM agent.
const llmServeTimeout = 10 * time.Minute

func newServeCmd(a *app) *cobra.Command {
	var (
		addr, logFormat string
		db              dbFlags
		maxBody         int64
		minScore        float64
		tenantMin       map[string]string
		timeout, grace  time.Duration
		bodyTimeout     time.Duration
		maxNote         int
		maxCoding       int
		maxCodingTenant int
		queueWait       time.Duration
		largeNote       int
		maxCodingLarge  int
		rf              *reasonerFlags
		workers         int
		attempts        int
		jobTimeout      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the coding service: JSON API under /v1, review UI, metrics",
		Long: `Serve runs the coding service on --addr: the JSON API under /v1 (see
/openapi.json), the review UI at /, Prometheus metrics at /metrics and health
at /healthz and /readyz. The installed ICD-10-CM Official Guidelines (every
year imported with "medcode guidelines import") are served under
/v1/guidelines, where the review UI reads the sections trails cite.
Documents, decisions and the audit log are kept in SQLite in the data
directory (0600 files in a directory created 0700), or in PostgreSQL with
$MEDCODE_DB or --db-file FILE naming its URL (--db postgres://... works too,
but shows the password to anyone running ps).
Create API tokens with "medcode token create --role coder".

A request may name any installed classification in "systems": ICD-10-CM
and ICD-10-PCS are coded by --reasoner, a classification read as classes
(ICD-10 WHO or UK, OPCS-4, a list of one's own) by the offline class coder,
or the LLM agent with --reasoner llm, built over its newest installed
release when a request first names it (GET /v1/systems lists them).

A submission is coded at once and answered 201 by default. With ?async=1
(or Prefer: respond-async) it is stored with a coding job in one
transaction and answered 202; with ?wait=2s the answer waits that long
for the job. --workers jobs are worked in this process; on PostgreSQL any
number of "medcode worker" processes work them too, and API servers with
--workers 0 only queue them.

On SIGINT or SIGTERM the server stops accepting connections and waits up to
--grace for requests in flight, coding included, and the jobs in hand to
finish; jobs still running then are cancelled and retried later.`,
		Example: "  medcode token create --role coder --name alice\n  medcode serve --addr :8080",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := newLogger(a.stderr, logFormat)
			cfg, reasonerName, err := a.codingConfig(ctx, log, rf, minScore, tenantMin)
			if err != nil {
				return err
			}
			if rf.name == "llm" && !cmd.Flags().Changed("timeout") {
				// One note takes several model requests, each of up to
				// --llm-timeout with retries: a minute is not enough.
				timeout = llmServeTimeout
			}
			if !cmd.Flags().Changed("job-timeout") {
				jobTimeout = timeout
			}
			st, dsn, err := a.openStoreNamed(ctx, db)
			if err != nil {
				return err
			}
			defer st.Close()
			reg := newRegistry()
			// The in-process workers code as the server codes a
			// synchronous submission.
			var srv *server.Server
			q, err := jobs.Open(ctx, st, jobs.Config{DSN: dsn, Concurrency: workers, MaxAttempts: attempts, JobTimeout: jobTimeout,
				Registry: reg, Logger: log,
				Coder: jobs.CoderFunc(func(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
					return srv.CodeDocument(ctx, tenant, req)
				})})
			if err != nil {
				return err
			}
			cfg.Store, cfg.Logger, cfg.MaxBody, cfg.Timeout, cfg.Registry, cfg.Jobs = st, log, maxBody, timeout, reg, q
			cfg.BodyTimeout, cfg.MaxNote, cfg.MaxCoding, cfg.MaxCodingPerTenant = bodyTimeout, maxNote, maxCoding, maxCodingTenant
			cfg.QueueWait, cfg.LargeNote, cfg.MaxCodingLarge = queueWait, largeNote, maxCodingLarge
			if srv, err = server.New(cfg); err != nil {
				q.Stop(ctx)
				return err
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				q.Stop(ctx)
				return err
			}
			if err := q.Start(ctx); err != nil {
				l.Close()
				return err
			}
			stopped := make(chan error, 1)
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
				defer cancel()
				stopped <- q.Stop(sctx)
			}()
			log.Info("serving", "addr", l.Addr().String(), "store", string(st.Backend()), "reasoner", reasonerName, "releases", cfg.Codes.Releases(),
				"guidelines", len(cfg.Guidelines), "workers", workers)
			fmt.Fprintf(a.stderr, "medcode: review UI at http://%s/\n", l.Addr())
			err = srv.Serve(ctx, l, grace)
			if errors.Is(err, context.Canceled) {
				err = nil
			}
			stop()
			if qerr := <-stopped; err == nil {
				err = qerr
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	db.add(cmd.Flags())
	rf = addReasonerFlags(cmd.Flags())
	cmd.Flags().StringVar(&logFormat, "log-format", "json", "log format: json or text")
	cmd.Flags().Int64Var(&maxBody, "max-body", 0, "maximum request body in bytes (default twice --max-note and 64 KiB)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "maximum time to handle one request, coding included (with --reasoner llm the default is 10m)")
	cmd.Flags().IntVar(&maxNote, "max-note", 1<<20, "maximum note of a submission in bytes (413 past it)")
	cmd.Flags().IntVar(&maxCoding, "max-coding", 0, "coding jobs in progress at once (default twice GOMAXPROCS); more wait up to --queue-wait, then 429")
	cmd.Flags().IntVar(&maxCodingTenant, "max-coding-per-tenant", 0, "coding jobs of one tenant in progress at once (default half of --max-coding, at least 1)")
	cmd.Flags().IntVar(&largeNote, "large-note", 64<<10, "size in bytes from which a note is large")
	cmd.Flags().IntVar(&maxCodingLarge, "max-coding-large", 0, "large notes coded at once, within --max-coding (default half of GOMAXPROCS, at least 1)")
	cmd.Flags().DurationVar(&queueWait, "queue-wait", 2*time.Second, "how long a coding job waits for a slot before it is refused with 429")
	cmd.Flags().DurationVar(&bodyTimeout, "body-timeout", 15*time.Second, "maximum time to receive a request body once its headers are in (408 past it)")
	cmd.Flags().DurationVar(&grace, "grace", 60*time.Second, "on shutdown, how long to wait for requests in flight")
	addMinScoreFlag(cmd.Flags(), &minScore)
	cmd.Flags().StringToStringVar(&tenantMin, "tenant-min-score", nil, "a tenant's own --min-score, overriding it: TENANT=SCORE, comma-separated")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "coding jobs worked at once in this process (?async=1 and ?wait= submissions, medcode submit); 0 when separate medcode worker processes work them")
	addJobFlags(cmd.Flags(), &attempts, &jobTimeout)
	return cmd
}

// codingConfig builds what every process that codes notes shares (serve
// and worker): the releases served, the reasoners, the minimum scores and
// the guidelines, as the server's configuration, with the reasoner's name
// for logs.
func (a *app) codingConfig(ctx context.Context, log *slog.Logger, rf *reasonerFlags, minScore float64, tenantMin map[string]string) (server.Config, string, error) {
	var none server.Config
	rels, err := a.serveReleases(ctx, log)
	if err != nil {
		return none, "", err
	}
	cm := rels[0]
	// Any other installed classification is opened, and its reasoner
	// built, when a request first names it.
	codes, err := server.NewInstalled(a.dataDir, rels...)
	if err != nil {
		return none, "", err
	}
	tenantMinScore, err := parseTenantMinScores(tenantMin)
	if err != nil {
		return none, "", err
	}
	if err := checkMinScore(minScore); err != nil {
		return none, "", err
	}
	reasoner, reasonerName, err := a.reasoner(ctx, rf, cm.Version)
	if err != nil {
		return none, "", err
	}
	classReasoner, err := a.classReasoners(rf)
	if err != nil {
		return none, "", err
	}
	// The minimum score is the tenant's, applied by the server.
	reasoner, calib, err := a.calibrated(reasoner, reasonerName, 0)
	if err != nil {
		return none, "", err
	}
	if calib != nil {
		log.Info("scores calibrated", "table", calib.Describe())
	}
	gls, err := a.installedGuidelines()
	if err != nil {
		return none, "", err
	}
	if len(gls) == 0 {
		log.Warn("no guidelines installed: GET /v1/guidelines lists none and the review UI cannot show a cited section's text (medcode guidelines import)")
	}
	return server.Config{Reasoner: reasoner, ClassReasoner: classReasoner, Codes: codes, MinScore: minScore,
		TenantMinScore: tenantMinScore, Guidelines: gls}, reasonerName, nil
}

// newLogger returns the structured logger of a long-running command:
// JSON lines, or text with --log-format text.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// newRegistry returns a metrics registry with the Go and process
// collectors.
func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// addJobFlags registers the flags of the coding jobs' attempts.
func addJobFlags(fs *pflag.FlagSet, attempts *int, jobTimeout *time.Duration) {
	fs.IntVar(attempts, "attempts", 5, "attempts at a coding job before its document is failed")
	fs.DurationVar(jobTimeout, "job-timeout", 60*time.Second, "maximum time of one attempt at a coding job (default --timeout; with --reasoner llm 10m); a dead worker's jobs are taken up again after about twice this")
}

// serveReleases opens the releases the service validates codes against
// and names in /readyz: first the ICD-10-CM release the reasoner codes
// with, then the ICD-10-PCS release the procedure coder reads (the newest
// with the tables and the Index, not merely the newest with tables), so
// that /readyz names the releases the runs record.
func (a *app) serveReleases(ctx context.Context, log *slog.Logger) ([]*codesys.Release, error) {
	cm, err := a.openRelease(ctx, codesys.ICD10CM, "", codesys.PartTabular)
	if err != nil {
		return nil, err
	}
	rels := []*codesys.Release{cm}
	in, err := a.pcsForCoder()
	if err != nil {
		return nil, err
	}
	if in == nil {
		log.Warn("no ICD-10-PCS release with tables: procedure codes cannot be validated")
		return rels, nil
	}
	pcs, err := a.open(ctx, in, []codesys.Part{codesys.PartPCSTables, codesys.PartPCSIndex})
	if err != nil {
		return nil, err
	}
	return append(rels, pcs), nil
}

// parseTenantMinScores reads --tenant-min-score.
func parseTenantMinScores(in map[string]string) (map[string]float64, error) {
	out := make(map[string]float64, len(in))
	for tenant, v := range in {
		m, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fmt.Errorf("--tenant-min-score %s=%s: %w", tenant, v, err)
		}
		if err := checkMinScore(m); err != nil {
			return nil, fmt.Errorf("--tenant-min-score %s: %w", tenant, err)
		}
		out[tenant] = m
	}
	return out, nil
}

// baselineReasoner serves the baseline coder (codes whose title or
// inclusion term the note contains word for word) through
// coding.Reasoner.
type baselineReasoner struct {
	coder *baseline.Coder
	rel   *codesys.Release
}

func (b *baselineReasoner) Code(ctx context.Context, req coding.Request) (*coding.Result, error) {
	start := time.Now()
	res, err := b.coder.Code(ctx, eval.Document{ID: req.ID, Text: req.Text})
	if err != nil {
		return nil, err
	}
	out := &coding.Result{ID: req.ID, Reasoner: "baseline", Releases: []string{b.rel.ID()}, Setting: req.Setting, Codes: []coding.Code{}}
	for _, p := range res.Predictions {
		c := coding.Code{Code: p.Code, System: p.System, Kind: coding.Diagnosis,
			Trail: []coding.Step{{Kind: coding.StepMention, Detail: "the note names the code's title or inclusion term"}}}
		if v, err := b.rel.Validate(p.Code); err == nil && v.Title != "" {
			c.Title = v.Title
			c.Trail = append(c.Trail, coding.Step{Kind: coding.StepTabular, Detail: "Tabular: " + v.Code + " " + v.Title, Ref: v.Code})
		}
		for _, s := range p.Evidence {
			c.Evidence = append(c.Evidence, coding.Evidence{Start: s.Start, End: s.End, Text: req.Text[s.Start:s.End]})
		}
		out.Codes = append(out.Codes, c)
	}
	out.Usage.Duration = time.Since(start)
	return out, nil
}
