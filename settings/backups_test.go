package settings_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/cron"

	"phaseflow/config"
	"phaseflow/internal/apptest"
	"phaseflow/settings"
)

func TestApplyBackups(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	cfg.Backup = config.Backup{
		Cron: "17 3 * * *",
		Keep: 5,
		S3: config.S3{
			Endpoint: "https://s3.example.com", Bucket: "b", Region: "r", AccessKey: "k", Secret: "s3-secret", ForcePathStyle: true,
		},
	}
	app := apptest.NewApp(t, cfg)
	if err := settings.Apply(app, cfg); err != nil {
		t.Fatal(err)
	}
	got := app.Settings().Backups
	want := core.BackupsConfig{Cron: "17 3 * * *", CronMaxKeep: 5, S3: core.S3Config{
		Enabled: true, Endpoint: "https://s3.example.com", Bucket: "b", Region: "r", AccessKey: "k", Secret: "s3-secret", ForcePathStyle: true,
	}}
	if got != want {
		t.Fatalf("expected %+v, got %+v", want, got)
	}
	// PocketBase schedules its own backup job from the saved settings.
	var expr string
	for _, j := range app.Cron().Jobs() {
		if j.Id() == "__pbAutoBackup__" {
			expr = j.Expression()
		}
	}
	if expr != "17 3 * * *" {
		t.Fatalf("expected PocketBase's backup job at 17 3 * * *, got %q", expr)
	}

	t.Run("an unset environment keeps what the admin UI configured", func(t *testing.T) {
		if err := settings.Apply(app, apptest.Config(t)); err != nil {
			t.Fatal(err)
		}
		if got := app.Settings().Backups; got != want {
			t.Fatalf("expected %+v kept, got %+v", want, got)
		}
	})
}

// config mirrors PocketBase's cron parser (it imports no PocketBase); both must agree.
func TestBackupCronParsesAsPocketBaseDoes(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{
		"@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@annually", "@midnight", "@reboot",
		"0 3 * * *", "*/15 * * * *", "0,30 */6 1-28/3 * 1-5", "5/1 * * * *", "5/2 * * * *", "30-10 * * * *",
		"0 24 * * *", "0 0 0 * *", "0 0 * 13 *", "0 0 * * 7", "*/0 * * * *", "*/60 * * * *", "1-2-3 * * * *",
		"0 0 * * MON", "0 0 0 * * *", "0 0 * *", "", " 0 0 * * *", "0  0 * * *", "-1 * * * *", "+5 * * * *",
	} {
		_, pbErr := cron.NewSchedule(expr)
		_, ourErr := config.ParseCron(expr)
		if (pbErr == nil) != (ourErr == nil) {
			t.Errorf("%q: PocketBase says %v, config says %v", expr, pbErr, ourErr)
		}
	}
}
