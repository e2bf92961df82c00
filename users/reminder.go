package users

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"phaseflow/cycle"
)

// NextReminder returns the next daily reminder of account r seen at now (cycle.NextReminder
// from its profile and its last reminder); ok is false when the account gets none: it asks for
// none, or its address is not verified (a pre-registered address is never mailed).
func NextReminder(r *core.Record, now time.Time) (rem cycle.Reminder, ok bool, err error) {
	if !r.Verified() {
		return cycle.Reminder{}, false, nil
	}
	return cycle.NextReminder(Cycle(r), r.GetString(FieldLastNotifiedOn), now)
}

// ReminderAt is the stored form of a next reminder: its instant in UTC, or "" for none.
func ReminderAt(rem cycle.Reminder, ok bool) string {
	if !ok {
		return ""
	}
	return rem.At.UTC().Format(types.DefaultDateLayout)
}

// ScheduleReminder keeps the record's nextReminderAt in step with its profile, however the
// record is saved (/api/user, the record API, the admin UI, a verification, Go code). It is an
// OnRecordCreateExecute and OnRecordUpdateExecute handler, so it runs just before the write: a
// save that does not set the reminders job's own fields (lastNotifiedOn, reminderClaimedUntil)
// first takes them as stored now, so a record read before a reminder went out cannot write the
// old day back and make it due again. A profile the validation refused never gets here.
func ScheduleReminder(e *core.RecordEvent) error {
	if !e.Record.IsNew() {
		if err := keepJobState(e.App, e.Record); err != nil {
			return err
		}
	}
	rem, ok, err := NextReminder(e.Record, time.Now())
	e.Record.Set(FieldNextReminderAt, ReminderAt(rem, ok && err == nil))
	return e.Next()
}

// keepJobState copies the stored values of the job's fields into r where the save leaves them as
// they were when r was read.
func keepJobState(app core.App, r *core.Record) error {
	orig := r.Original()
	var stored struct {
		LastNotifiedOn       string `db:"lastNotifiedOn"`
		ReminderClaimedUntil string `db:"reminderClaimedUntil"`
	}
	err := app.DB().Select(FieldLastNotifiedOn, FieldReminderClaimedUntil).From(Collection).
		Where(dbx.HashExp{"id": r.Id}).One(&stored)
	if err != nil {
		return fmt.Errorf("failed to read the reminder state of %s: %w", r.Id, err)
	}
	if r.GetString(FieldLastNotifiedOn) == orig.GetString(FieldLastNotifiedOn) {
		r.Set(FieldLastNotifiedOn, stored.LastNotifiedOn)
	}
	if r.GetString(FieldReminderClaimedUntil) == orig.GetString(FieldReminderClaimedUntil) {
		r.Set(FieldReminderClaimedUntil, stored.ReminderClaimedUntil)
	}
	return nil
}

// RescheduleAll sets nextReminderAt of every account as seen at now, in keyset batches without
// hooks (a migration fills the field this way).
func RescheduleAll(app core.App, now time.Time) error {
	const batch = 1000
	for after := ""; ; {
		recs, err := app.FindRecordsByFilter(Collection, "id > {:after}", "id", batch, 0, dbx.Params{"after": after})
		if err != nil {
			return err
		}
		for _, r := range recs {
			rem, ok, err := NextReminder(r, now)
			if _, err := app.DB().Update(Collection, dbx.Params{FieldNextReminderAt: ReminderAt(rem, ok && err == nil)},
				dbx.HashExp{"id": r.Id}).Execute(); err != nil {
				return fmt.Errorf("failed to schedule the reminder of %s: %w", r.Id, err)
			}
		}
		if len(recs) < batch {
			return nil
		}
		after = recs[len(recs)-1].Id
	}
}
