package config

import (
	"testing"
	"time"
)

// Messages of the operations variables, pinned like the others.
const (
	msgBackupCron  = "must be a cron expression in PocketBase's syntax: 5 fields (minute hour day month weekday, UTC) or a macro such as @daily"
	msgBackupKey   = "must be an age identity (AGE-SECRET-KEY-…, from ./app backup keygen) or an age recipient (age1…)"
	msgS3AllNone   = "BACKUP_S3_ENDPOINT, BACKUP_S3_BUCKET, BACKUP_S3_REGION, BACKUP_S3_ACCESS_KEY and BACKUP_S3_SECRET must be all set or all unset"
	msgS3Endpoint  = "must be an https URL with no path, query or credentials (http only for localhost), e.g. https://s3.eu-central-1.amazonaws.com"
	msgS3PathStyle = "is set but BACKUP_S3_BUCKET is not; set the other BACKUP_S3_* variables too"
	msgReplicaURL  = "must be file:///absolute/dir or s3://bucket/path, e.g. s3://phaseflow-replica/data"
	msgReplicaS3   = "an s3:// replica is reached with the BACKUP_S3_* endpoint and keys; set them too"
	msgMetricsAddr = "must be host:port, e.g. 127.0.0.1:9091"
	msgMetricsLoop = "must be a loopback address such as 127.0.0.1:9091; set METRICS_ALLOW_REMOTE=true to listen elsewhere"
)

// s3Env is a complete BACKUP_S3_* set, with overrides applied.
func s3Env(overrides map[string]string) map[string]string {
	return with(map[string]string{
		"BACKUP_S3_ENDPOINT":   "http://127.0.0.1:9000",
		"BACKUP_S3_BUCKET":     "backups",
		"BACKUP_S3_REGION":     "us-east-1",
		"BACKUP_S3_ACCESS_KEY": "key",
		"BACKUP_S3_SECRET":     "leaky-s3-secret-4711",
	}, overrides)
}

func TestFromEnvOperationsValues(t *testing.T) {
	t.Parallel()

	scenarios := []valueScenario{
		{"BACKUP_CRON macro", map[string]string{"BACKUP_CRON": "@daily"}, func(c Config) (any, any) { return c.Backup.Cron, "@daily" }},
		{"BACKUP_CRON with lists, ranges and steps", map[string]string{"BACKUP_CRON": "0,30 */6 1-28/3 * 1-5"},
			func(c Config) (any, any) { return c.Backup.Cron, "0,30 */6 1-28/3 * 1-5" }},
		{"BACKUP_KEEP bounds", map[string]string{"BACKUP_KEEP": "1000"}, func(c Config) (any, any) { return c.Backup.Keep, 1000 }},
		{"BACKUP_ENCRYPTION_KEY X25519 recipient", map[string]string{"BACKUP_ENCRYPTION_KEY": "age19ny5cg0rqw62em9gd0g2hr6xgswas6fs2p2xjl82my8a8shn95wsq5r3yu"},
			func(c Config) (any, any) {
				return c.Backup.EncryptionKey, "age19ny5cg0rqw62em9gd0g2hr6xgswas6fs2p2xjl82my8a8shn95wsq5r3yu"
			}},
		{"BACKUP_ENCRYPTION_KEY post-quantum identity", map[string]string{"BACKUP_ENCRYPTION_KEY": "AGE-SECRET-KEY-PQ-16HT4CYE5D2NCDSJAN8TPA8DRG5WLFHJ2X4RSLHHEHL8EP3HVQSCQK5VN09"},
			func(c Config) (any, any) {
				return c.Backup.EncryptionKey, "AGE-SECRET-KEY-PQ-16HT4CYE5D2NCDSJAN8TPA8DRG5WLFHJ2X4RSLHHEHL8EP3HVQSCQK5VN09"
			}},
		{"BACKUP_S3_* on a loopback http endpoint", s3Env(nil), func(c Config) (any, any) {
			return c.Backup.S3, S3{Endpoint: "http://127.0.0.1:9000", Bucket: "backups", Region: "us-east-1", AccessKey: "key", Secret: "leaky-s3-secret-4711"}
		}},
		{"REPLICA_URL file directory is cleaned", map[string]string{"REPLICA_URL": "file:///var/lib/phaseflow-replica/"},
			func(c Config) (any, any) {
				return c.Replica, Replica{URL: "file:///var/lib/phaseflow-replica/", Kind: ReplicaFile, Path: "/var/lib/phaseflow-replica"}
			}},
		{"REPLICA_URL s3 bucket without a path", s3Env(map[string]string{"REPLICA_URL": "s3://replica"}),
			func(c Config) (any, any) {
				return c.Replica, Replica{URL: "s3://replica", Kind: ReplicaS3, Bucket: "replica", Path: ""}
			}},
		{"METRICS_ADDR on localhost", map[string]string{"METRICS_ADDR": "localhost:9091"}, func(c Config) (any, any) { return c.Metrics, Metrics{Addr: "localhost:9091"} }},
		{"METRICS_ADDR on IPv6 loopback", map[string]string{"METRICS_ADDR": "[::1]:9091"}, func(c Config) (any, any) { return c.Metrics.Addr, "[::1]:9091" }},
		{"METRICS_ADDR on port 0 (tests)", map[string]string{"METRICS_ADDR": "127.0.0.1:0"}, func(c Config) (any, any) { return c.Metrics.Addr, "127.0.0.1:0" }},
		{"METRICS_ADDR on all interfaces with the opt-in", map[string]string{"METRICS_ADDR": ":9091", "METRICS_ALLOW_REMOTE": "true"},
			func(c Config) (any, any) { return c.Metrics, Metrics{Addr: ":9091", AllowRemote: true} }},
	}
	runValueScenarios(t, scenarios)
}

