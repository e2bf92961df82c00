package hooks_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/commands"
	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/oidc"
	"phaseflow/settings"
	"phaseflow/users"
)

// namedUser is a mockoidc user whose id_token also carries the standard "name" claim.
type namedUser struct {
	*mockoidc.MockUser
	Name string
}

type namedClaims struct {
	*mockoidc.IDTokenClaims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	Name          string `json:"name,omitempty"`
}

func (u namedUser) Claims(_ []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	return &namedClaims{IDTokenClaims: c, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name}, nil
}

func startProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("failed to start the OIDC provider: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return m
}

func oidcConfig(t *testing.T, m *mockoidc.MockOIDC, open bool) config.Config {
	cfg := apptest.Config(t)
	cfg.OIDC = config.OIDC{IssuerURL: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, DisplayName: "Pocket-ID"}
	cfg.OpenRegistration = open
	return cfg
}

type provider struct {
	Name, DisplayName, State, AuthURL, CodeVerifier string
}

// oidcSignIn runs the browser's part of the redirect flow over HTTP: auth-methods, the provider's
// authorize endpoint (mockoidc redirects straight back with a code), then the code exchange.
func oidcSignIn(t *testing.T, srv *apptest.Server, cfg config.Config) apptest.Response {
	t.Helper()
	return oidcSignInWith(t, srv, cfg, nil, nil)
}

func TestOIDCProviderFromDiscovery(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)

	col, err := srv.App.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	pc, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider)
	if !ok {
		t.Fatal("expected the oidc provider to be stored")
	}
	checks := []struct{ name, got, want string }{
		{"auth URL", pc.AuthURL, m.AuthorizationEndpoint()},
		{"token URL", pc.TokenURL, m.TokenEndpoint()},
		{"userinfo URL", pc.UserInfoURL, ""},
		{"jwks URL", pc.Extra["jwksURL"].(string), m.JWKSEndpoint()},
		{"client id", pc.ClientId, m.ClientID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Fatalf("%s: expected %q, got %q", c.name, c.want, c.got)
		}
	}
	if pc.PKCE == nil || !*pc.PKCE {
		t.Fatal("expected PKCE on")
	}
	am := srv.Do(t, "GET", "/api/collections/users/auth-methods", nil, nil)
	for _, want := range []string{`"password":{`, `"otp":{"enabled":true`, `"mfa":{"enabled":true`, `"name":"oidc"`, `"displayName":"Pocket-ID"`} {
		if !strings.Contains(string(am.Body), want) {
			t.Fatalf("expected %s in auth-methods, got %s", want, am.Body)
		}
	}
	if strings.Contains(string(am.Body), m.ClientSecret) {
		t.Fatal("auth-methods leaks the client secret")
	}
}

func TestOIDCSignInLinksExistingAccount(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	user := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
	m.QueueUser(namedUser{MockUser: &mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true}, Name: "Ana Lima"})

	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	body := res.JSON(t)
	record, _ := body["record"].(map[string]any)
	if record["id"] != user.Id {
		t.Fatalf("expected the existing account %s, got %v", user.Id, record["id"])
	}
	meta, _ := body["meta"].(map[string]any)
	for _, k := range []string{"accessToken", "refreshToken"} {
		if _, ok := meta[k]; ok {
			t.Fatalf("expected the provider's %s to be removed from meta, got %s", k, res.Body)
		}
	}
	fresh, _ := srv.App.FindRecordById(users.Collection, user.Id)
	if fresh.GetString(users.FieldName) != "Ana Lima" {
		t.Fatalf("expected the name from the id_token, got %q", fresh.GetString(users.FieldName))
	}
	evs := apptest.AuthEvents(t, srv.App, "method = 'oauth2' && outcome = 'success' && user = {:u}", map[string]any{"u": user.Id})
	if len(evs) != 1 {
		t.Fatalf("expected one audited OIDC sign-in, got %d", len(evs))
	}
}

