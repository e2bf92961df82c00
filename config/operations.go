package config

import (
	"net"
	"net/url"
	"path"
	"strconv"
	"strings"

	"filippo.io/age"
)

// Defaults of the operations variables (backups, replication, metrics).
const (
	DefaultBackupKeep = 7
	MaxBackupKeep     = 1000
)

// Backup is PocketBase's scheduled backups (Settings().Backups) and the key that encrypts every
// archive. The zero value means no scheduled backups, archives in pb_data/backups, unencrypted.
type Backup struct {
	// Cron is a PocketBase cron expression (UTC); empty means no scheduled backups.
	Cron string
	// Keep is how many scheduled archives are kept; older ones are deleted after each run.
	Keep int
	// S3 is the S3-compatible storage for archives; its zero value means pb_data/backups.
	S3 S3
	// EncryptionKey is an age identity (AGE-SECRET-KEY-…) or recipient (age1…); empty means
	// archives are not encrypted. Secret when it is an identity.
	EncryptionKey string
}

// S3 is an S3-compatible bucket. Bucket is empty when S3 is not configured.
type S3 struct {
	Endpoint       string
	Bucket         string
	Region         string
	AccessKey      string
	Secret         string
	ForcePathStyle bool
}

// Enabled reports whether an S3 bucket is configured.
func (s S3) Enabled() bool { return s.Bucket != "" }

// Replica is continuous replication of data.db with Litestream. Kind is empty when replication
// is off.
type Replica struct {
	// URL is REPLICA_URL as given (file:///path or s3://bucket/path).
	URL string
	// Kind is ReplicaFile or ReplicaS3.
	Kind string
	// Path is the directory of a file replica, or the key prefix inside Bucket of an S3 one.
	Path string
	// Bucket is the bucket of an S3 replica, reached with the BACKUP_S3_* endpoint and keys.
	Bucket string
}

// Replica kinds.
const (
	ReplicaFile = "file"
	ReplicaS3   = "s3"
)

// Enabled reports whether replication is configured.
func (r Replica) Enabled() bool { return r.Kind != "" }

// Metrics is the Prometheus endpoint. Addr is empty when metrics are off.
type Metrics struct {
	// Addr is the host:port the metrics server listens on.
	Addr string
	// AllowRemote is the operator's opt-in to an address that is not loopback.
	AllowRemote bool
}

// Enabled reports whether the metrics server is configured.
func (m Metrics) Enabled() bool { return m.Addr != "" }

// backup reads BACKUP_CRON, BACKUP_KEEP, BACKUP_S3_* and BACKUP_ENCRYPTION_KEY.
func (r *reader) backup() Backup {
	b := Backup{
		Cron:          r.str("BACKUP_CRON"),
		Keep:          r.intRange("BACKUP_KEEP", DefaultBackupKeep, 1, MaxBackupKeep),
		EncryptionKey: r.str("BACKUP_ENCRYPTION_KEY"),
		S3: S3{
			Endpoint:  r.str("BACKUP_S3_ENDPOINT"),
			Bucket:    r.str("BACKUP_S3_BUCKET"),
			Region:    r.str("BACKUP_S3_REGION"),
			AccessKey: r.str("BACKUP_S3_ACCESS_KEY"),
			Secret:    r.str("BACKUP_S3_SECRET"),
		},
	}
	if b.Cron != "" {
		if _, err := ParseCron(b.Cron); err != nil {
			r.fail("BACKUP_CRON", "must be a cron expression in PocketBase's syntax: 5 fields (minute hour day month weekday, UTC) or a macro such as @daily")
		}
	}
	if b.EncryptionKey != "" && !isAgeKey(b.EncryptionKey) {
		r.fail("BACKUP_ENCRYPTION_KEY", "must be an age identity (AGE-SECRET-KEY-…, from ./app backup keygen) or an age recipient (age1…)")
	}

	s := b.S3
	set := 0
	for _, v := range []string{s.Endpoint, s.Bucket, s.Region, s.AccessKey, s.Secret} {
		if v != "" {
			set++
		}
	}
	b.S3.ForcePathStyle = r.boolean("BACKUP_S3_FORCE_PATH_STYLE", false)
	switch {
	case set != 0 && set != 5:
		r.fail("BACKUP_S3_ENDPOINT", "BACKUP_S3_ENDPOINT, BACKUP_S3_BUCKET, BACKUP_S3_REGION, BACKUP_S3_ACCESS_KEY and BACKUP_S3_SECRET must be all set or all unset")
		b.S3 = S3{}
	case set == 0 && r.str("BACKUP_S3_FORCE_PATH_STYLE") != "":
		r.fail("BACKUP_S3_FORCE_PATH_STYLE", "is set but BACKUP_S3_BUCKET is not; set the other BACKUP_S3_* variables too")
	case set == 5 && !isServiceURL(s.Endpoint):
		r.fail("BACKUP_S3_ENDPOINT", "must be an https URL with no path, query or credentials (http only for localhost), e.g. https://s3.eu-central-1.amazonaws.com")
	}
	return b
}

