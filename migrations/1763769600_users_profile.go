package migrations

import (
	"github.com/pocketbase/dbx"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/cycle"
	"phaseflow/users"
)

func init() {
	m.Register(func(app core.App) error {
		col, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		minLen, maxLen := 20.0, 60.0
		col.Fields.Add(
			&core.NumberField{Name: users.FieldCycleLength, Min: &minLen, Max: &maxLen, OnlyInt: true,
				Help: "Cycle length in days (20-60)."},
			&core.DateField{Name: users.FieldLastPeriodDate, Help: "First day of the last period."},
			&core.TextField{Name: users.FieldNotificationTime, Pattern: `^([01][0-9]|2[0-3]):[0-5][0-9]$`, Max: 5,
				Help: "Daily reminder time, HH:MM in the user's time zone."},
			&core.TextField{Name: users.FieldTimezone, Max: 64, Help: "IANA time zone, e.g. Europe/Berlin."},
			&core.BoolField{Name: users.FieldGarminConnected},
			&core.BoolField{Name: users.FieldMFA, Help: "The account asks for a second factor at sign-in."},
			&core.TextField{Name: users.FieldCalendarTokenHash, Hidden: true, Max: 128},
			&core.BoolField{Name: users.FieldApproved, Help: "Set by a superuser when registration approval is on."},
			&core.TextField{Name: users.FieldLastNotifiedOn, Hidden: true, Max: 10},
		)
		col.ListRule = types.Pointer(users.OwnerOnlyRule)
		col.ViewRule = types.Pointer(users.OwnerOnlyRule)
		col.UpdateRule = types.Pointer(users.UpdateRule)
		col.DeleteRule = nil // accounts are removed by an operator
		col.CreateRule = nil // opened at start when OPEN_REGISTRATION=true

		col.PasswordAuth.Enabled = true
		col.PasswordAuth.IdentityFields = []string{core.FieldNameEmail}
		col.OTP.Enabled = true
		col.OTP.Duration = 300
		col.OTP.Length = 8
		col.MFA.Enabled = true
		col.MFA.Rule = users.DefaultMFARule
		col.MFA.Duration = 600
		col.OAuth2.Enabled = true
		// The server does not fetch avatars from the identity provider's URLs.
		col.OAuth2.MappedFields.AvatarURL = ""
		col.OAuth2.MappedFields.Name = users.FieldName
		if err := app.Save(col); err != nil {
			return err
		}

		// Accounts that exist before this migration get the profile defaults (the validation hook
		// would refuse their next save otherwise) and keep signing in when approval is turned on.
		_, err = app.DB().NewQuery("UPDATE {{users}} SET [[approved]] = TRUE, [[cycleLength]] = {:length}, [[timezone]] = {:tz}").
			Bind(dbx.Params{"length": cycle.DefaultCycleLength, "tz": cycle.DefaultTimezone}).Execute()
		return err
	}, func(app core.App) error {
		col, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		for _, f := range []string{users.FieldCycleLength, users.FieldLastPeriodDate, users.FieldNotificationTime, users.FieldTimezone,
			users.FieldGarminConnected, users.FieldMFA, users.FieldCalendarTokenHash, users.FieldApproved, users.FieldLastNotifiedOn} {
			col.Fields.RemoveByName(f)
		}
		col.UpdateRule = types.Pointer(users.OwnerOnlyRule)
		col.DeleteRule = types.Pointer(users.OwnerOnlyRule)
		col.CreateRule = types.Pointer("")
		col.MFA.Enabled = false
		col.MFA.Rule = ""
		col.OTP.Enabled = false
		col.OAuth2.Enabled = false
		return app.Save(col)
	})
}
