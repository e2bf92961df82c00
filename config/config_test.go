package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Messages as FromEnv reports them; pinned here so a reworded message is a deliberate change.
const (
	msgAppURL       = "must be an http(s) URL with no path, query or credentials, e.g. https://phaseflow.example.com"
	msgAdminPair    = "POCKETBASE_ADMIN_EMAIL and POCKETBASE_ADMIN_PASSWORD must be set together"
	msgEmail        = "must be an email address"
	msgAdminShort   = "must be at least 15 characters (PASSWORD_MIN_LENGTH)"
	msgAdminLong    = "must be at most 71 bytes (the bcrypt limit)"
	msgOIDCAllNone  = "POCKETBASE_OIDC_ISSUER_URL, POCKETBASE_OIDC_CLIENT_ID and POCKETBASE_OIDC_CLIENT_SECRET must be all set or all unset"
	msgOIDCIssuer   = "must be an https URL (http only for localhost)"
	msgDisplayName  = "must be at most 100 characters"
	msgCronSecret   = "must be at least 32 characters"
	msgKeyLength    = "must be exactly 32 characters"
	msgBool         = "must be true or false"
	msgNoSMTPHost   = "is set but SMTP_HOST is not; set SMTP_HOST too"
	msgSenderNeeded = "must be set when SMTP_HOST is set"
	msgSMTPPair     = "SMTP_USERNAME and SMTP_PASSWORD must be set together"
	msgHeaders      = "must be a comma-separated list of header names, e.g. X-Forwarded-For"
	msgFilePath     = "must be an absolute file path, e.g. /var/lib/phaseflow/erasures"
)

// Valid secrets of the right length for the full environment.
const (
	validCronSecret    = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00" // openssl rand -hex 32
	validEncryptionKey = "0123456789abcdef0123456789abcdef"                                 // openssl rand -hex 16
)

// validBackupKey is an age X25519 identity made for these tests (age-keygen's format).
const validBackupKey = "AGE-SECRET-KEY-1H6RKE25AUUTPY2Y4JCHK498VNWZR8KDNDMDLS7TRQ5V3W5RYXMGQYSPLEA"

// lookupFrom is a Lookup over a fixed map, standing in for os.LookupEnv.
func lookupFrom(vars map[string]string) Lookup {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// fullEnv is a valid environment that sets every variable; each call returns a fresh map.
func fullEnv() map[string]string {
	return map[string]string{
		"APP_URL":                       "https://phaseflow.example.com/",
		"POCKETBASE_ADMIN_EMAIL":        "admin@example.com",
		"POCKETBASE_ADMIN_PASSWORD":     "admin-password-value",
		"POCKETBASE_OIDC_ISSUER_URL":    "https://id.example.com",
		"POCKETBASE_OIDC_CLIENT_ID":     "phaseflow-client",
		"POCKETBASE_OIDC_CLIENT_SECRET": "oidc-client-secret-value",
		"POCKETBASE_OIDC_DISPLAY_NAME":  "Company SSO",
		"SMTP_HOST":                     "smtp.example.com",
		"SMTP_PORT":                     "465",
		"SMTP_USERNAME":                 "mailer",
		"SMTP_PASSWORD":                 "smtp-password-value",
		"MAIL_SENDER_ADDRESS":           "phaseflow@example.com",
		"MAIL_SENDER_NAME":              "PhaseFlow Mail",
		"CRON_SECRET":                   validCronSecret,
		"PB_ENCRYPTION_KEY":             validEncryptionKey,
		"OPEN_REGISTRATION":             "true",
		"REGISTRATION_APPROVAL":         "1",
		"AUTH_RATE_LIMIT":               " 10 ",
		"SESSION_DAYS":                  "30",
		"SESSION_MAX_DAYS":              "60",
		"PASSWORD_MIN_LENGTH":           "12",
		"ACCOUNT_LOCK_FAILURES":         "20",
		"AUTH_EVENTS_RETENTION_DAYS":    "180",
		"TRUSTED_PROXY_HEADERS":         " X-Forwarded-For ,X-Real-IP ",
		"BACKUP_CRON":                   "17 2 * * *",
		"BACKUP_KEEP":                   "14",
		"BACKUP_S3_ENDPOINT":            "https://s3.example.com",
		"BACKUP_S3_BUCKET":              "phaseflow-backups",
		"BACKUP_S3_REGION":              "eu-central-1",
		"BACKUP_S3_ACCESS_KEY":          "backup-access-key",
		"BACKUP_S3_SECRET":              "backup-s3-secret-value",
		"BACKUP_S3_FORCE_PATH_STYLE":    "true",
		"BACKUP_ENCRYPTION_KEY":         validBackupKey,
		"REPLICA_URL":                   "s3://phaseflow-replica/prod/data",
		"METRICS_ADDR":                  "0.0.0.0:9091",
		"METRICS_ALLOW_REMOTE":          "true",
		"ERASURE_LEDGER":                "/var/lib/phaseflow//erasures",
	}
}

// with returns a copy of base with overrides applied.
func with(base map[string]string, overrides map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(overrides))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out
}

// problemsOf returns the Problems inside err, failing the test when err is not a Problems.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("expected an error holding Problems, got %v", err)
	}
	return ps
}

// ----------------------------------------------------------------------------

