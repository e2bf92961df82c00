package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/config"
	"phaseflow/migrations"
)

// Rate limit rule labels PhaseFlow manages.
const (
	RateLimitAuthLabel       = migrations.Users + ":auth"
	RateLimitRequestOTPLabel = migrations.Users + ":requestOTP"
	rateLimitWindowSeconds   = 60
)

func bindStartup(app core.App, cfg config.Config) {
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Id:       "phaseflowStartup",
		Priority: -100, // before the routes are bound and the server starts
		Func: func(se *core.ServeEvent) error {
			if err := ApplyConfig(se.App, cfg); err != nil {
				return fmt.Errorf("failed to apply the configuration: %w", err)
			}
			if err := UpsertSuperuser(se.App, cfg); err != nil {
				return fmt.Errorf("failed to create the superuser from POCKETBASE_ADMIN_EMAIL: %w", err)
			}
			startOIDC(se.App, cfg)
			scheduleJobs(se.App, cfg)
			return se.Next()
		},
	})
}

// MailAvailable reports whether mail can be delivered: SMTP is configured (from the environment or
// the admin UI), or the app runs locally and mail is printed to the console instead.
func MailAvailable(app core.App, cfg config.Config) bool {
	return app.Settings().SMTP.Enabled || consoleMail(app, cfg)
}

// consoleMail reports whether mail goes to the console: no SMTP, and a local (development) run.
func consoleMail(app core.App, cfg config.Config) bool {
	return !app.Settings().SMTP.Enabled && (app.IsDev() || cfg.IsLocal())
}

// ApplyConfig writes the environment-derived settings into PocketBase's settings and the users
// collection. It runs at every start, so editing .env and restarting takes effect; values the
// environment leaves unset (SMTP, OIDC) keep what the operator configured in the admin UI.
func ApplyConfig(app core.App, cfg config.Config) error {
	s := app.Settings()
	s.Meta.AppURL = cfg.AppURL
	if s.Meta.AppName == "" || s.Meta.AppName == "Acme" {
		s.Meta.AppName = "PhaseFlow"
	}
	if cfg.SMTP.Enabled() {
		s.SMTP.Enabled = true
		s.SMTP.Host = cfg.SMTP.Host
		s.SMTP.Port = cfg.SMTP.Port
		s.SMTP.Username = cfg.SMTP.Username
		s.SMTP.Password = cfg.SMTP.Password
		s.SMTP.TLS = cfg.SMTP.TLS
	}
	if cfg.SMTP.SenderAddress != "" {
		s.Meta.SenderAddress = cfg.SMTP.SenderAddress
	}
	if cfg.SMTP.SenderName != "" {
		s.Meta.SenderName = cfg.SMTP.SenderName
	}
	s.TrustedProxy.Headers = slices.Clone(cfg.TrustedProxyHeaders)
	if s.TrustedProxy.Headers == nil {
		s.TrustedProxy.Headers = []string{}
	}
	s.RateLimits.Enabled = true
	s.RateLimits.Rules = upsertRule(s.RateLimits.Rules, core.RateLimitRule{
		Label: RateLimitAuthLabel, MaxRequests: cfg.AuthRateLimit, Duration: rateLimitWindowSeconds,
	})
	s.RateLimits.Rules = upsertRule(s.RateLimits.Rules, core.RateLimitRule{
		Label: RateLimitRequestOTPLabel, MaxRequests: cfg.AuthRateLimit, Duration: rateLimitWindowSeconds,
	})
	if err := app.Save(s); err != nil {
		return fmt.Errorf("failed to save settings: %w", err)
	}

	users, err := app.FindCollectionByNameOrId(migrations.Users)
	if err != nil {
		return err
	}
	users.AuthToken.Duration = int64(cfg.SessionDays) * 24 * 60 * 60
	if cfg.OpenRegistration {
		users.CreateRule = types.Pointer(migrations.UserCreateRule)
	} else {
		users.CreateRule = nil
	}
	mail := MailAvailable(app, cfg)
	users.OTP.Enabled = mail
	// MFA's second factor is the email code: without mail it cannot work.
	users.MFA.Enabled = mail
	users.AuthAlert.Enabled = mail
	if !mail {
		notice(app, slog.LevelWarn, "SMTP is not configured: email codes (OTP), MFA and new-device alerts are switched off; set SMTP_HOST or configure SMTP in the admin UI")
	} else if consoleMail(app, cfg) {
		notice(app, slog.LevelWarn, "SMTP not configured: mail (including sign-in codes) is printed to the console because the app runs locally")
	}
	return app.Save(users)
}

// upsertRule replaces the rule with the same label and audience or appends it.
func upsertRule(rules []core.RateLimitRule, r core.RateLimitRule) []core.RateLimitRule {
	for i := range rules {
		if rules[i].Label == r.Label && rules[i].Audience == r.Audience {
			rules[i] = r
			return rules
		}
	}
	return append(rules, r)
}

// UpsertSuperuser creates the superuser named by POCKETBASE_ADMIN_EMAIL, or updates its password
// when it differs (an unchanged password keeps existing superuser sessions valid).
func UpsertSuperuser(app core.App, cfg config.Config) error {
	if cfg.AdminEmail == "" {
		return nil
	}
	su, err := app.FindAuthRecordByEmail(core.CollectionNameSuperusers, cfg.AdminEmail)
	if err != nil {
		col, findErr := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
		if findErr != nil {
			return errors.Join(err, findErr)
		}
		su = core.NewRecord(col)
		su.SetEmail(cfg.AdminEmail)
	} else if su.ValidatePassword(cfg.AdminPassword) {
		return nil
	}
	su.SetPassword(cfg.AdminPassword)
	if err := app.Save(su); err != nil {
		return err
	}
	notice(app, slog.LevelInfo, "Superuser from POCKETBASE_ADMIN_EMAIL is ready", "email", cfg.AdminEmail)
	return nil
}

// contextForApp is the background context for work that lives as long as the app.
func contextForApp(app core.App) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		cancel()
		return e.Next()
	})
	return ctx, cancel
}
