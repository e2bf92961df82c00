package posture

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"phaseflow/config"
)

var now = time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC)

// good is a production installation with every item in order.
func good() Facts {
	return Facts{
		Config: config.Config{
			AppURL:              "https://phaseflow.example.com",
			TrustedProxyHeaders: []string{"X-Forwarded-For"},
			SMTP:                config.SMTP{Host: "smtp.example.com", Port: 587, Username: "u", Password: "p", SenderAddress: "a@example.com"},
			EncryptionKey:       "0123456789abcdef0123456789abcdef",
			CronSecret:          strings.Repeat("c", 32),
			AuthRateLimit:       5,
			OIDC:                config.OIDC{IssuerURL: "https://id.example.com", ClientID: "id", ClientSecret: "s"},
			Backup:              config.Backup{Cron: "17 3 * * *", Keep: 7, EncryptionKey: "AGE-SECRET-KEY-1H6RKE25AUUTPY2Y4JCHK498VNWZR8KDNDMDLS7TRQ5V3W5RYXMGQYSPLEA"},
			Replica:             config.Replica{URL: "file:///srv/replica", Kind: config.ReplicaFile, Path: "/srv/replica"},
		},
		Proxy:             ProxyAuto,
		Now:               now,
		RateLimitsEnabled: true,
		AuthRateLimitRule: true,
		SuperuserMFA:      true,
		NewestBackup:      time.Date(2026, 3, 10, 3, 17, 40, 0, time.UTC),
		BackupsFound:      true,
		DataDir:           "/var/lib/phaseflow/pb_data",
		DataDirMode:       fs.ModeDir | 0o700,
		Files:             []File{{Path: "/var/lib/phaseflow/pb_data/data.db", Mode: 0o600}},
	}
}

func TestGoodInstallationPassesEveryItem(t *testing.T) {
	t.Parallel()
	results := Check(good())
	if len(results) != 13 {
		t.Fatalf("expected 13 items, got %d", len(results))
	}
	for _, r := range results {
		if r.Status != Pass || r.Fix != "" || r.ASVS == "" {
			t.Errorf("expected PASS with a requirement and no fix, got %s", r)
		}
	}
	if Failed(results) {
		t.Fatal("expected no failure")
	}
}

