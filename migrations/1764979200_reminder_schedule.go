package migrations

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/users"
)

// The users collection gains nextReminderAt (when the next daily reminder is due, indexed, so the
// reminders job reads only the accounts that are due) and reminderClaimedUntil (a run's claim on a
// reminder it is sending). Every existing account gets its next reminder computed from its profile.
func init() {
	m.Register(func(app core.App) error {
		col, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		col.Fields.Add(
			&core.DateField{Name: users.FieldNextReminderAt, Hidden: true,
				Help: "When the next daily reminder is due (UTC); set by the server from the profile."},
			&core.DateField{Name: users.FieldReminderClaimedUntil, Hidden: true,
				Help: "A run of the reminders job is sending this account's reminder until then."},
		)
		col.AddIndex("idx_users_next_reminder", false, users.FieldNextReminderAt+", id", "")
		if err := app.Save(col); err != nil {
			return err
		}
		return users.RescheduleAll(app, time.Now())
	}, func(app core.App) error {
		col, err := app.FindCollectionByNameOrId(users.Collection)
		if err != nil {
			return err
		}
		col.RemoveIndex("idx_users_next_reminder")
		col.Fields.RemoveByName(users.FieldNextReminderAt)
		col.Fields.RemoveByName(users.FieldReminderClaimedUntil)
		return app.Save(col)
	})
}
