package cycle

import (
	"fmt"
	"time"
)

// ReminderSubject is the subject of the daily reminder mail. It carries no health data: it can show on a lock screen.
const ReminderSubject = "Your PhaseFlow daily reminder"

// Reminder is one daily reminder: the local date it is for and the instant it is due.
type Reminder struct {
	// On is the date in the person's time zone the reminder is for.
	On Date
	// At is when it is due (its location is the person's time zone).
	At time.Time
}

// Due reports whether r is due at now.
func (r Reminder) Due(now time.Time) bool { return !r.At.After(now) }

// NextReminder returns the next daily reminder of p for a person last reminded on lastNotified
// (a local date "YYYY-MM-DD", or "" for never), seen at now: the reminder of the first date in
// p's time zone, from now's local date on, that is later than lastNotified. So at most one
// reminder goes out per local date, even across a change of time zone, and today's reminder is
// due at once (At is not after now) when its time has passed and it was not sent.
//
// ok is false when p asks for no reminder: no notification time, or no last period date to
// report on. The instant follows daylight-saving changes: a time the clocks skip that day goes
// at the first minute after the gap, and a time they repeat goes at its first occurrence.
func NextReminder(p Profile, lastNotified string, now time.Time) (r Reminder, ok bool, err error) {
	if p.NotificationTime == "" || p.LastPeriodDate == nil {
		return Reminder{}, false, nil
	}
	loc, err := LoadZone(p.Timezone)
	if err != nil {
		return Reminder{}, false, err
	}
	at, err := time.Parse("15:04", p.NotificationTime)
	if err != nil {
		return Reminder{}, false, fmt.Errorf("cycle: invalid notification time %q: %w", p.NotificationTime, err)
	}
	on := DateOf(now.In(loc))
	// A lastNotified that is not a date (never written by PhaseFlow) counts as never.
	if last, err := ParseDate(lastNotified); err == nil && !on.After(last) {
		on = last.AddDays(1)
	}
	return Reminder{On: on, At: wallClock(on, at.Hour(), at.Minute(), loc)}, true, nil
}

// wallClock returns the instant at which the clocks in loc show hour:minute on d. A time the
// clocks skip that day resolves to the first minute after the gap; a time they show twice, to
// the earlier instant. (time.Date leaves both choices unspecified.)
func wallClock(d Date, hour, minute int, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, loc)
	want := time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, time.UTC)
	start, end := t.ZoneBounds()
	if shown := wall(t); !shown.Equal(want) {
		// Skipped: the gap ends where an offset starts — t's own if time.Date moved forward,
		// the next one if it moved back.
		if shown.After(want) && !start.IsZero() {
			return start
		}
		if shown.Before(want) && !end.IsZero() {
			return end.In(loc)
		}
		return t
	}
	if start.IsZero() {
		return t
	}
	// Shown twice: the same wall time under the offset before t's zone began, if it is earlier.
	_, before := start.Add(-time.Second).Zone()
	_, offset := t.Zone()
	if earlier := t.Add(-time.Duration(before-offset) * time.Second); earlier.Before(t) && wall(earlier).Equal(want) {
		return earlier
	}
	return t
}

// wall is the wall-clock reading of t as if it were UTC, for comparing readings.
func wall(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// ReminderText is the body of the daily reminder for status s, linking to appURL.
func ReminderText(s Status, appURL string) string {
	return fmt.Sprintf("Today is day %d of your cycle: %s phase. Your next period is predicted to start on %s.\n\nOpen PhaseFlow: %s\n",
		s.CycleDay, s.Phase, s.NextPeriod, appURL)
}
