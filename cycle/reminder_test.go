package cycle

import (
	"strings"
	"testing"
	"time"
)

// TestNextReminder checks when the next daily reminder is due and which local date it is for:
// by the wall clock in the profile's zone (east and west of UTC, half-hour offsets), at most once
// per local date (also after a change of time zone), at once when today's time passed unsent,
// and across both daylight-saving changes, a time the clocks skip going at the first minute after
// the gap and a time they repeat at its first occurrence.
func TestNextReminder(t *testing.T) {
	t.Parallel()

	// 2026-03-01 23:30 UTC is already 2026-03-02 12:30 in Auckland and 05:00 in Kolkata, and
	// 18:30 on 03-01 in New York.
	const now = "2026-03-01T23:30:00Z"
	scenarios := []struct {
		name, tz, at, last, now string
		on, due                 string // the local date, and the instant in UTC ("" for no reminder)
		wantErr                 string
	}{
		{"UTC, time passed today: due at once", "UTC", "23:00", "", now, "2026-03-01", "2026-03-01T23:00:00Z", ""},
		{"UTC, later today", "UTC", "23:45", "", now, "2026-03-01", "2026-03-01T23:45:00Z", ""},
		{"UTC, exactly now", "UTC", "23:30", "", now, "2026-03-01", now, ""},
		{"UTC, already reminded today: tomorrow", "UTC", "08:00", "2026-03-01", now, "2026-03-02", "2026-03-02T08:00:00Z", ""},
		{"UTC, reminded yesterday", "UTC", "08:00", "2026-02-28", now, "2026-03-01", "2026-03-01T08:00:00Z", ""},
		{"UTC, a last reminder that is not a date counts as never", "UTC", "08:00", "01/03/2026", now, "2026-03-01", "2026-03-01T08:00:00Z", ""},
		{"east: Auckland is a day ahead", "Pacific/Auckland", "08:00", "2026-03-01", now, "2026-03-02", "2026-03-01T19:00:00Z", ""},
		{"east: Auckland, later its day", "Pacific/Auckland", "13:00", "", now, "2026-03-02", "2026-03-02T00:00:00Z", ""},
		{"east: Kolkata's half-hour offset", "Asia/Kolkata", "05:00", "", now, "2026-03-02", "2026-03-01T23:30:00Z", ""},
		{"east: Kolkata, a minute later", "Asia/Kolkata", "05:01", "", now, "2026-03-02", "2026-03-01T23:31:00Z", ""},
		{"west: New York, earlier its day", "America/New_York", "18:00", "", now, "2026-03-01", "2026-03-01T23:00:00Z", ""},
		{"west: New York, later its day", "America/New_York", "19:00", "", now, "2026-03-01", "2026-03-02T00:00:00Z", ""},
		{"west: Los Angeles, reminded on its date before the UTC date", "America/Los_Angeles", "23:00", "2026-03-01", "2026-03-02T07:30:00Z", "2026-03-02", "2026-03-03T07:00:00Z", ""},

		// Berlin springs forward on 2026-03-29 at 01:00 UTC, from 02:00 CET to 03:00 CEST.
		{"Berlin spring forward: 03:00 CEST", "Europe/Berlin", "03:00", "", "2026-03-29T00:00:00Z", "2026-03-29", "2026-03-29T01:00:00Z", ""},
		{"Berlin spring forward: skipped 02:30 goes at 03:00", "Europe/Berlin", "02:30", "", "2026-03-29T00:00:00Z", "2026-03-29", "2026-03-29T01:00:00Z", ""},
		{"Berlin spring forward: skipped 02:00 goes at 03:00", "Europe/Berlin", "02:00", "", "2026-03-29T00:00:00Z", "2026-03-29", "2026-03-29T01:00:00Z", ""},
		{"Berlin spring forward: 02:30 the day before is CET", "Europe/Berlin", "02:30", "", "2026-03-28T00:00:00Z", "2026-03-28", "2026-03-28T01:30:00Z", ""},
		{"Berlin spring forward: 02:30 the day after is CEST", "Europe/Berlin", "02:30", "2026-03-29", "2026-03-29T01:00:00Z", "2026-03-30", "2026-03-30T00:30:00Z", ""},
		// Berlin falls back on 2026-10-25 at 01:00 UTC, from 03:00 CEST to 02:00 CET.
		{"Berlin fall back: repeated 02:30 goes at its first occurrence", "Europe/Berlin", "02:30", "", "2026-10-24T23:00:00Z", "2026-10-25", "2026-10-25T00:30:00Z", ""},
		{"Berlin fall back: repeated 02:00 goes at its first occurrence", "Europe/Berlin", "02:00", "", "2026-10-24T23:00:00Z", "2026-10-25", "2026-10-25T00:00:00Z", ""},
		{"Berlin fall back: 03:00 happens once, in CET", "Europe/Berlin", "03:00", "", "2026-10-24T23:00:00Z", "2026-10-25", "2026-10-25T02:00:00Z", ""},
		{"Berlin fall back: 08:00 CET", "Europe/Berlin", "08:00", "", "2026-10-24T23:00:00Z", "2026-10-25", "2026-10-25T07:00:00Z", ""},
		{"Berlin fall back: reminded at the first 02:30, not again at the second", "Europe/Berlin", "02:30", "2026-10-25", "2026-10-25T01:30:00Z", "2026-10-26", "2026-10-26T01:30:00Z", ""},
		// New York springs forward on 2026-03-08 at 07:00 UTC and falls back on 2026-11-01 at 06:00 UTC.
		{"New York spring forward: skipped 02:30 goes at 03:00 EDT", "America/New_York", "02:30", "", "2026-03-08T05:00:00Z", "2026-03-08", "2026-03-08T07:00:00Z", ""},
		{"New York spring forward: 08:00 EDT", "America/New_York", "08:00", "", "2026-03-08T05:00:00Z", "2026-03-08", "2026-03-08T12:00:00Z", ""},
		{"New York fall back: repeated 01:30 goes in EDT", "America/New_York", "01:30", "", "2026-11-01T04:00:00Z", "2026-11-01", "2026-11-01T05:30:00Z", ""},
		// Auckland (south, east of UTC) falls back on 2026-04-05 at 14:00 UTC the day before and
		// springs forward on 2026-09-27 at 14:00 UTC the day before.
		{"Auckland fall back: repeated 02:30 goes in NZDT", "Pacific/Auckland", "02:30", "", "2026-04-04T11:00:00Z", "2026-04-05", "2026-04-04T13:30:00Z", ""},
		{"Auckland spring forward: skipped 02:30 goes at 03:00 NZDT", "Pacific/Auckland", "02:30", "", "2026-09-26T12:30:00Z", "2026-09-27", "2026-09-26T14:00:00Z", ""},
		// Lord Howe Island moves its clocks by half an hour.
		{"Lord Howe spring forward: skipped 02:15 goes at 02:30", "Australia/Lord_Howe", "02:15", "", "2026-10-03T14:00:00Z", "2026-10-04", "2026-10-03T15:30:00Z", ""},
		{"Lord Howe fall back: repeated 01:45 goes at its first occurrence", "Australia/Lord_Howe", "01:45", "", "2026-04-04T13:30:00Z", "2026-04-05", "2026-04-04T14:45:00Z", ""},

		// A change of time zone.
		{"moved west after today's mail: none again on that date", "America/New_York", "08:00", "2026-03-02", "2026-03-02T12:00:00Z", "2026-03-03", "2026-03-03T13:00:00Z", ""},
		{"moved west a date back: the next date after the last mail", "America/Los_Angeles", "08:00", "2026-03-02", "2026-03-01T20:00:00Z", "2026-03-03", "2026-03-03T16:00:00Z", ""},
		{"moved east, today's time already passed there: due at once", "Asia/Tokyo", "08:00", "2026-03-01", "2026-03-02T03:00:00Z", "2026-03-02", "2026-03-01T23:00:00Z", ""},

		{"no notification time", "UTC", "", "", now, "", "", ""},
		{"invalid time zone", "Mars/Olympus_Mons", "08:00", "", now, "", "", "invalid time zone"},
		{"empty time zone", "", "08:00", "", now, "", "", "invalid time zone"},
		{"invalid notification time", "UTC", "25:00", "", now, "", "", "invalid notification time"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			last := mustDate(t, "2026-02-09")
			p := Profile{CycleLength: 28, LastPeriodDate: &last, Timezone: s.tz, NotificationTime: s.at}
			r, ok, err := NextReminder(p, s.last, mustTime(t, s.now))
			if s.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), s.wantErr) || ok {
					t.Fatalf("expected an error with %q, got %v (ok %t)", s.wantErr, err, ok)
				}
				return
			}
			if err != nil {
				t.Fatalf("expected no error, got %v", err)
			}
			if s.due == "" {
				if ok {
					t.Fatalf("expected no reminder, got %+v", r)
				}
				return
			}
			if !ok {
				t.Fatal("expected a reminder, got none")
			}
			if got, want := r.At.UTC(), mustTime(t, s.due); !got.Equal(want) || r.On.String() != s.on {
				t.Fatalf("expected %s on %s, got %s on %s", want.Format(time.RFC3339), s.on, got.Format(time.RFC3339), r.On)
			}
			if r.At.Location().String() != s.tz {
				t.Fatalf("expected the instant in %s, got %s", s.tz, r.At.Location())
			}
			if wantDue := !mustTime(t, s.due).After(mustTime(t, s.now)); r.Due(mustTime(t, s.now)) != wantDue {
				t.Fatalf("expected due %t at %s", wantDue, s.now)
			}
		})
	}
}

