// Package server is medcode's coding service: a JSON API under /v1 to
// submit notes for coding, review the codes (accept, reject, replace, add),
// export the result and read the installed Official Guidelines the trails
// cite, an OpenAPI document at /openapi.json, health, readiness and
// Prometheus metrics, and the review UI, all from one binary. It stores everything through internal/store and codes through
// any coding.Reasoner.
package server

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/medcode-dev/medcode/internal/codesys"
	"github.com/medcode-dev/medcode/internal/coding"
	"github.com/medcode-dev/medcode/internal/guidelines"
	"github.com/medcode-dev/medcode/internal/store"
)

//go:embed openapi.json
var openAPI []byte

//go:embed ui
var uiFiles embed.FS

// Config is what a Server needs. Store, Reasoner and Codes are required.
type Config struct {
	Store *store.Store
	// Reasoner codes into ReasonerSystems.
	Reasoner coding.Reasoner
	// ReasonerSystems are the classifications Reasoner codes into
	// (default ICD-10-CM and ICD-10-PCS), and those a request naming none
	// is coded into.
	ReasonerSystems []codesys.System
	// ClassReasoner builds the reasoner of any other classification
	// read as classes (ICD-10 WHO or UK, OPCS-4, a code list of the
	// user's own) from the release Codes serves of it: once, when a
	// request first names it; the server keeps it. It must be safe for
	// concurrent use. Nil: requests may name ReasonerSystems only.
	ClassReasoner func(ctx context.Context, rel *codesys.Release) (coding.Reasoner, error)
	// Codes validates, looks up and searches codes, and says which
	// classifications are installed.
	Codes Classifications
	// Logger receives one structured line per request; never note text.
	Logger *slog.Logger
	// MaxBody caps request bodies (default twice MaxNote and 64 KiB, room
	// for a note of MaxNote as JSON or base64-encoded in FHIR). A body
	// declared longer is refused before it is read.
	MaxBody int64
	// MaxNote caps the note of a submission, in bytes of UTF-8 text
	// (default 1 MiB, some 200 pages of discharge summary): coding takes
	// memory and time in proportion to it.
	MaxNote int
	// MaxCoding bounds the coding jobs in progress at once (default twice
	// GOMAXPROCS), and MaxCodingPerTenant those of one tenant (default
	// half of MaxCoding, at least 1). A job waits up to QueueWait
	// (default 2 s) for a slot, and is then refused: 429 with
	// Retry-After.
	MaxCoding          int
	MaxCodingPerTenant int
	QueueWait          time.Duration
	// LargeNote is the size in bytes from which a note is large (default
	// 64 KiB, longer than nearly any single note), and MaxCodingLarge
	// bounds the large notes coded at once, within MaxCoding (default
	// half of GOMAXPROCS, at least 1), so that they leave CPU to the
	// others.
	LargeNote      int
	MaxCodingLarge int
	// Timeout caps the handling of one request, coding included (default
	// 60 s).
	Timeout time.Duration
	// BodyTimeout caps the reading of a request body, from the end of
	// its headers (default 15 s): a client that stalls or trickles its
	// body gets 408 rather than holding a connection and a handler.
	BodyTimeout time.Duration
	// Registry receives the server's metrics; a new one when nil.
	Registry *prometheus.Registry
	// MinScore drops the codes the reasoner scores below it (0: none);
	// TenantMinScore overrides it for the tenants it names. The scores
	// are the reasoner's as given, calibrated when the reasoner is
	// wrapped in a calibration (internal/calibrate).
	MinScore       float64
	TenantMinScore map[string]float64
	// Guidelines are the installed editions of the ICD-10-CM Official
	// Guidelines, served under /v1/guidelines so that a reviewer can read
	// the section a trail cites. None: those routes answer 404.
	Guidelines []*guidelines.Document
	// Jobs queues submissions that ask for it (?async=1, ?wait=,
	// Prefer: respond-async) for workers to code. Nil: every submission
	// is coded at once.
	Jobs Enqueuer
}

// Server is the coding service. Create it with New.
type Server struct {
	cfg      Config
	log      *slog.Logger
	mux      *http.ServeMux
	reg      *prometheus.Registry
	m        metrics
	draining atomic.Bool
	// classReasoners are the reasoners Config.ClassReasoner built.
	classReasoners lazy[codesys.System, coding.Reasoner]
	// guidelines are Config.Guidelines by year.
	guidelines map[string]*guidelines.Document
	// admit bounds the coding jobs in progress.
	admit *admission
}

type metrics struct {
	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	codingDur prometheus.Histogram
	codes     prometheus.Histogram
	decisions *prometheus.CounterVec
	coding    prometheus.Gauge
	refused   prometheus.Counter
}

// access says which roles may use a route.
type access int

const (
	public  access = iota // no token
	anyRole               // any valid token: read
	write                 // coder, admin: submit, code, decide
	audit                 // auditor, admin: the tenant's audit log
	admin                 // admin: tokens
)

func (a access) allows(r store.Role) bool {
	switch a {
	case public, anyRole:
		return true
	case write:
		return r == store.Coder || r == store.Admin
	case audit:
		return r == store.Auditor || r == store.Admin
	case admin:
		return r == store.Admin
	}
	return false
}