func TestFromEnvEmptyEnvironmentYieldsDefaults(t *testing.T) {
	t.Parallel()

	c, err := FromEnv(lookupFrom(nil))
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}

	scenarios := []struct {
		name string
		got  any
		want any
	}{
		{"AppURL", c.AppURL, "http://127.0.0.1:8090"},
		{"AdminEmail", c.AdminEmail, ""},
		{"AdminPassword", c.AdminPassword, ""},
		{"OIDC.IssuerURL", c.OIDC.IssuerURL, ""},
		{"OIDC.ClientID", c.OIDC.ClientID, ""},
		{"OIDC.ClientSecret", c.OIDC.ClientSecret, ""},
		{"OIDC.DisplayName", c.OIDC.DisplayName, "Pocket-ID"},
		{"OIDC.Enabled", c.OIDC.Enabled(), false},
		{"SMTP.Host", c.SMTP.Host, ""},
		{"SMTP.Port", c.SMTP.Port, 587},
		{"SMTP.Username", c.SMTP.Username, ""},
		{"SMTP.Password", c.SMTP.Password, ""},
		{"SMTP.TLS", c.SMTP.TLS, false},
		{"SMTP.SenderAddress", c.SMTP.SenderAddress, ""},
		{"SMTP.SenderName", c.SMTP.SenderName, "PhaseFlow"},
		{"SMTP.Enabled", c.SMTP.Enabled(), false},
		{"CronSecret", c.CronSecret, ""},
		{"EncryptionKey", c.EncryptionKey, ""},
		{"OpenRegistration", c.OpenRegistration, false},
		{"RegistrationApproval", c.RegistrationApproval, false},
		{"AuthRateLimit", c.AuthRateLimit, 5},
		{"SessionDays", c.SessionDays, 14},
		{"SessionMaxDays", c.SessionMaxDays, 30},
		{"PasswordMinLength", c.PasswordMinLength, 15},
		{"AccountLockFailures", c.AccountLockFailures, 10},
		{"AuditRetentionDays", c.AuditRetentionDays, 90},
		{"TrustedProxyHeaders", c.TrustedProxyHeaders, []string(nil)},
		{"Backup", c.Backup, Backup{Keep: 7}},
		{"Backup.S3.Enabled", c.Backup.S3.Enabled(), false},
		{"Replica.Enabled", c.Replica.Enabled(), false},
		{"Metrics.Enabled", c.Metrics.Enabled(), false},
		{"ErasureLedger", c.ErasureLedger, ""},
		{"IsLocal", c.IsLocal(), true},
		{"OAuth2RedirectURL", c.OAuth2RedirectURL(), "http://127.0.0.1:8090/auth/callback"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if !reflect.DeepEqual(s.got, s.want) {
				t.Fatalf("expected %#v, got %#v", s.want, s.got)
			}
		})
	}
}

func TestFromEnvBlankValuesMeanUnset(t *testing.T) {
	t.Parallel()

	blank := map[string]string{}
	for k := range fullEnv() {
		blank[k] = "  "
	}
	got, err := FromEnv(lookupFrom(blank))
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}
	want, _ := FromEnv(lookupFrom(nil))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expected %#v, got %#v", want, got)
	}
}

func TestFromEnvFullEnvironment(t *testing.T) {
	t.Parallel()

	got, err := FromEnv(lookupFrom(fullEnv()))
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}
	want := Config{
		AppURL:        "https://phaseflow.example.com",
		AdminEmail:    "admin@example.com",
		AdminPassword: "admin-password-value",
		OIDC: OIDC{
			IssuerURL:    "https://id.example.com",
			ClientID:     "phaseflow-client",
			ClientSecret: "oidc-client-secret-value",
			DisplayName:  "Company SSO",
		},
		SMTP: SMTP{
			Host:          "smtp.example.com",
			Port:          465,
			Username:      "mailer",
			Password:      "smtp-password-value",
			TLS:           true,
			SenderAddress: "phaseflow@example.com",
			SenderName:    "PhaseFlow Mail",
		},
		CronSecret:           validCronSecret,
		EncryptionKey:        validEncryptionKey,
		OpenRegistration:     true,
		RegistrationApproval: true,
		AuthRateLimit:        10,
		SessionDays:          30,
		SessionMaxDays:       60,
		PasswordMinLength:    12,
		AccountLockFailures:  20,
		AuditRetentionDays:   180,
		TrustedProxyHeaders:  []string{"X-Forwarded-For", "X-Real-IP"},
		Backup: Backup{
			Cron: "17 2 * * *",
			Keep: 14,
			S3: S3{
				Endpoint: "https://s3.example.com", Bucket: "phaseflow-backups", Region: "eu-central-1",
				AccessKey: "backup-access-key", Secret: "backup-s3-secret-value", ForcePathStyle: true,
			},
			EncryptionKey: validBackupKey,
		},
		Replica:       Replica{URL: "s3://phaseflow-replica/prod/data", Kind: ReplicaS3, Bucket: "phaseflow-replica", Path: "prod/data"},
		Metrics:       Metrics{Addr: "0.0.0.0:9091", AllowRemote: true},
		ErasureLedger: "/var/lib/phaseflow/erasures",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("expected %#v, got %#v", want, got)
	}
	if !got.OIDC.Enabled() || !got.SMTP.Enabled() {
		t.Fatalf("expected OIDC and SMTP enabled, got oidc=%t smtp=%t", got.OIDC.Enabled(), got.SMTP.Enabled())
	}
}

// valueScenario is an environment and the value of Config it must yield.
type valueScenario struct {
	name  string
	env   map[string]string
	check func(Config) (got, want any)
}

