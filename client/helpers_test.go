package client_test

import (
	"errors"
	"net/mail"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/security"

	"phaseflow/client"
	"phaseflow/config"
	"phaseflow/internal/apptest"
)

// startServer starts PhaseFlow (a real PocketBase test app behind a real HTTP server) with the
// default configuration, changed by edits.
func startServer(t *testing.T, edits ...func(*config.Config)) (*apptest.Server, config.Config) {
	t.Helper()
	cfg := apptest.Config(t)
	for _, edit := range edits {
		edit(&cfg)
	}
	return apptest.Start(t, cfg), cfg
}

// newClient returns a Client for srv that holds no token.
func newClient(t *testing.T, srv *apptest.Server, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL, opts...)
	if err != nil {
		t.Fatalf("client.New(%q): %v", srv.URL, err)
	}
	return c
}

// signIn creates a user with email and returns a Client signed in as it with its password.
func signIn(t *testing.T, srv *apptest.Server, email string) (*client.Client, *core.Record) {
	t.Helper()
	user := apptest.CreateUser(t, srv.App, email)
	c := newClient(t, srv)
	if _, err := c.AuthWithPassword(t.Context(), email, apptest.Password); err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return c, user
}

// superuserClient creates a superuser and returns a Client signed in as it: password, then the
// mailed code (superusers need a second factor when the server has a mailer).
func superuserClient(t *testing.T, srv *apptest.Server, email string) *client.Client {
	t.Helper()
	apptest.CreateSuperuser(t, srv.App, email)
	c := newClient(t, srv)
	_, err := c.AuthSuperuser(t.Context(), email, apptest.Password)
	var mfa *client.MFARequiredError
	if !errors.As(err, &mfa) {
		t.Fatalf("expected the superuser sign-in to ask for a second factor, got %v", err)
	}
	before := srv.App.TestMailer.TotalSend()
	otpID, err := c.RequestSuperuserOTP(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.AuthSuperuserWithOTP(t.Context(), otpID, waitForCode(t, srv.App, email, before), client.WithMFA(mfa.MFAID))
	if err != nil || rec.CollectionName != client.SuperuserCollection {
		t.Fatalf("superuser sign-in: %+v %v", rec, err)
	}
	return c
}

var otpCode = regexp.MustCompile(`\b\d{8}\b`)

// waitForCode polls the test mailer (OTP mails are sent in the background) until a mail to
// email with an 8-digit code arrives after the first `after` mails, and returns the code.
func waitForCode(t *testing.T, app *tests.TestApp, email string, after int) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msgs := app.TestMailer.Messages()
		for _, m := range msgs[min(after, len(msgs)):] {
			if !slices.ContainsFunc(m.To, func(a mail.Address) bool { return a.Address == email }) {
				continue
			}
			if code := otpCode.FindString(m.HTML + m.Text); code != "" {
				return code
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no code mailed to %s within 10s (%d mails in all)", email, len(msgs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mintToken signs a refreshable auth token for user that expires after ttl, the way PocketBase
// does (the record's token key plus the collection's auth secret).
func mintToken(t *testing.T, app core.App, user *core.Record, ttl time.Duration) string {
	t.Helper()
	return apptest.SignToken(t, user, ttl, map[string]any{"sid": apptest.Session(t, app, user)})
}

// claimsOf decodes a token's claims without verifying them.
func claimsOf(t *testing.T, token string) jwt.MapClaims {
	t.Helper()
	claims, err := security.ParseUnverifiedJWT(token)
	if err != nil {
		t.Fatalf("expected a JWT, got %v", err)
	}
	return claims
}

// expiryOf is a token's exp claim.
func expiryOf(t *testing.T, token string) time.Time {
	t.Helper()
	exp, err := claimsOf(t, token).GetExpirationTime()
	if err != nil || exp == nil {
		t.Fatalf("expected an exp claim: %v", err)
	}
	return exp.Time
}

// expectNear fails unless got is within a minute of want.
func expectNear(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d < -time.Minute || d > time.Minute {
		t.Fatalf("expected %s near %v, got %v", what, want, got)
	}
}

// countEvents counts the auth_events rows matching a filter.
func countEvents(t *testing.T, app core.App, filter string, params map[string]any) int {
	t.Helper()
	return len(apptest.AuthEvents(t, app, filter, params))
}
