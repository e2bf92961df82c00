// Package metrics is PhaseFlow's Prometheus endpoint: a /metrics listener of its own on
// METRICS_ADDR (off by default, loopback unless METRICS_ALLOW_REMOTE), started with the server
// and stopped with it. It counts what the audit records (every sign-in attempt and security
// action, by method and outcome, read from the stored auth_events row, so a new outcome such as
// "locked" appears without a change here), mails sent and failed, job runs, the live sessions
// (counted at scrape time, cached for a few seconds) and request durations by route pattern:
// never by raw path, which can hold a calendar feed token.
//
// The metrics live in a registry of their own, not Prometheus' default one: Litestream (linked
// into the binary for ./app replicate) registers its collectors there at start-up, and a
// registry per app keeps parallel test apps apart.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/jobs"
	"phaseflow/sessions"
)

// Path is where the metrics are served on METRICS_ADDR.
const Path = "/metrics"

// MiddlewareId is the id of Middleware among the router's global middlewares.
const MiddlewareId = "phaseflowMetrics"

// MailPriority places CountMail outside every other OnMailerSend handler, so it sees the outcome
// of the whole send.
const MailPriority = -100000

// signInMethods are the audit methods that are sign-in attempts (first or second factor).
var signInMethods = []string{audit.MethodPassword, audit.MethodOTP, audit.MethodOAuth2}

// sessionsCacheTTL is how long a count of live sessions is reused between scrapes.
const sessionsCacheTTL = 5 * time.Second

// storeKey holds an app's Metrics in its store.
const storeKey = "phaseflow.metrics"

// Metrics is the registry of one app and its metrics server.
type Metrics struct {
	app      core.App
	addr     string
	registry *prometheus.Registry

	authEvents *prometheus.CounterVec
	signIns    *prometheus.CounterVec
	mails      *prometheus.CounterVec
	jobRuns    *prometheus.CounterVec
	requests   *prometheus.HistogramVec

	sessionsMu    sync.Mutex
	sessionsAt    time.Time
	sessionsCount float64

	server   *http.Server
	listener net.Listener
}

// New returns the metrics of app when cfg turns them on (METRICS_ADDR), and nil otherwise. It
// stores them in app for Middleware.
func New(app core.App, cfg config.Config) *Metrics {
	if !cfg.Metrics.Enabled() {
		return nil
	}
	m := &Metrics{app: app, addr: cfg.Metrics.Addr, registry: prometheus.NewRegistry()}
	m.authEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phaseflow_auth_events_total",
		Help: "Sign-in attempts and security actions recorded in auth_events, by method and outcome.",
	}, []string{"method", "outcome"})
	m.signIns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phaseflow_signin_attempts_total",
		Help: "Sign-in attempts (password, email code, OAuth2; first or second factor) by method and outcome (success, failure, rate_limited, mfa_required, locked, ...).",
	}, []string{"method", "outcome"})
	m.mails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phaseflow_mails_total",
		Help: "Mails handed to the mailer, by outcome (sent or failed).",
	}, []string{"outcome"})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "phaseflow_job_runs_total",
		Help: "Scheduled job runs (in-process cron, /api/cron and ./app cron run in this process) by job and outcome.",
	}, []string{"job", "outcome"})
	m.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "phaseflow_http_request_duration_seconds",
		Help:    "HTTP request durations by method, route pattern (never the raw path) and status code.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route", "status"})
	sessionsGauge := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "phaseflow_sessions_active",
		Help: "Live sessions (signed-in devices), counted at scrape time and cached for 5 s.",
	}, m.liveSessions)
	m.registry.MustRegister(m.authEvents, m.signIns, m.mails, m.jobRuns, m.requests, sessionsGauge,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Every label value that exists from the start shows up as 0 rather than missing.
	for _, method := range signInMethods {
		for _, outcome := range audit.Outcomes {
			m.signIns.WithLabelValues(method, outcome)
		}
	}
	for _, outcome := range []string{"sent", "failed"} {
		m.mails.WithLabelValues(outcome)
	}
	app.Store().Set(storeKey, m)
	return m
}