// runValueScenarios checks that each scenario's environment is valid and yields its value.
func runValueScenarios(t *testing.T, scenarios []valueScenario) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(lookupFrom(s.env))
			if err != nil {
				t.Fatalf("expected no error, got %v", err)
			}
			got, want := s.check(c)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("expected %#v, got %#v", want, got)
			}
		})
	}
}

// problemScenario is an environment and the one problem FromEnv must report for it.
type problemScenario struct {
	name string
	env  map[string]string
	want Problem
}

// runProblemScenarios checks that each scenario's environment yields exactly its problem, as the
// error's text too, no Config, and no secret in the error.
func runProblemScenarios(t *testing.T, scenarios []problemScenario, secrets ...string) {
	t.Helper()
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(lookupFrom(s.env))
			ps := problemsOf(t, err)
			if len(ps) != 1 || ps[0] != s.want {
				t.Fatalf("expected %v, got %v", Problems{s.want}, ps)
			}
			if got, want := err.Error(), s.want.Variable+": "+s.want.Expected; got != want {
				t.Fatalf("expected %q, got %q", want, got)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Fatalf("expected %#v, got %#v", Config{}, c)
			}
			for _, secret := range secrets {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("expected no secret in the error, got %q", err.Error())
				}
			}
		})
	}
}

func TestFromEnvParsesValues(t *testing.T) {
	t.Parallel()

	scenarios := []valueScenario{
		{
			"SMTP_TLS defaults to true on port 465",
			map[string]string{"SMTP_PORT": "465"},
			func(c Config) (any, any) { return c.SMTP.TLS, true },
		},
		{
			"SMTP_TLS defaults to false on port 587",
			map[string]string{"SMTP_PORT": "587"},
			func(c Config) (any, any) { return c.SMTP.TLS, false },
		},
		{
			"SMTP_TLS defaults to false on the default port",
			map[string]string{"SMTP_HOST": "smtp.example.com", "MAIL_SENDER_ADDRESS": "a@example.com"},
			func(c Config) (any, any) { return c.SMTP.TLS, false },
		},
		{
			"SMTP_TLS=false overrides port 465",
			map[string]string{"SMTP_PORT": "465", "SMTP_TLS": "false"},
			func(c Config) (any, any) { return c.SMTP.TLS, false },
		},
		{
			"SMTP_TLS=true overrides port 587",
			map[string]string{"SMTP_PORT": "587", "SMTP_TLS": "True"},
			func(c Config) (any, any) { return c.SMTP.TLS, true },
		},
		{
			"TRUSTED_PROXY_HEADERS entries are trimmed",
			map[string]string{"TRUSTED_PROXY_HEADERS": "  CF-Connecting-IP ,  X-Forwarded-For,X-Real-IP  "},
			func(c Config) (any, any) {
				return c.TrustedProxyHeaders, []string{"CF-Connecting-IP", "X-Forwarded-For", "X-Real-IP"}
			},
		},
		{
			"TRUSTED_PROXY_HEADERS with one header",
			map[string]string{"TRUSTED_PROXY_HEADERS": "X-Forwarded-For"},
			func(c Config) (any, any) { return c.TrustedProxyHeaders, []string{"X-Forwarded-For"} },
		},
		{
			"APP_URL trailing slash is removed",
			map[string]string{"APP_URL": "https://phaseflow.example.com/"},
			func(c Config) (any, any) { return c.AppURL, "https://phaseflow.example.com" },
		},
		{
			"APP_URL keeps its port",
			map[string]string{"APP_URL": "http://localhost:8090"},
			func(c Config) (any, any) { return c.AppURL, "http://localhost:8090" },
		},
		{
			"APP_URL scheme is lower-cased",
			map[string]string{"APP_URL": "HTTPS://phaseflow.example.com"},
			func(c Config) (any, any) { return c.AppURL, "https://phaseflow.example.com" },
		},
		{
			"APP_URL surrounding spaces are trimmed",
			map[string]string{"APP_URL": "  https://phaseflow.example.com  "},
			func(c Config) (any, any) { return c.AppURL, "https://phaseflow.example.com" },
		},
		{
			"OIDC over http is accepted for localhost",
			map[string]string{
				"POCKETBASE_OIDC_ISSUER_URL":    "http://localhost:1411",
				"POCKETBASE_OIDC_CLIENT_ID":     "id",
				"POCKETBASE_OIDC_CLIENT_SECRET": "secret",
			},
			func(c Config) (any, any) { return c.OIDC.IssuerURL, "http://localhost:1411" },
		},
		{
			"OIDC over http is accepted for a loopback IP",
			map[string]string{
				"POCKETBASE_OIDC_ISSUER_URL":    "http://127.0.0.1:1411",
				"POCKETBASE_OIDC_CLIENT_ID":     "id",
				"POCKETBASE_OIDC_CLIENT_SECRET": "secret",
			},
			func(c Config) (any, any) { return c.OIDC.IssuerURL, "http://127.0.0.1:1411" },
		},
		{
			"OIDC issuer with a path is kept verbatim",
			map[string]string{
				"POCKETBASE_OIDC_ISSUER_URL":    "https://auth.example.com/realms/main",
				"POCKETBASE_OIDC_CLIENT_ID":     "id",
				"POCKETBASE_OIDC_CLIENT_SECRET": "secret",
			},
			func(c Config) (any, any) { return c.OIDC.IssuerURL, "https://auth.example.com/realms/main" },
		},
		{
			"CRON_SECRET of exactly 32 characters is accepted",
			map[string]string{"CRON_SECRET": strings.Repeat("a", 32)},
			func(c Config) (any, any) { return c.CronSecret, strings.Repeat("a", 32) },
		},
		{
			"admin password of exactly 15 characters is accepted",
			map[string]string{"POCKETBASE_ADMIN_EMAIL": "a@example.com", "POCKETBASE_ADMIN_PASSWORD": "violet-otter-7x"},
			func(c Config) (any, any) { return c.AdminPassword, "violet-otter-7x" },
		},
		{
			"admin password of exactly 71 bytes is accepted",
			map[string]string{"POCKETBASE_ADMIN_EMAIL": "a@example.com", "POCKETBASE_ADMIN_PASSWORD": strings.Repeat("kiwi-", 14) + "z"},
			func(c Config) (any, any) { return c.AdminPassword, strings.Repeat("kiwi-", 14) + "z" },
		},
		{
			"AUTH_RATE_LIMIT lower bound",
			map[string]string{"AUTH_RATE_LIMIT": "1"},
			func(c Config) (any, any) { return c.AuthRateLimit, 1 },
		},
		{
			"AUTH_RATE_LIMIT upper bound",
			map[string]string{"AUTH_RATE_LIMIT": "1000"},
			func(c Config) (any, any) { return c.AuthRateLimit, 1000 },
		},
		{
			"SESSION_DAYS upper bound",
			map[string]string{"SESSION_DAYS": "365", "SESSION_MAX_DAYS": "365"},
			func(c Config) (any, any) { return c.SessionDays, 365 },
		},
		{
			"SESSION_MAX_DAYS equal to SESSION_DAYS",
			map[string]string{"SESSION_DAYS": "7", "SESSION_MAX_DAYS": "7"},
			func(c Config) (any, any) { return c.SessionMaxDays, 7 },
		},
		{
			"SMTP_PORT upper bound",
			map[string]string{"SMTP_PORT": "65535"},
			func(c Config) (any, any) { return c.SMTP.Port, 65535 },
		},
		{
			"AUTH_EVENTS_RETENTION_DAYS upper bound",
			map[string]string{"AUTH_EVENTS_RETENTION_DAYS": "3650"},
			func(c Config) (any, any) { return c.AuditRetentionDays, 3650 },
		},
		{
			"OPEN_REGISTRATION=false",
			map[string]string{"OPEN_REGISTRATION": "false"},
			func(c Config) (any, any) { return c.OpenRegistration, false },
		},
		{
			"REGISTRATION_APPROVAL=true",
			map[string]string{"REGISTRATION_APPROVAL": "true"},
			func(c Config) (any, any) { return c.RegistrationApproval, true },
		},
	}

	runValueScenarios(t, scenarios)
}

