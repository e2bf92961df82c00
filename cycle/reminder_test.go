package cycle

import (
	"strings"
	"testing"
	"time"
)

// TestNotificationDue checks when the daily reminder is due: by the wall clock and the date in
// the profile's time zone (including zones with half-hour offsets and across DST changes, where
// a fixed offset would be an hour off), at most once per local date, and never without a time.
func TestNotificationDue(t *testing.T) {
	t.Parallel()

	// 2026-03-01 23:30 UTC is already 2026-03-02 12:30 in Auckland and 05:00 in Kolkata, and
	// 18:30 on 03-01 in New York.
	const now = "2026-03-01T23:30:00Z"
	scenarios := []struct {
		name, tz, at, last, now string
		due                     bool
		today                   string
		wantErr                 string
	}{
		{"UTC, time passed", "UTC", "23:00", "", now, true, "2026-03-01", ""},
		{"UTC, time not yet", "UTC", "23:45", "", now, false, "2026-03-01", ""},
		{"UTC, exactly now", "UTC", "23:30", "", now, true, "2026-03-01", ""},
		{"UTC, already notified today", "UTC", "08:00", "2026-03-01", now, false, "2026-03-01", ""},
		{"UTC, notified yesterday", "UTC", "08:00", "2026-02-28", now, true, "2026-03-01", ""},
		{"UTC, a last notification that is not a date is not today", "UTC", "08:00", "01/03/2026", now, true, "2026-03-01", ""},
		{"Auckland is past midnight relative to UTC", "Pacific/Auckland", "08:00", "2026-03-01", now, true, "2026-03-02", ""},
		{"Auckland, later today", "Pacific/Auckland", "13:00", "", now, false, "2026-03-02", ""},
		{"New York, earlier that day", "America/New_York", "18:00", "", now, true, "2026-03-01", ""},
		{"New York, not yet", "America/New_York", "19:00", "", now, false, "2026-03-01", ""},
		{"no notification time", "UTC", "", "", now, false, "2026-03-01", ""},

		{"Kolkata's half-hour offset, exactly due", "Asia/Kolkata", "05:00", "", now, true, "2026-03-02", ""},
		{"Kolkata's half-hour offset, a minute early", "Asia/Kolkata", "05:01", "", now, false, "2026-03-02", ""},
		// 07:30 UTC on March 2nd is 23:30 on March 1st in Los Angeles: the mail of the local day
		// was sent, although the UTC date is already the next one.
		{"Los Angeles, notified on the local date before the UTC date", "America/Los_Angeles", "23:00", "2026-03-01", "2026-03-02T07:30:00Z", false, "2026-03-01", ""},

		// Berlin springs forward on 2026-03-29 at 01:00 UTC, from 02:00 CET to 03:00 CEST.
		{"Berlin spring forward, 03:00 CEST is 01:00 UTC", "Europe/Berlin", "03:00", "", "2026-03-29T01:00:00Z", true, "2026-03-29", ""},
		{"Berlin spring forward, a minute before", "Europe/Berlin", "03:00", "", "2026-03-29T00:59:00Z", false, "2026-03-29", ""},
		{"Berlin spring forward, a skipped time is not due before the gap", "Europe/Berlin", "02:30", "", "2026-03-29T00:59:00Z", false, "2026-03-29", ""},
		{"Berlin spring forward, a skipped time is still due that day", "Europe/Berlin", "02:30", "", "2026-03-29T21:00:00Z", true, "2026-03-29", ""},
		// Berlin falls back on 2026-10-25 at 01:00 UTC, from 03:00 CEST to 02:00 CET.
		{"Berlin fall back, 08:00 CET is 07:00 UTC", "Europe/Berlin", "08:00", "", "2026-10-25T07:00:00Z", true, "2026-10-25", ""},
		{"Berlin fall back, a minute before", "Europe/Berlin", "08:00", "", "2026-10-25T06:59:00Z", false, "2026-10-25", ""},
		// New York springs forward on 2026-03-08 at 07:00 UTC, from 02:00 EST to 03:00 EDT.
		{"New York spring forward, 08:00 EDT is 12:00 UTC", "America/New_York", "08:00", "", "2026-03-08T12:00:00Z", true, "2026-03-08", ""},
		{"New York spring forward, a minute before", "America/New_York", "08:00", "", "2026-03-08T11:59:00Z", false, "2026-03-08", ""},

		{"invalid time zone", "Mars/Olympus_Mons", "08:00", "", now, false, "", "invalid time zone"},
		{"empty time zone", "", "08:00", "", now, false, "", "invalid time zone"},
		{"invalid notification time", "UTC", "25:00", "", now, false, "2026-03-01", "parsing time"},
		{"invalid notification time already notified today", "UTC", "25:00", "2026-03-01", now, false, "2026-03-01", ""},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := Profile{CycleLength: 28, Timezone: s.tz, NotificationTime: s.at}
			due, today, err := NotificationDue(p, s.last, mustTime(t, s.now))
			if s.wantErr == "" && err != nil {
				t.Fatalf("expected no error, got %v", err)
			}
			if s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)) {
				t.Fatalf("expected an error with %q, got %v", s.wantErr, err)
			}
			if due != s.due {
				t.Fatalf("expected due %t, got %t", s.due, due)
			}
			if s.today == "" {
				if today != (Date{}) {
					t.Fatalf("expected the zero Date, got %v", today)
				}
				return
			}
			if today.String() != s.today {
				t.Fatalf("expected today %s, got %s", s.today, today)
			}
		})
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
