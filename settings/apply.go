package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/config"
	"phaseflow/mail"
	"phaseflow/users"
)

// Rate limit rule labels PhaseFlow manages.
const (
	RateLimitAuthLabel       = users.Collection + ":auth"
	RateLimitRequestOTPLabel = users.Collection + ":requestOTP"
	rateLimitWindowSeconds   = 60
)

// Apply writes the environment-derived settings into PocketBase's settings and the users
// collection. It runs at every start, so editing .env and restarting takes effect; values the
// environment leaves unset (SMTP, OIDC) keep what the operator configured in the admin UI.
func Apply(app core.App, cfg config.Config) error {
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
	ApplyBackups(s, cfg)
	if err := app.Save(s); err != nil {
		return fmt.Errorf("failed to save settings: %w", err)
	}

	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		return err
	}
	col.AuthToken.Duration = int64(cfg.SessionDays) * 24 * 60 * 60
	// The rules come from the code at every start, so an upgrade tightens them.
	col.UpdateRule = types.Pointer(users.UpdateRule)
	if cfg.OpenRegistration {
		col.CreateRule = types.Pointer(users.CreateRule)
	} else {
		col.CreateRule = nil
	}
	// The account mails in PhaseFlow's words, linking to its own pages.
	col.VerificationTemplate = mail.AccountMail(mail.Verification, col).Template()
	col.ResetPasswordTemplate = mail.AccountMail(mail.PasswordReset, col).Template()
	col.ConfirmEmailChangeTemplate = mail.AccountMail(mail.EmailChange, col).Template()
	col.OTP.EmailTemplate = mail.AccountMail(mail.SignInCode, col).Template()
	col.AuthAlert.EmailTemplate = mail.AccountMail(mail.NewDevice, col).Template()
	mailOn := MailAvailable(app, cfg)
	col.OTP.Enabled = mailOn
	// MFA's second factor is the email code: without mail it cannot work.
	col.MFA.Enabled = mailOn
	col.AuthAlert.Enabled = mailOn
	if !mailOn {
		Notice(app, slog.LevelWarn, "SMTP is not configured: email codes (OTP), MFA and new-device alerts are switched off; set SMTP_HOST or configure SMTP in the admin UI")
	} else if consoleMail(app, cfg) {
		Notice(app, slog.LevelWarn, "SMTP not configured: mail (including sign-in codes) is printed to the console because the app runs locally")
	}
	if err := app.Save(col); err != nil {
		return err
	}
	return applySuperuserMFA(app, mailOn)
}

// applySuperuserMFA makes superusers sign in with their password and an email code whenever
// mail can be delivered (a superuser can read every account's health data).
func applySuperuserMFA(app core.App, mail bool) error {
	col, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		return err
	}
	col.OTP.Enabled = mail
	col.MFA.Enabled = mail
	col.MFA.Rule = ""
	if !mail {
		Notice(app, slog.LevelWarn, "Superusers sign in with a password only because no mail can be sent; configure SMTP for their second factor")
	}
	return app.Save(col)
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
	Notice(app, slog.LevelInfo, "Superuser from POCKETBASE_ADMIN_EMAIL is ready", "email", cfg.AdminEmail)
	return nil
}
