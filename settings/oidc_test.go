package settings_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/settings"
)

// discoveryServer is an issuer whose discovery answers come from a script: the i-th request gets
// answer(i, issuer). It records when each request arrived.
type discoveryServer struct {
	URL string

	mu    sync.Mutex
	times []time.Time
}

func newDiscoveryServer(t *testing.T, answer func(i int, issuer string, w http.ResponseWriter)) *discoveryServer {
	t.Helper()
	d := &discoveryServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		d.mu.Lock()
		d.times = append(d.times, time.Now())
		i := len(d.times) - 1
		d.mu.Unlock()
		answer(i, d.URL, w)
	}))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

// requests returns the arrival times of the discovery requests so far.
func (d *discoveryServer) requests() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Time(nil), d.times...)
}

// serveDocument answers with a valid discovery document for issuer.
func serveDocument(issuer string, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"issuer":                 issuer,
		"authorization_endpoint": issuer + "/authorize",
		"token_endpoint":         issuer + "/api/oidc/token",
		"jwks_uri":               issuer + "/.well-known/jwks.json",
	})
}

// lockedBuffer is a bytes.Buffer safe for the retry goroutine to write while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// captureConsole sends the operator notices to a buffer for the rest of the test. The console is
// global, so tests that capture it must not run in parallel.
func captureConsole(t *testing.T) *lockedBuffer {
	t.Helper()
	b := &lockedBuffer{}
	settings.SetConsole(b)
	t.Cleanup(func() { settings.SetConsole(io.Discard) })
	return b
}

