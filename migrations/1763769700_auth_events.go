package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/audit"
	"phaseflow/users"
)

func init() {
	m.Register(func(app core.App) error {
		usersCol, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		c := core.NewBaseCollection(audit.Collection)
		c.Fields.Add(
			&core.SelectField{Name: audit.FieldMethod, Required: true, MaxSelect: 1, Values: methodsV1()},
			&core.SelectField{Name: audit.FieldOutcome, Required: true, MaxSelect: 1, Values: []string{
				audit.OutcomeSuccess, audit.OutcomeFailure, audit.OutcomeRateLimited, audit.OutcomeMFARequired,
			}},
			&core.TextField{Name: audit.FieldReason, Max: 500},
			// Deleting a user deletes their sign-in history with them.
			&core.RelationField{Name: audit.FieldUser, CollectionId: usersCol.Id, MaxSelect: 1, CascadeDelete: true},
			&core.TextField{Name: audit.FieldCollection, Max: 100},
			&core.TextField{Name: audit.FieldIdentity, Max: 255, Help: "The identity a sign-in attempt named (email)."},
			&core.TextField{Name: audit.FieldActor, Max: 100, Help: "The superuser id for impersonation."},
			&core.BoolField{Name: audit.FieldSecondFactor},
			&core.TextField{Name: audit.FieldIP, Max: 64},
			&core.TextField{Name: audit.FieldUserAgent, Max: 500},
			&core.AutodateField{Name: audit.FieldCreated, OnCreate: true},
		)
		// A user sees their own history; nobody but the server writes it.
		c.ListRule = types.Pointer("@request.auth.id != '' && user = @request.auth.id")
		c.ViewRule = types.Pointer("@request.auth.id != '' && user = @request.auth.id")
		c.AddIndex("idx_auth_events_created", false, "created", "")
		c.AddIndex("idx_auth_events_user", false, "user, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId(audit.Collection)
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
