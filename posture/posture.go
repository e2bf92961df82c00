// Package posture is the judgement behind ./app doctor: given facts about a PhaseFlow
// installation (its configuration, what PocketBase stored, the data directory, the backups, the
// identity provider's answers), Check returns one result per item, PASS, WARN or FAIL, with the
// OWASP ASVS 5.0 requirement it maps to and the fix. It gathers nothing itself and imports no
// PocketBase, so every rule is a table test.
package posture

import (
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"phaseflow/config"
)

// Status is the verdict of one item.
type Status string

// Statuses, from good to bad.
const (
	Pass Status = "PASS"
	Warn Status = "WARN"
	Fail Status = "FAIL"
)

// Result is one line of the report.
type Result struct {
	Status Status
	// ASVS is the OWASP ASVS 5.0 requirement (or chapter) the item maps to.
	ASVS string
	// Item names what was checked.
	Item string
	// Detail says what was found.
	Detail string
	// Fix says what to do; empty for a PASS.
	Fix string
}

// String renders the result as one line: status, requirement, item, finding and fix.
func (r Result) String() string {
	line := fmt.Sprintf("%-4s  %-8s  %s: %s", r.Status, r.ASVS, r.Item, r.Detail)
	if r.Fix != "" {
		line += " Fix: " + r.Fix
	}
	return line
}

// Proxy is what the operator says about a reverse proxy in front of ./app serve.
type Proxy string

// Proxy answers; ProxyAuto infers it from APP_URL (https on a public host means a TLS proxy).
const (
	ProxyAuto Proxy = "auto"
	ProxyYes  Proxy = "yes"
	ProxyNo   Proxy = "no"
)

// Facts is what ./app doctor found. Each part is filled from the installation, never guessed.
type Facts struct {
	Config config.Config
	Proxy  Proxy
	Now    time.Time

	// Stored settings (what the last start applied, or the admin UI changed since).
	RateLimitsEnabled bool
	AuthRateLimitRule bool // the users:auth rule exists
	SMTPStored        bool // SMTP configured in the admin UI
	BackupCronStored  string

	// The _superusers collection's options.
	SuperuserMFA bool

	// Backups: the newest stored archive, or the error listing them.
	NewestBackup time.Time
	BackupsFound bool
	BackupsErr   error

	// OIDC, when configured: the discovery error and the client-credentials check's error.
	OIDCDiscoveryErr error
	OIDCClientErr    error
	// OIDCInvalidClient reports that OIDCClientErr is the provider refusing the credentials.
	OIDCInvalidClient bool

	// The data directory and the files below it (databases, backups, uploads).
	DataDir     string
	DataDirMode fs.FileMode
	DataDirErr  error
	Files       []File
}

// File is a path below the data directory and its permission bits.
type File struct {
	Path string
	Mode fs.FileMode
}

// Check judges f, one result per item, in a fixed order.
func Check(f Facts) []Result {
	return []Result{
		appURL(f), proxyHeaders(f), smtp(f), settingsKey(f), cronSecret(f),
		backups(f), backupEncryption(f), replication(f), rateLimits(f), superuserMFA(f),
		oidcDiscovery(f), oidcClient(f), dataDir(f),
	}
}

// Failed reports whether any result is a FAIL.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

func appURL(f Facts) Result {
	r := Result{ASVS: "V12.2.1", Item: "APP_URL over https"}
	u, _ := url.Parse(f.Config.AppURL)
	switch {
	case u != nil && u.Scheme == "https":
		r.Status, r.Detail = Pass, f.Config.AppURL+" uses https."
	case f.Config.IsLocal():
		r.Status, r.Detail = Warn, f.Config.AppURL+" is http on this machine: fine for development only."
		r.Fix = "Set APP_URL to the https address people use, e.g. https://phaseflow.example.com."
	default:
		r.Status, r.Detail = Fail, f.Config.AppURL+" is http on a network address: passwords, codes and tokens would cross it in clear."
		r.Fix = "Serve PhaseFlow behind a TLS reverse proxy and set APP_URL to its https address."
	}
	return r
}

