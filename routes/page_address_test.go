package routes_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"phaseflow/internal/apptest"
)

// TestPageAddress: pages opened on another host name than APP_URL's go to APP_URL's (same path
// and query) before any sign-in, and a trailing slash goes; the API, the static files and a TLS
// proxy that does not pass the public Host on are left alone.
func TestPageAddress(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t)) // APP_URL http://127.0.0.1:8090; the server listens elsewhere on 127.0.0.1
	user := apptest.CreateUser(t, srv.App, "address@example.com")
	cookie := cookieHeader(apptest.Token(t, srv.App, user))
	port := strings.TrimPrefix(srv.URL, "http://127.0.0.1:")

	scenarios := []struct {
		name, method, path string
		headers            map[string]string
		status             int
		location           string
	}{
		{"a page on localhost goes to APP_URL's host with its path and query", "GET", "/settings?tab=a%20b",
			map[string]string{"Host": "localhost:" + port}, http.StatusFound, "http://127.0.0.1:8090/settings?tab=a%20b"},
		{"the host name is compared without case", "GET", "/login", map[string]string{"Host": "LOCALHOST:" + port}, http.StatusFound, "http://127.0.0.1:8090/login"},
		{"another host and a trailing slash are one redirect", "GET", "/settings/", map[string]string{"Host": "localhost:" + port},
			http.StatusFound, "http://127.0.0.1:8090/settings"},
		{"the callback keeps its query on the way", "GET", "/auth/callback?code=c&state=s", map[string]string{"Host": "localhost:" + port},
			http.StatusFound, "http://127.0.0.1:8090/auth/callback?code=c&state=s"},
		{"a signed-in page on another host goes there too", "GET", "/", map[string]string{"Host": "localhost:" + port, "Cookie": cookie["Cookie"]},
			http.StatusFound, "http://127.0.0.1:8090/"},
		{"a proxy's X-Forwarded-Host of APP_URL's host is believed", "GET", "/login",
			map[string]string{"Host": "localhost:" + port, "X-Forwarded-Host": "127.0.0.1:8090"}, http.StatusOK, ""},
		{"/settings/ is /settings", "GET", "/settings/", cookie, http.StatusPermanentRedirect, "/settings"},
		{"/login/ keeps its query", "GET", "/login/?next=/settings", nil, http.StatusPermanentRedirect, "/login?next=/settings"},
		{"HEAD /signup/ is redirected too", "HEAD", "/signup/", nil, http.StatusPermanentRedirect, "/signup"},
		{"an unknown page loses its slash before the guard", "GET", "/no-such-page/", nil, http.StatusPermanentRedirect, "/no-such-page"},
		{"the canonical page is served", "GET", "/settings", cookie, http.StatusOK, ""},
		{"/ stays /", "GET", "/", cookie, http.StatusOK, ""},
		{"the API is never redirected for its host", "GET", "/api/health", map[string]string{"Host": "localhost:" + port}, http.StatusOK, ""},
		{"static files are never redirected", "GET", "/js/main.js", map[string]string{"Host": "localhost:" + port}, http.StatusOK, ""},
		{"a POST is refused, not redirected", "POST", "/settings/", map[string]string{"Host": "localhost:" + port}, http.StatusMethodNotAllowed, ""},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			res := srv.Do(t, s.method, s.path, nil, s.headers)
			if res.Status != s.status || res.Header.Get("Location") != s.location {
				t.Fatalf("expected %d %q, got %d %q", s.status, s.location, res.Status, res.Header.Get("Location"))
			}
			if s.location != "" && (res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store") {
				t.Fatalf("expected the redirect to carry the page headers, got %v", res.Header)
			}
		})
	}

	t.Run("a signed-out /settings/ ends on /login with next=/settings", func(t *testing.T) {
		first := srv.Do(t, "GET", "/settings/", nil, nil)
		second := srv.Do(t, "GET", first.Header.Get("Location"), nil, nil)
		if second.Status != http.StatusFound || second.Header.Get("Location") != "/login?next=/settings" {
			t.Fatalf("expected 302 /login?next=/settings, got %d %q", second.Status, second.Header.Get("Location"))
		}
	})
}

// TestPageAddressBehindTLSProxy: with an https APP_URL the app sits behind a TLS proxy. A proxy
// that passes the public Host on gets the page; one that sends the app's own address as Host
// (nginx's default) gets it too, since a redirect would come straight back; any other host name
// goes to APP_URL.
func TestPageAddressBehindTLSProxy(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AppURL = "https://phaseflow.example.com"
	srv := apptest.Start(t, cfg)
	own, _ := url.Parse(srv.URL)

	for _, c := range []struct {
		host     string
		status   int
		location string
	}{
		{"phaseflow.example.com", http.StatusOK, ""},
		{own.Host, http.StatusOK, ""},
		{"localhost:" + own.Port(), http.StatusFound, "https://phaseflow.example.com/login?next=/x"},
		{"203.0.113.9", http.StatusFound, "https://phaseflow.example.com/login?next=/x"},
	} {
		res := srv.Do(t, "GET", "/login?next=/x", nil, map[string]string{"Host": c.host})
		if res.Status != c.status || res.Header.Get("Location") != c.location {
			t.Fatalf("Host %s: expected %d %q, got %d %q", c.host, c.status, c.location, res.Status, res.Header.Get("Location"))
		}
	}
}

// TestPageReferrerPolicy: only the pages that start a sign-in with an identity provider send
// their origin (Pocket-ID's Cancel goes back to it); every other page, the token-bearing ones
// and every redirect included, sends no referrer.
func TestPageReferrerPolicy(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "referrer@example.com")
	cookie := cookieHeader(apptest.Token(t, srv.App, user))

	for _, c := range []struct {
		path    string
		headers map[string]string
		status  int
		policy  string
	}{
		{"/login", nil, http.StatusOK, "strict-origin"},
		{"/login?next=/settings", nil, http.StatusOK, "strict-origin"},
		{"/signup", nil, http.StatusOK, "strict-origin"},
		{"/login/", nil, http.StatusPermanentRedirect, "no-referrer"},
		{"/auth/callback?code=c&state=s", nil, http.StatusOK, "no-referrer"},
		{"/settings", nil, http.StatusFound, "no-referrer"},
		{"/settings", cookie, http.StatusOK, "no-referrer"},
		{"/", cookie, http.StatusOK, "no-referrer"},
		{"/no-such-page", cookie, http.StatusNotFound, "no-referrer"},
	} {
		res := srv.Do(t, "GET", c.path, nil, c.headers)
		if got := res.Header.Values("Referrer-Policy"); res.Status != c.status || len(got) != 1 || got[0] != c.policy {
			t.Fatalf("%s: expected %d with Referrer-Policy %q, got %d %q", c.path, c.status, c.policy, res.Status, got)
		}
	}
}