// TestNextReminderWithoutALastPeriodDate checks that a profile with nothing to report asks for
// no reminder.
func TestNextReminderWithoutALastPeriodDate(t *testing.T) {
	t.Parallel()
	_, ok, err := NextReminder(Profile{CycleLength: 28, Timezone: "UTC", NotificationTime: "08:00"}, "", mustTime(t, "2026-03-01T23:30:00Z"))
	if err != nil || ok {
		t.Fatalf("expected no reminder, got %t, %v", ok, err)
	}
}

// TestRemindersFollowOneAnotherDailyForAYear walks a year of reminders, each sent when due: every
// local date gets exactly one, at a later instant than the one before, in zones with hour and
// half-hour daylight-saving changes and at times inside their skipped and repeated hours.
func TestRemindersFollowOneAnotherDailyForAYear(t *testing.T) {
	t.Parallel()
	start := mustTime(t, "2026-01-01T00:00:00Z")
	last := mustDate(t, "2025-12-01")
	for _, tz := range []string{"UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe", "Asia/Kolkata"} {
		for _, at := range []string{"00:00", "01:30", "02:00", "02:15", "02:30", "08:00", "23:59"} {
			p := Profile{CycleLength: 28, LastPeriodDate: &last, Timezone: tz, NotificationTime: at}
			prev, ok, err := NextReminder(p, "", start)
			if err != nil || !ok {
				t.Fatalf("%s %s: %v", tz, at, err)
			}
			for range 400 {
				next, _, err := NextReminder(p, prev.On.String(), prev.At)
				if err != nil {
					t.Fatal(err)
				}
				if next.On != prev.On.AddDays(1) || !next.At.After(prev.At) {
					t.Fatalf("%s %s: after %s at %s came %s at %s", tz, at, prev.On, prev.At, next.On, next.At)
				}
				if got := DateOf(next.At); got != next.On {
					t.Fatalf("%s %s: the reminder for %s is due on %s", tz, at, next.On, got)
				}
				prev = next
			}
		}
	}
}