// behindProxy decides whether a reverse proxy is in front: the operator's answer, or https on a
// public host (./app serve speaks plain http unless it runs its own certificates).
func behindProxy(f Facts) bool {
	switch f.Proxy {
	case ProxyYes:
		return true
	case ProxyNo:
		return false
	}
	return strings.HasPrefix(f.Config.AppURL, "https://") && !f.Config.IsLocal()
}

func proxyHeaders(f Facts) Result {
	r := Result{ASVS: "V15.3.4", Item: "client IP behind a proxy"}
	headers := strings.Join(f.Config.TrustedProxyHeaders, ", ")
	switch behind := behindProxy(f); {
	case behind && headers != "":
		r.Status, r.Detail = Pass, "behind a proxy, the client IP comes from "+headers+"."
	case behind:
		r.Status, r.Detail = Fail, "behind a proxy without TRUSTED_PROXY_HEADERS every visitor has the proxy's IP: one client can rate-limit everyone out of sign-in, and the audit records the proxy."
		r.Fix = "Set TRUSTED_PROXY_HEADERS to the header your proxy sets (e.g. X-Forwarded-For); or run doctor --proxy=no if ./app serve terminates TLS itself."
	case headers != "":
		r.Status, r.Detail = Warn, "TRUSTED_PROXY_HEADERS is set ("+headers+") but no proxy is in front: clients can forge their IP."
		r.Fix = "Unset TRUSTED_PROXY_HEADERS, or run doctor --proxy=yes if a proxy is in front."
	default:
		r.Status, r.Detail = Pass, "no proxy, the connection's address is the client IP."
	}
	return r
}

func smtp(f Facts) Result {
	r := Result{ASVS: "V6.3.3", Item: "SMTP"}
	switch {
	case f.Config.SMTP.Enabled():
		r.Status, r.Detail = Pass, "SMTP_HOST "+f.Config.SMTP.Host+" delivers email codes, MFA codes and alerts."
	case f.SMTPStored:
		r.Status, r.Detail = Pass, "SMTP is configured in the admin UI."
	default:
		r.Status, r.Detail = Warn, "no SMTP: email codes, the second factor and new-device alerts are off (or printed to the console locally)."
		r.Fix = "Set SMTP_HOST, SMTP_USERNAME, SMTP_PASSWORD and MAIL_SENDER_ADDRESS."
	}
	return r
}

func settingsKey(f Facts) Result {
	r := Result{ASVS: "V13.3.1", Item: "PB_ENCRYPTION_KEY"}
	switch {
	case f.Config.EncryptionKey != "":
		r.Status, r.Detail = Pass, "stored settings are encrypted."
	case f.Config.SMTP.Password != "" || f.Config.Backup.S3.Secret != "" || f.SMTPStored:
		r.Status, r.Detail = Fail, "the stored settings hold the SMTP password or the S3 secret unencrypted."
		r.Fix = "Set PB_ENCRYPTION_KEY (openssl rand -hex 16) and restart; keep a copy."
	default:
		r.Status, r.Detail = Warn, "stored settings are not encrypted (they hold no password yet)."
		r.Fix = "Set PB_ENCRYPTION_KEY (openssl rand -hex 16) before adding SMTP or S3 secrets."
	}
	return r
}

func cronSecret(f Facts) Result {
	r := Result{ASVS: "V13.2.1", Item: "CRON_SECRET"}
	if f.Config.CronSecret != "" {
		r.Status, r.Detail = Pass, "/api/cron/* takes a bearer secret of at least 32 characters."
		return r
	}
	r.Status, r.Detail = Warn, "unset: /api/cron/* answers 503, so only the in-process schedule runs the jobs."
	r.Fix = "Set CRON_SECRET (openssl rand -hex 32) if an external scheduler should run them."
	return r
}

