package client_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/client"
	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

func TestAuthWithPassword(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")

	t.Run("the right password signs in and User returns the profile", func(t *testing.T) {
		c := newClient(t, srv)
		rec, err := c.AuthWithPassword(t.Context(), "ana@example.com", apptest.Password)
		if err != nil {
			t.Fatalf("expected a sign-in, got %v", err)
		}
		want := client.AuthRecord{ID: user.Id, CollectionID: user.Collection().Id, CollectionName: "users", Email: "ana@example.com", Verified: true}
		if rec != want {
			t.Fatalf("expected record %+v, got %+v", want, rec)
		}
		if claimsOf(t, c.Token())[core.TokenClaimId] != user.Id {
			t.Fatalf("expected a token for %s", user.Id)
		}
		got, err := c.User(t.Context())
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		wantProfile := client.Profile{ID: user.Id, Email: "ana@example.com", CycleLength: 28, Timezone: "UTC"}
		if got != wantProfile {
			t.Fatalf("expected %+v, got %+v", wantProfile, got)
		}
	})

	t.Run("a wrong password is a 400 *Error and leaves the client signed out", func(t *testing.T) {
		c := newClient(t, srv)
		_, err := c.AuthWithPassword(t.Context(), "ana@example.com", "wrong-password-123")
		var apiErr *client.Error
		if !errors.As(err, &apiErr) {
			t.Fatalf("expected a *client.Error, got %T %v", err, err)
		}
		if apiErr.Status != http.StatusBadRequest || apiErr.Message != "Failed to authenticate." || apiErr.Data != nil {
			t.Fatalf("expected 400 \"Failed to authenticate.\" without field errors, got %+v", apiErr)
		}
		if got := err.Error(); got != "server answered 400 Bad Request: Failed to authenticate." {
			t.Fatalf("unexpected message %q", got)
		}
		if strings.Contains(err.Error(), "wrong-password-123") {
			t.Fatal("the error shows the password")
		}
		if c.Token() != "" {
			t.Fatal("expected no token after a failed sign-in")
		}
	})

	t.Run("AuthSuperuser with its second factor holds a superuser token, which /api/user refuses with 403", func(t *testing.T) {
		c := superuserClient(t, srv, "root@example.com")
		_, err := c.User(t.Context())
		if got := client.StatusCode(err); got != http.StatusForbidden {
			t.Fatalf("expected 403 for a superuser on /api/user, got %d: %v", got, err)
		}
	})
}

func TestAuthWithOTP(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	c := newClient(t, srv)

	before := srv.App.TestMailer.TotalSend()
	otpID, err := c.RequestOTP(t.Context(), "ana@example.com")
	if err != nil || otpID == "" {
		t.Fatalf("expected an otp id, got %q %v", otpID, err)
	}
	code := waitForCode(t, srv.App, "ana@example.com", before)

	t.Run("a wrong code is a 400 *Error", func(t *testing.T) {
		wrong := "00000000"
		if code == wrong {
			wrong = "11111111"
		}
		_, err := c.AuthWithOTP(t.Context(), otpID, wrong)
		if got := client.StatusCode(err); got != http.StatusBadRequest || c.Token() != "" {
			t.Fatalf("expected 400 and no token, got %d (%v)", got, err)
		}
	})

	t.Run("the mailed code signs in", func(t *testing.T) {
		rec, err := c.AuthWithOTP(t.Context(), otpID, code)
		if err != nil || rec.ID != user.Id {
			t.Fatalf("expected a sign-in as %s, got %+v %v", user.Id, rec, err)
		}
		if p, err := c.User(t.Context()); err != nil || p.Email != "ana@example.com" {
			t.Fatalf("expected the profile of ana, got %+v %v", p, err)
		}
	})
}