func TestFromEnvReportsEachInvalidVariable(t *testing.T) {
	t.Parallel()

	oidc := func(issuer string) map[string]string {
		return map[string]string{
			"POCKETBASE_OIDC_ISSUER_URL":    issuer,
			"POCKETBASE_OIDC_CLIENT_ID":     "id",
			"POCKETBASE_OIDC_CLIENT_SECRET": "secret",
		}
	}
	smtpHost := map[string]string{"SMTP_HOST": "smtp.example.com", "MAIL_SENDER_ADDRESS": "a@example.com"}
	admin := func(email, password string) map[string]string {
		return map[string]string{"POCKETBASE_ADMIN_EMAIL": email, "POCKETBASE_ADMIN_PASSWORD": password}
	}
	rangeMsg := func(min, max string) string { return "must be a whole number from " + min + " to " + max }

	scenarios := []problemScenario{
		// APP_URL.
		{"APP_URL with a path", map[string]string{"APP_URL": "https://phaseflow.example.com/app"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL with a query", map[string]string{"APP_URL": "https://phaseflow.example.com/?a=1"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL with a fragment", map[string]string{"APP_URL": "https://phaseflow.example.com/#x"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL with an ftp scheme", map[string]string{"APP_URL": "ftp://phaseflow.example.com"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL without a scheme", map[string]string{"APP_URL": "phaseflow.example.com"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL with credentials", map[string]string{"APP_URL": "https://user:pw@phaseflow.example.com"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL with a port but no host name", map[string]string{"APP_URL": "http://:8090"}, Problem{"APP_URL", msgAppURL}},
		{"APP_URL that does not parse", map[string]string{"APP_URL": "https://phase flow.example.com"}, Problem{"APP_URL", msgAppURL}},

		// Superuser bootstrap.
		{"admin email without password", admin("admin@example.com", ""), Problem{"POCKETBASE_ADMIN_EMAIL", msgAdminPair}},
		{"admin password without email", admin("", "admin-password-value"), Problem{"POCKETBASE_ADMIN_EMAIL", msgAdminPair}},
		{"admin email that is not an address", admin("not-an-email", "admin-password-value"), Problem{"POCKETBASE_ADMIN_EMAIL", msgEmail}},
		{"admin email with a display name", admin("Admin <admin@example.com>", "admin-password-value"), Problem{"POCKETBASE_ADMIN_EMAIL", msgEmail}},
		{"admin password of 9 characters", admin("admin@example.com", "123456789"), Problem{"POCKETBASE_ADMIN_PASSWORD", msgAdminShort}},
		{"admin password of 72 bytes", admin("admin@example.com", strings.Repeat("p", 72)), Problem{"POCKETBASE_ADMIN_PASSWORD", msgAdminLong}},
		{"a common admin password", admin("admin@example.com", "password123456789"), Problem{"POCKETBASE_ADMIN_PASSWORD", "is a common or easy-to-guess password; choose another"}},

		// OIDC.
		{"OIDC issuer only", map[string]string{"POCKETBASE_OIDC_ISSUER_URL": "https://id.example.com"}, Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCAllNone}},
		{"OIDC client ID only", map[string]string{"POCKETBASE_OIDC_CLIENT_ID": "id"}, Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCAllNone}},
		{"OIDC client secret only", map[string]string{"POCKETBASE_OIDC_CLIENT_SECRET": "secret"}, Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCAllNone}},
		{"OIDC without client secret", with(oidc("https://id.example.com"), map[string]string{"POCKETBASE_OIDC_CLIENT_SECRET": ""}), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCAllNone}},
		{"OIDC issuer over http on a public host", oidc("http://id.example.com"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer over http on a host named like localhost", oidc("http://localhost.example.com"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer with an ftp scheme", oidc("ftp://id.example.com"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer without a scheme", oidc("id.example.com"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer with a query", oidc("https://id.example.com/?a=1"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer with credentials", oidc("https://user:pw@id.example.com"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC issuer with a port but no host name", oidc("https://:443"), Problem{"POCKETBASE_OIDC_ISSUER_URL", msgOIDCIssuer}},
		{"OIDC display name over 100 characters", with(oidc("https://id.example.com"), map[string]string{"POCKETBASE_OIDC_DISPLAY_NAME": strings.Repeat("n", 101)}), Problem{"POCKETBASE_OIDC_DISPLAY_NAME", msgDisplayName}},

		// Secrets.
		{"CRON_SECRET of 31 characters", map[string]string{"CRON_SECRET": strings.Repeat("c", 31)}, Problem{"CRON_SECRET", msgCronSecret}},
		{"PB_ENCRYPTION_KEY of 31 characters", map[string]string{"PB_ENCRYPTION_KEY": strings.Repeat("k", 31)}, Problem{"PB_ENCRYPTION_KEY", msgKeyLength}},
		{"PB_ENCRYPTION_KEY of 33 characters", map[string]string{"PB_ENCRYPTION_KEY": strings.Repeat("k", 33)}, Problem{"PB_ENCRYPTION_KEY", msgKeyLength}},
		{"PB_ENCRYPTION_KEY of 64 hex characters", map[string]string{"PB_ENCRYPTION_KEY": validCronSecret}, Problem{"PB_ENCRYPTION_KEY", msgKeyLength}},

		// Booleans.
		{"OPEN_REGISTRATION=yes", map[string]string{"OPEN_REGISTRATION": "yes"}, Problem{"OPEN_REGISTRATION", msgBool}},
		{"REGISTRATION_APPROVAL=on", map[string]string{"REGISTRATION_APPROVAL": "on"}, Problem{"REGISTRATION_APPROVAL", msgBool}},
		{"SMTP_TLS=maybe", map[string]string{"SMTP_TLS": "maybe"}, Problem{"SMTP_TLS", msgBool}},

		// Whole numbers in range.
		{"AUTH_RATE_LIMIT=0", map[string]string{"AUTH_RATE_LIMIT": "0"}, Problem{"AUTH_RATE_LIMIT", rangeMsg("1", "1000")}},
		{"AUTH_RATE_LIMIT=1001", map[string]string{"AUTH_RATE_LIMIT": "1001"}, Problem{"AUTH_RATE_LIMIT", rangeMsg("1", "1000")}},
		{"AUTH_RATE_LIMIT=five", map[string]string{"AUTH_RATE_LIMIT": "five"}, Problem{"AUTH_RATE_LIMIT", rangeMsg("1", "1000")}},
		{"SESSION_DAYS=0", map[string]string{"SESSION_DAYS": "0"}, Problem{"SESSION_DAYS", rangeMsg("1", "365")}},
		{"SESSION_DAYS=366", map[string]string{"SESSION_DAYS": "366"}, Problem{"SESSION_DAYS", rangeMsg("1", "365")}},
		{"SESSION_DAYS=1.5", map[string]string{"SESSION_DAYS": "1.5"}, Problem{"SESSION_DAYS", rangeMsg("1", "365")}},
		{"SESSION_MAX_DAYS=366", map[string]string{"SESSION_MAX_DAYS": "366"}, Problem{"SESSION_MAX_DAYS", rangeMsg("1", "365")}},
		{"PASSWORD_MIN_LENGTH=7", map[string]string{"PASSWORD_MIN_LENGTH": "7"}, Problem{"PASSWORD_MIN_LENGTH", rangeMsg("8", "64")}},
		{"ACCOUNT_LOCK_FAILURES=101", map[string]string{"ACCOUNT_LOCK_FAILURES": "101"}, Problem{"ACCOUNT_LOCK_FAILURES", rangeMsg("3", "100")}},
		{"SESSION_MAX_DAYS below SESSION_DAYS", map[string]string{"SESSION_DAYS": "14", "SESSION_MAX_DAYS": "13"},
			Problem{"SESSION_MAX_DAYS", "must be at least SESSION_DAYS (the absolute session limit cannot be shorter than the idle limit)"}},
		{"SMTP_PORT=0", map[string]string{"SMTP_PORT": "0"}, Problem{"SMTP_PORT", rangeMsg("1", "65535")}},
		{"SMTP_PORT=65536", map[string]string{"SMTP_PORT": "65536"}, Problem{"SMTP_PORT", rangeMsg("1", "65535")}},
		{"SMTP_PORT=smtp", map[string]string{"SMTP_PORT": "smtp"}, Problem{"SMTP_PORT", rangeMsg("1", "65535")}},
		{"AUTH_EVENTS_RETENTION_DAYS=0", map[string]string{"AUTH_EVENTS_RETENTION_DAYS": "0"}, Problem{"AUTH_EVENTS_RETENTION_DAYS", rangeMsg("1", "3650")}},
		{"AUTH_EVENTS_RETENTION_DAYS=3651", map[string]string{"AUTH_EVENTS_RETENTION_DAYS": "3651"}, Problem{"AUTH_EVENTS_RETENTION_DAYS", rangeMsg("1", "3650")}},
		{"AUTH_EVENTS_RETENTION_DAYS=-1", map[string]string{"AUTH_EVENTS_RETENTION_DAYS": "-1"}, Problem{"AUTH_EVENTS_RETENTION_DAYS", rangeMsg("1", "3650")}},

		// Mail.
		{"SMTP_HOST without MAIL_SENDER_ADDRESS", map[string]string{"SMTP_HOST": "smtp.example.com"}, Problem{"MAIL_SENDER_ADDRESS", msgSenderNeeded}},
		{"MAIL_SENDER_ADDRESS that is not an address", with(smtpHost, map[string]string{"MAIL_SENDER_ADDRESS": "phaseflow"}), Problem{"MAIL_SENDER_ADDRESS", msgEmail}},
		{"SMTP_USERNAME without SMTP_HOST", map[string]string{"SMTP_USERNAME": "mailer"}, Problem{"SMTP_USERNAME", msgNoSMTPHost}},
		{"SMTP_PASSWORD without SMTP_HOST", map[string]string{"SMTP_PASSWORD": "smtp-password-value"}, Problem{"SMTP_PASSWORD", msgNoSMTPHost}},
		{"SMTP_USERNAME without SMTP_PASSWORD", with(smtpHost, map[string]string{"SMTP_USERNAME": "mailer"}), Problem{"SMTP_USERNAME", msgSMTPPair}},
		{"SMTP_PASSWORD without SMTP_USERNAME", with(smtpHost, map[string]string{"SMTP_PASSWORD": "smtp-password-value"}), Problem{"SMTP_USERNAME", msgSMTPPair}},

		// Proxy.
		{"TRUSTED_PROXY_HEADERS with spaces in a name", map[string]string{"TRUSTED_PROXY_HEADERS": "X Forwarded For"}, Problem{"TRUSTED_PROXY_HEADERS", msgHeaders}},
		{"TRUSTED_PROXY_HEADERS separated by semicolons", map[string]string{"TRUSTED_PROXY_HEADERS": "X-Forwarded-For;X-Real-IP"}, Problem{"TRUSTED_PROXY_HEADERS", msgHeaders}},
		{"TRUSTED_PROXY_HEADERS with an empty entry", map[string]string{"TRUSTED_PROXY_HEADERS": "X-Forwarded-For,,X-Real-IP"}, Problem{"TRUSTED_PROXY_HEADERS", msgHeaders}},
		{"TRUSTED_PROXY_HEADERS with a colon", map[string]string{"TRUSTED_PROXY_HEADERS": "X-Forwarded-For:"}, Problem{"TRUSTED_PROXY_HEADERS", msgHeaders}},

		// Files.
		{"ERASURE_LEDGER relative", map[string]string{"ERASURE_LEDGER": "erasures"}, Problem{"ERASURE_LEDGER", msgFilePath}},
		{"ERASURE_LEDGER relative with dots", map[string]string{"ERASURE_LEDGER": "../erasures"}, Problem{"ERASURE_LEDGER", msgFilePath}},
		{"ERASURE_LEDGER naming a directory", map[string]string{"ERASURE_LEDGER": "/var/lib/phaseflow/"}, Problem{"ERASURE_LEDGER", msgFilePath}},
	}

	runProblemScenarios(t, scenarios)
}