func TestOIDCSignInClosedRegistrationRejectsUnknownIdentity(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.com", EmailVerified: true})

	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "No account for this identity.") {
		t.Fatalf("expected 403 no account, got %d: %s", res.Status, res.Body)
	}
	if n, _ := srv.App.CountRecords(users.Collection); n != 0 {
		t.Fatalf("expected no account to be created, got %d", n)
	}
}

func TestOIDCSignInOpenRegistrationCreatesAccount(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, true)
	srv := apptest.Start(t, cfg)
	m.QueueUser(namedUser{MockUser: &mockoidc.MockUser{Subject: "sub-new", Email: "new@example.com", EmailVerified: true}, Name: "New Person"})

	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	u, err := srv.App.FindAuthRecordByEmail(users.Collection, "new@example.com")
	if err != nil {
		t.Fatalf("expected the account to be created: %v", err)
	}
	if !u.Verified() || u.GetInt(users.FieldCycleLength) != 28 || u.GetString(users.FieldTimezone) != "UTC" ||
		u.GetString(users.FieldName) != "New Person" || u.GetBool(users.FieldMFA) {
		t.Fatalf("expected a verified account with profile defaults, got %v", u.PublicExport())
	}
}

func TestOIDCSignInWithoutVerifiedEmail(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, true)
	srv := apptest.Start(t, cfg)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-unverified", Email: "u@example.com", EmailVerified: false})

	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "verified email") {
		t.Fatalf("expected 403 about the verified email, got %d: %s", res.Status, res.Body)
	}
}

func TestOIDCDiscoveryRefusesIssuerMismatch(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	// The same server under another spelling of its address is a different issuer.
	cfg.OIDC.IssuerURL = strings.Replace(m.Issuer(), "127.0.0.1", "localhost", 1)
	app := apptest.NewApp(t, cfg)

	err := settings.SyncOIDC(context.Background(), app, cfg)
	if !errors.Is(err, oidc.ErrIssuerMismatch) {
		t.Fatalf("expected ErrIssuerMismatch, got %v", err)
	}
	col, _ := app.FindCollectionByNameOrId(users.Collection)
	if _, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider); ok {
		t.Fatal("expected no provider to be stored after an issuer mismatch")
	}
}

func TestOIDCUnreachableIssuerKeepsStoredProvider(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	app := apptest.NewApp(t, cfg)
	if err := settings.SyncOIDC(context.Background(), app, cfg); err != nil {
		t.Fatalf("first discovery: %v", err)
	}
	if err := m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	cfg.OIDC.ClientSecret = "rotated-secret"
	if err := settings.SyncOIDC(context.Background(), app, cfg); err == nil {
		t.Fatal("expected discovery to fail against a stopped issuer")
	}
	col, _ := app.FindCollectionByNameOrId(users.Collection)
	pc, ok := col.OAuth2.GetProviderConfig(users.OIDCProvider)
	if !ok || pc.TokenURL != m.TokenEndpoint() || pc.ClientSecret != "rotated-secret" {
		t.Fatalf("expected the stored provider with the new secret, got %+v", pc)
	}
}

func TestOIDCRelinkAfterNewSubject(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	apptest.CreateUser(t, srv.App, "ana@example.com")
	m.QueueUser(&mockoidc.MockUser{Subject: "old-sub", Email: "ana@example.com", EmailVerified: true})
	if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusOK {
		t.Fatalf("first sign-in: %d %s", res.Status, res.Body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "new-sub", Email: "ana@example.com", EmailVerified: true})
	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), "oidc unlink") {
		t.Fatalf("expected a clear relink error, got %d: %s", res.Status, res.Body)
	}
	before, _ := srv.App.FindAuthRecordByEmail(users.Collection, "ana@example.com")
	var out bytes.Buffer
	cmd := commands.NewOIDCCommand(srv.App, cfg)
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"unlink", "ana@example.com"})
	if err := cmd.Execute(); err != nil || !strings.Contains(out.String(), "removed 1 OIDC link(s)") {
		t.Fatalf("expected 1 link removed, got %q, %v", out.String(), err)
	}
	after, _ := srv.App.FindAuthRecordByEmail(users.Collection, "ana@example.com")
	if after.TokenKey() == before.TokenKey() {
		t.Fatal("expected unlinking to end the account's sessions")
	}
	if evs := apptest.AuthEvents(t, srv.App, "method = 'oidc_unlink' && actor = 'cli' && user = {:u}", map[string]any{"u": after.Id}); len(evs) != 1 {
		t.Fatalf("expected the unlink audited, got %d", len(evs))
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "new-sub", Email: "ana@example.com", EmailVerified: true})
	if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusOK {
		t.Fatalf("expected sign-in after unlink, got %d %s", res.Status, res.Body)
	}
}

