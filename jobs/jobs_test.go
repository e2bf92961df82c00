package jobs_test

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/hook"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/internal/apptest"
	"phaseflow/jobs"
	"phaseflow/users"
)

// reminderUser creates a verified account with a reminder at "at" in tz.
func reminderUser(t *testing.T, app core.App, email, tz, at string, withPeriod bool) *core.Record {
	t.Helper()
	return apptest.CreateUser(t, app, email, func(r *core.Record) {
		r.Set(users.FieldTimezone, tz)
		r.Set(users.FieldNotificationTime, at)
		if withPeriod {
			r.Set(users.FieldLastPeriodDate, "2026-02-09 00:00:00.000Z")
		}
	})
}

// scheduleAt computes every account's next reminder as seen at now (the save hook saw the real
// clock), so a test can run the job on its own clock.
func scheduleAt(t *testing.T, app core.App, now time.Time) {
	t.Helper()
	if err := users.RescheduleAll(app, now); err != nil {
		t.Fatal(err)
	}
}

// account reads a users record as stored.
func account(t *testing.T, app core.App, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(users.Collection, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, app core.App, cfg config.Config, now time.Time) jobs.Result {
	t.Helper()
	res, err := jobs.Run(app, cfg, jobs.Notifications, now)
	if err != nil {
		t.Fatalf("the run at %s failed: %v", now.Format(time.RFC3339), err)
	}
	return res
}

func mailsTo(app *tests.TestApp) map[string]int {
	seen := map[string]int{}
	for _, m := range app.TestMailer.Messages() {
		seen[m.To[0].Address]++
	}
	return seen
}

// TestRemindersJob checks the reminders by due time: a run mails exactly the accounts whose
// reminder is due in their own zone, none early and none twice, with that local day's status
// and a subject free of health data; each sent reminder schedules the next day's.
func TestRemindersJob(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	// A mail takes a while, so concurrent runs overlap while one is sending.
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		time.Sleep(50 * time.Millisecond)
		return e.Next()
	})
	// 2026-03-01 23:30 UTC: 03-02 12:30 in Auckland, 03-01 15:30 in Los Angeles, 03-02 00:30 in Berlin.
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)
	auckland := reminderUser(t, app, "auckland@example.com", "Pacific/Auckland", "08:00", true) // past midnight relative to UTC
	la := reminderUser(t, app, "la@example.com", "America/Los_Angeles", "15:00", true)
	berlin := reminderUser(t, app, "berlin@example.com", "Europe/Berlin", "01:00", true) // not yet: 00:30 local
	noPeriod := reminderUser(t, app, "noperiod@example.com", "UTC", "23:00", false)      // nothing to report
	unverified := reminderUser(t, app, "unverified@example.com", "UTC", "23:00", true)
	unverified.SetVerified(false)
	if err := app.Save(unverified); err != nil {
		t.Fatal(err)
	}
	scheduleAt(t, app, now)
	for _, r := range []*core.Record{noPeriod, unverified} {
		if got := account(t, app, r.Id).GetString(users.FieldNextReminderAt); got != "" {
			t.Fatalf("expected no reminder for %s, got %q", r.Email(), got)
		}
	}

	res := run(t, app, cfg, now)
	if res.Processed != 2 || res.Sent != 2 || app.TestMailer.TotalSend() != 2 {
		t.Fatalf("expected 2 processed and 2 sent, got %+v and %d mails", res, app.TestMailer.TotalSend())
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
		if m.Subject != cycle.ReminderSubject {
			t.Fatalf("expected the subject %q, got %q", cycle.ReminderSubject, m.Subject)
		}
	}
	for id, want := range map[string]struct{ last, next string }{
		auckland.Id: {"2026-03-02", "2026-03-02 19:00:00.000Z"}, // 08:00 on 03-03 in Auckland
		la.Id:       {"2026-03-01", "2026-03-02 23:00:00.000Z"}, // 15:00 on 03-02 in Los Angeles
		berlin.Id:   {"", "2026-03-02 00:00:00.000Z"},           // still today's, at 01:00 CET
	} {
		r := account(t, app, id)
		if got := r.GetString(users.FieldLastNotifiedOn); got != want.last {
			t.Fatalf("%s: expected lastNotifiedOn %q, got %q", r.Email(), want.last, got)
		}
		if got := r.GetString(users.FieldNextReminderAt); got != want.next {
			t.Fatalf("%s: expected nextReminderAt %q, got %q", r.Email(), want.next, got)
		}
		if got := r.GetString(users.FieldReminderClaimedUntil); got != "" {
			t.Fatalf("%s: expected no claim left, got %q", r.Email(), got)
		}
	}

	t.Run("running again sends nothing twice", func(t *testing.T) {
		if res := run(t, app, cfg, now.Add(time.Minute)); res.Sent != 0 || res.Processed != 0 || app.TestMailer.TotalSend() != 2 {
			t.Fatalf("expected no new mail, got %+v, %d mails", res, app.TestMailer.TotalSend())
		}
	})
	t.Run("none early: a minute before Berlin's time", func(t *testing.T) {
		if res := run(t, app, cfg, now.Add(29*time.Minute)); res.Sent != 0 || app.TestMailer.TotalSend() != 2 {
			t.Fatalf("expected no new mail, got %+v", res)
		}
	})
	t.Run("Berlin gets its mail once its time passes", func(t *testing.T) {
		res := run(t, app, cfg, now.Add(30*time.Minute))
		if res.Sent != 1 || app.TestMailer.LastMessage().To[0].Address != "berlin@example.com" {
			t.Fatalf("expected the Berlin mail, got %+v", res)
		}
	})
	t.Run("concurrent runs the next day send each mail once", func(t *testing.T) {
		app.TestMailer.Reset()
		nextDay := now.Add(24*time.Hour + 40*time.Minute) // past every local reminder time
		var wg sync.WaitGroup
		var sent atomic.Int64
		for range 4 {
			wg.Go(func() {
				res, err := jobs.Run(app, cfg, jobs.Notifications, nextDay)
				if err != nil {
					t.Errorf("a concurrent run failed: %v", err)
				}
				sent.Add(int64(res.Sent))
			})
		}
		wg.Wait()
		seen := mailsTo(app)
		if len(seen) != 3 || sent.Load() != 3 {
			t.Fatalf("expected 3 accounts mailed by the runs together, got %v (runs reported %d)", seen, sent.Load())
		}
		for addr, n := range seen {
			if n != 1 {
				t.Fatalf("%s got %d mails", addr, n)
			}
		}
	})
}