// isAgeKey reports whether s parses as one age identity or recipient.
func isAgeKey(s string) bool {
	if strings.HasPrefix(s, "AGE-SECRET-KEY-") {
		_, err := age.ParseIdentities(strings.NewReader(s))
		return err == nil
	}
	if strings.HasPrefix(s, "age1") {
		_, err := age.ParseRecipients(strings.NewReader(s))
		return err == nil
	}
	return false
}

// isServiceURL accepts an https URL with a host and no path, query or credentials, or http on a
// loopback host (a local test server).
func isServiceURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && IsLoopbackHost(u.Hostname()))
}

// replica reads REPLICA_URL; an s3:// replica uses the BACKUP_S3_* endpoint and keys in s3.
func (r *reader) replica(s3 S3) Replica {
	raw := r.str("REPLICA_URL")
	if raw == "" {
		return Replica{}
	}
	const msg = "must be file:///absolute/dir or s3://bucket/path, e.g. s3://phaseflow-replica/data"
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		r.fail("REPLICA_URL", msg)
		return Replica{}
	}
	switch u.Scheme {
	case ReplicaFile:
		if (u.Host != "" && u.Host != "localhost") || !path.IsAbs(u.Path) || path.Clean(u.Path) == "/" {
			r.fail("REPLICA_URL", msg)
			return Replica{}
		}
		return Replica{URL: raw, Kind: ReplicaFile, Path: path.Clean(u.Path)}
	case ReplicaS3:
		if u.Host == "" {
			r.fail("REPLICA_URL", msg)
			return Replica{}
		}
		if !s3.Enabled() {
			r.fail("REPLICA_URL", "an s3:// replica is reached with the BACKUP_S3_* endpoint and keys; set them too")
			return Replica{}
		}
		return Replica{URL: raw, Kind: ReplicaS3, Bucket: u.Host, Path: strings.Trim(path.Clean("/"+u.Path), "/")}
	default:
		r.fail("REPLICA_URL", msg)
		return Replica{}
	}
}

// metrics reads METRICS_ADDR and METRICS_ALLOW_REMOTE.
func (r *reader) metrics() Metrics {
	m := Metrics{Addr: r.str("METRICS_ADDR"), AllowRemote: r.boolean("METRICS_ALLOW_REMOTE", false)}
	if m.Addr == "" {
		return m
	}
	host, port, err := net.SplitHostPort(m.Addr)
	n, portErr := strconv.Atoi(port)
	if err != nil || portErr != nil || n < 0 || n > 65535 {
		r.fail("METRICS_ADDR", "must be host:port, e.g. 127.0.0.1:9091")
		return Metrics{}
	}
	if !m.AllowRemote && !IsLoopbackHost(host) {
		r.fail("METRICS_ADDR", "must be a loopback address such as 127.0.0.1:9091; set METRICS_ALLOW_REMOTE=true to listen elsewhere")
		return Metrics{}
	}
	return m
}