// route is one endpoint; Routes lists them for the OpenAPI check.
type route struct {
	method, path string
	access       access
	handler      func(w http.ResponseWriter, r *http.Request) *apiError
}

func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.health},
		{"GET", "/readyz", public, s.ready},
		{"GET", "/openapi.json", public, s.openapi},
		{"GET", "/v1/me", anyRole, s.me},
		{"POST", "/v1/documents", write, s.createDocument},
		{"GET", "/v1/documents", anyRole, s.listDocuments},
		{"GET", "/v1/documents/{id}", anyRole, s.getDocument},
		{"POST", "/v1/documents/{id}/code", write, s.recode},
		{"POST", "/v1/documents/{id}/codes", write, s.addCode},
		{"POST", "/v1/documents/{id}/codes/{codeId}/decision", write, s.decide},
		{"GET", "/v1/documents/{id}/audit", anyRole, s.documentAudit},
		{"GET", "/v1/documents/{id}/export", anyRole, s.export},
		{"GET", "/v1/codes/{system}/{code}", anyRole, s.lookup},
		{"GET", "/v1/search", anyRole, s.search},
		{"GET", "/v1/systems", anyRole, s.listSystems},
		{"GET", "/v1/guidelines", anyRole, s.listGuidelines},
		{"GET", "/v1/guidelines/{year}/search", anyRole, s.searchGuidelines},
		{"GET", "/v1/guidelines/{year}/{section}", anyRole, s.getGuideline},
		{"GET", "/v1/batches/{id}", anyRole, s.batch},
		{"GET", "/v1/audit", audit, s.tenantAudit},
		{"GET", "/v1/audit/summary", audit, s.auditSummary},
		{"GET", "/v1/tokens", admin, s.listTokens},
		{"POST", "/v1/tokens", admin, s.createToken},
		{"DELETE", "/v1/tokens/{id}", admin, s.revokeToken},
		{"POST", "/v1/tokens/{id}/rotate", admin, s.rotateToken},
	}
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Reasoner == nil || cfg.Codes == nil {
		return nil, errors.New("server: Store, Reasoner and Codes are required")
	}
	if cfg.MaxNote <= 0 {
		cfg.MaxNote = 1 << 20
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 2*int64(cfg.MaxNote) + 64<<10
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.BodyTimeout <= 0 {
		cfg.BodyTimeout = 15 * time.Second
	}
	if cfg.MaxCoding <= 0 {
		cfg.MaxCoding = 2 * runtime.GOMAXPROCS(0)
	}
	if cfg.MaxCodingPerTenant <= 0 {
		cfg.MaxCodingPerTenant = max(1, cfg.MaxCoding/2)
	}
	cfg.MaxCodingPerTenant = min(cfg.MaxCodingPerTenant, cfg.MaxCoding)
	if cfg.LargeNote <= 0 {
		cfg.LargeNote = 64 << 10
	}
	if cfg.MaxCodingLarge <= 0 {
		cfg.MaxCodingLarge = max(1, runtime.GOMAXPROCS(0)/2)
	}
	cfg.MaxCodingLarge = min(cfg.MaxCodingLarge, cfg.MaxCoding)
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), reg: cfg.Registry,
		guidelines: make(map[string]*guidelines.Document, len(cfg.Guidelines)),
		admit:      newAdmission(cfg.MaxCoding, cfg.MaxCodingPerTenant, cfg.MaxCodingLarge, cfg.QueueWait)}
	for _, d := range cfg.Guidelines {
		if d == nil || d.Year == "" {
			return nil, errors.New("server: a guidelines edition without a year")
		}
		if d.System != "" && d.System != guidelines.SystemCM {
			return nil, fmt.Errorf("server: the %s guidelines of %s are not ICD-10-CM guidelines", d.System, d.Year)
		}
		if s.guidelines[d.Year] != nil {
			return nil, fmt.Errorf("server: two guidelines editions of %s", d.Year)
		}
		s.guidelines[d.Year] = d
	}
	if s.reg == nil {
		s.reg = prometheus.NewRegistry()
		s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s.m = metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medcode_http_requests_total", Help: "HTTP requests by route, method and status code."},
			[]string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "medcode_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14)}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "medcode_http_in_flight_requests", Help: "Requests being handled."}),
		codingDur: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "medcode_coding_duration_seconds", Help: "Time to code one note.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 14)}),
		codes: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "medcode_codes_per_note", Help: "Codes proposed per coded note.",
			Buckets: []float64{0, 1, 2, 3, 5, 8, 13, 21, 34, 55}}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "medcode_decisions_total", Help: "Coders' decisions by action."}, []string{"action"}),
		coding:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "medcode_coding_jobs", Help: "Coding jobs in progress."}),
		refused:   prometheus.NewCounter(prometheus.CounterOpts{Name: "medcode_coding_refused_total", Help: "Coding jobs refused (429) for want of a slot."}),
	}
	s.reg.MustRegister(s.m.requests, s.m.latency, s.m.inFlight, s.m.codingDur, s.m.codes, s.m.decisions, s.m.coding, s.m.refused)

	for _, rt := range s.routes() {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	ui, _ := fs.Sub(uiFiles, "ui")
	static := http.StripPrefix("/ui/", http.FileServerFS(ui))
	s.mux.Handle("GET /ui/", securityHeaders(static))
	s.mux.Handle("GET /{$}", securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, ui, "index.html")
	})))
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