// TestReminderScheduleFollowsTheProfile checks that every save of an account keeps its next
// reminder in step (the real clock): a new account, a change of time or zone, a removed time,
// and an address that becomes verified.
func TestReminderScheduleFollowsTheProfile(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	u := reminderUser(t, app, "sched@example.com", "Asia/Tokyo", "07:15", true)

	// The stored instant is the next (or today's unsent) 07:15 on the account's clock.
	check := func(tz, at string) {
		t.Helper()
		before := time.Now()
		r := account(t, app, u.Id)
		got := r.GetDateTime(users.FieldNextReminderAt).Time()
		loc, _ := time.LoadLocation(tz)
		if got.IsZero() || got.In(loc).Format("15:04") != at || got.After(before.Add(48*time.Hour)) || got.Before(before.Add(-24*time.Hour)) {
			t.Fatalf("expected the next %s in %s within a day, got %v", at, tz, got)
		}
	}
	check("Asia/Tokyo", "07:15")

	r := account(t, app, u.Id)
	r.Set(users.FieldTimezone, "America/Denver")
	r.Set(users.FieldNotificationTime, "18:45")
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	check("America/Denver", "18:45")

	r.SetVerified(false)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	if got := account(t, app, u.Id).GetString(users.FieldNextReminderAt); got != "" {
		t.Fatalf("expected no reminder for an unverified address, got %q", got)
	}
	r.SetVerified(true)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	check("America/Denver", "18:45")
}

