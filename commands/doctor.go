package commands

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"

	"phaseflow/backup"
	"phaseflow/config"
	"phaseflow/oidc"
	"phaseflow/posture"
	"phaseflow/settings"
)

// maxInspectedFiles bounds the walk of the data directory (uploads can be many).
const maxInspectedFiles = 10000

// NewDoctorCommand returns `doctor`: an offline posture check of this installation (its
// environment, the stored settings, the data directory, the backups, and the identity provider's
// discovery and client credentials), one PASS/WARN/FAIL line per item with the ASVS 5.0
// requirement and the fix. It changes nothing; it exits non-zero on any FAIL.
func NewDoctorCommand(app core.App, cfg config.Config) *cobra.Command {
	var proxy string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the installation's security posture: one PASS/WARN/FAIL line per item, non-zero exit on any FAIL",
		Long: "Check the installation without a running server: APP_URL, proxy headers, SMTP, PB_ENCRYPTION_KEY, " +
			"CRON_SECRET, backups (scheduled, recent, encrypted), replication, rate limits, superuser MFA, OIDC " +
			"discovery and client credentials, and the data directory's permissions. Each line names the OWASP " +
			"ASVS 5.0 requirement it maps to and, unless it passes, the fix. Nothing is changed.",
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := posture.Proxy(proxy)
			if p != posture.ProxyAuto && p != posture.ProxyYes && p != posture.ProxyNo {
				return fmt.Errorf("--proxy must be auto, yes or no")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
			defer cancel()
			results := posture.Check(gatherFacts(ctx, app, cfg, p))
			failed := 0
			for _, r := range results {
				fmt.Fprintln(cmd.OutOrStdout(), r)
				if r.Status == posture.Fail {
					failed++
				}
			}
			if failed > 0 {
				return fmt.Errorf("doctor: %d item(s) FAIL", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&proxy, "proxy", string(posture.ProxyAuto),
		"is a reverse proxy in front of ./app serve: auto (https APP_URL on a public host), yes or no")
	return cmd
}

// gatherFacts reads what doctor judges; it writes nothing.
func gatherFacts(ctx context.Context, app core.App, cfg config.Config, proxy posture.Proxy) posture.Facts {
	f := posture.Facts{Config: cfg, Proxy: proxy, Now: time.Now()}

	s := app.Settings()
	f.RateLimitsEnabled = s.RateLimits.Enabled
	_, f.AuthRateLimitRule = s.RateLimits.FindRateLimitRule([]string{settings.RateLimitAuthLabel})
	f.SMTPStored = s.SMTP.Enabled && s.SMTP.Host != ""
	f.BackupCronStored = s.Backups.Cron

	if col, err := app.FindCollectionByNameOrId(core.CollectionNameSuperusers); err == nil {
		f.SuperuserMFA = col.MFA.Enabled && col.OTP.Enabled
	}

	// The backups storage as the environment configures it, in this process only.
	settings.ApplyBackups(s, cfg)
	if list, err := backup.List(ctx, app); err != nil {
		f.BackupsErr = err
	} else if len(list) > 0 {
		f.BackupsFound, f.NewestBackup = true, list[0].Modified
	}

	if cfg.OIDC.Enabled() {
		md, err := oidc.Discover(ctx, nil, cfg.OIDC.IssuerURL)
		f.OIDCDiscoveryErr = err
		if err == nil {
			f.OIDCClientErr = oidc.CheckClient(ctx, nil, md, cfg.OIDC.ClientID, cfg.OIDC.ClientSecret, cfg.OAuth2RedirectURL())
			f.OIDCInvalidClient = errors.Is(f.OIDCClientErr, oidc.ErrInvalidClient)
		}
	}

	f.DataDir, f.DataDirErr = filepath.Abs(app.DataDir())
	if f.DataDirErr == nil {
		f.DataDirMode, f.Files, f.DataDirErr = inspectDataDir(f.DataDir)
	}
	return f
}

// inspectDataDir returns the data directory's mode and the modes of what is below it.
func inspectDataDir(dir string) (fs.FileMode, []posture.File, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return 0, nil, err
	}
	var files []posture.File
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir || d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		if len(files) == maxInspectedFiles {
			return fs.SkipAll
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, posture.File{Path: path, Mode: fi.Mode()})
		return nil
	})
	return info.Mode(), files, err
}