func TestFromEnvReportsAllProblemsTogether(t *testing.T) {
	t.Parallel()

	env := with(fullEnv(), map[string]string{
		"APP_URL":                    "ftp://phaseflow.example.com",
		"POCKETBASE_ADMIN_PASSWORD":  "short",
		"POCKETBASE_OIDC_CLIENT_ID":  "",
		"SMTP_PORT":                  "0",
		"MAIL_SENDER_ADDRESS":        "",
		"CRON_SECRET":                "too-short",
		"PB_ENCRYPTION_KEY":          "too-short",
		"OPEN_REGISTRATION":          "yes",
		"SESSION_DAYS":               "0",
		"TRUSTED_PROXY_HEADERS":      "X Forwarded For",
		"AUTH_EVENTS_RETENTION_DAYS": "forever",
	})
	c, err := FromEnv(lookupFrom(env))
	ps := problemsOf(t, err)

	want := map[string]string{
		"APP_URL":                    msgAppURL,
		"POCKETBASE_ADMIN_PASSWORD":  "must be at least 12 characters (PASSWORD_MIN_LENGTH)",
		"POCKETBASE_OIDC_ISSUER_URL": msgOIDCAllNone,
		"SMTP_PORT":                  "must be a whole number from 1 to 65535",
		"MAIL_SENDER_ADDRESS":        msgSenderNeeded,
		"CRON_SECRET":                msgCronSecret,
		"PB_ENCRYPTION_KEY":          msgKeyLength,
		"OPEN_REGISTRATION":          msgBool,
		"SESSION_DAYS":               "must be a whole number from 1 to 365",
		"TRUSTED_PROXY_HEADERS":      msgHeaders,
		"AUTH_EVENTS_RETENTION_DAYS": "must be a whole number from 1 to 3650",
	}
	if len(ps) != len(want) {
		t.Fatalf("expected %d problems, got %d: %v", len(want), len(ps), ps)
	}
	for _, p := range ps {
		if want[p.Variable] != p.Expected {
			t.Fatalf("expected %q for %s, got %q", want[p.Variable], p.Variable, p.Expected)
		}
		delete(want, p.Variable) // a variable reported twice then fails above
	}

	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(ps) {
		t.Fatalf("expected %d lines, got %d: %q", len(ps), len(lines), err.Error())
	}
	for i, line := range lines {
		if line != ps[i].String() {
			t.Fatalf("expected %q, got %q", ps[i].String(), line)
		}
	}
	if !reflect.DeepEqual(c, Config{}) {
		t.Fatalf("expected %#v, got %#v", Config{}, c)
	}
}