// TestARemindersRunThatDiesAfterItsClaimIsRetried stops a run's mail between its claim and its
// record, as a killed process would: a run while the claim holds sends nothing, a run after the
// claim expired sends the reminder exactly once.
func TestARemindersRunThatDiesAfterItsClaimIsRetried(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	u := reminderUser(t, app, "crash@example.com", "UTC", "08:00", true)
	due := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	scheduleAt(t, app, due.Add(-time.Hour))

	var die atomic.Bool
	die.Store(true)
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Priority: -100000, // before the test mailer records it
		Func: func(e *core.MailerEvent) error {
			if die.Load() {
				runtime.Goexit() // the sending goroutine ends here: no send, no record, no release
			}
			return e.Next()
		},
	})
	if res := run(t, app, cfg, due); res.Processed != 1 || res.Sent != 0 {
		t.Fatalf("expected the reminder claimed and not sent, got %+v", res)
	}
	if claim := account(t, app, u.Id).GetDateTime(users.FieldReminderClaimedUntil).Time(); !claim.Equal(due.Add(jobs.DefaultDelivery.Lease)) {
		t.Fatalf("expected the claim to hold until %s, got %s", due.Add(jobs.DefaultDelivery.Lease), claim)
	}
	die.Store(false)

	if res := run(t, app, cfg, due.Add(time.Minute)); res.Sent != 0 || app.TestMailer.TotalSend() != 0 {
		t.Fatalf("expected nothing while the claim holds, got %+v", res)
	}
	later := due.Add(jobs.DefaultDelivery.Lease + time.Minute)
	if res := run(t, app, cfg, later); res.Sent != 1 || app.TestMailer.TotalSend() != 1 {
		t.Fatalf("expected the reminder once after the claim expired, got %+v and %d mails", res, app.TestMailer.TotalSend())
	}
	if res := run(t, app, cfg, later.Add(time.Minute)); res.Sent != 0 || app.TestMailer.TotalSend() != 1 {
		t.Fatalf("expected no second mail, got %+v", res)
	}
	if got := account(t, app, u.Id).GetString(users.FieldLastNotifiedOn); got != "2026-03-02" {
		t.Fatalf("expected lastNotifiedOn 2026-03-02, got %q", got)
	}
}

