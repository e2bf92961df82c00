package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
	"phaseflow/sessions"
	"phaseflow/users"
)

// The sessions collection (one row per signed-in device, superusers only: people see theirs
// through /api/user/sessions) and the audit methods of the session endpoints.
func init() {
	m.Register(func(app core.App) error {
		usersCol, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		c := core.NewBaseCollection(sessions.Collection)
		c.Fields.Add(
			// Deleting an account deletes its sessions with it.
			&core.RelationField{Name: sessions.FieldUser, CollectionId: usersCol.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: sessions.FieldMethod, Max: 50, Help: "How the session signed in: password, otp, oidc, impersonation …"},
			&core.TextField{Name: sessions.FieldDevice, Max: 100, Help: "Browser and system, from the user agent."},
			&core.TextField{Name: sessions.FieldIP, Max: 64},
			&core.TextField{Name: sessions.FieldImpersonator, Max: 100, Help: "The superuser id (or cli) of an impersonation."},
			&core.DateField{Name: sessions.FieldLastSeen, Required: true},
			&core.DateField{Name: sessions.FieldIdleExpires, Required: true, Help: "Ends unless used before (SESSION_DAYS after the last use)."},
			&core.DateField{Name: sessions.FieldExpires, Required: true, Help: "Ends at the latest (SESSION_MAX_DAYS after the sign-in)."},
			// The identity provider's id_token of an OIDC sign-in, the hint of RP-initiated logout.
			&core.TextField{Name: sessions.FieldIDToken, Hidden: true, Max: 16000},
			&core.AutodateField{Name: sessions.FieldCreated, OnCreate: true},
			&core.AutodateField{Name: sessions.FieldUpdated, OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_sessions_user", false, sessions.FieldUser+", "+sessions.FieldLastSeen, "")
		c.AddIndex("idx_sessions_expires", false, sessions.FieldIdleExpires, "")
		if err := app.Save(c); err != nil {
			return err
		}
		return setSelectValues(app, audit.Collection, audit.FieldMethod, append(methodsV1(),
			"oidc_unlink", "logout", "session_end", "logout_others"))
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId(sessions.Collection)
		if err != nil {
			return err
		}
		if err := app.Delete(c); err != nil {
			return err
		}
		return setSelectValues(app, audit.Collection, audit.FieldMethod, append(methodsV1(), "oidc_unlink"))
	})
}