func TestFromEnvOperationsProblems(t *testing.T) {
	t.Parallel()

	scenarios := []problemScenario{
		{"BACKUP_CRON with 6 fields", map[string]string{"BACKUP_CRON": "0 0 0 * * *"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON with an unknown macro", map[string]string{"BACKUP_CRON": "@reboot"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON hour 24", map[string]string{"BACKUP_CRON": "0 24 * * *"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON weekday 7", map[string]string{"BACKUP_CRON": "0 0 * * 7"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON step on a single value", map[string]string{"BACKUP_CRON": "5/2 * * * *"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON reversed range", map[string]string{"BACKUP_CRON": "30-10 * * * *"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_CRON names", map[string]string{"BACKUP_CRON": "0 0 * * MON"}, Problem{"BACKUP_CRON", msgBackupCron}},
		{"BACKUP_KEEP zero", map[string]string{"BACKUP_KEEP": "0"}, Problem{"BACKUP_KEEP", "must be a whole number from 1 to 1000"}},
		{"BACKUP_ENCRYPTION_KEY passphrase", map[string]string{"BACKUP_ENCRYPTION_KEY": "correct horse battery staple"}, Problem{"BACKUP_ENCRYPTION_KEY", msgBackupKey}},
		{"BACKUP_ENCRYPTION_KEY truncated identity", map[string]string{"BACKUP_ENCRYPTION_KEY": validBackupKey[:40]}, Problem{"BACKUP_ENCRYPTION_KEY", msgBackupKey}},
		{"BACKUP_ENCRYPTION_KEY bad recipient checksum", map[string]string{"BACKUP_ENCRYPTION_KEY": "age19ny5cg0rqw62em9gd0g2hr6xgswas6fs2p2xjl82my8a8shn95wsq5r3yv"}, Problem{"BACKUP_ENCRYPTION_KEY", msgBackupKey}},
		{"BACKUP_S3 half set", map[string]string{"BACKUP_S3_BUCKET": "b", "BACKUP_S3_SECRET": "leaky-s3-secret-4711"}, Problem{"BACKUP_S3_ENDPOINT", msgS3AllNone}},
		{"BACKUP_S3 http on a public host", s3Env(map[string]string{"BACKUP_S3_ENDPOINT": "http://s3.example.com"}), Problem{"BACKUP_S3_ENDPOINT", msgS3Endpoint}},
		{"BACKUP_S3 endpoint with a path", s3Env(map[string]string{"BACKUP_S3_ENDPOINT": "https://s3.example.com/bucket"}), Problem{"BACKUP_S3_ENDPOINT", msgS3Endpoint}},
		{"BACKUP_S3_FORCE_PATH_STYLE alone", map[string]string{"BACKUP_S3_FORCE_PATH_STYLE": "true"}, Problem{"BACKUP_S3_FORCE_PATH_STYLE", msgS3PathStyle}},
		{"BACKUP_S3_FORCE_PATH_STYLE not a bool", s3Env(map[string]string{"BACKUP_S3_FORCE_PATH_STYLE": "yes"}), Problem{"BACKUP_S3_FORCE_PATH_STYLE", msgBool}},
		{"REPLICA_URL relative file path", map[string]string{"REPLICA_URL": "file://replica"}, Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL file root", map[string]string{"REPLICA_URL": "file:///"}, Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL plain path", map[string]string{"REPLICA_URL": "/var/lib/replica"}, Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL other scheme", map[string]string{"REPLICA_URL": "gs://bucket/path"}, Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL s3 without a bucket", s3Env(map[string]string{"REPLICA_URL": "s3:///path"}), Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL s3 with credentials", s3Env(map[string]string{"REPLICA_URL": "s3://key:leaky-s3-secret-4711@bucket/path"}), Problem{"REPLICA_URL", msgReplicaURL}},
		{"REPLICA_URL s3 without BACKUP_S3_*", map[string]string{"REPLICA_URL": "s3://bucket/path"}, Problem{"REPLICA_URL", msgReplicaS3}},
		{"METRICS_ADDR without a port", map[string]string{"METRICS_ADDR": "127.0.0.1"}, Problem{"METRICS_ADDR", msgMetricsAddr}},
		{"METRICS_ADDR with a bad port", map[string]string{"METRICS_ADDR": "127.0.0.1:http"}, Problem{"METRICS_ADDR", msgMetricsAddr}},
		{"METRICS_ADDR on all interfaces", map[string]string{"METRICS_ADDR": ":9091"}, Problem{"METRICS_ADDR", msgMetricsLoop}},
		{"METRICS_ADDR on a public IP", map[string]string{"METRICS_ADDR": "192.0.2.10:9091"}, Problem{"METRICS_ADDR", msgMetricsLoop}},
		{"METRICS_ADDR on a host name", map[string]string{"METRICS_ADDR": "metrics.example.com:9091"}, Problem{"METRICS_ADDR", msgMetricsLoop}},
		{"METRICS_ALLOW_REMOTE not a bool", map[string]string{"METRICS_ALLOW_REMOTE": "sure"}, Problem{"METRICS_ALLOW_REMOTE", msgBool}},
	}
	runProblemScenarios(t, scenarios, "leaky-s3-secret-4711", validBackupKey[:40])
}

func TestParseCronDueAndPrevious(t *testing.T) {
	t.Parallel()

	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	scenarios := []struct {
		name     string
		expr     string
		now      string
		previous string
		found    bool
	}{
		{"daily at 02:17, later that day", "17 2 * * *", "2026-03-10T15:04:05Z", "2026-03-10T02:17:00Z", true},
		{"daily at 02:17, before that time", "17 2 * * *", "2026-03-10T01:00:00Z", "2026-03-09T02:17:00Z", true},
		{"in the due minute itself", "17 2 * * *", "2026-03-10T02:17:59Z", "2026-03-10T02:17:00Z", true},
		{"every 15 minutes", "*/15 * * * *", "2026-03-10T15:14:00Z", "2026-03-10T15:00:00Z", true},
		{"a time zone offset is read in UTC", "0 0 * * *", "2026-03-10T01:30:00+02:00", "2026-03-09T00:00:00Z", true},
		{"@weekly on Sundays", "@weekly", "2026-03-10T12:00:00Z", "2026-03-08T00:00:00Z", true},
		{"day and weekday must both match (PocketBase semantics)", "0 0 13 * 5", "2026-03-10T00:00:00Z", "2026-02-13T00:00:00Z", true},
		{"never within two years", "0 0 31 2 *", "2026-03-10T00:00:00Z", "0001-01-01T00:00:00Z", false},
	}
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			sched, err := ParseCron(s.expr)
			if err != nil {
				t.Fatalf("expected %q to parse, got %v", s.expr, err)
			}
			got, found := sched.Previous(at(s.now))
			if found != s.found || !got.Equal(at(s.previous)) {
				t.Fatalf("expected %s (%t), got %s (%t)", s.previous, s.found, got, found)
			}
		})
	}
}
