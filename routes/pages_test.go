package routes_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"phaseflow/internal/apptest"
	"phaseflow/routes"
)

// shellMarker is in index.html, the shell of every page, and nowhere else.
const shellMarker = `<script type="module" src="/js/main.js"></script>`

func cookieHeader(token string) map[string]string {
	return map[string]string{"Cookie": routes.SessionCookie + "=" + token}
}

func authClaims(u *core.Record) map[string]any {
	return map[string]any{
		core.TokenClaimType:         core.TokenTypeAuth,
		core.TokenClaimId:           u.Id,
		core.TokenClaimCollectionId: u.Collection().Id,
		core.TokenClaimRefreshable:  true,
	}
}

func TestPageGuard(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))
	user := apptest.CreateUser(t, srv.App, "guard@example.com")
	valid := apptest.Token(t, srv.App, user)
	forged, err := security.NewJWT(authClaims(user), "not-the-signing-key-of-this-user", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired := apptest.SignToken(t, user, -time.Minute, map[string]any{"sid": apptest.Session(t, srv.App, user)})
	verificationClaims := authClaims(user)
	verificationClaims[core.TokenClaimType] = core.TokenTypeVerification
	verification, err := security.NewJWT(verificationClaims, user.TokenKey()+user.Collection().VerificationToken.Secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	superuser := apptest.CreateSuperuser(t, srv.App, "root@example.com")
	superuserToken := apptest.Token(t, srv.App, superuser)
	sdkStyle := url.QueryEscape(`{"token":"` + valid + `","record":{"id":"` + user.Id + `"}}`)

	redirects := []struct {
		name   string
		path   string
		cookie string
		want   string
	}{
		{"GET / without a cookie redirects to /login", "/", "", "/login"},
		{"GET /settings without a cookie redirects to /login with next", "/settings", "", "/login?next=/settings"},
		{"next keeps the query, encoded", "/settings?tab=a%20b&x=1", "", "/login?next=/settings%3Ftab%3Da%2520b%26x%3D1"},
		{"an unknown page without a cookie redirects too", "/no-such-page", "", "/login?next=/no-such-page"},
		{"an empty cookie redirects", "/settings", "=", "/login?next=/settings"},
		{"a cookie that is no token redirects", "/settings", "not-a-token", "/login?next=/settings"},
		{"a forged token redirects", "/settings", forged, "/login?next=/settings"},
		{"an expired token redirects", "/settings", expired, "/login?next=/settings"},
		{"a tampered token redirects", "/settings", apptest.ForgeClaim(t, valid, "exp", time.Now().Add(365*24*time.Hour).Unix()), "/login?next=/settings"},
		{"a verification token is not a session", "/settings", verification, "/login?next=/settings"},
		{"a superuser token is not a page session", "/settings", superuserToken, "/login?next=/settings"},
		{"the SDK's JSON cookie format is not accepted: the cookie holds the raw token", "/settings", sdkStyle, "/login?next=/settings"},
	}
	for _, c := range redirects {
		t.Run(c.name, func(t *testing.T) {
			var headers map[string]string
			switch c.cookie {
			case "":
			case "=":
				headers = map[string]string{"Cookie": routes.SessionCookie + "="}
			default:
				headers = cookieHeader(c.cookie)
			}
			res := srv.Do(t, http.MethodGet, c.path, nil, headers)
			if res.Status != http.StatusFound {
				t.Fatalf("expected 302, got %d: %s", res.Status, res.Body)
			}
			if got := res.Header.Get("Location"); got != c.want {
				t.Fatalf("expected Location %q, got %q", c.want, got)
			}
			if strings.Contains(string(res.Body), shellMarker) {
				t.Fatal("the redirect carries the page shell")
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("expected Cache-Control no-store on the redirect, got %q", got)
			}
		})
	}

	t.Run("next decodes to the requested path and query", func(t *testing.T) {
		res := srv.Do(t, http.MethodGet, "/settings?tab=a%20b&x=1", nil, nil)
		loc, err := url.Parse(res.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := loc.Query().Get("next"), "/settings?tab=a%20b&x=1"; got != want {
			t.Fatalf("expected next %q, got %q", want, got)
		}
	})

	t.Run("a valid cookie is served the shell with the security headers", func(t *testing.T) {
		for _, path := range []string{"/", "/settings"} {
			res := srv.Do(t, http.MethodGet, path, nil, cookieHeader(valid))
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), shellMarker) {
				t.Fatalf("GET %s: expected 200 with the shell, got %d: %s", path, res.Status, res.Body)
			}
			checkPageHeaders(t, res)
		}
	})

	t.Run("a URL-encoded cookie value is decoded", func(t *testing.T) {
		res := srv.Do(t, http.MethodGet, "/settings", nil, cookieHeader(strings.ReplaceAll(valid, ".", "%2E")))
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d", res.Status)
		}
	})

	t.Run("an unknown page with a valid cookie is a 404 with the shell", func(t *testing.T) {
		res := srv.Do(t, http.MethodGet, "/no-such-page", nil, cookieHeader(valid))
		if res.Status != http.StatusNotFound || !strings.Contains(string(res.Body), shellMarker) {
			t.Fatalf("expected 404 with the shell, got %d: %s", res.Status, res.Body)
		}
		checkPageHeaders(t, res)
	})

	t.Run("HEAD is guarded and answers without a body", func(t *testing.T) {
		res := srv.Do(t, http.MethodHead, "/settings", nil, nil)
		if res.Status != http.StatusFound || res.Header.Get("Location") != "/login?next=/settings" {
			t.Fatalf("expected a redirect, got %d %q", res.Status, res.Header.Get("Location"))
		}
		res = srv.Do(t, http.MethodHead, "/settings", nil, cookieHeader(valid))
		if res.Status != http.StatusOK || len(res.Body) != 0 || res.Header.Get("Content-Length") == "0" {
			t.Fatalf("expected 200 with headers only, got %d, %d body bytes, Content-Length %q",
				res.Status, len(res.Body), res.Header.Get("Content-Length"))
		}
		checkPageHeaders(t, res)
	})

	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		t.Run(method+" to a page is not served the shell", func(t *testing.T) {
			res := srv.Do(t, method, "/settings", "{}", cookieHeader(valid))
			if res.Status != http.StatusMethodNotAllowed || strings.Contains(string(res.Body), shellMarker) {
				t.Fatalf("expected a 405 without the shell, got %d: %s", res.Status, res.Body)
			}
			if got := res.Header.Get("Allow"); got != "GET, HEAD" {
				t.Fatalf("expected Allow GET, HEAD, got %q", got)
			}
		})
	}

	// Run last: it invalidates every token of the user.
	t.Run("a revoked token redirects after the token key is rotated", func(t *testing.T) {
		if res := srv.Do(t, http.MethodGet, "/settings", nil, cookieHeader(valid)); res.Status != http.StatusOK {
			t.Fatalf("expected 200 before the rotation, got %d", res.Status)
		}
		fresh, err := srv.App.FindRecordById(user.Collection(), user.Id)
		if err != nil {
			t.Fatal(err)
		}
		fresh.RefreshTokenKey()
		if err := srv.App.Save(fresh); err != nil {
			t.Fatal(err)
		}
		res := srv.Do(t, http.MethodGet, "/settings", nil, cookieHeader(valid))
		if res.Status != http.StatusFound || res.Header.Get("Location") != "/login?next=/settings" {
			t.Fatalf("expected a redirect to /login, got %d %q", res.Status, res.Header.Get("Location"))
		}
	})
}

