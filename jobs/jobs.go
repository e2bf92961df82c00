// Package jobs holds PhaseFlow's scheduled jobs (the daily reminders, and the cleanup of old audit
// rows, ended sessions, expired sign-ups and stale lock counters) and their runner, shared by the in-process cron, POST /api/cron/{job}
// and `./app cron run JOB`.
package jobs

import (
	"errors"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/config"
	"phaseflow/sessions"
	"phaseflow/signup"
	"phaseflow/throttle"
)

// Job names.
const (
	Notifications = "notifications"
	Cleanup       = "cleanup"
)

// ErrUnknown is returned by Run for a name that is not a job.
var ErrUnknown = errors.New("unknown job")

// Result is what a job run did.
type Result struct {
	Job        string `json:"job"`
	Processed  int    `json:"processed"`
	Sent       int    `json:"sent"`
	DurationMs int64  `json:"durationMs"`
}

// schedules are the in-process cron expressions (UTC).
var schedules = map[string]string{
	Notifications: "*/5 * * * *",
	Cleanup:       "17 3 * * *",
}

// Names lists the jobs.
func Names() []string { return []string{Notifications, Cleanup} }

// Run runs one job now and logs the run.
func Run(app core.App, cfg config.Config, name string, now time.Time) (Result, error) {
	start := time.Now()
	res := Result{Job: name}
	var err error
	switch name {
	case Notifications:
		res.Processed, res.Sent, err = sendReminders(app, cfg, now, DefaultDelivery)
	case Cleanup:
		res.Processed, err = cleanup(app, cfg, now)
	default:
		return res, ErrUnknown
	}
	res.DurationMs = time.Since(start).Milliseconds()
	if o, ok := app.Store().Get(observerKey).(Observer); ok {
		o(res, err)
	}
	if err != nil {
		app.Logger().Error("Scheduled job failed", "job", name, "processed", res.Processed, "sent", res.Sent, "error", err.Error())
		return res, err
	}
	app.Logger().Info("Scheduled job ran", "job", name, "processed", res.Processed, "sent", res.Sent, "durationMs", res.DurationMs)
	return res, nil
}

// Observer is told about every run of a known job (its result, and its error or nil).
type Observer func(res Result, err error)

const observerKey = "phaseflow.jobs.observer"

// Observe makes Run report every run on app to o (the metrics use it); one observer per app.
func Observe(app core.App, o Observer) {
	app.Store().Set(observerKey, o)
}

// Schedule adds every job to the app's cron (which PocketBase starts on serve).
func Schedule(app core.App, cfg config.Config) {
	for _, name := range Names() {
		app.Cron().MustAdd("phaseflow_"+name, schedules[name], func() {
			_, _ = Run(app, cfg, name, time.Now()) // Run logs the outcome
		})
	}
}

// cleanup deletes what has served its time: audit rows past the retention, ended sessions,
// expired sign-ups and stale lock counters. It reports how many rows went.
func cleanup(app core.App, cfg config.Config, now time.Time) (int, error) {
	steps := []func() (int64, error){
		func() (int64, error) { return audit.DeleteOld(app, cfg.AuditRetentionDays, now) },
		func() (int64, error) { return sessions.DeleteExpired(app, now) },
		func() (int64, error) { return signup.DeleteExpired(app, now) },
		func() (int64, error) { return throttle.DeleteStale(app, now) },
	}
	total := 0
	for _, step := range steps {
		n, err := step()
		total += int(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
