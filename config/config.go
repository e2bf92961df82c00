// Package config turns the process environment (and an optional .env file) into a validated,
// typed Config. It has no PocketBase imports: main calls FromEnv before anything is served, and
// every other package receives the resulting Config.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/joho/godotenv"

	"phaseflow/passwords"
)

// Defaults for the optional variables.
const (
	DefaultAppURL            = "http://127.0.0.1:8090"
	DefaultOIDCDisplayName   = "Pocket-ID"
	DefaultAuthRateLimit     = 5
	DefaultSessionDays       = 14
	DefaultSessionMaxDays    = 30
	DefaultPasswordMinLength = 15
	DefaultAccountLockFails  = 10
	MaxSessionDays           = 365
	DefaultAuditRetention    = 90
	DefaultSMTPPort          = 587
	DefaultMailSenderName    = "PhaseFlow"
	MinCronSecretLength      = 32
	EncryptionKeyLength      = 32
	EncryptionKeyEnvVariable = "PB_ENCRYPTION_KEY"
)

// OIDC holds the identity provider settings. It is the zero value when OIDC is off.
type OIDC struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	DisplayName  string
}

// Enabled reports whether an OIDC provider is configured.
func (o OIDC) Enabled() bool { return o.IssuerURL != "" }

// SMTP holds the outgoing mail settings. Host is empty when SMTP is not configured.
type SMTP struct {
	Host          string
	Port          int
	Username      string
	Password      string
	TLS           bool
	SenderAddress string
	SenderName    string
}

// Enabled reports whether an SMTP server is configured.
func (s SMTP) Enabled() bool { return s.Host != "" }

// Config is PhaseFlow's validated configuration.
type Config struct {
	AppURL string

	AdminEmail    string
	AdminPassword string

	OIDC OIDC
	SMTP SMTP

	CronSecret    string
	EncryptionKey string

	OpenRegistration     bool
	RegistrationApproval bool

	AuthRateLimit int
	// SessionDays is the idle limit of a session: it ends after this many days without use.
	SessionDays int
	// SessionMaxDays is the absolute limit of a session: it ends this many days after the sign-in,
	// whatever the person does.
	SessionMaxDays int
	// PasswordMinLength is the shortest password accepted (NIST SP 800-63B-4: 15 for a single
	// factor; 8 at the least).
	PasswordMinLength int
	// AccountLockFailures is how many failed sign-ins against one account, from any address,
	// within 15 minutes lock its password and code sign-in.
	AccountLockFailures int
	AuditRetentionDays  int
	TrustedProxyHeaders []string

	// Operations (config/operations.go): backups, continuous replication, metrics.
	Backup  Backup
	Replica Replica
	Metrics Metrics

	// ErasureLedger is the file that lists erased accounts, kept outside the data directory so a
	// restored backup or replica cannot roll it back. Empty: next to the data directory (see
	// account.LedgerPath), which only the running app knows.
	ErasureLedger string
}

// Lookup reads one variable, reporting whether it is set (os.LookupEnv has this signature).
type Lookup func(name string) (string, bool)

// WithDotenv returns a Lookup that reads the real environment first and falls back to the
// variables of the .env file at path. A missing file is not an error; a malformed one is.
func WithDotenv(path string, env Lookup) (Lookup, error) {
	vars, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return env, nil
	}
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if err != nil {
		// godotenv's parse errors quote the file's text (a value, or everything after a bad
		// name), which may hold a secret, so only say where to look.
		return nil, fmt.Errorf("failed to parse %s: a line is malformed (check quotes and variable names)", path)
	}
	return func(name string) (string, bool) {
		if v, ok := env(name); ok {
			return v, true
		}
		v, ok := vars[name]
		return v, ok
	}, nil
}

// Problems is every configuration problem found, one per variable. Its Error is one line each.
type Problems []Problem

// Problem is one invalid variable and what is expected of it. It never holds the value.
type Problem struct {
	Variable string
	Expected string
}