// TestRemindersThroughARealMailServer sends through PocketBase's SMTP client to a real SMTP
// server on loopback and checks what each kind of refusal does:
//   - a temporary refusal (451) is tried again and delivered once;
//   - an address that does not exist (550 5.1.1) is not tried again that day;
//   - a refusal about the server itself (535 5.7.8, bad credentials) passes over nobody's day: the
//     run stops and the next run delivers;
//   - an account turned away on every try (451 × 3) waits 30 minutes while the run mails the others.
func TestRemindersThroughARealMailServer(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	server := apptest.StartMailServer(t)
	server.RouteMail(app)
	u := reminderUser(t, app, "smtp@example.com", "UTC", "08:00", true)
	day := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	scheduleAt(t, app, day.Add(-time.Hour))
	received := func(to string) int {
		n := 0
		for _, m := range server.Received() {
			if m.To[0] == to {
				n++
			}
		}
		return n
	}
	lastNotified := func(r *core.Record) string { return account(t, app, r.Id).GetString(users.FieldLastNotifiedOn) }

	server.ReplyToNext(u.Email(), 451)
	if res := run(t, app, cfg, day); res.Sent != 1 || received(u.Email()) != 1 {
		t.Fatalf("expected the reminder sent after one temporary failure, got %+v", res)
	}
	if got := server.Received(); !strings.Contains(got[0].Data, "day 22 of your cycle") {
		t.Fatalf("expected the day's status in the mail, got %q", got[0].Data)
	}

	day = day.AddDate(0, 0, 1)
	server.ReplyToNext(u.Email(), 550)
	res, err := jobs.Run(app, cfg, jobs.Notifications, day)
	if err == nil || !strings.Contains(err.Error(), "refused") || res.Sent != 0 || lastNotified(u) != "2026-03-03" {
		t.Fatalf("expected a refused address reported and its day passed over, got %+v, %v, %q", res, err, lastNotified(u))
	}
	if res := run(t, app, cfg, day.Add(5*time.Minute)); res.Sent != 0 || received(u.Email()) != 1 {
		t.Fatalf("expected no second try of a refused reminder that day, got %+v", res)
	}

	day = day.AddDate(0, 0, 1)
	server.ReplyToNext(u.Email(), 535)
	res, err = jobs.Run(app, cfg, jobs.Notifications, day)
	if err == nil || !strings.Contains(err.Error(), "next run") || res.Sent != 0 {
		t.Fatalf("expected the server's refusal to stop the run, got %+v, %v", res, err)
	}
	if r := account(t, app, u.Id); r.GetString(users.FieldLastNotifiedOn) != "2026-03-03" || r.GetString(users.FieldReminderClaimedUntil) != "" {
		t.Fatalf("expected the reminder neither recorded nor claimed, got %q / %q",
			r.GetString(users.FieldLastNotifiedOn), r.GetString(users.FieldReminderClaimedUntil))
	}
	if res := run(t, app, cfg, day.Add(5*time.Minute)); res.Sent != 1 || received(u.Email()) != 2 {
		t.Fatalf("expected the next run to deliver it, got %+v", res)
	}

	day = day.AddDate(0, 0, 1)
	other := reminderUser(t, app, "other@example.com", "UTC", "08:00", true)
	scheduleAt(t, app, day.Add(-time.Hour))
	server.ReplyToNext(u.Email(), 451, 451, 451)
	res, err = jobs.Run(app, cfg, jobs.Notifications, day)
	if err == nil || !strings.Contains(err.Error(), "again after") || res.Sent != 1 || received(other.Email()) != 1 {
		t.Fatalf("expected the other account mailed and this one put off, got %+v, %v", res, err)
	}
	if res := run(t, app, cfg, day.Add(29*time.Minute)); res.Sent != 0 {
		t.Fatalf("expected the put-off account to wait 30 minutes, got %+v", res)
	}
	if res := run(t, app, cfg, day.Add(31*time.Minute)); res.Sent != 1 || received(u.Email()) != 3 || lastNotified(u) != "2026-03-05" {
		t.Fatalf("expected the put-off reminder delivered after 30 minutes, got %+v", res)
	}
}

// TestAStaleSaveCannotMakeASentReminderDueAgain saves a copy of an account read before its
// reminder went out (as a slow request or an open admin form would): the save keeps the job's
// record, so no second mail goes out that day.
func TestAStaleSaveCannotMakeASentReminderDueAgain(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	u := reminderUser(t, app, "stale@example.com", "UTC", "00:00", true)
	stale := account(t, app, u.Id) // read before today's reminder, which is due now
	if res := run(t, app, cfg, time.Now()); res.Sent != 1 {
		t.Fatalf("expected today's reminder, got %+v", res)
	}
	stale.Set(users.FieldName, "Ana")
	if err := app.Save(stale); err != nil {
		t.Fatal(err)
	}
	if got, want := account(t, app, u.Id).GetString(users.FieldLastNotifiedOn), time.Now().UTC().Format(time.DateOnly); got != want {
		t.Fatalf("expected lastNotifiedOn %s kept, got %q", want, got)
	}
	if res := run(t, app, cfg, time.Now().Add(time.Minute)); res.Sent != 0 || app.TestMailer.TotalSend() != 1 {
		t.Fatalf("expected no second reminder, got %+v and %d mails", res, app.TestMailer.TotalSend())
	}
}

func TestRunJobUnknown(t *testing.T) {
	t.Parallel()
	cfg := apptest.Config(t)
	app := apptest.NewApp(t, cfg)
	if _, err := jobs.Run(app, cfg, "nope", time.Now()); !errors.Is(err, jobs.ErrUnknown) {
		t.Fatalf("expected ErrUnknownJob, got %v", err)
	}
}
