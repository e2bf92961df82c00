package cycle

import (
	"fmt"
	"time"
)

// ReminderSubject is the subject of the daily reminder mail. It carries no health data: it can show on a lock screen.
const ReminderSubject = "Your PhaseFlow daily reminder"

// NotificationDue reports whether a reminder is due at now for a profile that was last notified
// on lastNotified (YYYY-MM-DD or ""), and the user's local date.
//
// The reminder is due once the profile's NotificationTime has passed on the local date in the
// profile's time zone, unless lastNotified already is that date; a profile without a notification
// time is never due. The local date is returned whenever the time zone is valid, so a caller can
// record it as the new lastNotified.
func NotificationDue(p Profile, lastNotified string, now time.Time) (bool, Date, error) {
	loc, err := LoadZone(p.Timezone)
	if err != nil {
		return false, Date{}, err
	}
	local := now.In(loc)
	today := DateOf(local)
	if p.NotificationTime == "" || lastNotified == today.String() {
		return false, today, nil
	}
	at, err := time.ParseInLocation("15:04", p.NotificationTime, loc)
	if err != nil {
		return false, today, err
	}
	// time.Date applies the offset in force at that wall-clock time, so the reminder follows DST
	// changes; a time that a change skips or repeats resolves to an instant within an hour of it.
	due := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, loc)
	return !local.Before(due), today, nil
}

// ReminderText is the body of the daily reminder for status s, linking to appURL.
func ReminderText(s Status, appURL string) string {
	return fmt.Sprintf("Today is day %d of your cycle: %s phase. Your next period is predicted to start on %s.\n\nOpen PhaseFlow: %s\n",
		s.CycleDay, s.Phase, s.NextPeriod, appURL)
}