func TestFromEnvNeverShowsSecrets(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name   string
		env    map[string]string
		secret string
	}{
		{
			"POCKETBASE_ADMIN_PASSWORD too short",
			map[string]string{"POCKETBASE_ADMIN_EMAIL": "admin@example.com", "POCKETBASE_ADMIN_PASSWORD": "Zq9!adm"},
			"Zq9!adm",
		},
		{
			"POCKETBASE_ADMIN_PASSWORD without email",
			map[string]string{"POCKETBASE_ADMIN_PASSWORD": "leaky-admin-password-4711"},
			"leaky-admin-password-4711",
		},
		{
			"POCKETBASE_ADMIN_PASSWORD too long",
			map[string]string{"POCKETBASE_ADMIN_EMAIL": "admin@example.com", "POCKETBASE_ADMIN_PASSWORD": "leaky-" + strings.Repeat("x", 80)},
			"leaky-" + strings.Repeat("x", 80),
		},
		{
			"POCKETBASE_OIDC_CLIENT_SECRET without issuer",
			map[string]string{"POCKETBASE_OIDC_CLIENT_ID": "id", "POCKETBASE_OIDC_CLIENT_SECRET": "leaky-oidc-secret-4711"},
			"leaky-oidc-secret-4711",
		},
		{
			"POCKETBASE_OIDC_CLIENT_SECRET with a bad issuer",
			map[string]string{
				"POCKETBASE_OIDC_ISSUER_URL":    "http://id.example.com",
				"POCKETBASE_OIDC_CLIENT_ID":     "id",
				"POCKETBASE_OIDC_CLIENT_SECRET": "leaky-oidc-secret-4712",
			},
			"leaky-oidc-secret-4712",
		},
		{
			"CRON_SECRET too short",
			map[string]string{"CRON_SECRET": "leaky-cron-4711"},
			"leaky-cron-4711",
		},
		{
			"SMTP_PASSWORD without host",
			map[string]string{"SMTP_PASSWORD": "leaky-smtp-password-4711"},
			"leaky-smtp-password-4711",
		},
		{
			"SMTP_PASSWORD without username",
			map[string]string{"SMTP_HOST": "smtp.example.com", "MAIL_SENDER_ADDRESS": "a@example.com", "SMTP_PASSWORD": "leaky-smtp-password-4712"},
			"leaky-smtp-password-4712",
		},
		{
			"PB_ENCRYPTION_KEY wrong length",
			map[string]string{"PB_ENCRYPTION_KEY": "leaky-key-4711"},
			"leaky-key-4711",
		},
		{
			"password inside APP_URL",
			map[string]string{"APP_URL": "https://user:leaky-url-password-4711@phaseflow.example.com"},
			"leaky-url-password-4711",
		},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			_, err := FromEnv(lookupFrom(s.env))
			if err == nil {
				t.Fatalf("expected an error, got %v", err)
			}
			if strings.Contains(err.Error(), s.secret) {
				t.Fatalf("expected no secret in the error, got %q", err.Error())
			}
		})
	}
}

