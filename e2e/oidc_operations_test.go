package e2e

import (
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// outageProvider is a mockoidc provider that can be "down": while it is, every request gets the
// 503 a reverse proxy in front of a restarting Pocket-ID answers. It counts discovery requests.
type outageProvider struct {
	*mockoidc.MockOIDC
	down      atomic.Bool
	discovery atomic.Int32
}

func newOutageProvider(t *testing.T, down bool) *outageProvider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProvider{MockOIDC: m}
	p.down.Store(down)
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.DiscoveryEndpoint {
				p.discovery.Add(1)
			}
			if p.down.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

func (p *outageProvider) env(issuer string) []string {
	return []string{"POCKETBASE_OIDC_ISSUER_URL=" + issuer, "POCKETBASE_OIDC_CLIENT_ID=" + p.ClientID, "POCKETBASE_OIDC_CLIENT_SECRET=" + p.ClientSecret}
}

// noticeStamp is the start of every console line PhaseFlow and PocketBase print.
var noticeStamp = regexp.MustCompile(`(?m)^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `)

// linesWith returns the output lines containing s.
func linesWith(out, s string) []string {
	var lines []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			lines = append(lines, line)
		}
	}
	return lines
}

// appConfigOIDC returns the oidc part of GET /api/app-config.
func appConfigOIDC(t *testing.T, srv *Server) map[string]any {
	t.Helper()
	var out struct {
		OIDC map[string]any `json:"oidc"`
	}
	if err := mustClient(t, srv).Do(t.Context(), "GET", "/api/app-config", nil, &out); err != nil {
		t.Fatal(err)
	}
	return out.OIDC
}

const unavailableMessage = "Sign-in with Pocket-ID is temporarily unavailable; try again in a few minutes, or use another method."

// TestOIDCConfigurationErrorVersusOutage starts two servers on fresh data dirs: one configured
// with the provider's issuer plus a trailing slash (a configuration error), one whose provider is
// down. The first reports the error once and never retries; the second warns with the real wait,
// tells /login why the button is missing, and signs people in once a retry succeeds.
func TestOIDCConfigurationErrorVersusOutage(t *testing.T) {
	t.Parallel()
	healthy := newOutageProvider(t, false)
	misconfigured := startServer(t, healthy.env(healthy.Issuer()+"/")...)
	flaky := newOutageProvider(t, true)
	outage := startServer(t, flaky.env(flaky.Issuer())...)

	t.Run("a trailing slash is one error naming the exact issuer, and no retry is announced", func(t *testing.T) {
		out := misconfigured.Output.String()
		errs := linesWith(out, "ERROR ")
		if len(errs) != 1 {
			t.Fatalf("expected exactly one ERROR line, got %d:\n%s", len(errs), out)
		}
		want := `ERROR OIDC configuration error: fix POCKETBASE_OIDC_ISSUER_URL (or the provider) and restart; discovery is not retried issuer=` +
			healthy.Issuer() + `/ error="invalid discovery document from ` + healthy.Issuer() + `/.well-known/openid-configuration:\nissuer mismatch: discovery issuer \"` +
			healthy.Issuer() + `\" does not match the configured issuer \"` + healthy.Issuer() + `/\"; the issuer must be exactly \"` + healthy.Issuer() + `\": remove the trailing slash"`
		if !noticeStamp.MatchString(errs[0]) || noticeStamp.ReplaceAllString(errs[0], "") != want {
			t.Fatalf("expected a time-stamped\n%s\ngot\n%s", want, errs[0])
		}
		if retry := linesWith(out, "etry"); len(retry) != 0 {
			t.Fatalf("expected no retry notice, got %q", retry)
		}
		if got := appConfigOIDC(t, misconfigured); got["configured"] != true || got["available"] != false {
			t.Fatalf("expected configured but unavailable, got %v", got)
		}
	})

	t.Run("an outage is a warning that states the first wait", func(t *testing.T) {
		warns := linesWith(outage.Output.String(), "WARN OIDC discovery failed")
		want := `WARN OIDC discovery failed; sign-in with the provider is unavailable until a retry in the background succeeds issuer=` + flaky.Issuer() +
			` error="failed to fetch discovery document: unexpected status 503 Service Unavailable from ` + flaky.Issuer() + `/.well-known/openid-configuration" nextRetry=15s`
		if len(warns) != 1 || !noticeStamp.MatchString(warns[0]) || noticeStamp.ReplaceAllString(warns[0], "") != want {
			t.Fatalf("expected one time-stamped\n%s\ngot %q", want, warns)
		}
		// PhaseFlow's notices carry the same time stamp as PocketBase's own start line.
		started := linesWith(outage.Output.String(), "Server started at")
		if len(started) != 1 || !noticeStamp.MatchString(started[0]) {
			t.Fatalf("expected PocketBase's start line with the same time stamp format, got %q", started)
		}
	})

	t.Run("/login says Pocket-ID sign-in is temporarily unavailable", func(t *testing.T) {
		if got := appConfigOIDC(t, outage); got["configured"] != true || got["available"] != false || got["displayName"] != "Pocket-ID" {
			t.Fatalf("expected configured, unavailable, labelled Pocket-ID; got %v", got)
		}
		tab := newTab(t)
		tab.navigate(outage.URL + "/login")
		tab.waitFor("the message", `document.querySelector("#oidc-unavailable[role=status]")?.textContent === `+jsString(unavailableMessage))
		if mustEval[bool](tab, `Boolean(document.querySelector("#oidc-signin"))`) {
			t.Fatal("the sign-in button is shown while the provider is unavailable")
		}
		if !mustEval[bool](tab, `Boolean(document.querySelector("#password-form"))`) {
			t.Fatal("the other sign-in methods are gone")
		}
	})

	t.Run("once the provider is back a retry stores it, and the button returns", func(t *testing.T) {
		flaky.down.Store(false)
		ok := poll(45*time.Second, func() bool {
			return len(linesWith(outage.Output.String(), "INFO OIDC discovery succeeded after a retry")) == 1
		})
		if !ok {
			t.Fatalf("expected a successful retry within 45s:\n%s", outage.Output.String())
		}
		if got := appConfigOIDC(t, outage); got["available"] != true {
			t.Fatalf("expected the provider available after the retry, got %v", got)
		}
		tab := newTab(t)
		tab.navigate(outage.URL + "/login")
		tab.waitFor("the button", `document.querySelector("#oidc-signin")?.textContent === "Sign in with Pocket-ID"`)
		if mustEval[bool](tab, `Boolean(document.querySelector("#oidc-unavailable"))`) {
			t.Fatal("the unavailable message stays after the provider is back")
		}
		// The misconfigured server started first, so its own first retry would have come by now.
		if n := healthy.discovery.Load(); n != 1 {
			t.Fatalf("expected the misconfigured server to ask for discovery once, got %d", n)
		}
		if n := flaky.discovery.Load(); n != 2 {
			t.Fatalf("expected the outage server to ask twice (start, one retry), got %d", n)
		}
	})
}
