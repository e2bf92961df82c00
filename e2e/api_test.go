package e2e

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"testing"
	"time"

	"phaseflow/client"
)

// The superuser the servers are started with (POCKETBASE_ADMIN_*), and the password of the users
// the tests create.
const (
	adminEmail    = "root@example.com"
	adminPassword = "root-password-123"
	userPassword  = "correct-horse-battery"
)

// adminEnv starts a server with the test superuser.
var adminEnv = []string{"POCKETBASE_ADMIN_EMAIL=" + adminEmail, "POCKETBASE_ADMIN_PASSWORD=" + adminPassword}

// waitTimeout bounds every wait for an effect: a page state, a mail, a token expiring.
const waitTimeout = 20 * time.Second

// pollInterval is how often a wait checks again.
const pollInterval = 50 * time.Millisecond

// poll calls cond every pollInterval until it holds (true) or timeout passes (false).
func poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pollInterval)
	}
	return true
}

// eventually waits until cond holds and fails the test after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !poll(waitTimeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
	}
}

// mustClient returns a client for srv that holds no token.
func mustClient(t *testing.T, srv *Server) *client.Client {
	t.Helper()
	c, err := client.New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// superuser returns a client signed in as the server's superuser. It signs in once per server:
// PocketBase allows a couple of superuser sign-ins every few seconds.
func (s *Server) superuser(t *testing.T) *client.Client {
	t.Helper()
	s.adminOnce.Do(func() { s.admin, s.adminErr = signInSuperuser(t.Context(), s) })
	if s.adminErr != nil {
		t.Fatalf("superuser sign-in: %v", s.adminErr)
	}
	return s.admin
}

// signInSuperuser signs in the server's superuser with both factors: the password, then the code
// the server prints (a local run has the console mailer, so superusers need a second factor).
func signInSuperuser(ctx context.Context, srv *Server) (*client.Client, error) {
	c, err := client.New(srv.URL)
	if err != nil {
		return nil, err
	}
	_, err = c.AuthSuperuser(ctx, adminEmail, adminPassword)
	var mfa *client.MFARequiredError
	if !errors.As(err, &mfa) {
		return nil, fmt.Errorf("expected the superuser sign-in to ask for a second factor, got %v", err)
	}
	offset := len(srv.Output.String())
	otpID, err := c.RequestSuperuserOTP(ctx, adminEmail)
	if err != nil {
		return nil, err
	}
	code, err := waitMailedCode(srv, adminEmail, offset)
	if err != nil {
		return nil, err
	}
	if _, err := c.AuthSuperuserWithOTP(ctx, otpID, code, client.WithMFA(mfa.MFAID)); err != nil {
		return nil, err
	}
	return c, nil
}

// createUser creates a verified user with userPassword (and mfa on or off) through the
// superuser API, with any other fields given, and returns its id.
func createUser(t *testing.T, srv *Server, email string, mfa bool, fields ...map[string]any) string {
	t.Helper()
	body := map[string]any{"email": email, "password": userPassword, "passwordConfirm": userPassword, "verified": true, "mfa": mfa}
	for _, f := range fields {
		maps.Copy(body, f)
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := srv.superuser(t).Do(t.Context(), "POST", "/api/collections/users/records", body, &out); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return out.ID
}

// signIn returns a client signed in as a (non-MFA) user with userPassword.
func signIn(t *testing.T, srv *Server, email string) *client.Client {
	t.Helper()
	c := mustClient(t, srv)
	if _, err := c.AuthWithPassword(t.Context(), email, userPassword); err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	return c
}

// findUsers returns the ids of the users with email, through the superuser API.
func findUsers(t *testing.T, srv *Server, email string) []string {
	t.Helper()
	q := url.Values{"filter": {fmt.Sprintf("email = %q", email)}}
	var out struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := srv.superuser(t).Do(t.Context(), "GET", "/api/collections/users/records?"+q.Encode(), nil, &out); err != nil {
		t.Fatalf("find user %s: %v", email, err)
	}
	ids := make([]string, len(out.Items))
	for i, it := range out.Items {
		ids[i] = it.ID
	}
	return ids
}
