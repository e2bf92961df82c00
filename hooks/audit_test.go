package hooks_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/internal/apptest"
	"phaseflow/users"
)

// auditRow returns the single auth_events row of method, failing unless there is exactly one.
func auditRow(t *testing.T, srv *apptest.Server, method string) *core.Record {
	t.Helper()
	evs := apptest.AuthEvents(t, srv.App, "method = {:m}", map[string]any{"m": method})
	if len(evs) != 1 {
		t.Fatalf("expected 1 %s event, got %d", method, len(evs))
	}
	return evs[0]
}

// checkRow asserts the outcome, identity, user and reason of an audit row.
func checkRow(t *testing.T, ev *core.Record, outcome, identity, user, reasonPart string) {
	t.Helper()
	got := []string{ev.GetString(audit.FieldOutcome), ev.GetString(audit.FieldIdentity), ev.GetString(audit.FieldUser)}
	want := []string{outcome, identity, user}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("expected outcome/identity/user %q, got %q", want, got)
		}
	}
	if !strings.Contains(ev.GetString(audit.FieldReason), reasonPart) {
		t.Fatalf("expected the reason to contain %q, got %q", reasonPart, ev.GetString(audit.FieldReason))
	}
}

// TestAuditRecordsRefusedSignIns checks that every handler that can refuse a sign-in runs after
// the audit has captured the identity tried and, where known, the account.
func TestAuditRecordsRefusedSignIns(t *testing.T) {
	t.Parallel()

	t.Run("OIDC: an unknown identity with closed registration", func(t *testing.T) {
		t.Parallel()
		m := startProvider(t)
		cfg := oidcConfig(t, m, false)
		srv := apptest.Start(t, cfg)
		m.QueueUser(&mockoidc.MockUser{Subject: "sub-eve", Email: "eve@example.com", EmailVerified: true})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		checkRow(t, auditRow(t, srv, audit.MethodOAuth2), audit.OutcomeFailure, "eve@example.com", "", "No account for this identity.")
	})

	t.Run("OIDC: a relink with a new subject", func(t *testing.T) {
		t.Parallel()
		m := startProvider(t)
		cfg := oidcConfig(t, m, false)
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com")
		m.QueueUser(&mockoidc.MockUser{Subject: "old-sub", Email: "ana@example.com", EmailVerified: true})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusOK {
			t.Fatalf("first sign-in: expected 200, got %d: %s", res.Status, res.Body)
		}
		m.QueueUser(&mockoidc.MockUser{Subject: "new-sub", Email: "ana@example.com", EmailVerified: true})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusBadRequest {
			t.Fatalf("expected 400, got %d: %s", res.Status, res.Body)
		}
		evs := apptest.AuthEvents(t, srv.App, "method = 'oauth2' && outcome = 'failure'")
		if len(evs) != 1 {
			t.Fatalf("expected 1 failed oauth2 event, got %d", len(evs))
		}
		checkRow(t, evs[0], audit.OutcomeFailure, "ana@example.com", ana.Id, "already linked to a different identity")
	})

	t.Run("OIDC: no verified email", func(t *testing.T) {
		t.Parallel()
		m := startProvider(t)
		cfg := oidcConfig(t, m, true)
		srv := apptest.Start(t, cfg)
		m.QueueUser(&mockoidc.MockUser{Subject: "sub-u", Email: "u@example.com", EmailVerified: false})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		// PocketBase drops an unverified email, so there is no identity to record.
		checkRow(t, auditRow(t, srv, audit.MethodOAuth2), audit.OutcomeFailure, "", "", "verified email")
	})

	t.Run("OIDC: an account waiting for approval keeps its name", func(t *testing.T) {
		t.Parallel()
		m := startProvider(t)
		cfg := oidcConfig(t, m, false)
		cfg.RegistrationApproval = true
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) {
			r.Set(users.FieldName, "Old Name")
			r.Set(users.FieldApproved, false)
		})
		m.QueueUser(namedUser{MockUser: &mockoidc.MockUser{Subject: "sub-ana", Email: "ana@example.com", EmailVerified: true}, Name: "New Name"})
		if res := oidcSignIn(t, srv, cfg); res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		checkRow(t, auditRow(t, srv, audit.MethodOAuth2), audit.OutcomeFailure, "ana@example.com", ana.Id, "waiting for approval")
		fresh, _ := srv.App.FindRecordById(users.Collection, ana.Id)
		if got := fresh.GetString(users.FieldName); got != "Old Name" {
			t.Fatalf("expected a refused sign-in to change nothing, got name %q", got)
		}
	})

	t.Run("password: an account waiting for approval", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		cfg.RegistrationApproval = true
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.Set(users.FieldApproved, false) })
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		checkRow(t, auditRow(t, srv, audit.MethodPassword), audit.OutcomeFailure, "ana@example.com", ana.Id, "waiting for approval")
	})

	t.Run("password: a second factor that cannot be sent", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		cfg.AppURL = "https://phaseflow.example.com" // not local, no SMTP: no mail, no MFA
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "ana@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		checkRow(t, auditRow(t, srv, audit.MethodPassword), audit.OutcomeFailure, "ana@example.com", ana.Id, "second factor")
	})

	t.Run("email code: an account waiting for approval", func(t *testing.T) {
		t.Parallel()
		cfg := apptest.Config(t)
		cfg.RegistrationApproval = true
		srv := apptest.Start(t, cfg)
		ana := apptest.CreateUser(t, srv.App, "ana@example.com", func(r *core.Record) { r.Set(users.FieldApproved, false) })
		otpID := requestOTP(t, srv, "ana@example.com")
		code := waitForCode(t, srv.App, 1)
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-otp", map[string]string{"otpId": otpID, "password": code}, nil)
		if res.Status != http.StatusForbidden {
			t.Fatalf("expected 403, got %d: %s", res.Status, res.Body)
		}
		checkRow(t, auditRow(t, srv, audit.MethodOTP), audit.OutcomeFailure, "ana@example.com", ana.Id, "waiting for approval")
	})
}
