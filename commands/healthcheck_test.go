package commands_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/pocketbase/dbx"

	"phaseflow/commands"
	"phaseflow/internal/apptest"
	"phaseflow/routes"
)

// stubServer answers routes.HealthPath with handler (nil: 404 like every other path) and counts
// the requests.
func stubServer(t *testing.T, handler http.HandlerFunc) (string, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != routes.HealthPath || handler == nil {
			http.NotFound(w, r)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &n
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func runHealthcheck(t *testing.T, appURL string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cfg := apptest.Config(t)
	if appURL != "" {
		cfg.AppURL = appURL
	}
	var out, errOut bytes.Buffer
	code = commands.RunHealthcheck(cfg, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHealthcheckAgainstTheRealServer(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))

	code, stdout, stderr := runHealthcheck(t, srv.URL)
	if code != commands.HealthcheckHealthy || stdout != "healthy: "+srv.URL+" answers and can read its database\n" || stderr != "" {
		t.Fatalf("expected exit 0 and the healthy line, got %d %q %q", code, stdout, stderr)
	}

	for _, b := range []dbx.Builder{srv.App.ConcurrentDB(), srv.App.NonconcurrentDB()} {
		if err := b.(*dbx.DB).Close(); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr = runHealthcheck(t, "", "--url", srv.URL)
	want := "unhealthy: " + srv.URL + routes.HealthPath + " answered 503 Service Unavailable: The database is not readable.\n"
	if code != commands.HealthcheckUnhealthy || stdout != "" || stderr != want {
		t.Fatalf("expected exit 1 and %q, got %d %q %q", want, code, stdout, stderr)
	}
}

func TestHealthcheckExitCodes(t *testing.T) {
	t.Parallel()
	healthy, _ := stubServer(t, answer(http.StatusOK, `{"message":"API and database are healthy.","code":200,"data":{}}`))
	down, _ := stubServer(t, answer(http.StatusServiceUnavailable, `{"data":{},"message":"The database is not readable.","status":503}`))
	badGateway, _ := stubServer(t, answer(http.StatusBadGateway, ""))
	redirect, _ := stubServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://phaseflow.example.com"+routes.HealthPath, http.StatusPermanentRedirect)
	})
	notPhaseFlow, _ := stubServer(t, nil) // every path is 404, as on a plain PocketBase
	slow, _ := stubServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	scenarios := []struct {
		name           string
		appURL         string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"healthy at APP_URL", healthy, nil, 0, "healthy: " + healthy + " answers and can read its database\n", ""},
		{"--url wins over APP_URL", refused, []string{"--url", healthy + "/"}, 0, "healthy: " + healthy + " answers and can read its database\n", ""},
		{"the database is not readable", down, nil, 1, "",
			"unhealthy: " + down + "/api/healthz answered 503 Service Unavailable: The database is not readable.\n"},
		{"a proxy without its upstream", badGateway, nil, 1, "", "unhealthy: " + badGateway + "/api/healthz answered 502 Bad Gateway\n"},
		{"a redirect is not followed", redirect, nil, 1, "",
			"unhealthy: " + redirect + `/api/healthz answered 308 Permanent Redirect to "https://phaseflow.example.com/api/healthz"; point --url at the server itself` + "\n"},
		{"not a PhaseFlow server", notPhaseFlow, nil, 1, "", "unhealthy: " + notPhaseFlow + "/api/healthz answered 404 Not Found; is this a PhaseFlow server?\n"},
		{"nothing listens", refused, nil, 1, "",
			"unhealthy: " + refused + "/api/healthz did not answer: dial tcp " + refused[len("http://"):] + ": connect: connection refused\n"},
		{"no answer within the timeout", slow, []string{"--timeout", "200ms"}, 1, "", "unhealthy: " + slow + "/api/healthz did not answer within 200ms\n"},
		{"an argument", healthy, []string{"now"}, 2, "", "Error: healthcheck takes no arguments, got [\"now\"]\nRun './app healthcheck --help' for usage.\n"},
		{"an unknown flag", healthy, []string{"--retries", "3"}, 2, "", "Error: unknown flag: --retries\nRun './app healthcheck --help' for usage.\n"},
		{"a URL that is not http", healthy, []string{"--url", "ftp://127.0.0.1"}, 2, "",
			"Error: --url must be an http(s) URL with a host and no query, e.g. http://127.0.0.1:8090, got \"ftp://127.0.0.1\"\nRun './app healthcheck --help' for usage.\n"},
		{"a zero timeout", healthy, []string{"--timeout", "0s"}, 2, "", "Error: --timeout must be more than 0 and at most 1m0s\nRun './app healthcheck --help' for usage.\n"},
		{"a negative wait", healthy, []string{"--wait", "-1s"}, 2, "", "Error: --wait must be from 0 to 10m0s\nRun './app healthcheck --help' for usage.\n"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runHealthcheck(t, s.appURL, s.args...)
			if code != s.code || stdout != s.stdout || stderr != s.stderr {
				t.Fatalf("expected exit %d, stdout %q, stderr %q; got %d, %q, %q", s.code, s.stdout, s.stderr, code, stdout, stderr)
			}
		})
	}
}

func TestHealthcheckWaitsForAStartingServer(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	starting, requests := stubServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	code, stdout, stderr := runHealthcheck(t, starting, "--wait", "30s")
	if code != 0 || stdout != "healthy: "+starting+" answers and can read its database\n" || stderr != "" {
		t.Fatalf("expected exit 0 once the server is up, got %d %q %q", code, stdout, stderr)
	}
	if n := requests.Load(); n != 3 {
		t.Fatalf("expected 3 attempts, got %d", n)
	}

	down, _ := stubServer(t, answer(http.StatusServiceUnavailable, ""))
	code, _, stderr = runHealthcheck(t, down, "--wait", "1s")
	if want := "unhealthy: " + down + "/api/healthz answered 503 Service Unavailable (still, after waiting 1s)\n"; code != 1 || stderr != want {
		t.Fatalf("expected exit 1 and %q, got %d %q", want, code, stderr)
	}
}