type ctxKey struct{}

// token returns the authenticated token of a request.
func token(r *http.Request) *store.Token {
	t, _ := r.Context().Value(ctxKey{}).(*store.Token)
	return t
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// wrap adds what every API route shares: limits, authentication and role
// checks, metrics and the request log line. The log line has the route
// pattern, never the path's values beyond IDs, and never a body.
func (s *Server) wrap(rt route) http.Handler {
	name := rt.path
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		s.m.inFlight.Inc()
		defer s.m.inFlight.Dec()
		sw := &statusWriter{ResponseWriter: w}
		w = sw
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Body != nil && r.Body != http.NoBody {
			// The deadline bounds the body only: net/http clears it
			// when the body has been read and it starts reading on, to
			// notice a client going away. Not every ResponseWriter has a
			// connection (a test's recorder); the error is then moot.
			http.NewResponseController(w).SetReadDeadline(start.Add(s.cfg.BodyTimeout))
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)

		var tok *store.Token
		var aerr *apiError
		if r.ContentLength > s.cfg.MaxBody {
			// Refused before a byte of it is read.
			w.Header().Set("Connection", "close")
			aerr = errorf(http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("the request body is larger than %d bytes", s.cfg.MaxBody))
		}
		if aerr == nil && rt.access != public {
			tok, aerr = s.authenticate(r)
			if aerr == nil && !rt.access.allows(tok.Role) {
				aerr = errorf(http.StatusForbidden, "forbidden", fmt.Sprintf("the %s role may not %s %s", tok.Role, rt.method, rt.path))
			}
			if aerr == nil {
				r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, tok))
			}
		}
		if aerr == nil {
			aerr = rt.handler(w, r)
		}
		if aerr != nil {
			if aerr.Status == http.StatusRequestTimeout {
				// The rest of the body may still come: the connection is
				// not at a request's start.
				w.Header().Set("Connection", "close")
			}
			if aerr.Status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="medcode"`)
			}
			writeError(w, aerr)
		}
		d := time.Since(start)
		code := strconv.Itoa(sw.status)
		s.m.requests.WithLabelValues(name, rt.method, code).Inc()
		s.m.latency.WithLabelValues(name, rt.method).Observe(d.Seconds())
		attrs := []any{"method", rt.method, "route", name, "status", sw.status, "duration_ms", float64(d.Microseconds()) / 1000, "bytes", sw.bytes}
		if id := r.PathValue("id"); id != "" {
			attrs = append(attrs, "id", id)
		}
		if tok != nil {
			attrs = append(attrs, "tenant", tok.Tenant, "actor", tok.Name)
		}
		if aerr != nil {
			attrs = append(attrs, "error", aerr.Code)
		}
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(r.Context(), level, "request", attrs...)
	})
}

func (s *Server) authenticate(r *http.Request) (*store.Token, *apiError) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return nil, errorf(http.StatusUnauthorized, "unauthenticated", "send an API token: Authorization: Bearer <token>")
	}
	tok, err := s.cfg.Store.Authenticate(r.Context(), h[len(prefix):])
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(http.StatusUnauthorized, "unauthenticated", "unknown or revoked token")
	}
	if errors.Is(err, store.ErrExpired) {
		return nil, errorf(http.StatusUnauthorized, "token_expired", "the token has expired: ask an admin for a new one")
	}
	if err != nil {
		return nil, s.internal(r, "authenticate", err)
	}
	return tok, nil
}

// internal logs an unexpected error and returns a 500 that says nothing
// more to the client.
func (s *Server) internal(r *http.Request, what string, err error) *apiError {
	if errors.Is(err, context.DeadlineExceeded) {
		return errorf(http.StatusServiceUnavailable, "timeout", what+": the request took too long")
	}
	s.log.ErrorContext(r.Context(), "internal error", "op", what, "err", err.Error())
	return errorf(http.StatusInternalServerError, "internal", what+" failed")
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) *apiError {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) *apiError {
	if s.draining.Load() {
		return errorf(http.StatusServiceUnavailable, "draining", "the server is shutting down")
	}
	if err := s.cfg.Store.Ping(r.Context()); err != nil {
		return errorf(http.StatusServiceUnavailable, "store_unavailable", "the store does not answer")
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "releases": s.cfg.Codes.Releases(), "store": s.cfg.Store.Backend()})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) *apiError {
	w.Header().Set("Content-Type", "application/json")
	w.Write(openAPI)
	return nil
}

// Serve serves on l until ctx is done, then shuts down gracefully: it
// stops accepting connections, reports not ready, and waits up to grace
// for requests in flight, coding included, to finish.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.Timeout,
		WriteTimeout:      s.cfg.Timeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.log.Info("shutting down", "grace", grace.String())
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
