package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CronSchedule is a parsed cron expression in PocketBase's syntax: which minutes, hours, days of
// the month, months and weekdays it fires on (UTC, as PocketBase's cron runs).
type CronSchedule struct {
	minutes, hours, days, months, weekdays map[int]bool
}

// cronMacros are the macros PocketBase accepts.
var cronMacros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// ParseCron parses expr as PocketBase's cron does: a macro, or five space-separated fields
// (minute 0-59, hour 0-23, day of month 1-31, month 1-12, weekday 0-6), each a list of *, n, a-b,
// */n or a-b/n.
//
// Mirrors tools/cron/schedule.go NewSchedule in PocketBase v0.40.4 (config imports no
// PocketBase); settings' tests check that both accept the same expressions.
func ParseCron(expr string) (CronSchedule, error) {
	if m, ok := cronMacros[expr]; ok {
		expr = m
	}
	fields := strings.Split(expr, " ")
	if len(fields) != 5 {
		return CronSchedule{}, errors.New("a cron expression is a macro or exactly 5 space-separated fields")
	}
	bounds := [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
	var sets [5]map[int]bool
	for i, f := range fields {
		set, err := parseCronField(f, bounds[i][0], bounds[i][1])
		if err != nil {
			return CronSchedule{}, fmt.Errorf("field %d: %w", i+1, err)
		}
		sets[i] = set
	}
	return CronSchedule{minutes: sets[0], hours: sets[1], days: sets[2], months: sets[3], weekdays: sets[4]}, nil
}

func parseCronField(field string, lo, hi int) (map[int]bool, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(field, ",") {
		rangePart, stepPart, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepPart)
			if err != nil || n < 1 || n > hi {
				return nil, fmt.Errorf("invalid step %q", stepPart)
			}
			step = n
		}
		from, to := lo, hi
		if rangePart != "*" {
			a, b, isRange := strings.Cut(rangePart, "-")
			if !isRange && step != 1 {
				return nil, errors.New("a step above 1 needs * or a range")
			}
			var err error
			if from, err = cronNumber(a, lo, hi); err != nil {
				return nil, err
			}
			to = from
			if isRange {
				if to, err = cronNumber(b, lo, hi); err != nil {
					return nil, err
				}
				if to < from {
					return nil, fmt.Errorf("invalid range %q", rangePart)
				}
			}
		}
		for v := from; v <= to; v += step {
			set[v] = true
		}
	}
	return set, nil
}

func cronNumber(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%q is not a number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// Due reports whether the schedule fires in the minute of t (in UTC). As in PocketBase, the day of
// the month and the weekday must both match.
func (s CronSchedule) Due(t time.Time) bool {
	t = t.UTC()
	return s.minutes[t.Minute()] && s.hours[t.Hour()] && s.days[t.Day()] && s.months[int(t.Month())] && s.weekdays[int(t.Weekday())]
}

// maxCronLookback bounds Previous: two years covers every schedule that fires at all (@yearly,
// or a 29 February that falls on the wanted weekday is rarer and then not found).
const maxCronLookback = 2 * 366 * 24 * time.Hour

// Previous returns the start of the latest minute at or before t in which the schedule fires,
// and false when it does not fire within two years before t.
func (s CronSchedule) Previous(t time.Time) (time.Time, bool) {
	m := t.UTC().Truncate(time.Minute)
	for end := m.Add(-maxCronLookback); !m.Before(end); m = m.Add(-time.Minute) {
		if s.Due(m) {
			return m, true
		}
	}
	return time.Time{}, false
}
