// Package jobs codes queued documents with River, a job queue kept in the
// store's own database: PostgreSQL for any number of API servers and
// workers, or SQLite for one machine, where the server runs the workers
// in-process over the same jobs.
//
// A document and its coding job are written in one transaction
// (Queue.Enqueue), and a worker stores the run, its codes and audit
// entries in one transaction with the job's completion, so that a crash at
// any point leaves either both or neither: a job is never lost nor a
// document coded twice. River retries a failed job with backoff up to a
// bound of attempts, and rescues the jobs of a worker that died.
//
// River works here through drivers for database/sql, over the store's own
// connection pool (pgx's database/sql driver on PostgreSQL, modernc.org's
// SQLite), so that a job is inserted and completed in the store's
// *sql.Tx; on PostgreSQL a worker also holds a pgx v5 connection of its
// own on which River listens for new jobs, so that it need not poll.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/store"
)

// QueueName is the name of River's queue the coding jobs go to.
const QueueName = "coding"

// CodeArgs are a coding job's arguments: which document to code, for
// whom, into which classifications. The note itself stays in the
// documents table.
type CodeArgs struct {
	Tenant   string `json:"tenant"`
	Document string `json:"document"`
	// Actor and TokenID are the submitter's: the run is theirs.
	Actor   string   `json:"actor"`
	TokenID string   `json:"token,omitempty"`
	Systems []string `json:"systems,omitempty"`
	Batch   string   `json:"batch,omitempty"`
}

// Kind names the job kind in River's tables.
func (CodeArgs) Kind() string { return "medcode_code_document" }

// Coder codes a document's note as the API server codes a synchronous
// submission (server.Server.CodeDocument).
type Coder interface {
	CodeDocument(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error)
}

// CoderFunc is a function that codes as a Coder does.
type CoderFunc func(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error)

// CodeDocument calls f.
func (f CoderFunc) CodeDocument(ctx context.Context, tenant string, req coding.Request) (*store.Run, []*store.Code, error) {
	return f(ctx, tenant, req)
}

// Config configures a job queue.
type Config struct {
	// DSN is the store's PostgreSQL URL; workers listen on a connection
	// of their own for new jobs. Unused on SQLite.
	DSN string
	// Coder codes the jobs; nil for a queue that only inserts (an API
	// server with no workers, or medcode submit).
	Coder Coder
	// Concurrency is how many jobs this process works at once; 0 works
	// none.
	Concurrency int
	// MaxAttempts bounds the attempts of a job before its document is
	// failed (default 5).
	MaxAttempts int
	// JobTimeout bounds one attempt (default 1 minute). A job whose
	// worker died is taken up again after JobTimeout plus as much again,
	// at most a minute more.
	JobTimeout time.Duration
	// RetryBackoff is the wait before the second attempt; each further
	// one waits four times longer, up to an hour (default 1 s).
	RetryBackoff time.Duration
	// Registry receives the queue's metrics; none when nil.
	Registry prometheus.Registerer
	// Logger receives River's warnings and the workers' errors.
	Logger *slog.Logger
}

// A Queue inserts coding jobs and, with a Coder, works them.
type Queue struct {
	cfg      Config
	st       *store.Store
	client   *river.Client[*sql.Tx]
	listener *pgxpool.Pool
	m        *metrics
	log      *slog.Logger
}

