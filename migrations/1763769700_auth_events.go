package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId(Users)
		if err != nil {
			return err
		}
		c := core.NewBaseCollection(AuthEvents)
		c.Fields.Add(
			&core.SelectField{Name: EventMethod, Required: true, MaxSelect: 1, Values: []string{
				MethodPassword, MethodOTPRequest, MethodOTP, MethodOAuth2, MethodRefresh, MethodImpersonate,
				MethodLogoutAll, MethodMFAToggle, MethodFeedToken, MethodCron,
			}},
			&core.SelectField{Name: EventOutcome, Required: true, MaxSelect: 1, Values: []string{
				OutcomeSuccess, OutcomeFailure, OutcomeRateLimited, OutcomeMFARequired,
			}},
			&core.TextField{Name: EventReason, Max: 500},
			// Deleting a user deletes their sign-in history with them.
			&core.RelationField{Name: EventUser, CollectionId: users.Id, MaxSelect: 1, CascadeDelete: true},
			&core.TextField{Name: EventCollection, Max: 100},
			&core.TextField{Name: EventIdentity, Max: 255, Help: "The identity a sign-in attempt named (email)."},
			&core.TextField{Name: EventActor, Max: 100, Help: "The superuser id for impersonation."},
			&core.BoolField{Name: EventSecondFactor},
			&core.TextField{Name: EventIP, Max: 64},
			&core.TextField{Name: EventUserAgent, Max: 500},
			&core.AutodateField{Name: EventCreated, OnCreate: true},
		)
		// A user sees their own history; nobody but the server writes it.
		c.ListRule = types.Pointer("@request.auth.id != '' && user = @request.auth.id")
		c.ViewRule = types.Pointer("@request.auth.id != '' && user = @request.auth.id")
		c.AddIndex("idx_auth_events_created", false, "created", "")
		c.AddIndex("idx_auth_events_user", false, "user, created", "")
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId(AuthEvents)
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