// oidcSignInWith runs the flow of oidcSignIn with extra headers and body fields on the code
// exchange, checking on the way that the provider is offered with PKCE and the state round-trips.
func oidcSignInWith(t *testing.T, srv *apptest.Server, cfg config.Config, headers map[string]string, extra map[string]any) apptest.Response {
	t.Helper()
	return oauth2SignInWith(t, srv, cfg, users.OIDCProvider, "Pocket-ID", headers, extra)
}

// oauth2SignInWith runs the browser's part of the redirect flow with the OAuth2 provider name
// (labelled displayName in auth-methods) over HTTP: auth-methods, the provider's authorize
// endpoint (mockoidc redirects straight back with a code), then the code exchange with extra
// headers and body fields. On the way it checks that the provider is offered with PKCE and that
// the state round-trips.
func oauth2SignInWith(t *testing.T, srv *apptest.Server, cfg config.Config, name, displayName string, headers map[string]string, extra map[string]any) apptest.Response {
	t.Helper()
	am := srv.Do(t, "GET", "/api/collections/users/auth-methods", nil, nil)
	var p provider
	oauth2, _ := am.JSON(t)["oauth2"].(map[string]any)
	providers, _ := oauth2["providers"].([]any)
	for _, raw := range providers {
		m, _ := raw.(map[string]any)
		if m["name"] == name {
			p = provider{Name: name, DisplayName: m["displayName"].(string), State: m["state"].(string),
				AuthURL: m["authURL"].(string), CodeVerifier: m["codeVerifier"].(string)}
		}
	}
	if p.Name == "" {
		t.Fatalf("expected the %s provider in auth-methods, got %s", name, am.Body)
	}
	if p.DisplayName != displayName {
		t.Fatalf("expected display name %s, got %q", displayName, p.DisplayName)
	}
	if !strings.Contains(p.AuthURL, "code_challenge_method=S256") {
		t.Fatalf("expected PKCE S256 in the auth URL, got %s", p.AuthURL)
	}
	redirect := cfg.OAuth2RedirectURL()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(p.AuthURL + url.QueryEscape(redirect))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("expected a redirect back, got %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect {
		t.Fatalf("expected the redirect to %s, got %s", redirect, got)
	}
	if loc.Query().Get("state") != p.State {
		t.Fatalf("expected state %q, got %q", p.State, loc.Query().Get("state"))
	}
	body := map[string]any{"provider": name, "code": loc.Query().Get("code"), "codeVerifier": p.CodeVerifier, "redirectURL": redirect}
	for k, v := range extra {
		body[k] = v
	}
	return srv.Do(t, "POST", "/api/collections/users/auth-with-oauth2", body, headers)
}

func TestOIDCSignInNeverLinksToTheCallersAccount(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	srv := apptest.Start(t, cfg)
	ana := apptest.CreateUser(t, srv.App, "ana@example.com")
	// Eve has a Pocket-ID login and Ana's stolen token, but no PhaseFlow account.
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.com", EmailVerified: true})
	res := oidcSignInWith(t, srv, cfg, map[string]string{"Authorization": apptest.Token(t, srv.App, ana)}, nil)
	if res.Status != http.StatusForbidden || !strings.Contains(string(res.Body), "No account for this identity.") {
		t.Fatalf("expected 403 no account, got %d: %s", res.Status, res.Body)
	}
	links, _ := srv.App.FindAllExternalAuthsByRecord(ana)
	if len(links) != 0 {
		t.Fatalf("expected no identity linked to Ana, got %d", len(links))
	}
}