// Open opens the job queue in the database of st, creating or upgrading
// River's tables first. Start it to work jobs.
func Open(ctx context.Context, st *store.Store, cfg Config) (*Queue, error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = time.Minute
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Concurrency > 0 && cfg.Coder == nil {
		return nil, errors.New("job queue: workers need a Coder")
	}
	q := &Queue{cfg: cfg, st: st, log: cfg.Logger}
	var driver riverdriver.Driver[*sql.Tx]
	pollOnly := false
	switch st.Backend() {
	case store.Postgres:
		if err := migratePostgres(ctx, st.DB()); err != nil {
			return nil, err
		}
		if cfg.Concurrency > 0 && cfg.DSN != "" {
			// The driver's errors may quote the URL: its password is
			// taken out, as the store does.
			pc, err := pgxpool.ParseConfig(cfg.DSN)
			if err != nil {
				return nil, fmt.Errorf("job queue: listener on %s: %w", store.Redact(cfg.DSN), store.RedactError(err, cfg.DSN))
			}
			pc.MaxConns, pc.MinConns = 2, 0
			if q.listener, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
				return nil, fmt.Errorf("job queue: listener on %s: %w", store.Redact(cfg.DSN), store.RedactError(err, cfg.DSN))
			}
			driver = riverdatabasesql.NewWithPgxListener(st.DB(), q.listener)
		} else {
			driver = riverdatabasesql.New(st.DB())
			pollOnly = true
		}
	case store.SQLite:
		d := riversqlite.New(st.DB())
		m, err := rivermigrate.New(d, nil)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return nil, fmt.Errorf("job queue: create River's tables: %w", err)
		}
		driver, pollOnly = d, true
	default:
		return nil, fmt.Errorf("job queue: no River driver for the %s store", st.Backend())
	}
	q.m = newMetrics(st, cfg.Registry)
	workers := river.NewWorkers()
	river.AddWorker(workers, &codeWorker{q: q})
	rc := &river.Config{
		Logger:               cfg.Logger,
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.JobTimeout + min(cfg.JobTimeout, time.Minute),
		RetryPolicy:          backoff{base: cfg.RetryBackoff},
		Workers:              workers,
		PollOnly:             pollOnly,
	}
	if cfg.Concurrency > 0 {
		rc.Queues = map[string]river.QueueConfig{QueueName: {MaxWorkers: cfg.Concurrency}}
		// River fetches at most this often: at its default (100 ms) a
		// worker that codes a note in a few milliseconds would wait
		// on it most of the time.
		rc.FetchCooldown = 5 * time.Millisecond
		if pollOnly {
			// No notification of new jobs: look often, the query is
			// cheap.
			rc.FetchPollInterval = 100 * time.Millisecond
		}
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		q.closeListener()
		return nil, fmt.Errorf("job queue: %w", err)
	}
	q.client = client
	return q, nil
}

// migratePostgres creates or upgrades River's tables under an advisory
// lock, so that processes starting together do not race. River applies
// each of its migrations in a transaction of its own: one adds a value to
// an enum type that a later one uses, which PostgreSQL refuses in a
// single transaction.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("job queue: create River's tables: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7277631)`); err != nil {
		return fmt.Errorf("job queue: create River's tables: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7277631)`)
	m, err := rivermigrate.New(riverdatabasesql.New(db), nil)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue: create River's tables: %w", err)
	}
	return nil
}

