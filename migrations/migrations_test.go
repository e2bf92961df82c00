package migrations_test

import (
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"phaseflow/audit"
	"phaseflow/users"
)

var appMigrationFiles = []string{"1763769600_users_profile.go", "1763769700_auth_events.go", "1764547200_audit_methods.go", "1764633600_sessions.go", "1764720000_credentials.go",
	"1764806400_user_create.go", "1764892800_account_data.go", "1764979200_reminder_schedule.go", "1765065600_lookup_indexes.go"}

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
	col, err := app.FindCollectionByNameOrId(users.Collection)
	if err != nil {
		t.Fatal(err)
	}
	return col.Fields.FieldNames()
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
	col, _ := app.FindCollectionByNameOrId(users.Collection)
	for _, name := range []string{users.FieldCycleLength, users.FieldLastPeriodDate, users.FieldNotificationTime,
		users.FieldTimezone, users.FieldGarminConnected, users.FieldMFA, users.FieldCalendarTokenHash, users.FieldApproved} {
		if col.Fields.GetByName(name) == nil {
			t.Fatalf("expected users.%s", name)
		}
	}
	if f := col.Fields.GetByName(users.FieldCalendarTokenHash); !f.GetHidden() {
		t.Fatal("expected calendarTokenHash to be hidden")
	}
	if !col.PasswordAuth.Enabled || !col.OTP.Enabled || !col.MFA.Enabled || !col.OAuth2.Enabled {
		t.Fatal("expected password, OTP, MFA and OAuth2 on")
	}
	if col.MFA.Rule != users.DefaultMFARule {
		t.Fatalf("expected the default MFA rule, got %q", col.MFA.Rule)
	}
	if col.CreateRule != nil || col.DeleteRule != nil || col.UpdateRule == nil || *col.UpdateRule != users.UpdateRule {
		t.Fatal("expected closed sign-up, no self-delete and the locked-down update rule")
	}
	events, err := app.FindCollectionByNameOrId(audit.Collection)
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
	if _, err := app.FindCollectionByNameOrId(audit.Collection); err == nil {
		t.Fatal("expected auth_events to be gone")
	}
	col, _ := app.FindCollectionByNameOrId(users.Collection)
	if col.Fields.GetByName(users.FieldCycleLength) != nil {
		t.Fatal("expected the profile fields to be gone")
	}
	if _, err := runner.Up(); err != nil {
		t.Fatalf("re-applying after down: %v", err)
	}
	if _, err := app.FindCollectionByNameOrId(audit.Collection); err != nil {
		t.Fatal("expected auth_events again")
	}
}

func TestAuditMethodsMatchTheCode(t *testing.T) {
	t.Parallel()
	app, err := tests.NewTestApp(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	col, err := app.FindCollectionByNameOrId(audit.Collection)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := col.Fields.GetByName(audit.FieldMethod).(*core.SelectField)
	if f == nil || !slices.Equal(f.Values, audit.Methods) {
		t.Fatalf("expected the method values %v, got %v", audit.Methods, f)
	}
}