var consoleStamp = regexp.MustCompile(`^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)

// oidcLines returns the console lines about issuer without their time stamps, failing the test
// when a line lacks one.
func oidcLines(t *testing.T, out, issuer string) []string {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, "issuer="+issuer+" ") && !strings.HasSuffix(line, "issuer="+issuer) {
			continue
		}
		stamp := consoleStamp.FindString(line)
		if stamp == "" {
			t.Fatalf("expected a time stamp at the start of %q", line)
		}
		lines = append(lines, strings.TrimPrefix(line, stamp))
	}
	return lines
}

// waitDone waits for the discovery started by StartOIDCWithRetry to stop pending.
func waitDone(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("discovery was still pending after 10s")
	}
}

func oidcCfg(t *testing.T, issuer string) config.Config {
	cfg := apptest.Config(t)
	cfg.OIDC = config.OIDC{IssuerURL: issuer, ClientID: "client", ClientSecret: "secret", DisplayName: "Pocket-ID"}
	return cfg
}

func TestStartOIDCReportsAConfigurationErrorOnceAndDoesNotRetry(t *testing.T) {
	out := captureConsole(t)
	idp := newDiscoveryServer(t, func(_ int, issuer string, w http.ResponseWriter) { serveDocument(issuer, w) })
	configured := idp.URL + "/" // Pocket-ID's issuer has no trailing slash
	cfg := oidcCfg(t, configured)
	app := apptest.NewApp(t, cfg)

	done := settings.StartOIDCWithRetry(t.Context(), app, cfg, time.Millisecond, time.Millisecond)
	select {
	case <-done:
	default:
		t.Fatal("expected nothing left pending after a configuration error")
	}
	if n := len(idp.requests()); n != 1 {
		t.Fatalf("expected 1 discovery request, got %d", n)
	}
	if settings.OIDCProviderStored(app) {
		t.Fatal("expected no provider stored after a configuration error")
	}
	want := []string{
		"INFO Register this redirect URL at the identity provider redirectURL=http://127.0.0.1:8090/auth/callback issuer=" + configured,
		"ERROR OIDC configuration error: fix POCKETBASE_OIDC_ISSUER_URL (or the provider) and restart; discovery is not retried issuer=" + configured +
			` error="invalid discovery document from ` + idp.URL + `/.well-known/openid-configuration:\nissuer mismatch: discovery issuer \"` + idp.URL +
			`\" does not match the configured issuer \"` + configured + `\"; the issuer must be exactly \"` + idp.URL + `\": remove the trailing slash"`,
	}
	if got := oidcLines(t, out.String(), configured); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("expected the console lines\n%s\ngot\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

func TestStartOIDCRetriesAnOutageAndStatesEachRealWait(t *testing.T) {
	out := captureConsole(t)
	const failures = 4
	idp := newDiscoveryServer(t, func(i int, issuer string, w http.ResponseWriter) {
		if i < failures {
			w.WriteHeader(http.StatusServiceUnavailable) // a proxy in front of a restarting provider
			return
		}
		serveDocument(issuer, w)
	})
	cfg := oidcCfg(t, idp.URL)
	app := apptest.NewApp(t, cfg)

	done := settings.StartOIDCWithRetry(t.Context(), app, cfg, 20*time.Millisecond, 80*time.Millisecond)
	waitDone(t, done)

	if !settings.OIDCProviderStored(app) {
		t.Fatal("expected the provider stored once discovery succeeded")
	}
	failed := fmt.Sprintf(`error="failed to fetch discovery document: unexpected status 503 Service Unavailable from %s/.well-known/openid-configuration"`, idp.URL)
	want := []string{
		"INFO Register this redirect URL at the identity provider redirectURL=http://127.0.0.1:8090/auth/callback issuer=" + idp.URL,
		"WARN OIDC discovery failed; sign-in with the provider is unavailable until a retry in the background succeeds issuer=" + idp.URL + " " + failed + " nextRetry=20ms",
		"WARN OIDC discovery retry failed issuer=" + idp.URL + " " + failed + " nextRetry=40ms",
		"WARN OIDC discovery retry failed issuer=" + idp.URL + " " + failed + " nextRetry=80ms",
		"WARN OIDC discovery retry failed issuer=" + idp.URL + " " + failed + " nextRetry=80ms", // capped
		"INFO OIDC discovery succeeded after a retry issuer=" + idp.URL,
	}
	if got := oidcLines(t, out.String(), idp.URL); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("expected the console lines\n%s\ngot\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
	// Each stated wait is the one that passed before the next request (a timer never fires early).
	times := idp.requests()
	if len(times) != failures+1 {
		t.Fatalf("expected %d discovery requests, got %d", failures+1, len(times))
	}
	for i, stated := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond, 80 * time.Millisecond} {
		if gap := times[i+1].Sub(times[i]); gap < stated {
			t.Fatalf("request %d came %v after the previous one, but the notice said %v", i+2, gap, stated)
		}
	}
}

func TestStartOIDCStopsRetryingWhenTheProviderAnswersWithAConfigurationError(t *testing.T) {
	out := captureConsole(t)
	idp := newDiscoveryServer(t, func(i int, issuer string, w http.ResponseWriter) {
		if i == 0 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		serveDocument("https://another.example.com", w) // back, but not the configured issuer
	})
	cfg := oidcCfg(t, idp.URL)
	app := apptest.NewApp(t, cfg)

	done := settings.StartOIDCWithRetry(t.Context(), app, cfg, 10*time.Millisecond, 10*time.Millisecond)
	waitDone(t, done)

	if n := len(idp.requests()); n != 2 {
		t.Fatalf("expected 2 discovery requests (the outage, then the configuration error), got %d", n)
	}
	got := oidcLines(t, out.String(), idp.URL)
	if len(got) != 3 || !strings.HasPrefix(got[1], "WARN OIDC discovery failed;") ||
		!strings.HasPrefix(got[2], "ERROR OIDC configuration error:") || !strings.Contains(got[2], `\"https://another.example.com\" does not match`) {
		t.Fatalf("expected the redirect URL, one outage warning and one configuration error, got\n%s", strings.Join(got, "\n"))
	}
}

func TestStartOIDCRetryStopsWithTheContext(t *testing.T) {
	captureConsole(t)
	idp := newDiscoveryServer(t, func(_ int, _ string, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) })
	cfg := oidcCfg(t, idp.URL)
	app := apptest.NewApp(t, cfg)

	ctx, cancel := context.WithCancel(t.Context())
	done := settings.StartOIDCWithRetry(ctx, app, cfg, time.Hour, time.Hour)
	select {
	case <-done:
		t.Fatal("expected a retry pending while the provider is down")
	default:
	}
	cancel()
	waitDone(t, done)
	if n := len(idp.requests()); n != 1 {
		t.Fatalf("expected 1 discovery request, got %d", n)
	}
}