func TestMFAContinuation(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	user := apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
	c := newClient(t, srv)

	_, err := c.AuthWithPassword(t.Context(), "mfa@example.com", apptest.Password)
	var mfa *client.MFARequiredError
	if !errors.As(err, &mfa) || mfa.MFAID == "" {
		t.Fatalf("expected *MFARequiredError with an id, got %T %v", err, err)
	}
	if c.Token() != "" {
		t.Fatal("expected no token after the first factor alone")
	}
	if strings.Contains(err.Error(), mfa.MFAID) || client.StatusCode(err) != 0 {
		t.Fatalf("expected the MFA error to hide its id and carry no *Error, got %q", err)
	}

	// mailedCode requests a code for the account and returns the otp id and the mailed code.
	mailedCode := func(t *testing.T) (string, string) {
		t.Helper()
		before := srv.App.TestMailer.TotalSend()
		otpID, err := c.RequestOTP(t.Context(), "mfa@example.com")
		if err != nil {
			t.Fatal(err)
		}
		return otpID, waitForCode(t, srv.App, "mfa@example.com", before)
	}

	t.Run("an unknown mfaId is a 400 *Error", func(t *testing.T) {
		otpID, code := mailedCode(t)
		_, err := c.AuthWithOTP(t.Context(), otpID, code, client.WithMFA("doesnotexist123"))
		var apiErr *client.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Message != "Invalid or expired MFA session." {
			t.Fatalf("expected 400 \"Invalid or expired MFA session.\", got %v", err)
		}
		if c.Token() != "" {
			t.Fatal("expected no token")
		}
	})

	t.Run("the code with the mfaId finishes the sign-in", func(t *testing.T) {
		otpID, code := mailedCode(t)
		rec, err := c.AuthWithOTP(t.Context(), otpID, code, client.WithMFA(mfa.MFAID))
		if err != nil || rec.ID != user.Id {
			t.Fatalf("expected a sign-in as %s, got %+v %v", user.Id, rec, err)
		}
		if p, err := c.User(t.Context()); err != nil || p.ID != user.Id {
			t.Fatalf("expected the profile, got %+v %v", p, err)
		}
		if n := countEvents(t, srv.App, "method = 'otp' && outcome = 'success' && secondFactor = true && user = {:u}", map[string]any{"u": user.Id}); n != 1 {
			t.Fatalf("expected 1 audited second factor, got %d", n)
		}
	})
}

