package hooks_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/hooks"
	"phaseflow/internal/apptest"
	"phaseflow/migrations"
)

func TestApplyConfig(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AppURL = "https://phaseflow.example.com"
	cfg.AuthRateLimit = 7
	cfg.SessionDays = 3
	cfg.TrustedProxyHeaders = []string{"X-Forwarded-For"}
	cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.SenderAddress = "smtp.example.com", 587, "noreply@example.com"
	app := apptest.NewApp(t, cfg)
	if err := hooks.ApplyConfig(app, cfg); err != nil {
		t.Fatal(err)
	}
	s := app.Settings()
	if s.Meta.AppURL != cfg.AppURL || !s.SMTP.Enabled || s.SMTP.Host != "smtp.example.com" || s.Meta.SenderAddress != "noreply@example.com" {
		t.Fatalf("expected the URL and SMTP from the config, got %+v %+v", s.Meta, s.SMTP)
	}
	if !s.RateLimits.Enabled {
		t.Fatal("expected rate limiting on")
	}
	rule, ok := s.RateLimits.FindRateLimitRule([]string{hooks.RateLimitAuthLabel})
	if !ok || rule.MaxRequests != 7 || rule.Duration != 60 {
		t.Fatalf("expected users:auth 7/60s, got %+v", rule)
	}
	if _, ok := s.RateLimits.FindRateLimitRule([]string{hooks.RateLimitRequestOTPLabel}); !ok {
		t.Fatal("expected a rule for OTP requests")
	}
	if len(s.TrustedProxy.Headers) != 1 || s.TrustedProxy.Headers[0] != "X-Forwarded-For" {
		t.Fatalf("expected the trusted proxy header, got %v", s.TrustedProxy.Headers)
	}
	users, _ := app.FindCollectionByNameOrId(migrations.Users)
	if users.AuthToken.Duration != 3*24*3600 || !users.OTP.Enabled || !users.MFA.Enabled || users.CreateRule != nil {
		t.Fatalf("unexpected users options: duration=%d otp=%t mfa=%t create=%v", users.AuthToken.Duration, users.OTP.Enabled, users.MFA.Enabled, users.CreateRule)
	}

	t.Run("a changed environment takes effect at the next start", func(t *testing.T) {
		cfg2 := cfg
		cfg2.AuthRateLimit = 2
		cfg2.OpenRegistration = true
		if err := hooks.ApplyConfig(app, cfg2); err != nil {
			t.Fatal(err)
		}
		rule, _ := app.Settings().RateLimits.FindRateLimitRule([]string{hooks.RateLimitAuthLabel})
		if rule.MaxRequests != 2 {
			t.Fatalf("expected 2, got %d", rule.MaxRequests)
		}
		n := 0
		for _, r := range app.Settings().RateLimits.Rules {
			if r.Label == hooks.RateLimitAuthLabel {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("expected one users:auth rule, got %d", n)
		}
		users, _ := app.FindCollectionByNameOrId(migrations.Users)
		if users.CreateRule == nil || *users.CreateRule != migrations.UserCreateRule {
			t.Fatalf("expected sign-up open with the create rule, got %v", users.CreateRule)
		}
	})
}

func TestNoMailOutsideDevelopmentSwitchesOffOTPAndMFA(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AppURL = "https://phaseflow.example.com" // not local, no SMTP
	srv := apptest.Start(t, cfg)
	users, _ := srv.App.FindCollectionByNameOrId(migrations.Users)
	if users.OTP.Enabled || users.MFA.Enabled {
		t.Fatalf("expected OTP and MFA off, got otp=%t mfa=%t", users.OTP.Enabled, users.MFA.Enabled)
	}
	res := srv.Do(t, "GET", "/api/collections/users/auth-methods", nil, nil)
	if !strings.Contains(string(res.Body), `"otp":{"enabled":false`) || !strings.Contains(string(res.Body), `"mfa":{"enabled":false`) {
		t.Fatalf("expected auth-methods without OTP and MFA, got %s", res.Body)
	}
	res = srv.Do(t, "POST", "/api/collections/users/request-otp", map[string]string{"email": "a@example.com"}, nil)
	if res.Status != http.StatusForbidden {
		t.Fatalf("expected request-otp to be refused, got %d", res.Status)
	}

	t.Run("an account that wants a second factor is not let in with a password alone", func(t *testing.T) {
		apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(migrations.FieldMFA, true) })
		res := srv.Do(t, "POST", "/api/collections/users/auth-with-password",
			map[string]string{"identity": "mfa@example.com", "password": apptest.Password}, nil)
		if res.Status != http.StatusForbidden || strings.Contains(string(res.Body), `"token"`) {
			t.Fatalf("expected 403 without a token, got %d: %s", res.Status, res.Body)
		}
	})
}

func TestConsoleMailer(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	m := &hooks.ConsoleMailer{Out: &out}
	err := m.Send(&mailer.Message{Subject: "Your code", Text: "12345678"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SMTP not configured", "Your code", "12345678"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("expected %q in %q", want, out.String())
		}
	}
}

func TestUpsertSuperuser(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AdminEmail, cfg.AdminPassword = "root@example.com", "first-password-123"
	app := apptest.NewApp(t, cfg)
	if err := hooks.UpsertSuperuser(app, cfg); err != nil {
		t.Fatal(err)
	}
	su, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if err != nil || !su.ValidatePassword("first-password-123") {
		t.Fatalf("expected the superuser with the password, got %v", err)
	}
	key := su.TokenKey()

	if err := hooks.UpsertSuperuser(app, cfg); err != nil {
		t.Fatal(err)
	}
	su, _ = app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if su.TokenKey() != key {
		t.Fatal("expected an unchanged password to keep sessions (token key) valid")
	}

	cfg.AdminPassword = "second-password-456"
	if err := hooks.UpsertSuperuser(app, cfg); err != nil {
		t.Fatal(err)
	}
	su, _ = app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if !su.ValidatePassword("second-password-456") {
		t.Fatal("expected the new password")
	}
	if n, _ := app.CountRecords(core.CollectionNameSuperusers); n != 1 {
		t.Fatalf("expected one superuser, got %d", n)
	}
}

func TestDeleteOldAuthEvents(t *testing.T) {
	t.Parallel()
	app := apptest.NewApp(t, apptest.Config(t))
	for _, reason := range []string{"old", "new"} {
		if err := hooks.RecordAuthEvent(app, hooks.AuthEvent{Method: migrations.MethodPassword, Outcome: migrations.OutcomeSuccess, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().UTC().AddDate(0, 0, -91).Format("2006-01-02 15:04:05.000Z")
	if _, err := app.DB().NewQuery("UPDATE auth_events SET created = {:c} WHERE reason = 'old'").Bind(map[string]any{"c": old}).Execute(); err != nil {
		t.Fatal(err)
	}
	n, err := hooks.DeleteOldAuthEvents(app, 90, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("expected 1 deleted, got %d, %v", n, err)
	}
	left := apptest.AuthEvents(t, app, "")
	if len(left) != 1 || left[0].GetString("reason") != "new" {
		t.Fatalf("expected only the new event, got %d", len(left))
	}
}