// TestReminderText pins the reminder body, built from a status as StatusOn returns it.
func TestReminderText(t *testing.T) {
	t.Parallel()

	status, err := profileWith(t, 28, "2026-02-10").StatusOn(mustDate(t, "2026-03-01"))
	if err != nil {
		t.Fatal(err)
	}
	scenarios := []struct {
		name   string
		status Status
		appURL string
		want   string
	}{
		{"day 20 of a 28-day cycle", status, "https://phaseflow.example.com",
			"Today is day 20 of your cycle: luteal phase. Your next period is predicted to start on 2026-03-10.\n\nOpen PhaseFlow: https://phaseflow.example.com\n"},
		{"first day", Status{CycleDay: 1, Phase: Menstrual, NextPeriod: Date{2026, time.April, 1}}, "http://127.0.0.1:8090",
			"Today is day 1 of your cycle: menstrual phase. Your next period is predicted to start on 2026-04-01.\n\nOpen PhaseFlow: http://127.0.0.1:8090\n"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := ReminderText(s.status, s.appURL); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}
}

// TestReminderSubjectCarriesNoHealthData checks that the subject, which a lock screen may show,
// names no day, date or phase.
func TestReminderSubjectCarriesNoHealthData(t *testing.T) {
	t.Parallel()

	if strings.ContainsAny(ReminderSubject, "0123456789:") {
		t.Fatalf("expected no digits or times in the subject, got %q", ReminderSubject)
	}
	for _, phase := range Phases {
		if strings.Contains(strings.ToLower(ReminderSubject), string(phase)) {
			t.Fatalf("expected no phase in the subject, got %q", ReminderSubject)
		}
	}
	for _, word := range []string{"period", "cycle", "ovulat"} {
		if strings.Contains(strings.ToLower(ReminderSubject), word) {
			t.Fatalf("expected no %q in the subject, got %q", word, ReminderSubject)
		}
	}
}