func (p Problem) String() string { return p.Variable + ": " + p.Expected }

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// FromEnv reads and validates every PhaseFlow variable. When anything is wrong it returns all
// problems together as Problems; messages name the variable and never include its value.
func FromEnv(lookup Lookup) (Config, error) {
	r := reader{lookup: lookup}
	c := Config{
		AppURL:        r.appURL("APP_URL"),
		AdminEmail:    r.str("POCKETBASE_ADMIN_EMAIL"),
		AdminPassword: r.str("POCKETBASE_ADMIN_PASSWORD"),
		OIDC: OIDC{
			IssuerURL:    r.str("POCKETBASE_OIDC_ISSUER_URL"),
			ClientID:     r.str("POCKETBASE_OIDC_CLIENT_ID"),
			ClientSecret: r.str("POCKETBASE_OIDC_CLIENT_SECRET"),
			DisplayName:  r.strDefault("POCKETBASE_OIDC_DISPLAY_NAME", DefaultOIDCDisplayName),
		},
		SMTP: SMTP{
			Host:          r.str("SMTP_HOST"),
			Port:          r.intRange("SMTP_PORT", DefaultSMTPPort, 1, 65535),
			Username:      r.str("SMTP_USERNAME"),
			Password:      r.str("SMTP_PASSWORD"),
			SenderAddress: r.str("MAIL_SENDER_ADDRESS"),
			SenderName:    r.strDefault("MAIL_SENDER_NAME", DefaultMailSenderName),
		},
		CronSecret:           r.str("CRON_SECRET"),
		EncryptionKey:        r.str(EncryptionKeyEnvVariable),
		OpenRegistration:     r.boolean("OPEN_REGISTRATION", false),
		RegistrationApproval: r.boolean("REGISTRATION_APPROVAL", false),
		AuthRateLimit:        r.intRange("AUTH_RATE_LIMIT", DefaultAuthRateLimit, 1, 1000),
		SessionDays:          r.intRange("SESSION_DAYS", DefaultSessionDays, 1, MaxSessionDays),
		SessionMaxDays:       r.intRange("SESSION_MAX_DAYS", DefaultSessionMaxDays, 1, MaxSessionDays),
		PasswordMinLength:    r.intRange("PASSWORD_MIN_LENGTH", DefaultPasswordMinLength, 8, 64),
		AccountLockFailures:  r.intRange("ACCOUNT_LOCK_FAILURES", DefaultAccountLockFails, 3, 100),
		AuditRetentionDays:   r.intRange("AUTH_EVENTS_RETENTION_DAYS", DefaultAuditRetention, 1, 3650),
		TrustedProxyHeaders:  r.headerList("TRUSTED_PROXY_HEADERS"),
		ErasureLedger:        r.filePath("ERASURE_LEDGER"),
	}
	// SMTP_TLS defaults to implicit TLS on port 465 and STARTTLS elsewhere.
	c.SMTP.TLS = r.boolean("SMTP_TLS", c.SMTP.Port == 465)
	c.Backup = r.backup()
	c.Replica = r.replica(c.Backup.S3)
	c.Metrics = r.metrics()

	r.checkAdmin(c)
	r.checkOIDC(c.OIDC)
	r.checkSMTP(c.SMTP)
	if c.CronSecret != "" && len(c.CronSecret) < MinCronSecretLength {
		r.fail("CRON_SECRET", fmt.Sprintf("must be at least %d characters", MinCronSecretLength))
	}
	if c.SessionMaxDays < c.SessionDays {
		r.fail("SESSION_MAX_DAYS", "must be at least SESSION_DAYS (the absolute session limit cannot be shorter than the idle limit)")
	}
	if c.EncryptionKey != "" && len(c.EncryptionKey) != EncryptionKeyLength {
		r.fail(EncryptionKeyEnvVariable, fmt.Sprintf("must be exactly %d characters", EncryptionKeyLength))
	}
	if len(r.problems) > 0 {
		return Config{}, r.problems
	}
	return c, nil
}

// reader collects problems while reading variables.
type reader struct {
	lookup   Lookup
	problems Problems
}

func (r *reader) fail(name, expected string) {
	r.problems = append(r.problems, Problem{Variable: name, Expected: expected})
}

func (r *reader) str(name string) string {
	v, _ := r.lookup(name)
	return strings.TrimSpace(v)
}

func (r *reader) strDefault(name, def string) string {
	if v := r.str(name); v != "" {
		return v
	}
	return def
}

func (r *reader) boolean(name string, def bool) bool {
	v := r.str(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "must be true or false")
		return def
	}
	return b
}

func (r *reader) intRange(name string, def, min, max int) int {
	v := r.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.fail(name, fmt.Sprintf("must be a whole number from %d to %d", min, max))
		return def
	}
	return n
}

func (r *reader) appURL(name string) string {
	v := r.strDefault(name, DefaultAppURL)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil ||
		u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		r.fail(name, "must be an http(s) URL with no path, query or credentials, e.g. https://phaseflow.example.com")
		return DefaultAppURL
	}
	return u.Scheme + "://" + u.Host
}

