package jobs

import (
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/mail"
	"phaseflow/users"
)

// notificationBatch bounds how many users are loaded at once.
const notificationBatch = 500

// sendNotifications emails each user whose notification time has passed today in their time zone
// and who was not notified today. A user is claimed with a conditional UPDATE before the mail is
// sent, so two concurrent runs (cron and an HTTP trigger) never mail the same person twice.
func sendNotifications(app core.App, cfg config.Config, now time.Time) (processed, sent int, err error) {
	var errs []error
	for offset := 0; ; offset += notificationBatch {
		batch, err := app.FindRecordsByFilter(users.Collection,
			"notificationTime != '' && lastPeriodDate != '' && verified = true", "id", notificationBatch, offset)
		if err != nil {
			return processed, sent, err
		}
		for _, u := range batch {
			processed++
			ok, err := notifyUser(app, cfg, u, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("user %s: %w", u.Id, err))
			}
			if ok {
				sent++
			}
		}
		if len(batch) < notificationBatch {
			return processed, sent, errors.Join(errs...)
		}
	}
}

func notifyUser(app core.App, cfg config.Config, u *core.Record, now time.Time) (bool, error) {
	p := users.Cycle(u)
	last := u.GetString(users.FieldLastNotifiedOn)
	due, today, err := cycle.NotificationDue(p, last, now)
	if err != nil || !due {
		return false, err
	}
	status, err := p.StatusOn(today)
	if err != nil {
		return false, err
	}
	claimed, err := claimNotification(app, u.Id, last, today.String())
	if err != nil || !claimed {
		return false, err
	}
	if err := sendReminder(app, cfg, u, status); err != nil {
		// Release the claim so a later run retries.
		if _, releaseErr := claimNotification(app, u.Id, today.String(), last); releaseErr != nil {
			err = errors.Join(err, releaseErr)
		}
		return false, err
	}
	return true, nil
}

// claimNotification moves lastNotifiedOn from "from" to "to" only if it still holds "from".
func claimNotification(app core.App, userID, from, to string) (bool, error) {
	res, err := app.DB().Update(users.Collection,
		dbx.Params{users.FieldLastNotifiedOn: to},
		dbx.HashExp{"id": userID, users.FieldLastNotifiedOn: from},
	).Execute()
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// sendReminder mails the daily reminder.
func sendReminder(app core.App, cfg config.Config, u *core.Record, s cycle.Status) error {
	return mail.Send(app, mail.Message{To: u.Email(), Subject: cycle.ReminderSubject, Text: cycle.ReminderText(s, cfg.AppURL)})
}