func backups(f Facts) Result {
	r := Result{ASVS: "V14", Item: "backups"}
	cron := f.Config.Backup.Cron
	if cron == "" {
		cron = f.BackupCronStored
	}
	if cron == "" {
		if f.Config.Replica.Enabled() {
			r.Status, r.Detail = Warn, "no scheduled backups: only the continuous replica, whose history reaches back 24 hours."
			r.Fix = "Set BACKUP_CRON (e.g. 17 3 * * *) for archives to go back to."
			return r
		}
		r.Status, r.Detail = Fail, "no scheduled backups and no replica: losing the disk loses every account."
		r.Fix = "Set BACKUP_CRON (e.g. 17 3 * * *) and REPLICA_URL."
		return r
	}
	if f.BackupsErr != nil {
		r.Status, r.Detail = Fail, "backups are scheduled ("+cron+") but cannot be listed: "+f.BackupsErr.Error()
		r.Fix = "Check BACKUP_S3_* and that the bucket is reachable."
		return r
	}
	if !f.BackupsFound {
		r.Status, r.Detail = Warn, "backups are scheduled ("+cron+") but none is stored yet."
		r.Fix = "Wait for the first scheduled run, or run ./app backup create now."
		return r
	}
	age := f.Now.Sub(f.NewestBackup).Round(time.Minute)
	sched, err := config.ParseCron(cron)
	last, ok := sched.Previous(f.Now)
	var previous time.Time
	if ok {
		previous, ok = sched.Previous(last.Add(-time.Minute))
	}
	if err != nil || !ok {
		r.Status, r.Detail = Warn, fmt.Sprintf("the newest backup is %v old; the schedule %q cannot be judged.", age, cron)
		return r
	}
	if f.NewestBackup.Before(previous) {
		r.Status, r.Detail = Fail, fmt.Sprintf("the newest backup is %v old: the last two scheduled runs (%s) made none.", age, cron)
		r.Fix = "Look for \"[Backup cron]\" errors in the server log (admin UI → Logs); run ./app backup create to test."
		return r
	}
	r.Status, r.Detail = Pass, fmt.Sprintf("scheduled %s, newest %v old.", cron, age)
	return r
}

func backupEncryption(f Facts) Result {
	r := Result{ASVS: "V14.2.4", Item: "backup encryption"}
	key := f.Config.Backup.EncryptionKey
	switch {
	case strings.HasPrefix(key, "AGE-SECRET-KEY-"):
		r.Status, r.Detail = Pass, "archives are encrypted with age before they are stored."
	case key != "":
		r.Status, r.Detail = Pass, "archives are encrypted with age to a public key; restores need its identity (--identity)."
	case f.Config.Backup.S3.Enabled():
		r.Status, r.Detail = Fail, "archives with every account's health data go to S3 unencrypted."
		r.Fix = "Set BACKUP_ENCRYPTION_KEY (./app backup keygen) and keep the identity away from the backups."
	default:
		r.Status, r.Detail = Warn, "archives in pb_data/backups are not encrypted; a copy taken off the machine exposes health data."
		r.Fix = "Set BACKUP_ENCRYPTION_KEY (./app backup keygen)."
	}
	return r
}

func replication(f Facts) Result {
	r := Result{ASVS: "V14", Item: "continuous replication"}
	if !f.Config.Replica.Enabled() {
		r.Status, r.Detail = Warn, "no replica: a lost disk loses everything since the last backup."
		r.Fix = "Set REPLICA_URL and run ./app replicate next to ./app serve."
		return r
	}
	r.Status, r.Detail = Pass, f.Config.Replica.URL+" (PhaseFlow does not encrypt it: keep it on an encrypted volume or in a bucket that encrypts at rest)."
	return r
}

func rateLimits(f Facts) Result {
	r := Result{ASVS: "V6.3.1", Item: "rate limits"}
	if f.RateLimitsEnabled && f.AuthRateLimitRule {
		r.Status, r.Detail = Pass, fmt.Sprintf("on: %d sign-in attempts per minute per client and method.", f.Config.AuthRateLimit)
		return r
	}
	r.Status, r.Detail = Fail, "off in the stored settings (turned off in the admin UI, or the server has not started since)."
	r.Fix = "Restart ./app serve, which turns them on; do not switch them off in the admin UI."
	return r
}

func superuserMFA(f Facts) Result {
	r := Result{ASVS: "V6.3.3", Item: "superuser MFA"}
	if f.SuperuserMFA {
		r.Status, r.Detail = Pass, "superusers need a second factor."
		return r
	}
	r.Status, r.Detail = Fail, "superusers, who can read every account, sign in with a password alone."
	// ./app serve turns both on at every start when mail can be delivered (settings.Apply).
	r.Fix = "Configure SMTP (SMTP_HOST, MAIL_SENDER_ADDRESS) and restart ./app serve, which then asks superusers for an emailed code after their password."
	return r
}