func TestAuthWithOAuth2Code(t *testing.T) {
	t.Parallel()
	m, err := mockoidc.Run()
	if err != nil {
		t.Fatalf("failed to start the OIDC provider: %v", err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	srv, cfg := startServer(t, func(c *config.Config) {
		c.OIDC = config.OIDC{IssuerURL: m.Issuer(), ClientID: m.ClientID, ClientSecret: m.ClientSecret, DisplayName: "Pocket-ID"}
	})
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true})
	c := newClient(t, srv)

	methods, err := c.AuthMethods(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !methods.Password.Enabled || !methods.OTP.Enabled || methods.OTP.Duration <= 0 || !methods.MFA.Enabled || !methods.OAuth2.Enabled {
		t.Fatalf("expected password, OTP, MFA and OAuth2 on, got %+v", methods)
	}
	p, ok := methods.Provider("oidc")
	if !ok || p.DisplayName != "Pocket-ID" || p.State == "" || p.CodeVerifier == "" || p.CodeChallengeMethod != "S256" {
		t.Fatalf("expected the oidc provider with state and PKCE, got %+v", methods.OAuth2.Providers)
	}

	// The browser's part of the redirect flow: the provider answers /authorize with a redirect
	// to the callback page, carrying the code and the state.
	redirect := cfg.OAuth2RedirectURL()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(p.AuthCodeURL(redirect))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound {
		t.Fatalf("expected a 302 back to the callback, got %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirect || loc.Query().Get("state") != p.State {
		t.Fatalf("expected %s with state %q, got %s", redirect, p.State, loc)
	}

	rec, err := c.AuthWithOAuth2Code(t.Context(), p.Name, loc.Query().Get("code"), p.CodeVerifier, redirect)
	if err != nil || rec.ID != user.Id {
		t.Fatalf("expected a sign-in as %s, got %+v %v", user.Id, rec, err)
	}
	if prof, err := c.User(t.Context()); err != nil || prof.Email != "ana@example.com" {
		t.Fatalf("expected ana's profile, got %+v %v", prof, err)
	}

	t.Run("a used code is refused", func(t *testing.T) {
		other := newClient(t, srv)
		_, err := other.AuthWithOAuth2Code(t.Context(), p.Name, loc.Query().Get("code"), p.CodeVerifier, redirect)
		if got := client.StatusCode(err); got != http.StatusBadRequest || other.Token() != "" {
			t.Fatalf("expected 400 and no token, got %d (%v)", got, err)
		}
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()
	srv, cfg := startServer(t)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	lifetime := time.Duration(cfg.SessionDays) * 24 * time.Hour

	t.Run("Refresh replaces a short token with a full one that works", func(t *testing.T) {
		c := newClient(t, srv, client.WithRefreshThreshold(0))
		short := mintToken(t, srv.App, user, time.Hour)
		c.SetToken(short)
		if err := c.Refresh(t.Context()); err != nil {
			t.Fatalf("Refresh: %v", err)
		}
		if c.Token() == short {
			t.Fatal("expected a new token")
		}
		expectNear(t, "the refreshed expiry", expiryOf(t, c.Token()), time.Now().Add(lifetime))
		if _, err := c.User(t.Context()); err != nil {
			t.Fatalf("expected the refreshed token to work, got %v", err)
		}
	})

	t.Run("a token near expiry is refreshed before the call", func(t *testing.T) {
		before := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id})
		c := newClient(t, srv)
		short := mintToken(t, srv.App, user, 2*time.Minute)
		c.SetToken(short)
		if _, err := c.User(t.Context()); err != nil {
			t.Fatal(err)
		}
		if c.Token() == short {
			t.Fatal("expected the token to be refreshed")
		}
		expectNear(t, "the refreshed expiry", expiryOf(t, c.Token()), time.Now().Add(lifetime))
		if n := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id}); n != before+1 {
			t.Fatalf("expected exactly 1 refresh, got %d", n-before)
		}
	})

	t.Run("concurrent calls refresh a token near expiry once", func(t *testing.T) {
		before := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id})
		c := newClient(t, srv)
		c.SetToken(mintToken(t, srv.App, user, 2*time.Minute))
		var wg sync.WaitGroup
		errs := make(chan error, 5)
		for range 5 {
			wg.Go(func() {
				_, err := c.User(t.Context())
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id}); n != before+1 {
			t.Fatalf("expected exactly 1 refresh, got %d", n-before)
		}
	})

	t.Run("a token outside the threshold is used as it is", func(t *testing.T) {
		before := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id})
		c := newClient(t, srv, client.WithRefreshThreshold(time.Minute))
		short := mintToken(t, srv.App, user, 2*time.Minute)
		c.SetToken(short)
		if _, err := c.User(t.Context()); err != nil {
			t.Fatal(err)
		}
		if c.Token() != short {
			t.Fatal("expected the token to be kept")
		}
		if n := countEvents(t, srv.App, "method = 'refresh' && user = {:u}", map[string]any{"u": user.Id}); n != before {
			t.Fatalf("expected no refresh, got %d", n-before)
		}
	})

	t.Run("an expired token is not refreshed and the call is a 401", func(t *testing.T) {
		c := newClient(t, srv)
		expired := mintToken(t, srv.App, user, -time.Minute)
		c.SetToken(expired)
		_, err := c.User(t.Context())
		if !client.IsUnauthorized(err) || c.Token() != expired {
			t.Fatalf("expected 401 with the token kept, got %v", err)
		}
		if strings.Contains(err.Error(), "refresh") {
			t.Fatalf("expected the call's own 401, not a refresh failure: %v", err)
		}
	})

	t.Run("a refused automatic refresh is returned as the call's error", func(t *testing.T) {
		c := newClient(t, srv)
		other := apptest.CreateUser(t, srv.App, "bob@example.com")
		short := mintToken(t, srv.App, other, 2*time.Minute)
		other.RefreshTokenKey() // revokes every token of bob
		if err := srv.App.Save(other); err != nil {
			t.Fatal(err)
		}
		c.SetToken(short)
		_, err := c.User(t.Context())
		if !client.IsUnauthorized(err) || !strings.HasPrefix(err.Error(), "failed to refresh the token: server answered 401") {
			t.Fatalf("expected a wrapped 401 from the refresh, got %v", err)
		}
	})
}