// filePath reads an optional absolute file path. A relative path would depend on the working
// directory the binary happens to start in, and a path ending in a separator names a directory.
func (r *reader) filePath(name string) string {
	v := r.str(name)
	if v == "" {
		return ""
	}
	if !filepath.IsAbs(v) || strings.HasSuffix(v, string(filepath.Separator)) || strings.ContainsRune(v, 0) {
		r.fail(name, "must be an absolute file path, e.g. /var/lib/phaseflow/erasures")
		return ""
	}
	return filepath.Clean(v)
}

// headerList parses a comma-separated list of HTTP header names.
func (r *reader) headerList(name string) []string {
	v := r.str(name)
	if v == "" {
		return nil
	}
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSpace(h)
		if !isHeaderName(h) {
			r.fail(name, "must be a comma-separated list of header names, e.g. X-Forwarded-For")
			return nil
		}
		out = append(out, h)
	}
	return out
}

func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			return false
		}
	}
	return true
}

func (r *reader) checkAdmin(c Config) {
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		r.fail("POCKETBASE_ADMIN_EMAIL", "POCKETBASE_ADMIN_EMAIL and POCKETBASE_ADMIN_PASSWORD must be set together")
		return
	}
	if c.AdminEmail != "" && !isEmail(c.AdminEmail) {
		r.fail("POCKETBASE_ADMIN_EMAIL", "must be an email address")
	}
	if c.AdminPassword != "" {
		rule := passwords.Rule{MinLength: c.PasswordMinLength}
		var p *passwords.Problem
		if errors.As(rule.Check(passwords.Normalize(c.AdminPassword)), &p) {
			r.fail("POCKETBASE_ADMIN_PASSWORD", adminPasswordProblems[p.Code()](c.PasswordMinLength))
		}
	}
}

// adminPasswordProblems says what is wrong with POCKETBASE_ADMIN_PASSWORD, never its value.
var adminPasswordProblems = map[string]func(min int) string{
	passwords.CodeTooShort: func(min int) string { return fmt.Sprintf("must be at least %d characters (PASSWORD_MIN_LENGTH)", min) },
	passwords.CodeTooLong:  func(int) string { return "must be at most 71 bytes (the bcrypt limit)" },
	passwords.CodeCommon:   func(int) string { return "is a common or easy-to-guess password; choose another" },
}

func (r *reader) checkOIDC(o OIDC) {
	set := 0
	for _, v := range []string{o.IssuerURL, o.ClientID, o.ClientSecret} {
		if v != "" {
			set++
		}
	}
	if set != 0 && set != 3 {
		r.fail("POCKETBASE_OIDC_ISSUER_URL", "POCKETBASE_OIDC_ISSUER_URL, POCKETBASE_OIDC_CLIENT_ID and POCKETBASE_OIDC_CLIENT_SECRET must be all set or all unset")
		return
	}
	if set == 0 {
		return
	}
	u, err := url.Parse(o.IssuerURL)
	if err != nil || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || (u.Scheme == "http" && IsLoopbackHost(u.Hostname()))) {
		r.fail("POCKETBASE_OIDC_ISSUER_URL", "must be an https URL (http only for localhost)")
	}
	if len(o.DisplayName) > 100 {
		r.fail("POCKETBASE_OIDC_DISPLAY_NAME", "must be at most 100 characters")
	}
}

func (r *reader) checkSMTP(s SMTP) {
	if s.Host == "" {
		for _, name := range []string{"SMTP_USERNAME", "SMTP_PASSWORD"} {
			if r.str(name) != "" {
				r.fail(name, "is set but SMTP_HOST is not; set SMTP_HOST too")
			}
		}
	}
	if s.Host != "" && s.SenderAddress == "" {
		r.fail("MAIL_SENDER_ADDRESS", "must be set when SMTP_HOST is set")
	}
	if s.SenderAddress != "" && !isEmail(s.SenderAddress) {
		r.fail("MAIL_SENDER_ADDRESS", "must be an email address")
	}
	if (s.Username == "") != (s.Password == "") && s.Host != "" {
		r.fail("SMTP_USERNAME", "SMTP_USERNAME and SMTP_PASSWORD must be set together")
	}
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// IsLoopbackHost reports whether host (no port) names this machine: localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLocal reports whether APP_URL points at this machine, which PhaseFlow treats as development.
func (c Config) IsLocal() bool {
	u, err := url.Parse(c.AppURL)
	return err == nil && IsLoopbackHost(u.Hostname())
}

// OAuth2RedirectURL is the callback URL to register at the identity provider: the front end's
// page that finishes the redirect flow.
func (c Config) OAuth2RedirectURL() string {
	return c.AppURL + OAuth2CallbackPath
}

// OAuth2CallbackPath is the front-end page the identity provider redirects back to.
const OAuth2CallbackPath = "/auth/callback"
