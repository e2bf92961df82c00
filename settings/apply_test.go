package settings_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/internal/apptest"
	"phaseflow/settings"
	"phaseflow/users"
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
	if err := settings.Apply(app, cfg); err != nil {
		t.Fatal(err)
	}
	s := app.Settings()
	if s.Meta.AppURL != cfg.AppURL || !s.SMTP.Enabled || s.SMTP.Host != "smtp.example.com" || s.Meta.SenderAddress != "noreply@example.com" {
		t.Fatalf("expected the URL and SMTP from the config, got %+v %+v", s.Meta, s.SMTP)
	}
	if !s.RateLimits.Enabled {
		t.Fatal("expected rate limiting on")
	}
	rule, ok := s.RateLimits.FindRateLimitRule([]string{settings.RateLimitAuthLabel})
	if !ok || rule.MaxRequests != 7 || rule.Duration != 60 {
		t.Fatalf("expected users:auth 7/60s, got %+v", rule)
	}
	if _, ok := s.RateLimits.FindRateLimitRule([]string{settings.RateLimitRequestOTPLabel}); !ok {
		t.Fatal("expected a rule for OTP requests")
	}
	if len(s.TrustedProxy.Headers) != 1 || s.TrustedProxy.Headers[0] != "X-Forwarded-For" {
		t.Fatalf("expected the trusted proxy header, got %v", s.TrustedProxy.Headers)
	}
	col, _ := app.FindCollectionByNameOrId(users.Collection)
	if col.AuthToken.Duration != 3*24*3600 || !col.OTP.Enabled || !col.MFA.Enabled || col.CreateRule != nil {
		t.Fatalf("unexpected users options: duration=%d otp=%t mfa=%t create=%v", col.AuthToken.Duration, col.OTP.Enabled, col.MFA.Enabled, col.CreateRule)
	}

	t.Run("a changed environment takes effect at the next start", func(t *testing.T) {
		cfg2 := cfg
		cfg2.AuthRateLimit = 2
		cfg2.OpenRegistration = true
		if err := settings.Apply(app, cfg2); err != nil {
			t.Fatal(err)
		}
		rule, _ := app.Settings().RateLimits.FindRateLimitRule([]string{settings.RateLimitAuthLabel})
		if rule.MaxRequests != 2 {
			t.Fatalf("expected 2, got %d", rule.MaxRequests)
		}
		n := 0
		for _, r := range app.Settings().RateLimits.Rules {
			if r.Label == settings.RateLimitAuthLabel {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("expected one users:auth rule, got %d", n)
		}
		col, _ := app.FindCollectionByNameOrId(users.Collection)
		if col.CreateRule == nil || *col.CreateRule != users.CreateRule {
			t.Fatalf("expected sign-up open with the create rule, got %v", col.CreateRule)
		}
	})
}

func TestNoMailOutsideDevelopmentSwitchesOffOTPAndMFA(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.AppURL = "https://phaseflow.example.com" // not local, no SMTP
	srv := apptest.Start(t, cfg)
	col, _ := srv.App.FindCollectionByNameOrId(users.Collection)
	if col.OTP.Enabled || col.MFA.Enabled {
		t.Fatalf("expected OTP and MFA off, got otp=%t mfa=%t", col.OTP.Enabled, col.MFA.Enabled)
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
		apptest.CreateUser(t, srv.App, "mfa@example.com", func(r *core.Record) { r.Set(users.FieldMFA, true) })
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
	m := &settings.ConsoleMailer{Out: &out}
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
	if err := settings.UpsertSuperuser(app, cfg); err != nil {
		t.Fatal(err)
	}
	su, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if err != nil || !su.ValidatePassword("first-password-123") {
		t.Fatalf("expected the superuser with the password, got %v", err)
	}
	key := su.TokenKey()

	if err := settings.UpsertSuperuser(app, cfg); err != nil {
		t.Fatal(err)
	}
	su, _ = app.FindAuthRecordByEmail(core.CollectionNameSuperusers, "root@example.com")
	if su.TokenKey() != key {
		t.Fatal("expected an unchanged password to keep sessions (token key) valid")
	}

	cfg.AdminPassword = "second-password-456"
	if err := settings.UpsertSuperuser(app, cfg); err != nil {
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
