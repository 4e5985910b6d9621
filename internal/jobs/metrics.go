package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"

	"github.com/medcode-dev/medcode/internal/store"
)

// metrics are the queue's: the jobs in each state and the queue's depth,
// read from River's table when scraped, and the latency and attempts of
// the jobs this process finished.
type metrics struct {
	latency  prometheus.Histogram
	attempts prometheus.Histogram
	outcomes *prometheus.CounterVec
}

func newMetrics(st *store.Store, reg prometheus.Registerer) *metrics {
	m := &metrics{
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "medcode_job_latency_seconds",
			Help:    "Time from a coding job's insertion to its end (completed, retried or failed), by this process.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 14)}),
		attempts: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "medcode_job_attempts",
			Help: "The attempt a coding job finished on, by this process.", Buckets: []float64{1, 2, 3, 4, 5, 7, 10, 15, 25}}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medcode_jobs_finished_total",
			Help: "Coding job attempts this process finished, by outcome: completed, retried or failed."}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.latency, m.attempts, m.outcomes, &stateCollector{st: st})
	}
	return m
}

func (m *metrics) finished(job *rivertype.JobRow, outcome string) {
	m.latency.Observe(time.Since(job.CreatedAt).Seconds())
	m.attempts.Observe(float64(job.Attempt))
	m.outcomes.WithLabelValues(outcome).Inc()
}

var (
	jobsDesc  = prometheus.NewDesc("medcode_jobs", "Coding jobs in River's table by state (finished jobs are kept a day).", []string{"state"}, nil)
	depthDesc = prometheus.NewDesc("medcode_job_queue_depth", "Coding jobs waiting for a worker: available, scheduled or to be retried.", nil, nil)
)

// stateCollector counts the jobs in each state when scraped, so that
// every process, API server or worker, reports the whole queue.
type stateCollector struct{ st *store.Store }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- jobsDesc
	ch <- depthDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := jobCounts(ctx, c.st)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		return
	}
	depth := 0
	for _, s := range rivertype.JobStates() {
		n := counts[string(s)]
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(n), string(s))
		switch s {
		case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRetryable:
			depth += n
		}
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
}

// jobCounts counts the coding jobs in each state.
func jobCounts(ctx context.Context, st *store.Store) (map[string]int, error) {
	q := `SELECT state, COUNT(*) FROM river_job WHERE queue = $1 GROUP BY state`
	if st.Backend() == store.SQLite {
		q = `SELECT state, COUNT(*) FROM river_job WHERE queue = ? GROUP BY state`
	}
	rows, err := st.DB().QueryContext(ctx, q, QueueName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}