func oidcDiscovery(f Facts) Result {
	r := Result{ASVS: "V10.5.3", Item: "OIDC discovery"}
	switch {
	case !f.Config.OIDC.Enabled():
		r.Status, r.Detail = Warn, "OIDC is not configured: people sign in with passwords and email codes only."
		r.Fix = "Set POCKETBASE_OIDC_ISSUER_URL, _CLIENT_ID and _CLIENT_SECRET to use Pocket-ID."
	case f.OIDCDiscoveryErr != nil:
		r.Status, r.Detail = Fail, "discovery failed: "+oneLine(f.OIDCDiscoveryErr)
		r.Fix = "Check POCKETBASE_OIDC_ISSUER_URL (exactly the provider's issuer) and that it is reachable; ./app oidc check shows more."
	default:
		r.Status, r.Detail = Pass, f.Config.OIDC.IssuerURL+" answers discovery with exactly that issuer."
	}
	return r
}

func oidcClient(f Facts) Result {
	r := Result{ASVS: "V10.4.10", Item: "OIDC client credentials"}
	switch {
	case !f.Config.OIDC.Enabled():
		r.Status, r.Detail = Warn, "OIDC is not configured, so there is no client to check."
		r.Fix = "Configure OIDC first (see OIDC discovery)."
	case f.OIDCDiscoveryErr != nil:
		r.Status, r.Detail = Fail, "not checked: discovery failed."
		r.Fix = "Fix discovery first."
	case f.OIDCInvalidClient:
		r.Status, r.Detail = Fail, "the provider refuses POCKETBASE_OIDC_CLIENT_ID or _CLIENT_SECRET (invalid_client): every Pocket-ID sign-in would fail."
		r.Fix = "Copy the client id and secret of this client from Pocket-ID again."
	case f.OIDCClientErr != nil:
		r.Status, r.Detail = Fail, "the client check failed: "+oneLine(f.OIDCClientErr)
		r.Fix = "Run ./app oidc check and compare the client with Pocket-ID's."
	default:
		r.Status, r.Detail = Pass, "the token endpoint accepts the client (it refused only a made-up code)."
	}
	return r
}

// Permission bits the data directory and its files must not have, and the ones worth a warning.
const (
	forbidden = 0o007 | 0o020 // anything for others, or group write
	groupRead = 0o050         // group read or traverse
)

func dataDir(f Facts) Result {
	r := Result{ASVS: "V14.2.4", Item: "data directory permissions"}
	fix := fmt.Sprintf("chmod -R go-rwx %s (and run the service with UMask=0077).", f.DataDir)
	if f.DataDirErr != nil {
		r.Status, r.Detail = Fail, "cannot inspect "+f.DataDir+": "+f.DataDirErr.Error()
		r.Fix = "Run doctor as the service's user, with --dir pointing at its data directory."
		return r
	}
	var bad, loose []string
	check := func(path string, mode fs.FileMode) {
		switch perm := mode.Perm(); {
		case perm&forbidden != 0:
			bad = append(bad, fmt.Sprintf("%s (%04o)", path, perm))
		case perm&groupRead != 0:
			loose = append(loose, fmt.Sprintf("%s (%04o)", path, perm))
		}
	}
	check(f.DataDir, f.DataDirMode)
	for _, file := range f.Files {
		check(file.Path, file.Mode)
	}
	switch {
	case len(bad) > 0:
		r.Status, r.Detail = Fail, fmt.Sprintf("health data is open to other users or group-writable: %s%s.", bad[0], more(len(bad)))
		r.Fix = fix
	case len(loose) > 0:
		r.Status, r.Detail = Warn, fmt.Sprintf("the group can read it: %s%s.", loose[0], more(len(loose)))
		r.Fix = fix
	default:
		r.Status, r.Detail = Pass, f.DataDir+" and everything in it is readable by its owner only."
	}
	return r
}

func more(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" and %d more", n-1)
}

// oneLine keeps the first line of an error: a report line is one line.
func oneLine(err error) string {
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
