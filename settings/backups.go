package settings

import (
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
)

// ApplyBackups writes BACKUP_CRON, BACKUP_KEEP and BACKUP_S3_* into s, PocketBase's scheduled
// backups (its "__pbAutoBackup__" cron job follows the saved settings). As with SMTP and OIDC,
// what the environment leaves unset keeps the admin UI's values. Apply saves the result; a
// command that only needs the values in its own process (./app backup create) calls it on the
// in-memory settings without saving. Encryption is not a setting: see phaseflow/backup.
func ApplyBackups(s *core.Settings, cfg config.Config) {
	b := cfg.Backup
	if b.Cron != "" {
		s.Backups.Cron = b.Cron
		s.Backups.CronMaxKeep = b.Keep
	}
	if b.S3.Enabled() {
		s.Backups.S3 = core.S3Config{
			Enabled:        true,
			Endpoint:       b.S3.Endpoint,
			Bucket:         b.S3.Bucket,
			Region:         b.S3.Region,
			AccessKey:      b.S3.AccessKey,
			Secret:         b.S3.Secret,
			ForcePathStyle: b.S3.ForcePathStyle,
		}
	}
}
