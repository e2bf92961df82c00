package metrics_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/internal/apptest"
	"phaseflow/metrics"
)

const cronSecret = "metrics-test-cron-secret-0123456789abcdef"

// scrape fetches the metrics server's exposition and returns its samples keyed by
// `name{labels}` as written (labels sorted by name, as client_golang writes them).
func scrape(t *testing.T, addr string) (map[string]float64, string) {
	t.Helper()
	res, err := http.Get("http://" + addr + metrics.Path)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %d %v", res.StatusCode, err)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("unparsable sample %q", line)
		}
		samples[line[:i]] = v
	}
	return samples, string(raw)
}

func TestMetricsScrape(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.Metrics.Addr = "127.0.0.1:0"
	cfg.CronSecret = cronSecret
	cfg.AuthRateLimit = 3
	failing := func(app *tests.TestApp) {
		// Inside metrics' handler: a mail to this address fails as an unreachable SMTP would.
		app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
			if e.Message.To[0].Address == "bounce@example.com" {
				return errors.New("smtp: connection refused")
			}
			return e.Next()
		})
	}
	srv := apptest.Start(t, cfg, failing)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	addr := metrics.From(srv.App).Addr()
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("expected the metrics server on loopback, got %q", addr)
	}

	// Two wrong passwords, one sign-in, then the rate limit (3 a minute): two more attempts get
	// 429, of which the audit records one (once per client per minute).
	wrong := map[string]string{"identity": "ana@example.com", "password": "not-the-password"}
	for range 2 {
		if res := srv.Do(t, "POST", "/api/collections/users/auth-with-password", wrong, nil); res.Status != http.StatusBadRequest {
			t.Fatalf("expected 400, got %d", res.Status)
		}
	}
	token := srv.SignIn(t, "ana@example.com", "metrics test")
	for range 2 {
		if res := srv.Do(t, "POST", "/api/collections/users/auth-with-password", wrong, nil); res.Status != http.StatusTooManyRequests {
			t.Fatalf("expected 429, got %d", res.Status)
		}
	}
	// A calendar feed request: its token is in the path.
	res := srv.Do(t, "POST", "/api/user/calendar-token", nil, apptest.Auth(token))
	feed, err := url.Parse(res.JSON(t)["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if res := srv.Do(t, "GET", feed.Path, nil, nil); res.Status != http.StatusOK {
		t.Fatalf("expected the feed, got %d", res.Status)
	}
	feedToken := strings.TrimSuffix(feed.Path[strings.LastIndexByte(feed.Path, '/')+1:], ".ics")
	// One job run, one mail delivered and one that fails.
	if res := srv.Do(t, "POST", "/api/cron/cleanup", nil, map[string]string{"Authorization": "Bearer " + cronSecret}); res.Status != http.StatusOK {
		t.Fatalf("expected the cleanup job to run, got %d: %s", res.Status, res.Body)
	}
	for _, to := range []string{"ana@example.com", "bounce@example.com"} {
		_ = srv.App.NewMailClient().Send(&mailer.Message{
			From: mail.Address{Address: "phaseflow@example.com"}, To: []mail.Address{{Address: to}}, Subject: "Hello", Text: "Hello",
		})
	}

	want := map[string]float64{
		`phaseflow_signin_attempts_total{method="password",outcome="failure"}`:      2,
		`phaseflow_signin_attempts_total{method="password",outcome="success"}`:      1,
		`phaseflow_signin_attempts_total{method="password",outcome="rate_limited"}`: 1,
		`phaseflow_signin_attempts_total{method="otp",outcome="failure"}`:           0,
		`phaseflow_auth_events_total{method="calendar_token",outcome="success"}`:    1,
		`phaseflow_auth_events_total{method="cron",outcome="success"}`:              1,
		`phaseflow_sessions_active`:                                 1,
		`phaseflow_mails_total{outcome="sent"}`:                     1,
		`phaseflow_mails_total{outcome="failed"}`:                   1,
		`phaseflow_job_runs_total{job="cleanup",outcome="success"}`: 1,
		`phaseflow_http_request_duration_seconds_count{method="POST",route="/api/collections/{collection}/auth-with-password",status="400"}`: 2,
		`phaseflow_http_request_duration_seconds_count{method="POST",route="/api/collections/{collection}/auth-with-password",status="200"}`: 1,
		`phaseflow_http_request_duration_seconds_count{method="POST",route="/api/collections/{collection}/auth-with-password",status="429"}`: 2,
		`phaseflow_http_request_duration_seconds_count{method="GET",route="/api/calendar/{userId}/{file}",status="200"}`:                     1,
	}
	// A request is observed after its response is written: poll until the last one is in.
	var got map[string]float64
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, body = scrape(t, addr)
		mismatch := ""
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				mismatch = k
			}
		}
		if mismatch == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expected %s = %v, got %v (present: %t)", mismatch, want[mismatch], got[mismatch], func() bool { _, ok := got[mismatch]; return ok }())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(body, feedToken) || strings.Contains(body, "ana@example.com") {
		t.Fatal("expected no feed token and no email in the metrics")
	}
	if _, ok := got[`go_goroutines`]; !ok {
		t.Fatal("expected the Go runtime metrics")
	}
}

func TestRoute(t *testing.T) {
	t.Parallel()
	for pattern, want := range map[string]string{
		"GET /api/calendar/{userId}/{file}": "/api/calendar/{userId}/{file}",
		"/api/realtime":                     "/api/realtime",
		"":                                  "unmatched",
	} {
		if got := metrics.Route(pattern); got != want {
			t.Fatalf("Route(%q): expected %q, got %q", pattern, want, got)
		}
	}
}

func TestMetricsOffByDefault(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	if m := metrics.From(srv.App); m != nil {
		t.Fatalf("expected no metrics without METRICS_ADDR, got a server on %q", m.Addr())
	}
	if res := srv.Do(t, "GET", "/api/health", nil, nil); res.Status != http.StatusOK {
		t.Fatalf("expected the middleware to pass requests through, got %d", res.Status)
	}
}