func TestEachItem(t *testing.T) {
	t.Parallel()
	scenarios := []struct {
		name   string
		item   string
		change func(*Facts)
		status Status
		detail string // the detail starts with it
	}{
		{"http APP_URL on a public host", "APP_URL over https", func(f *Facts) { f.Config.AppURL = "http://phaseflow.example.com" }, Fail, "http://phaseflow.example.com is http on a network address"},
		{"http APP_URL on loopback", "APP_URL over https", func(f *Facts) { f.Config.AppURL = "http://127.0.0.1:8090"; f.Config.TrustedProxyHeaders = nil }, Warn, "http://127.0.0.1:8090 is http on this machine"},
		{"https behind a proxy without headers", "client IP behind a proxy", func(f *Facts) { f.Config.TrustedProxyHeaders = nil }, Fail, "behind a proxy without TRUSTED_PROXY_HEADERS"},
		{"the operator says there is no proxy", "client IP behind a proxy", func(f *Facts) { f.Config.TrustedProxyHeaders = nil; f.Proxy = ProxyNo }, Pass, "no proxy"},
		{"headers without a proxy", "client IP behind a proxy", func(f *Facts) { f.Proxy = ProxyNo }, Warn, "TRUSTED_PROXY_HEADERS is set (X-Forwarded-For) but no proxy is in front"},
		{"a local run has no proxy", "client IP behind a proxy", func(f *Facts) { f.Config.AppURL = "http://127.0.0.1:8090"; f.Config.TrustedProxyHeaders = nil }, Pass, "no proxy"},
		{"no SMTP", "SMTP", func(f *Facts) { f.Config.SMTP = config.SMTP{} }, Warn, "no SMTP"},
		{"SMTP from the admin UI", "SMTP", func(f *Facts) { f.Config.SMTP = config.SMTP{}; f.SMTPStored = true }, Pass, "SMTP is configured in the admin UI"},
		{"no settings key with an SMTP password", "PB_ENCRYPTION_KEY", func(f *Facts) { f.Config.EncryptionKey = "" }, Fail, "the stored settings hold the SMTP password"},
		{"no settings key and no secrets", "PB_ENCRYPTION_KEY", func(f *Facts) { f.Config.EncryptionKey = ""; f.Config.SMTP = config.SMTP{} }, Warn, "stored settings are not encrypted"},
		{"no cron secret", "CRON_SECRET", func(f *Facts) { f.Config.CronSecret = "" }, Warn, "unset: /api/cron/* answers 503"},
		{"no backups and no replica", "backups", func(f *Facts) { f.Config.Backup.Cron = ""; f.Config.Replica = config.Replica{} }, Fail, "no scheduled backups and no replica"},
		{"no backups but a replica", "backups", func(f *Facts) { f.Config.Backup.Cron = "" }, Warn, "no scheduled backups: only the continuous replica"},
		{"a schedule from the admin UI", "backups", func(f *Facts) { f.Config.Backup.Cron = ""; f.BackupCronStored = "17 3 * * *" }, Pass, "scheduled 17 3 * * *, newest 11h42m0s old"},
		{"scheduled but none made yet", "backups", func(f *Facts) { f.BackupsFound = false; f.NewestBackup = time.Time{} }, Warn, "backups are scheduled (17 3 * * *) but none is stored yet"},
		{"the storage cannot be listed", "backups", func(f *Facts) { f.BackupsErr = errors.New("s3: 403 Forbidden") }, Fail, "backups are scheduled (17 3 * * *) but cannot be listed: s3: 403 Forbidden"},
		{"one missed run is still recent", "backups", func(f *Facts) { f.NewestBackup = time.Date(2026, 3, 9, 3, 17, 40, 0, time.UTC) }, Pass, "scheduled 17 3 * * *, newest 35h42m0s old"},
		{"two missed runs are stale", "backups", func(f *Facts) { f.NewestBackup = time.Date(2026, 3, 9, 3, 16, 0, 0, time.UTC) }, Fail, "the newest backup is 35h44m0s old: the last two scheduled runs"},
		{"unencrypted archives in S3", "backup encryption", func(f *Facts) { f.Config.Backup.EncryptionKey = ""; f.Config.Backup.S3 = config.S3{Bucket: "b"} }, Fail, "archives with every account's health data go to S3 unencrypted"},
		{"unencrypted local archives", "backup encryption", func(f *Facts) { f.Config.Backup.EncryptionKey = "" }, Warn, "archives in pb_data/backups are not encrypted"},
		{"a recipient only", "backup encryption", func(f *Facts) {
			f.Config.Backup.EncryptionKey = "age19ny5cg0rqw62em9gd0g2hr6xgswas6fs2p2xjl82my8a8shn95wsq5r3yu"
		}, Pass, "archives are encrypted with age to a public key"},
		{"no replica", "continuous replication", func(f *Facts) { f.Config.Replica = config.Replica{} }, Warn, "no replica"},
		{"rate limits off", "rate limits", func(f *Facts) { f.RateLimitsEnabled = false }, Fail, "off in the stored settings"},
		{"the sign-in rule missing", "rate limits", func(f *Facts) { f.AuthRateLimitRule = false }, Fail, "off in the stored settings"},
		{"superusers without MFA", "superuser MFA", func(f *Facts) { f.SuperuserMFA = false }, Fail, "superusers, who can read every account, sign in with a password alone"},
		{"OIDC off", "OIDC discovery", func(f *Facts) { f.Config.OIDC = config.OIDC{} }, Warn, "OIDC is not configured"},
		{"discovery fails", "OIDC discovery", func(f *Facts) { f.OIDCDiscoveryErr = errors.New("issuer mismatch: x\nmore") }, Fail, "discovery failed: issuer mismatch: x"},
		{"discovery fails, so no client check", "OIDC client credentials", func(f *Facts) { f.OIDCDiscoveryErr = errors.New("x") }, Fail, "not checked: discovery failed"},
		{"a wrong client secret", "OIDC client credentials", func(f *Facts) { f.OIDCClientErr = errors.New("invalid_client"); f.OIDCInvalidClient = true }, Fail, "the provider refuses POCKETBASE_OIDC_CLIENT_ID or _CLIENT_SECRET"},
		{"an unreachable token endpoint", "OIDC client credentials", func(f *Facts) { f.OIDCClientErr = errors.New("connection refused") }, Fail, "the client check failed: connection refused"},
		{"a world-readable database", "data directory permissions", func(f *Facts) { f.Files[0].Mode = 0o644 }, Fail, "health data is open to other users or group-writable: /var/lib/phaseflow/pb_data/data.db (0644)"},
		{"a world-readable data directory", "data directory permissions", func(f *Facts) { f.DataDirMode = fs.ModeDir | 0o755 }, Fail, "health data is open to other users or group-writable: /var/lib/phaseflow/pb_data (0755)"},
		{"a group-writable file", "data directory permissions", func(f *Facts) { f.Files[0].Mode = 0o620 }, Fail, "health data is open to other users or group-writable"},
		{"a group-readable file", "data directory permissions", func(f *Facts) { f.Files[0].Mode = 0o640 }, Warn, "the group can read it: /var/lib/phaseflow/pb_data/data.db (0640)"},
		{"several open files", "data directory permissions", func(f *Facts) {
			f.Files = append(f.Files, File{Path: "/var/lib/phaseflow/pb_data/auxiliary.db", Mode: 0o644})
			f.Files[0].Mode = 0o644
		}, Fail, "health data is open to other users or group-writable: /var/lib/phaseflow/pb_data/data.db (0644) and 1 more"},
		{"an unreadable data directory", "data directory permissions", func(f *Facts) { f.DataDirErr = errors.New("permission denied") }, Fail, "cannot inspect /var/lib/phaseflow/pb_data: permission denied"},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			f := good()
			f.Files = append([]File(nil), f.Files...)
			s.change(&f)
			var got *Result
			results := Check(f)
			for i := range results {
				if results[i].Item == s.item {
					got = &results[i]
				}
			}
			if got == nil {
				t.Fatalf("no %q item", s.item)
			}
			if got.Status != s.status || !strings.HasPrefix(got.Detail, s.detail) {
				t.Fatalf("expected %s %q…, got %s", s.status, s.detail, got)
			}
			if (got.Status == Pass) != (got.Fix == "") {
				t.Fatalf("expected a fix exactly when it does not pass, got %s", got)
			}
			if Failed(results) != (s.status == Fail) {
				t.Fatalf("expected Failed = %t", s.status == Fail)
			}
		})
	}
}

func TestResultString(t *testing.T) {
	t.Parallel()
	r := Result{Status: Fail, ASVS: "V6.3.1", Item: "rate limits", Detail: "off.", Fix: "Restart."}
	if got, want := r.String(), "FAIL  V6.3.1    rate limits: off. Fix: Restart."; got != want {
		t.Fatalf("expected %q, got %q", want, got)
	}
	r = Result{Status: Pass, ASVS: "V12.2.1", Item: "APP_URL over https", Detail: "https://x uses https."}
	if got, want := r.String(), "PASS  V12.2.1   APP_URL over https: https://x uses https."; got != want {
		t.Fatalf("expected %q, got %q", want, got)
	}
}