// Addr is the address the metrics server listens on (the real port when METRICS_ADDR asked for
// port 0), or "" before Serve.
func (m *Metrics) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// From returns the metrics New stored in app, or nil.
func From(app core.App) *Metrics {
	m, _ := app.Store().Get(storeKey).(*Metrics)
	return m
}

// Serve is the OnServe handler that starts the metrics server; a METRICS_ADDR that cannot be
// listened on stops the start.
func (m *Metrics) Serve(se *core.ServeEvent) error {
	ln, err := net.Listen("tcp", m.addr)
	if err != nil {
		return fmt.Errorf("failed to listen on METRICS_ADDR: %w", err)
	}
	m.listener = ln
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	m.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.app.Logger().Error("Metrics server stopped", "error", err.Error())
		}
	}()
	m.app.Logger().Info("Serving metrics", "url", "http://"+ln.Addr().String()+Path)
	return se.Next()
}

// Stop is the OnTerminate handler that stops the metrics server.
func (m *Metrics) Stop(e *core.TerminateEvent) error {
	if m.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.server.Shutdown(ctx)
	}
	return e.Next()
}

// CountAuthEvent is the OnRecordAfterCreateSuccess handler of auth_events: every row the audit
// writes is counted by its stored method and outcome.
func (m *Metrics) CountAuthEvent(e *core.RecordEvent) error {
	method, outcome := e.Record.GetString(audit.FieldMethod), e.Record.GetString(audit.FieldOutcome)
	m.authEvents.WithLabelValues(method, outcome).Inc()
	if slices.Contains(signInMethods, method) {
		m.signIns.WithLabelValues(method, outcome).Inc()
	}
	return e.Next()
}

// CountMail is the OnMailerSend handler that counts a mail as sent or failed by the outcome of
// the rest of the chain (SMTP, or the console on a local run).
func (m *Metrics) CountMail(e *core.MailerEvent) error {
	err := e.Next()
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	m.mails.WithLabelValues(outcome).Inc()
	return err
}

// CountJob is the jobs.Observer that counts job runs.
func (m *Metrics) CountJob(res jobs.Result, err error) {
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	m.jobRuns.WithLabelValues(res.Job, outcome).Inc()
}

// liveSessions counts the live sessions, at most once per sessionsCacheTTL.
func (m *Metrics) liveSessions() float64 {
	m.sessionsMu.Lock()
	defer m.sessionsMu.Unlock()
	now := time.Now()
	if !m.sessionsAt.IsZero() && now.Sub(m.sessionsAt) < sessionsCacheTTL {
		return m.sessionsCount
	}
	n, err := sessions.CountLive(m.app, now)
	if err != nil {
		m.app.Logger().Warn("Failed to count live sessions for the metrics", "error", err.Error())
		return m.sessionsCount
	}
	m.sessionsAt, m.sessionsCount = now, float64(n)
	return m.sessionsCount
}

// knownMethods are the HTTP methods that get their own label value; anything else is "other".
var knownMethods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// Middleware observes every request's duration by method, route pattern and status. It does
// nothing when metrics are off.
func Middleware(e *core.RequestEvent) error {
	m := From(e.App)
	if m == nil {
		return e.Next()
	}
	start := time.Now()
	err := e.Next()
	status := e.Status()
	if err != nil && !e.Written() {
		status = router.ToApiError(err).Status // the router writes the error after the chain
	}
	if status == 0 {
		status = http.StatusOK
	}
	method := e.Request.Method
	if !slices.Contains(knownMethods, method) {
		method = "other"
	}
	m.requests.WithLabelValues(method, Route(e.Request.Pattern), strconv.Itoa(status)).Observe(time.Since(start).Seconds())
	return err
}

// Route is the label of a matched ServeMux pattern: the pattern without its method, e.g.
// "/api/calendar/{userId}/{file}", or "unmatched". It never contains a raw path.
func Route(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}