// checkPageHeaders checks the headers of a page answer; its Referrer-Policy is no-referrer
// unless referrerPolicy says otherwise (the pages that start a sign-in with a provider).
func checkPageHeaders(t *testing.T, res apptest.Response, referrerPolicy ...string) {
	t.Helper()
	policy := "no-referrer"
	if len(referrerPolicy) > 0 {
		policy = referrerPolicy[0]
	}
	want := map[string]string{
		"Content-Security-Policy": routes.ContentSecurityPolicy,
		"Referrer-Policy":         policy,
		"Cache-Control":           "no-store",
		"Content-Type":            "text/html; charset=utf-8",
		// PocketBase's own security headers stay.
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "SAMEORIGIN",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for k, v := range want {
		if got := res.Header.Get(k); got != v {
			t.Fatalf("expected %s %q, got %q", k, v, got)
		}
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, directive := range []string{"script-src 'self'", "frame-ancestors 'none'", "style-src 'self'", "object-src 'none'"} {
		if !strings.Contains(csp, directive) {
			t.Fatalf("expected %q in the CSP %q", directive, csp)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Fatalf("the CSP allows inline code: %q", csp)
	}
}

func TestPagePublicPathsAndAssets(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, apptest.Config(t))

	for path, policy := range map[string]string{"/login": "strict-origin", "/login?next=/settings": "strict-origin",
		"/signup": "strict-origin", "/auth/callback?code=abc&state=xyz": "no-referrer"} {
		t.Run("GET "+path+" is public", func(t *testing.T) {
			res := srv.Do(t, http.MethodGet, path, nil, nil)
			if res.Status != http.StatusOK || !strings.Contains(string(res.Body), shellMarker) {
				t.Fatalf("expected 200 with the shell, got %d: %s", res.Status, res.Body)
			}
			checkPageHeaders(t, res, policy)
		})
	}

	assets := []struct {
		path        string
		contentType string
		contains    string
	}{
		{"/js/main.js", "text/javascript; charset=utf-8", "import"},
		{"/js/pb.js", "text/javascript; charset=utf-8", `from "/vendor/pocketbase.es.mjs"`},
		{"/vendor/pocketbase.es.mjs", "text/javascript; charset=utf-8", "Client as default"},
		{"/css/app.css", "text/css; charset=utf-8", "body"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, a := range assets {
		t.Run("GET "+a.path+" is public", func(t *testing.T) {
			res := srv.Do(t, http.MethodGet, a.path, nil, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
			}
			if got := res.Header.Get("Content-Type"); got != a.contentType {
				t.Fatalf("expected Content-Type %q, got %q", a.contentType, got)
			}
			if !strings.Contains(string(res.Body), a.contains) {
				t.Fatalf("expected %q in the body", a.contains)
			}
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("expected an ETag")
			}
			again := srv.Do(t, http.MethodGet, a.path, nil, map[string]string{"If-None-Match": etag})
			if again.Status != http.StatusNotModified {
				t.Fatalf("expected 304 for a matching ETag, got %d", again.Status)
			}
		})
	}

	for _, path := range []string{"/js/missing.js", "/vendor/", "/js/", "/css/../index.html"} {
		t.Run("GET "+path+" is not found", func(t *testing.T) {
			res := srv.Do(t, http.MethodGet, path, nil, nil)
			if res.Status == http.StatusOK || strings.Contains(string(res.Body), shellMarker) {
				t.Fatalf("expected no file and no shell, got %d: %s", res.Status, res.Body)
			}
		})
	}

	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodHead} {
		t.Run(method+" /api/unknown stays a JSON 404", func(t *testing.T) {
			res := srv.Do(t, method, "/api/unknown", nil, nil)
			if res.Status != http.StatusNotFound {
				t.Fatalf("expected 404, got %d: %s", res.Status, res.Body)
			}
			if method != http.MethodHead && !strings.Contains(res.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("expected JSON, got %q: %s", res.Header.Get("Content-Type"), res.Body)
			}
		})
	}

	t.Run("PocketBase's own routes still answer", func(t *testing.T) {
		if res := srv.Do(t, http.MethodGet, "/api/health", nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected /api/health 200, got %d", res.Status)
		}
		if res := srv.Do(t, http.MethodGet, "/api/collections/users/auth-methods", nil, nil); res.Status != http.StatusOK {
			t.Fatalf("expected auth-methods 200, got %d", res.Status)
		}
	})
}

func TestPageAppConfig(t *testing.T) {
	t.Parallel()
	for _, open := range []bool{false, true} {
		cfg := apptest.Config(t)
		cfg.OpenRegistration = open
		srv := apptest.Start(t, cfg)
		res := srv.Do(t, http.MethodGet, "/api/app-config", nil, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("expected 200, got %d", res.Status)
		}
		if got := res.JSON(t)["openRegistration"]; got != open {
			t.Fatalf("expected openRegistration %v, got %v", open, got)
		}
	}
}