func TestImpersonate(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	user := apptest.CreateUser(t, srv.App, "ana@example.com")
	admin := superuserClient(t, srv, "root@example.com")
	superuser, err := srv.App.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	adminToken := admin.Token()

	// Two minutes is inside the refresh threshold: a refreshable token would be refreshed.
	imp, err := admin.Impersonate(t.Context(), user.Id, 2*time.Minute)
	if err != nil {
		t.Fatalf("Impersonate: %v", err)
	}
	token := imp.Token()
	claims := claimsOf(t, token)
	if claims[core.TokenClaimId] != user.Id || claims[core.TokenClaimRefreshable] != false {
		t.Fatalf("expected a non-refreshable token for %s, got %v", user.Id, claims)
	}
	expectNear(t, "the impersonation expiry", expiryOf(t, token), time.Now().Add(2*time.Minute))
	if admin.Token() != adminToken {
		t.Fatal("expected the superuser client to keep its own token")
	}

	t.Run("the new client acts as the user and never refreshes", func(t *testing.T) {
		p, err := imp.User(t.Context())
		if err != nil || p.ID != user.Id || p.Email != "ana@example.com" {
			t.Fatalf("expected ana's profile, got %+v %v", p, err)
		}
		if imp.Token() != token {
			t.Fatal("expected the impersonation token to be used as it is")
		}
		if n := countEvents(t, srv.App, "method = 'refresh'", nil); n != 0 {
			t.Fatalf("expected no refresh attempt, got %d", n)
		}
		if n := countEvents(t, srv.App, "method = 'impersonate' && outcome = 'success' && user = {:u} && actor = {:a}",
			map[string]any{"u": user.Id, "a": superuser.Id}); n != 1 {
			t.Fatalf("expected 1 audited impersonation, got %d", n)
		}
	})

	t.Run("a user token gets 403", func(t *testing.T) {
		_, err := imp.Impersonate(t.Context(), user.Id, time.Minute)
		if got := client.StatusCode(err); got != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %v", got, err)
		}
	})

	t.Run("a negative duration is refused before sending", func(t *testing.T) {
		if _, err := admin.Impersonate(t.Context(), user.Id, -time.Second); err == nil || client.StatusCode(err) != 0 {
			t.Fatalf("expected a local error, got %v", err)
		}
	})
}

func TestLogoutAll(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, _ := signIn(t, srv, "ana@example.com")
	old := c.Token()

	if err := c.LogoutAll(t.Context()); err != nil {
		t.Fatalf("LogoutAll: %v", err)
	}
	if c.Token() != "" {
		t.Fatal("expected the token to be dropped")
	}
	again := newClient(t, srv)
	again.SetToken(old)
	_, err := again.User(t.Context())
	var apiErr *client.Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized {
		t.Fatalf("expected the old token to get 401, got %v", err)
	}

	t.Run("a failed LogoutAll keeps the token", func(t *testing.T) {
		again.SetToken(old)
		err := again.LogoutAll(t.Context())
		if got := client.StatusCode(err); got != http.StatusUnauthorized || again.Token() != old {
			t.Fatalf("expected 401 with the token kept, got %d (%v)", got, err)
		}
	})
}

// TestLogout ends the session on the server and drops the token, and drops it even when the
// server call fails.
func TestLogout(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t)
	c, _ := signIn(t, srv, "ana@example.com")
	token := c.Token()
	if err := c.Logout(t.Context()); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if c.Token() != "" {
		t.Fatal("expected the token to be dropped")
	}
	if res := srv.Do(t, "GET", "/api/user", nil, apptest.Auth(token)); res.Status != http.StatusUnauthorized {
		t.Fatalf("expected the old token to stop working, got %d", res.Status)
	}
	t.Run("a failed Logout drops the token too", func(t *testing.T) {
		again, err := client.New(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		again.SetToken(token) // its session has ended: the server answers 401
		err = again.Logout(t.Context())
		if client.StatusCode(err) != http.StatusUnauthorized || again.Token() != "" {
			t.Fatalf("expected a 401 and no token, got %v and %q", err, again.Token())
		}
	})
}
