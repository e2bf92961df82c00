package migrations_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"phaseflow/migrations"
)

var appMigrationFiles = []string{"1763769600_users_profile.go", "1763769700_auth_events.go"}

func applied(t *testing.T, app core.App) map[string]bool {
	t.Helper()
	var rows []struct{ File string }
	if err := app.DB().NewQuery("SELECT file FROM _migrations").All(&rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range rows {
		out[r.File] = true
	}
	return out
}

func usersFields(t *testing.T, app core.App) []string {
	t.Helper()
	users, err := app.FindCollectionByNameOrId(migrations.Users)
	if err != nil {
		t.Fatal(err)
	}
	return users.Fields.FieldNames()
}

func TestMigrationsApplyToAFreshDataDir(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()

	done := applied(t, app)
	for _, f := range appMigrationFiles {
		if !done[f] {
			t.Fatalf("expected %s to be applied, got %v", f, done)
		}
	}
	users, _ := app.FindCollectionByNameOrId(migrations.Users)
	for _, name := range []string{migrations.FieldCycleLength, migrations.FieldLastPeriodDate, migrations.FieldNotificationTime,
		migrations.FieldTimezone, migrations.FieldGarminConnected, migrations.FieldMFA, migrations.FieldCalendarTokenHash, migrations.FieldApproved} {
		if users.Fields.GetByName(name) == nil {
			t.Fatalf("expected users.%s", name)
		}
	}
	if f := users.Fields.GetByName(migrations.FieldCalendarTokenHash); !f.GetHidden() {
		t.Fatal("expected calendarTokenHash to be hidden")
	}
	if !users.PasswordAuth.Enabled || !users.OTP.Enabled || !users.MFA.Enabled || !users.OAuth2.Enabled {
		t.Fatal("expected password, OTP, MFA and OAuth2 on")
	}
	if users.MFA.Rule != migrations.DefaultMFARule {
		t.Fatalf("expected the default MFA rule, got %q", users.MFA.Rule)
	}
	if users.CreateRule != nil || users.DeleteRule != nil || users.UpdateRule == nil || *users.UpdateRule != migrations.UserWriteRule {
		t.Fatal("expected closed sign-up, no self-delete and the locked-down update rule")
	}
	events, err := app.FindCollectionByNameOrId(migrations.AuthEvents)
	if err != nil {
		t.Fatalf("expected auth_events: %v", err)
	}
	if events.CreateRule != nil || events.UpdateRule != nil || events.DeleteRule != nil {
		t.Fatal("expected auth_events to be written only by the server")
	}
}

func TestMigrationsReapplyIsANoOp(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	before, fields := applied(t, app), usersFields(t, app)

	if err := app.RunAllMigrations(); err != nil {
		t.Fatalf("re-applying failed: %v", err)
	}
	after := applied(t, app)
	if len(after) != len(before) {
		t.Fatalf("expected %d applied migrations, got %d", len(before), len(after))
	}
	if got := usersFields(t, app); len(got) != len(fields) {
		t.Fatalf("expected %d users fields, got %d", len(fields), len(got))
	}
}

func TestMigrationsAreReversible(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	runner := core.NewMigrationsRunner(app, core.AppMigrations)
	reverted, err := runner.Down(len(appMigrationFiles))
	if err != nil || len(reverted) != len(appMigrationFiles) {
		t.Fatalf("expected %d reverted, got %v, %v", len(appMigrationFiles), reverted, err)
	}
	if _, err := app.FindCollectionByNameOrId(migrations.AuthEvents); err == nil {
		t.Fatal("expected auth_events to be gone")
	}
	users, _ := app.FindCollectionByNameOrId(migrations.Users)
	if users.Fields.GetByName(migrations.FieldCycleLength) != nil {
		t.Fatal("expected the profile fields to be gone")
	}
	if _, err := runner.Up(); err != nil {
		t.Fatalf("re-applying after down: %v", err)
	}
	if _, err := app.FindCollectionByNameOrId(migrations.AuthEvents); err != nil {
		t.Fatal("expected auth_events again")
	}
}