func TestOIDCSignUpIgnoresClientCreateData(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, true)
	srv := apptest.Start(t, cfg)
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.com", EmailVerified: true})
	res := oidcSignInWith(t, srv, cfg, nil, map[string]any{"createData": map[string]any{"email": "ana@example.com", "cycleLength": 40}})
	if res.Status != http.StatusOK {
		t.Fatalf("expected 200, got %d: %s", res.Status, res.Body)
	}
	if _, err := srv.App.FindAuthRecordByEmail(users.Collection, "ana@example.com"); err == nil {
		t.Fatal("expected no account for the client-chosen email")
	}
	eve, err := srv.App.FindAuthRecordByEmail(users.Collection, "eve@example.com")
	if err != nil || eve.GetInt(users.FieldCycleLength) != 28 {
		t.Fatalf("expected the provider's email with defaults, got %v", err)
	}
}

// TestOIDCSignInStaysOpenWhileTheAccountIsLocked: a stranger's wrong passwords lock the
// account's password and code sign-in, but not the identity provider's, which authenticated the
// person itself.
func TestOIDCSignInStaysOpenWhileTheAccountIsLocked(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, false)
	cfg.AccountLockFailures = 3
	srv := apptest.Start(t, cfg)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	for i := range cfg.AccountLockFailures + 1 {
		srv.DoFrom(t, fmt.Sprintf("127.0.3.%d", i+1), "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": "a stranger's guess"}, nil)
	}
	locked := srv.DoFrom(t, "127.0.3.50", "POST", "/api/collections/users/auth-with-password",
		map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
	if locked.Status != http.StatusTooManyRequests {
		t.Fatalf("expected the password sign-in locked, got %d: %s", locked.Status, locked.Body)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true})
	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusOK {
		t.Fatalf("expected the OIDC sign-in open, got %d: %s", res.Status, res.Body)
	}
	if record, _ := res.JSON(t)["record"].(map[string]any); record["id"] != user.Id {
		t.Fatalf("expected ana's account, got %v", record["id"])
	}
}

// TestOIDCSignUpWaitingForApproval: with approval on, the first OIDC sign-in creates the account
// and says so in one sentence; the next sign-ins say the account is waiting.
func TestOIDCSignUpWaitingForApproval(t *testing.T) {
	t.Parallel()
	m := startProvider(t)
	cfg := oidcConfig(t, m, true)
	cfg.RegistrationApproval = true
	srv := apptest.Start(t, cfg)

	m.QueueUser(&mockoidc.MockUser{Subject: "sub-wait", Email: "wait@example.com", EmailVerified: true})
	res := oidcSignIn(t, srv, cfg)
	if res.Status != http.StatusForbidden || res.JSON(t)["message"] != users.MsgCreatedAwaitingApproval || strings.Contains(string(res.Body), "token") {
		t.Fatalf("expected 403 %q, got %d: %s", users.MsgCreatedAwaitingApproval, res.Status, res.Body)
	}
	u, err := srv.App.FindAuthRecordByEmail(users.Collection, "wait@example.com")
	if err != nil || u.GetBool(users.FieldApproved) || !u.Verified() {
		t.Fatalf("expected a verified account waiting for approval, got %v", err)
	}

	m.QueueUser(&mockoidc.MockUser{Subject: "sub-wait", Email: "wait@example.com", EmailVerified: true})
	again := oidcSignIn(t, srv, cfg)
	if again.Status != http.StatusForbidden || again.JSON(t)["message"] != users.MsgAwaitingApproval {
		t.Fatalf("expected 403 %q, got %d: %s", users.MsgAwaitingApproval, again.Status, again.Body)
	}
}
