package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/oauth2-proxy/mockoidc"

	"phaseflow/client"
)

// Loopback addresses the proxy tests connect from: Caddy sees each as a different client.
const (
	clientA      = "127.0.0.2"
	clientB      = "127.0.0.3"
	clientDirect = "127.0.0.4"
	clientOIDC   = "127.0.0.5"
)

// passwordAttempt is a failed sign-in; AUTH_RATE_LIMIT (5 by default) of them per minute and
// client are answered 400, the next one 429.
const passwordAttempt = `{"identity":"nobody@example.com","password":"wrong-password"}`

// attempts sends n failed sign-ins to base through hc (with headers) and returns the statuses.
func attempts(t *testing.T, hc *http.Client, base string, n int, headers func(i int) map[string]string) []int {
	t.Helper()
	var got []int
	for i := range n {
		var h map[string]string
		if headers != nil {
			h = headers(i)
		}
		res, _ := send(t, hc, http.MethodPost, base+"/api/collections/users/auth-with-password", passwordAttempt, h)
		got = append(got, res.StatusCode)
	}
	return got
}

func statuses(codes ...int) string { return fmt.Sprint(codes) }

// hsts is the Strict-Transport-Security value deploy/Caddyfile and the app (APP_URL https) send.
const hsts = "max-age=31536000; includeSubDomains"

