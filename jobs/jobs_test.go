package jobs_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"phaseflow/internal/apptest"
	"phaseflow/jobs"
	"phaseflow/users"
)

func TestNotificationsJob(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	// 2026-03-01 23:30 UTC: 03-02 12:30 in Auckland, 03-01 15:30 in Los Angeles, 03-02 00:30 in Berlin.
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	mk := func(email, tz, at string, withPeriod bool) *core.Record {
		return apptest.CreateUser(t, app, email, func(r *core.Record) {
			r.Set(users.FieldTimezone, tz)
			r.Set(users.FieldNotificationTime, at)
			if withPeriod {
				r.Set(users.FieldLastPeriodDate, "2026-02-09 00:00:00.000Z")
			}
		})
	}
	mk("auckland@example.com", "Pacific/Auckland", "08:00", true) // past midnight relative to UTC
	mk("la@example.com", "America/Los_Angeles", "15:00", true)
	mk("berlin@example.com", "Europe/Berlin", "01:00", true) // not yet: 00:30 local
	mk("noperiod@example.com", "UTC", "23:00", false)        // nothing to report

	res, err := jobs.Run(app, cfg, jobs.Notifications, now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Processed != 3 || res.Sent != 2 || app.TestMailer.TotalSend() != 2 {
		t.Fatalf("expected 3 processed and 2 sent, got %+v and %d mails", res, app.TestMailer.TotalSend())
	}
	wantDay := map[string]string{"auckland@example.com": "day 22 of your cycle", "la@example.com": "day 21 of your cycle"}
	for _, m := range app.TestMailer.Messages() {
		want, ok := wantDay[m.To[0].Address]
		if !ok {
			t.Fatalf("unexpected mail to %s", m.To[0].Address)
		}
		if !strings.Contains(m.Text, want) {
			t.Fatalf("expected %q in the mail to %s, got %q", want, m.To[0].Address, m.Text)
		}
		if strings.ContainsAny(m.Subject, "0123456789") || strings.ContainsAny(m.Subject, ":") ||
			strings.Contains(strings.ToLower(m.Subject), "luteal") || strings.Contains(strings.ToLower(m.Subject), "follicular") {
			t.Fatalf("the subject carries health data: %q", m.Subject)
		}
	}

	t.Run("running again sends nothing twice", func(t *testing.T) {
		res, err := jobs.Run(app, cfg, jobs.Notifications, now.Add(time.Minute))
		if err != nil || res.Sent != 0 || app.TestMailer.TotalSend() != 2 {
			t.Fatalf("expected no new mail, got %+v, %v, %d mails", res, err, app.TestMailer.TotalSend())
		}
	})
	t.Run("Berlin gets its mail once its time passes", func(t *testing.T) {
		res, err := jobs.Run(app, cfg, jobs.Notifications, now.Add(40*time.Minute))
		if err != nil || res.Sent != 1 || app.TestMailer.LastMessage().To[0].Address != "berlin@example.com" {
			t.Fatalf("expected the Berlin mail, got %+v, %v", res, err)
		}
	})
	t.Run("concurrent runs the next day send each mail once", func(t *testing.T) {
		app.TestMailer.Reset()
		nextDay := now.Add(24*time.Hour + 40*time.Minute) // past every local reminder time
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = jobs.Run(app, cfg, jobs.Notifications, nextDay) }()
		}
		wg.Wait()
		seen := map[string]int{}
		for _, m := range app.TestMailer.Messages() {
			seen[m.To[0].Address]++
		}
		if len(seen) != 3 {
			t.Fatalf("expected 3 users mailed, got %v", seen)
		}
		for addr, n := range seen {
			if n != 1 {
				t.Fatalf("%s got %d mails", addr, n)
			}
		}
	})
}

func TestRunJobUnknown(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	if _, err := jobs.Run(app, cfg, "nope", time.Now()); !errors.Is(err, jobs.ErrUnknown) {
		t.Fatalf("expected ErrUnknownJob, got %v", err)
	}
}