// Start starts working jobs, when the queue has workers, until Stop.
func (q *Queue) Start(ctx context.Context) error {
	if q.cfg.Concurrency <= 0 {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("job queue: start workers: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for those in hand to finish until ctx
// is done; then it cancels them, and River takes them up again later,
// here or in another worker. It returns once the workers have stopped.
func (q *Queue) Stop(ctx context.Context) error {
	defer q.closeListener()
	if q.cfg.Concurrency <= 0 {
		return nil
	}
	err := q.client.Stop(ctx)
	if err == nil || !(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return err
	}
	q.log.Warn("jobs still running at the end of the grace period: cancelling them; they will be retried")
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return q.client.StopAndCancel(cctx)
}

func (q *Queue) closeListener() {
	if q.listener != nil {
		q.listener.Close()
		q.listener = nil
	}
}

// Enqueue stores docs, queued, with a coding job each, in one
// transaction. systems are the classifications to code into (none: the
// reasoner's), batch the batch they belong to ("" for none).
func (q *Queue) Enqueue(ctx context.Context, actor store.Actor, docs []*store.Document, systems []codesys.System, batch string) error {
	return q.st.EnqueueDocuments(ctx, actor, docs, batch, q.insertJobs(actor, docs, systems, batch))
}

// EnqueueOnce is Enqueue of one document submitted with an idempotency
// key, recorded in the same transaction (store.EnqueueDocumentOnce): a
// retry with the key finds the document instead of queueing another.
func (q *Queue) EnqueueOnce(ctx context.Context, actor store.Actor, key store.Idempotency, d *store.Document, systems []codesys.System) error {
	return q.st.EnqueueDocumentOnce(ctx, actor, key, d, q.insertJobs(actor, []*store.Document{d}, systems, ""))
}

// insertJobs returns the function that inserts the coding jobs of docs
// in a store transaction.
func (q *Queue) insertJobs(actor store.Actor, docs []*store.Document, systems []codesys.System, batch string) store.TxFunc {
	names := make([]string, len(systems))
	for i, s := range systems {
		names[i] = string(s)
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		params := make([]river.InsertManyParams, len(docs))
		for i, d := range docs {
			params[i] = river.InsertManyParams{
				Args:       CodeArgs{Tenant: actor.Tenant, Document: d.ID, Actor: actor.Name, TokenID: actor.TokenID, Systems: names, Batch: batch},
				InsertOpts: &river.InsertOpts{Queue: QueueName, MaxAttempts: q.cfg.MaxAttempts},
			}
		}
		if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("insert %d coding jobs: %w", len(docs), err)
		}
		return nil
	}
}

// codeWorker works coding jobs.
type codeWorker struct {
	river.WorkerDefaults[CodeArgs]
	q *Queue
}

// Work codes the job's document and stores the run in one transaction
// with the job's completion.
func (w *codeWorker) Work(ctx context.Context, job *river.Job[CodeArgs]) error {
	q, a := w.q, job.Args
	actor := store.Actor{Tenant: a.Tenant, Name: a.Actor, TokenID: a.TokenID}
	d, err := q.st.GetDocument(ctx, a.Tenant, a.Document)
	if errors.Is(err, store.ErrNotFound) {
		// Cannot happen while a job and its document are written
		// together; retrying would not make it appear.
		return river.JobCancel(err)
	}
	if err != nil {
		return w.failed(ctx, job, actor, err)
	}
	if len(d.Runs) > 0 {
		return nil // coded by an earlier attempt that committed
	}
	if err := q.st.MarkCoding(ctx, a.Tenant, a.Document); err != nil {
		return w.failed(ctx, job, actor, err)
	}
	systems := make([]codesys.System, len(a.Systems))
	for i, s := range a.Systems {
		systems[i] = codesys.System(s)
	}
	run, codes, err := q.cfg.Coder.CodeDocument(ctx, a.Tenant, coding.Request{ID: d.ID, Text: d.Text, Setting: d.Setting, Systems: systems})
	if err != nil {
		return w.failed(ctx, job, actor, err)
	}
	_, err = q.st.CompleteCoding(ctx, actor, d.ID, run, codes, func(ctx context.Context, tx *sql.Tx) error {
		_, err := river.JobCompleteTx[*riverdatabasesql.Driver](ctx, tx, job)
		return err
	})
	if err != nil {
		return w.failed(ctx, job, actor, err)
	}
	q.m.finished(job.JobRow, "completed")
	return nil
}

// Timeout bounds one attempt.
func (w *codeWorker) Timeout(*river.Job[CodeArgs]) time.Duration { return w.q.cfg.JobTimeout }

// failed records a failed attempt on the document (queued again, or
// failed when it was the last) and returns err for River to retry.
func (w *codeWorker) failed(ctx context.Context, job *river.Job[CodeArgs], actor store.Actor, err error) error {
	final := job.Attempt >= job.MaxAttempts
	msg := err.Error()
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			msg = "the worker stopped during the coding"
		} else {
			msg = fmt.Sprintf("the coding took longer than %s", w.q.cfg.JobTimeout)
		}
	}
	msg = fmt.Sprintf("attempt %d of %d: %s", job.Attempt, job.MaxAttempts, strings.TrimSpace(msg))
	// The job's context may be the one that ended: record the failure on
	// a context of its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := w.q.st.CodingFailed(rctx, actor, job.Args.Document, job.Attempt, msg, final); rerr != nil {
		w.q.log.Error("record a failed coding", "document", job.Args.Document, "err", rerr.Error())
	}
	outcome := "retried"
	if final {
		outcome = "failed"
	}
	w.q.m.finished(job.JobRow, outcome)
	return err
}

// backoff is the retry policy: base before the second attempt, four times
// longer before each next one, at most an hour.
type backoff struct{ base time.Duration }

func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	d := b.base
	for i := 1; i < job.Attempt && d < time.Hour; i++ {
		d *= 4
	}
	return time.Now().Add(min(d, time.Hour))
}
