package hooks_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"

	"phaseflow/internal/apptest"
	"phaseflow/sessions"
	"phaseflow/users"
)

// startProviderWithLogout starts mockoidc with an end_session_endpoint, as Pocket-ID has.
func startProviderWithLogout(t *testing.T) (*mockoidc.MockOIDC, *apptest.EndSession) {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	es := apptest.NewEndSession(m)
	t.Cleanup(es.Close)
	if err := m.AddMiddleware(es.Middleware); err != nil {
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
	return m, es
}

func TestOIDCSignOutOffersTheProvidersLogout(t *testing.T) {
	t.Parallel()
	m, es := startProviderWithLogout(t)
	endSession := es.URL()
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true})
	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusOK {
		t.Fatalf("sign-in: expected 200, got %d: %s", res.Status, res.Body)
	}
	token, _ := res.JSON(t)["token"].(string)
	if strings.Contains(string(res.Body), "id_token") || strings.Contains(string(res.Body), "idToken") {
		t.Fatalf("the sign-in response carries the provider's id_token: %s", res.Body)
	}
	s, err := sessions.Find(srv.App, users.SessionID(token))
	if err != nil || s.Method != "oidc" || strings.Count(s.IDToken, ".") != 2 {
		t.Fatalf("expected an oidc session that kept the id_token, got %+v (%v)", s, err)
	}
	if list := srv.Do(t, "GET", "/api/user/sessions", nil, apptest.Auth(token)); strings.Contains(string(list.Body), s.IDToken) {
		t.Fatal("the device list shows the id_token")
	}

	out := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(token))
	if out.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", out.Status, out.Body)
	}
	raw, _ := out.JSON(t)["identityProviderLogout"].(string)
	u, err := url.Parse(raw)
	if err != nil || u.Scheme+"://"+u.Host+u.Path != endSession {
		t.Fatalf("expected the provider's end_session_endpoint %s, got %q", endSession, raw)
	}
	q := u.Query()
	if q.Get("id_token_hint") != s.IDToken || q.Get("client_id") != m.ClientID || q.Get("post_logout_redirect_uri") != cfg.AppURL+"/login" {
		t.Fatalf("unexpected logout parameters %v", q)
	}
	claims := apptest.Claims(t, q.Get("id_token_hint"))
	if claims["sub"] != "sub-ana" || claims["iss"] != m.Issuer() {
		t.Fatalf("expected the provider's own id_token as the hint, got %v", claims)
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected the session ended, got %d", res.Status)
	}

	t.Run("a password session just ends", func(t *testing.T) {
		tok := srv.SignIn(t, "ana@example.com", "test")
		if res := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(tok)); res.Status != http.StatusNoContent {
			t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
		}
	})
	_ = ana
}

func TestOIDCSignOutWithoutEndSessionEndpoint(t *testing.T) {
	t.Parallel()
	m := startProvider(t) // plain mockoidc: no end_session_endpoint
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true})
	res := oidcSignIn(t, srv, cfg)
	token, _ := res.JSON(t)["token"].(string)
	if res := srv.Do(t, "POST", "/api/user/logout", nil, apptest.Auth(token)); res.Status != http.StatusNoContent {
		t.Fatalf("expected 204, got %d: %s", res.Status, res.Body)
	}
}