func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("expected no error, got %v", err)
	}
	return path
}

func TestWithDotenv(t *testing.T) {
	t.Parallel()

	dotenv := "# comment\n" +
		"APP_URL=https://from-dotenv.example.com\n" +
		"export SESSION_DAYS=21\n" +
		"CRON_SECRET='" + validCronSecret + "'\n" +
		"MAIL_SENDER_NAME=\"PhaseFlow Dotenv\" # inline comment\n"

	scenarios := []struct {
		name   string
		real   map[string]string
		lookup string
		want   string
		wantOK bool
	}{
		{"value only in .env", nil, "APP_URL", "https://from-dotenv.example.com", true},
		{"export prefix is accepted", nil, "SESSION_DAYS", "21", true},
		{"single-quoted value", nil, "CRON_SECRET", validCronSecret, true},
		{"double-quoted value with a comment", nil, "MAIL_SENDER_NAME", "PhaseFlow Dotenv", true},
		{"real environment wins", map[string]string{"APP_URL": "https://real.example.com"}, "APP_URL", "https://real.example.com", true},
		{"value only in the real environment", map[string]string{"SMTP_HOST": "smtp.example.com"}, "SMTP_HOST", "smtp.example.com", true},
		{"value in neither", nil, "SMTP_HOST", "", false},
	}

	path := writeDotenv(t, dotenv)
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			lookup, err := WithDotenv(path, lookupFrom(s.real))
			if err != nil {
				t.Fatalf("expected no error, got %v", err)
			}
			got, ok := lookup(s.lookup)
			if got != s.want || ok != s.wantOK {
				t.Fatalf("expected %q %t, got %q %t", s.want, s.wantOK, got, ok)
			}
		})
	}

	t.Run("FromEnv reads through the .env file", func(t *testing.T) {
		t.Parallel()
		lookup, err := WithDotenv(path, lookupFrom(map[string]string{"SESSION_DAYS": "7"}))
		if err != nil {
			t.Fatalf("expected no error, got %v", err)
		}
		c, err := FromEnv(lookup)
		if err != nil {
			t.Fatalf("expected no error, got %v", err)
		}
		got := []any{c.AppURL, c.SessionDays, c.CronSecret, c.SMTP.SenderName}
		want := []any{"https://from-dotenv.example.com", 7, validCronSecret, "PhaseFlow Dotenv"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("expected %v, got %v", want, got)
		}
	})
}

