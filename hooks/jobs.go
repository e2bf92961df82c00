package hooks

import (
	"errors"
	"fmt"
	"html"
	"net/mail"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/migrations"
)

// Scheduled job names, shared by /api/cron/{job}, `./app cron run JOB` and the in-process cron.
const (
	JobNotifications = "notifications"
	JobCleanup       = "cleanup"
)

// ErrUnknownJob is returned by RunJob for a name that is not a job.
var ErrUnknownJob = errors.New("unknown job")

// JobResult is what a job run did.
type JobResult struct {
	Job        string `json:"job"`
	Processed  int    `json:"processed"`
	Sent       int    `json:"sent"`
	DurationMs int64  `json:"durationMs"`
}

// jobSchedules are the in-process cron expressions (UTC).
var jobSchedules = map[string]string{
	JobNotifications: "*/5 * * * *",
	JobCleanup:       "17 3 * * *",
}

// JobNames lists the jobs.
func JobNames() []string { return []string{JobNotifications, JobCleanup} }

// RunJob runs one job now and logs the run.
func RunJob(app core.App, cfg config.Config, name string, now time.Time) (JobResult, error) {
	start := time.Now()
	res := JobResult{Job: name}
	var err error
	switch name {
	case JobNotifications:
		res.Processed, res.Sent, err = sendNotifications(app, cfg, now)
	case JobCleanup:
		var n int64
		n, err = DeleteOldAuthEvents(app, cfg.AuditRetentionDays, now)
		res.Processed = int(n)
	default:
		return res, ErrUnknownJob
	}
	res.DurationMs = time.Since(start).Milliseconds()
	if err != nil {
		app.Logger().Error("Scheduled job failed", "job", name, "processed", res.Processed, "sent", res.Sent, "error", err.Error())
		return res, err
	}
	app.Logger().Info("Scheduled job ran", "job", name, "processed", res.Processed, "sent", res.Sent, "durationMs", res.DurationMs)
	return res, nil
}

func scheduleJobs(app core.App, cfg config.Config) {
	for _, name := range JobNames() {
		app.Cron().MustAdd("phaseflow_"+name, jobSchedules[name], func() {
			_, _ = RunJob(app, cfg, name, time.Now()) // RunJob logs the outcome
		})
	}
}

// notificationBatch bounds how many users are loaded at once.
const notificationBatch = 500

// sendNotifications emails each user whose notification time has passed today in their time zone
// and who was not notified today. A user is claimed with a conditional UPDATE before the mail is
// sent, so two concurrent runs (cron and an HTTP trigger) never mail the same person twice.
func sendNotifications(app core.App, cfg config.Config, now time.Time) (processed, sent int, err error) {
	var errs []error
	for offset := 0; ; offset += notificationBatch {
		users, err := app.FindRecordsByFilter(migrations.Users,
			"notificationTime != '' && lastPeriodDate != '' && verified = true", "id", notificationBatch, offset)
		if err != nil {
			return processed, sent, err
		}
		for _, u := range users {
			processed++
			ok, err := notifyUser(app, cfg, u, now)
			if err != nil {
				errs = append(errs, fmt.Errorf("user %s: %w", u.Id, err))
			}
			if ok {
				sent++
			}
		}
		if len(users) < notificationBatch {
			return processed, sent, errors.Join(errs...)
		}
	}
}

// NotificationDue reports whether a reminder is due at now for a profile that was last notified
// on lastNotified (YYYY-MM-DD or ""), and the user's local date.
func NotificationDue(p cycle.Profile, lastNotified string, now time.Time) (bool, cycle.Date, error) {
	loc, err := cycle.LoadZone(p.Timezone)
	if err != nil {
		return false, cycle.Date{}, err
	}
	local := now.In(loc)
	today := cycle.DateOf(local)
	if p.NotificationTime == "" || lastNotified == today.String() {
		return false, today, nil
	}
	at, err := time.ParseInLocation("15:04", p.NotificationTime, loc)
	if err != nil {
		return false, today, err
	}
	due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, loc)
	return !local.Before(due), today, nil
}

func notifyUser(app core.App, cfg config.Config, u *core.Record, now time.Time) (bool, error) {
	p := ProfileFromRecord(u)
	last := u.GetString(migrations.FieldLastNotifiedOn)
	due, today, err := NotificationDue(p, last, now)
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
		_, _ = claimNotification(app, u.Id, today.String(), last)
		return false, err
	}
	return true, nil
}

// claimNotification moves lastNotifiedOn from "from" to "to" only if it still holds "from".
func claimNotification(app core.App, userID, from, to string) (bool, error) {
	res, err := app.DB().Update(migrations.Users,
		dbx.Params{migrations.FieldLastNotifiedOn: to},
		dbx.HashExp{"id": userID, migrations.FieldLastNotifiedOn: from},
	).Execute()
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// sendReminder mails the daily reminder. The subject carries no health data: it can show on a
// lock screen.
func sendReminder(app core.App, cfg config.Config, u *core.Record, s cycle.Status) error {
	text := fmt.Sprintf("Today is day %d of your cycle: %s phase. Your next period is predicted to start on %s.\n\nOpen PhaseFlow: %s\n",
		s.CycleDay, s.Phase, s.NextPeriod, cfg.AppURL)
	msg := &mailer.Message{
		From:    mail.Address{Name: app.Settings().Meta.SenderName, Address: app.Settings().Meta.SenderAddress},
		To:      []mail.Address{{Address: u.Email()}},
		Subject: "Your PhaseFlow daily reminder",
		Text:    text,
		HTML:    "<p>" + html.EscapeString(text) + "</p>",
	}
	return app.NewMailClient().Send(msg)
}
