package migrations

import (
	"strings"

	"github.com/pocketbase/dbx"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/cycle"
)

// ownerOnlyRule lets a user read and edit only their own record.
const ownerOnlyRule = "id = @request.auth.id"

// UserWriteRule is the users update rule: the owner may edit their own record through PocketBase's
// record API but never set a server-owned field. Profile values are checked in a model hook.
var UserWriteRule = ownerOnlyRule + " && " + notSetRule()

// UserCreateRule is the users create rule when registration is open: anyone may sign up (also
// through OAuth2), but never with a server-owned field set.
var UserCreateRule = notSetRule()

func notSetRule() string {
	parts := make([]string, len(ServerOwnedFields))
	for i, f := range ServerOwnedFields {
		parts[i] = "@request.body." + f + ":isset = false"
	}
	return strings.Join(parts, " && ")
}

func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId(Users)
		if err != nil {
			return err
		}
		minLen, maxLen := 20.0, 60.0
		users.Fields.Add(
			&core.NumberField{Name: FieldCycleLength, Min: &minLen, Max: &maxLen, OnlyInt: true,
				Help: "Cycle length in days (20-60)."},
			&core.DateField{Name: FieldLastPeriodDate, Help: "First day of the last period."},
			&core.TextField{Name: FieldNotificationTime, Pattern: `^([01][0-9]|2[0-3]):[0-5][0-9]$`, Max: 5,
				Help: "Daily reminder time, HH:MM in the user's time zone."},
			&core.TextField{Name: FieldTimezone, Max: 64, Help: "IANA time zone, e.g. Europe/Berlin."},
			&core.BoolField{Name: FieldGarminConnected},
			&core.BoolField{Name: FieldMFA, Help: "The account asks for a second factor at sign-in."},
			&core.TextField{Name: FieldCalendarTokenHash, Hidden: true, Max: 128},
			&core.BoolField{Name: FieldApproved, Help: "Set by a superuser when registration approval is on."},
			&core.TextField{Name: FieldLastNotifiedOn, Hidden: true, Max: 10},
		)
		users.ListRule = types.Pointer(ownerOnlyRule)
		users.ViewRule = types.Pointer(ownerOnlyRule)
		users.UpdateRule = types.Pointer(UserWriteRule)
		users.DeleteRule = nil // accounts are removed by an operator
		users.CreateRule = nil // opened at start when OPEN_REGISTRATION=true

		users.PasswordAuth.Enabled = true
		users.PasswordAuth.IdentityFields = []string{core.FieldNameEmail}
		users.OTP.Enabled = true
		users.OTP.Duration = 300
		users.OTP.Length = 8
		users.MFA.Enabled = true
		users.MFA.Rule = DefaultMFARule
		users.MFA.Duration = 600
		users.OAuth2.Enabled = true
		// The server does not fetch avatars from the identity provider's URLs.
		users.OAuth2.MappedFields.AvatarURL = ""
		users.OAuth2.MappedFields.Name = FieldName
		if err := app.Save(users); err != nil {
			return err
		}

		// Accounts that exist before this migration get the profile defaults (the validation hook
		// would refuse their next save otherwise) and keep signing in when approval is turned on.
		_, err = app.DB().NewQuery("UPDATE {{users}} SET [[approved]] = TRUE, [[cycleLength]] = {:length}, [[timezone]] = {:tz}").
			Bind(dbx.Params{"length": cycle.DefaultCycleLength, "tz": cycle.DefaultTimezone}).Execute()
		return err
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId(Users)
		if err != nil {
			return err
		}
		for _, f := range []string{FieldCycleLength, FieldLastPeriodDate, FieldNotificationTime, FieldTimezone,
			FieldGarminConnected, FieldMFA, FieldCalendarTokenHash, FieldApproved, FieldLastNotifiedOn} {
			users.Fields.RemoveByName(f)
		}
		users.UpdateRule = types.Pointer(ownerOnlyRule)
		users.DeleteRule = types.Pointer(ownerOnlyRule)
		users.CreateRule = types.Pointer("")
		users.MFA.Enabled = false
		users.MFA.Rule = ""
		users.OTP.Enabled = false
		users.OAuth2.Enabled = false
		return app.Save(users)
	})
}