func TestWithDotenvMissingFile(t *testing.T) {
	t.Parallel()

	path := filepath.Join(t.TempDir(), "missing", ".env")
	lookup, err := WithDotenv(path, lookupFrom(map[string]string{"APP_URL": "https://real.example.com"}))
	if err != nil {
		t.Fatalf("expected no error, got %v", err)
	}
	if got, ok := lookup("APP_URL"); got != "https://real.example.com" || !ok {
		t.Fatalf("expected %q true, got %q %t", "https://real.example.com", got, ok)
	}
	if got, ok := lookup("CRON_SECRET"); got != "" || ok {
		t.Fatalf("expected %q false, got %q %t", "", got, ok)
	}
}

func TestWithDotenvMalformedFile(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name    string
		content string
		secret  string
	}{
		{
			"unterminated quoted value",
			"APP_URL=https://phaseflow.example.com\nCRON_SECRET=\"leaky-unterminated-4711\n",
			"leaky-unterminated-4711",
		},
		{
			"invalid character in a name before a secret",
			"BAD-NAME=x\nSMTP_PASSWORD=leaky-following-line-4711\n",
			"leaky-following-line-4711",
		},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			path := writeDotenv(t, s.content)
			lookup, err := WithDotenv(path, lookupFrom(nil))
			if err == nil {
				t.Fatalf("expected an error, got %v", err)
			}
			if lookup != nil {
				t.Fatalf("expected a nil lookup, got %p", lookup)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("expected the error to name %s, got %q", path, err.Error())
			}
			// main prints this error, so it must not quote the file's text.
			if strings.Contains(err.Error(), s.secret) {
				t.Fatalf("expected no secret in the error, got %q", err.Error())
			}
		})
	}

	t.Run("a directory instead of a file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if _, err := WithDotenv(dir, lookupFrom(nil)); err == nil || !strings.Contains(err.Error(), dir) {
			t.Fatalf("expected an error naming %s, got %v", dir, err)
		}
	})
}

// ----------------------------------------------------------------------------

func TestIsLoopbackHost(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name string
		host string
		want bool
	}{
		{"localhost", "localhost", true},
		{"localhost in capitals", "LocalHost", true},
		{"IPv4 loopback", "127.0.0.1", true},
		{"other IPv4 loopback address", "127.1.2.3", true},
		{"IPv6 loopback", "::1", true},
		{"empty", "", false},
		{"public name", "phaseflow.example.com", false},
		{"name starting with localhost", "localhost.example.com", false},
		{"subdomain of localhost", "app.localhost", false},
		{"unspecified address", "0.0.0.0", false},
		{"private address", "192.168.1.10", false},
		{"host with a port", "localhost:8090", false},
		{"bracketed IPv6", "[::1]", false},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := IsLoopbackHost(s.host); got != s.want {
				t.Fatalf("expected %v, got %v", s.want, got)
			}
		})
	}
}

func TestConfigIsLocal(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name   string
		appURL string
		want   bool
	}{
		{"default", DefaultAppURL, true},
		{"localhost with a port", "http://localhost:8090", true},
		{"IPv6 loopback", "http://[::1]:8090", true},
		{"public https", "https://phaseflow.example.com", false},
		{"public http", "http://phaseflow.example.com", false},
		{"LAN address", "http://192.168.1.10:8090", false},
		{"empty", "", false},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := (Config{AppURL: s.appURL}).IsLocal(); got != s.want {
				t.Fatalf("expected %v, got %v", s.want, got)
			}
		})
	}
}

func TestConfigOAuth2RedirectURL(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name   string
		appURL string
		want   string
	}{
		{"default APP_URL", "", "http://127.0.0.1:8090/auth/callback"},
		{"public APP_URL", "https://phaseflow.example.com", "https://phaseflow.example.com/auth/callback"},
		{"APP_URL with a trailing slash", "https://phaseflow.example.com/", "https://phaseflow.example.com/auth/callback"},
		{"APP_URL with a port", "http://localhost:8090", "http://localhost:8090/auth/callback"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			c, err := FromEnv(lookupFrom(map[string]string{"APP_URL": s.appURL}))
			if err != nil {
				t.Fatalf("expected no error, got %v", err)
			}
			if got := c.OAuth2RedirectURL(); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}
}
