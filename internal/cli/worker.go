package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/jobs"
	"github.com/medcode-dev/medcode/internal/server"
	"github.com/medcode-dev/medcode/internal/store"
)

func newWorkerCmd(a *app) *cobra.Command {
	var (
		db                 dbFlags
		rf                 *reasonerFlags
		logFormat, metrics string
		concurrency        int
		attempts           int
		jobTimeout, grace  time.Duration
		minScore           float64
		tenantMin          map[string]string
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Work coding jobs: code the documents queued in the store",
		Long: `Worker codes the documents queued in the store's database (submissions
with ?async=1 or ?wait=, and "medcode submit"), --concurrency at a time,
with --reasoner as "medcode serve" codes them, and stores each run, its
codes and audit entries in one transaction with the job's completion.
Run as many workers, on as many machines, as the work needs, all on the
same PostgreSQL ($MEDCODE_DB, --db-file or --db); a worker that dies has
its jobs taken up by the others.

A failed coding is retried with backoff; after --attempts the document is
"failed", with the error. --metrics-addr serves the worker's Prometheus
metrics (/metrics) and /healthz.

On SIGINT or SIGTERM the worker takes no new jobs and waits up to --grace
for those in hand; those still running then are cancelled and retried
later, by any worker.`,
		Example: "  MEDCODE_DB=postgres://medcode@db/medcode medcode worker --concurrency 8 --metrics-addr :9464",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if concurrency < 1 {
				return errors.New("--concurrency must be at least 1")
			}
			log := newLogger(a.stderr, logFormat)
			cfg, reasonerName, err := a.codingConfig(ctx, log, rf, minScore, tenantMin)
			if err != nil {
				return err
			}
			if rf.name == "llm" && !cmd.Flags().Changed("job-timeout") {
				jobTimeout = llmServeTimeout
			}
			st, dsn, err := a.openStoreNamed(ctx, db)
			if err != nil {
				return err
			}
			defer st.Close()
			reg := newRegistry()
			cfg.Store, cfg.Logger, cfg.Registry, cfg.Timeout = st, log, reg, jobTimeout
			srv, err := server.New(cfg)
			if err != nil {
				return err
			}
			q, err := jobs.Open(ctx, st, jobs.Config{DSN: dsn, Concurrency: concurrency, MaxAttempts: attempts, JobTimeout: jobTimeout,
				Registry: reg, Logger: log,
				Coder: jobs.CoderFunc(func(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
					return srv.CodeDocument(ctx, tenant, req)
				})})
			if err != nil {
				return err
			}
			if metrics != "" {
				l, err := net.Listen("tcp", metrics)
				if err != nil {
					q.Stop(ctx)
					return err
				}
				mux := http.NewServeMux()
				mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
				mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, `{"status":"ok"}`) })
				hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
				go hs.Serve(l)
				defer hs.Close()
				fmt.Fprintf(a.stderr, "medcode: worker metrics at http://%s/metrics\n", l.Addr())
			}
			if err := q.Start(ctx); err != nil {
				return err
			}
			log.Info("working", "store", string(st.Backend()), "reasoner", reasonerName, "releases", cfg.Codes.Releases(), "concurrency", concurrency)
			if st.Backend() == store.SQLite {
				log.Warn("the store is SQLite: a worker shares it with the processes of this machine only; several machines need PostgreSQL")
			}
			<-ctx.Done()
			log.Info("stopping", "grace", grace.String())
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
			defer cancel()
			return q.Stop(sctx)
		},
	}
	db.add(cmd.Flags())
	rf = addReasonerFlags(cmd.Flags())
	cmd.Flags().IntVar(&concurrency, "concurrency", runtime.GOMAXPROCS(0), "coding jobs worked at once (with --reasoner llm, most of a job is waiting on the model: many more than the cores)")
	cmd.Flags().StringVar(&metrics, "metrics-addr", "", "address to serve /metrics and /healthz on (none when empty)")
	cmd.Flags().StringVar(&logFormat, "log-format", "json", "log format: json or text")
	cmd.Flags().DurationVar(&grace, "grace", 60*time.Second, "on shutdown, how long to wait for the jobs in hand")
	addMinScoreFlag(cmd.Flags(), &minScore)
	cmd.Flags().StringToStringVar(&tenantMin, "tenant-min-score", nil, "a tenant's own --min-score, overriding it: TENANT=SCORE, comma-separated")
	addJobFlags(cmd.Flags(), &attempts, &jobTimeout)
	return cmd
}