// TestProxyCaddy runs the built binary behind Debian's Caddy with deploy/Caddyfile, as in
// production: https with Caddy's internal CA, APP_URL the proxy's address,
// TRUSTED_PROXY_HEADERS=X-Forwarded-For. A second server without TRUSTED_PROXY_HEADERS, behind
// its own Caddy, shows what the setting changes.
func TestProxyCaddy(t *testing.T) {
	t.Parallel()
	idp, err := newProvider()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.shutdown)

	port := reservePort(t)
	appURL := fmt.Sprintf("https://127.0.0.1:%d", port)
	srv := startServer(t, append(append(idp.env(), adminEnv...), "APP_URL="+appURL, "TRUSTED_PROXY_HEADERS=X-Forwarded-For")...)
	proxy := startCaddy(t, port, hostPort(t, srv.URL))

	untrustedPort := reservePort(t)
	untrusted := startServer(t, fmt.Sprintf("APP_URL=https://127.0.0.1:%d", untrustedPort))
	untrustedProxy := startCaddy(t, untrustedPort, hostPort(t, untrusted.URL))

	t.Run("https with Caddy's internal CA sends HSTS once, from Caddy and from the app", func(t *testing.T) {
		for _, path := range []string{"/api/health", "/login", "/api/nope"} {
			res, _ := get(t, proxy.client(clientA), proxy.URL+path, nil)
			if res.TLS == nil || len(res.TLS.PeerCertificates) == 0 || res.TLS.PeerCertificates[0].IPAddresses[0].String() != "127.0.0.1" {
				t.Fatalf("%s: expected a TLS answer with Caddy's certificate for 127.0.0.1", path)
			}
			if got := res.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != hsts {
				t.Fatalf("%s: expected one Strict-Transport-Security %q through Caddy, got %q", path, hsts, got)
			}
		}
		// Behind a proxy that forgets the header, the app still sends it (APP_URL is https).
		res, _ := get(t, http.DefaultClient, srv.URL+"/login", nil)
		if got := res.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != hsts {
			t.Fatalf("expected the app itself to send %q, got %q", hsts, got)
		}
	})

	t.Run("two clients behind the proxy get separate budgets and a sent X-Forwarded-For changes nothing", func(t *testing.T) {
		a, b := proxy.client(clientA), proxy.client(clientB)
		if got, want := statuses(attempts(t, a, proxy.URL, 6, nil)...), statuses(400, 400, 400, 400, 400, 429); got != want {
			t.Fatalf("client A: expected %s, got %s", want, got)
		}
		if got, want := statuses(attempts(t, b, proxy.URL, 1, nil)...), statuses(400); got != want {
			t.Fatalf("client B after A ran out: expected its own budget %s, got %s", want, got)
		}
		// Caddy replaces what the client claims with the address it sees (no trusted_proxies),
		// and PocketBase takes the rightmost address: a claimed one never reaches the app.
		spoofed := attempts(t, a, proxy.URL, 2, func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", i+1)}
		})
		if got, want := statuses(spoofed...), statuses(429, 429); got != want {
			t.Fatalf("client A with a made-up X-Forwarded-For: expected %s, got %s", want, got)
		}
		appended := attempts(t, a, proxy.URL, 1, func(int) map[string]string {
			return map[string]string{"X-Forwarded-For": clientB + ", 198.51.100.7"}
		})
		if got, want := statuses(appended...), statuses(429); got != want {
			t.Fatalf("client A claiming a chain: expected %s, got %s", want, got)
		}
	})

	t.Run("without TRUSTED_PROXY_HEADERS every client behind the proxy shares the proxy's budget", func(t *testing.T) {
		if got, want := statuses(attempts(t, untrustedProxy.client(clientA), untrustedProxy.URL, 5, nil)...), statuses(400, 400, 400, 400, 400); got != want {
			t.Fatalf("client A: expected %s, got %s", want, got)
		}
		if got, want := statuses(attempts(t, untrustedProxy.client(clientB), untrustedProxy.URL, 1, nil)...), statuses(429); got != want {
			t.Fatalf("client B: expected the shared budget to be spent (%s), got %s", want, got)
		}
	})

	t.Run("a direct client's X-Forwarded-For does not escape its budget without TRUSTED_PROXY_HEADERS", func(t *testing.T) {
		direct := proxy.client(clientDirect) // plain http below: the TLS settings go unused
		got := attempts(t, direct, untrusted.URL, 6, func(i int) map[string]string {
			return map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", i+1)}
		})
		if want := statuses(400, 400, 400, 400, 400, 429); statuses(got...) != want {
			t.Fatalf("expected %s, got %s", want, statuses(got...))
		}
	})

	var signedIn *client.Client
	t.Run("the OIDC redirect URL is APP_URL's and the code flow works through the proxy", func(t *testing.T) {
		callback := appURL + "/auth/callback"
		if out := srv.Output.String(); !strings.Contains(out, "redirectURL="+callback) {
			t.Fatalf("expected the start log to name %s, got %s", callback, out)
		}
		email := "proxy-oidc@example.com"
		createUser(t, srv, email, false)
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-proxy", Email: email, EmailVerified: true})

		hc := proxy.client(clientOIDC)
		c, err := client.New(proxy.URL, client.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		methods, err := c.AuthMethods(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		p, ok := methods.Provider("oidc")
		if !ok {
			t.Fatalf("expected the oidc provider through the proxy, got %+v", methods.OAuth2)
		}
		// The provider (mockoidc) sends the browser straight back to the redirect URL.
		res, _ := get(t, hc, p.AuthCodeURL(callback), nil)
		back, err := url.Parse(res.Header.Get("Location"))
		if err != nil || res.StatusCode != http.StatusFound || back.Scheme+"://"+back.Host+back.Path != callback {
			t.Fatalf("expected a 302 back to %s, got %d %q", callback, res.StatusCode, res.Header.Get("Location"))
		}
		if back.Query().Get("state") != p.State {
			t.Fatal("the provider did not return the state")
		}
		page, body := get(t, hc, back.String(), nil)
		if page.StatusCode != http.StatusOK || !strings.Contains(body, `src="/js/main.js"`) {
			t.Fatalf("expected the callback page through the proxy, got %d", page.StatusCode)
		}
		rec, err := c.AuthWithOAuth2Code(t.Context(), p.Name, back.Query().Get("code"), p.CodeVerifier, callback)
		if err != nil || rec.Email != email {
			t.Fatalf("expected a sign-in as %s through the proxy, got %+v %v", email, rec, err)
		}
		var devices []struct {
			Current bool   `json:"current"`
			IP      string `json:"ip"`
			Method  string `json:"method"`
		}
		if err := c.Do(t.Context(), "GET", "/api/user/sessions", nil, &devices); err != nil {
			t.Fatal(err)
		}
		if len(devices) != 1 || !devices[0].Current || devices[0].IP != clientOIDC || devices[0].Method != "oidc" {
			t.Fatalf("expected one oidc session from %s (the client, not Caddy), got %+v", clientOIDC, devices)
		}
		signedIn = c
	})

	t.Run("the page guard and the feed work through the proxy", func(t *testing.T) {
		if signedIn == nil {
			t.Skip("needs the OIDC sign-in above")
		}
		hc := proxy.client(clientOIDC)
		res, _ := get(t, hc, proxy.URL+"/settings", nil)
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/login?next=/settings" {
			t.Fatalf("signed out: expected 302 /login?next=/settings, got %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		res, body := get(t, hc, proxy.URL+"/settings", map[string]string{"Cookie": "pb_auth=" + signedIn.Token()})
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `src="/js/main.js"`) {
			t.Fatalf("signed in: expected the page, got %d", res.StatusCode)
		}

		feedURL, err := signedIn.CreateCalendarToken(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(feedURL, appURL+"/api/calendar/") {
			t.Fatalf("expected the feed URL on APP_URL %s, got %s", appURL, feedURL)
		}
		res, body = get(t, hc, feedURL, nil)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") || !strings.HasPrefix(body, "BEGIN:VCALENDAR") {
			t.Fatalf("expected the calendar through the proxy, got %d %q", res.StatusCode, res.Header.Get("Content-Type"))
		}
	})

	t.Run("in Chromium the sign-in goes through the proxy and pb_auth is Secure", func(t *testing.T) {
		// A browser of its own that accepts certificates of this Caddy's CA only: it names the
		// CA's keys, so any other certificate error still fails. (It is not the shared browser,
		// whose flags every other test relies on; --ignore-certificate-errors is not used.)
		b, err := launchBrowser(chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(proxy.spkiHashes(t), ",")))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.close)
		email := "proxy-browser@example.com"
		createUser(t, srv, email, false)
		idp.QueueUser(&mockoidc.MockUser{Subject: "sub-proxy-browser", Email: email, EmailVerified: true})

		tab := newTabIn(t, b)
		tab.navigate(proxy.URL + "/settings")
		tab.waitLocation("/login?next=/settings")
		tab.click("#oidc-signin")
		tab.waitLocation("/settings")
		tab.waitSignedInAs(email)
		if got, want := idp.lastAuthorize(t).Get("redirect_uri"), appURL+"/auth/callback"; got != want {
			t.Fatalf("expected the browser's redirect_uri %q, got %q", want, got)
		}
		var cookie *network.Cookie
		for _, c := range tab.cookiesAt(proxy.URL) {
			if c.Name == "pb_auth" {
				cookie = c
			}
		}
		if cookie == nil || cookie.Value != tab.storedToken() {
			t.Fatalf("expected the pb_auth cookie to hold the stored token, got %+v", cookie)
		}
		if !cookie.Secure || cookie.HTTPOnly || cookie.SameSite != network.CookieSameSiteLax || cookie.Path != "/" {
			t.Fatalf("expected pb_auth Secure, SameSite=Lax, Path=/, not HttpOnly over https; got secure %v httpOnly %v sameSite %q path %q",
				cookie.Secure, cookie.HTTPOnly, cookie.SameSite, cookie.Path)
		}
	})

	t.Run("Caddy's own error while the app is down carries HSTS", func(t *testing.T) {
		untrusted.stop()
		res, _ := get(t, untrustedProxy.client(clientA), untrustedProxy.URL+"/login", nil)
		if res.StatusCode != http.StatusBadGateway {
			t.Fatalf("expected 502 with the app stopped, got %d", res.StatusCode)
		}
		if got := res.Header.Values("Strict-Transport-Security"); len(got) != 1 || got[0] != hsts {
			t.Fatalf("expected Caddy's HSTS on its 502, got %q", got)
		}
	})
}
