package cycle

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// codes renders a field error map as "field:code" pairs in key order, and
// fails the test for a value that PocketBase could not show properly.
func codes(t testing.TB, errs map[string]error) string {
	t.Helper()
	var parts []string
	for field, err := range errs {
		checkFieldError(t, field, err)
		parts = append(parts, field+":"+err.(FieldError).Code())
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func checkFieldError(t testing.TB, field string, err error) {
	t.Helper()
	fe, ok := err.(FieldError)
	if !ok {
		t.Fatalf("expected a FieldError under %q, got %T", field, err)
	}
	// PocketBase shows Code() and Error() of this interface to clients.
	var _ interface {
		Code() string
		Error() string
	} = fe
	if !strings.HasPrefix(fe.Code(), "validation_") {
		t.Fatalf("expected a validation_ code under %q, got %q", field, fe.Code())
	}
	msg := fe.Error()
	if msg == "" || !strings.HasSuffix(msg, ".") || strings.ToUpper(msg[:1]) != msg[:1] {
		t.Fatalf("expected a sentence under %q, got %q", field, msg)
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	now, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// TestDefaultProfile pins a new user's profile and checks it is valid.
func TestDefaultProfile(t *testing.T) {
	t.Parallel()

	p := DefaultProfile()
	want := "{CycleLength:28 LastPeriodDate:<nil> NotificationTime: Timezone:UTC}"
	if got := fmt.Sprintf("%+v", p); got != want {
		t.Fatalf("expected %s, got %s", want, got)
	}
	if errs := p.Validate(time.Now()); errs != nil {
		t.Fatalf("expected the default profile to be valid, got %v", errs)
	}
	if _, err := p.StatusOn(DateOf(time.Now())); err != ErrNoLastPeriod {
		t.Fatalf("expected %v, got %v", ErrNoLastPeriod, err)
	}
}

// TestProfileValidate checks each rule of Validate on its own and all of
// them at once, including "future" judged in the profile's own time zone.
func TestProfileValidate(t *testing.T) {
	t.Parallel()

	// 23:30 UTC on March 1st is already March 2nd in Auckland and
	// UTC+14, and still March 1st in Los Angeles.
	now := mustTime(t, "2026-03-01T23:30:00Z")
	date := func(s string) *Date { d := mustDate(t, s); return &d }

	scenarios := []struct {
		name    string
		profile Profile
		want    string
	}{
		{"default profile", DefaultProfile(), ""},
		{"complete profile", Profile{28, date("2026-02-10"), "08:00", "Europe/Berlin"}, ""},
		{"shortest cycle", Profile{20, nil, "", "UTC"}, ""},
		{"longest cycle", Profile{60, nil, "", "UTC"}, ""},
		{"cycle too short", Profile{19, nil, "", "UTC"}, "cycleLength:validation_out_of_range"},
		{"cycle too long", Profile{61, nil, "", "UTC"}, "cycleLength:validation_out_of_range"},
		{"zero cycle", Profile{0, nil, "", "UTC"}, "cycleLength:validation_out_of_range"},
		{"last period today", Profile{28, date("2026-03-01"), "", "UTC"}, ""},
		{"last period tomorrow", Profile{28, date("2026-03-02"), "", "UTC"}, "lastPeriodDate:validation_future_date"},
		{"last period today in Auckland", Profile{28, date("2026-03-02"), "", "Pacific/Auckland"}, ""},
		{"last period tomorrow in Los Angeles", Profile{28, date("2026-03-02"), "", "America/Los_Angeles"}, "lastPeriodDate:validation_future_date"},
		{"impossible last period", Profile{28, &Date{2026, time.February, 30}, "", "UTC"}, "lastPeriodDate:validation_invalid_date"},
		{"zero last period", Profile{28, &Date{}, "", "UTC"}, "lastPeriodDate:validation_invalid_date"},
		// PocketBase stores the zero time as an empty date, which would
		// clear the field instead of saving it.
		{"first day of year 1", Profile{28, date("0001-01-01"), "", "UTC"}, "lastPeriodDate:validation_date_too_early"},
		{"the day before MinDate", Profile{28, date("1899-12-31"), "", "UTC"}, "lastPeriodDate:validation_date_too_early"},
		{"MinDate", Profile{28, date("1900-01-01"), "", "UTC"}, ""},
		{"midnight", Profile{28, nil, "00:00", "UTC"}, ""},
		{"last minute", Profile{28, nil, "23:59", "UTC"}, ""},
		{"hour 24", Profile{28, nil, "24:00", "UTC"}, "notificationTime:validation_invalid_time"},
		{"minute 60", Profile{28, nil, "08:60", "UTC"}, "notificationTime:validation_invalid_time"},
		{"single digit hour", Profile{28, nil, "8:00", "UTC"}, "notificationTime:validation_invalid_time"},
		{"seconds", Profile{28, nil, "08:00:00", "UTC"}, "notificationTime:validation_invalid_time"},
		{"12-hour clock", Profile{28, nil, "08:00 PM", "UTC"}, "notificationTime:validation_invalid_time"},
		{"signed hour", Profile{28, nil, "+8:00", "UTC"}, "notificationTime:validation_invalid_time"},
		{"empty time zone", Profile{28, nil, "", ""}, "timezone:validation_required"},
		{"server's Local zone", Profile{28, nil, "", "Local"}, "timezone:validation_invalid_timezone"},
		{"unknown zone", Profile{28, nil, "", "Mars/Olympus_Mons"}, "timezone:validation_invalid_timezone"},
		{"zone with spaces", Profile{28, nil, "", " Europe/Berlin"}, "timezone:validation_invalid_timezone"},
		{"absolute path", Profile{28, nil, "", "/etc/localtime"}, "timezone:validation_invalid_timezone"},
		// With no usable zone, only a date in the future everywhere is
		// reported: March 2nd is today in UTC+14.
		{"invalid zone and a date today somewhere", Profile{28, date("2026-03-02"), "", "Nowhere"}, "timezone:validation_invalid_timezone"},
		{"invalid zone and a date in the future everywhere", Profile{28, date("2026-03-03"), "", "Nowhere"}, "lastPeriodDate:validation_future_date timezone:validation_invalid_timezone"},
		{"everything wrong", Profile{5, date("2027-01-01"), "25:00", ""}, "cycleLength:validation_out_of_range lastPeriodDate:validation_future_date notificationTime:validation_invalid_time timezone:validation_required"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			errs := s.profile.Validate(now)
			if s.want == "" && errs != nil {
				t.Fatalf("expected nil, got %v", errs)
			}
			if got := codes(t, errs); got != s.want {
				t.Fatalf("expected %q, got %q", s.want, got)
			}
		})
	}
}

// TestValidateMessages pins the messages that name an accepted range.
func TestValidateMessages(t *testing.T) {
	t.Parallel()

	early := Date{1899, time.December, 31}
	scenarios := []struct {
		name    string
		profile Profile
		field   string
		want    string
	}{
		{"cycle length", Profile{10, nil, "", "UTC"}, FieldCycleLength, "Must be between 20 and 60 days."},
		{"date too early", Profile{28, &early, "", "UTC"}, FieldLastPeriodDate, "Must be on or after 1900-01-01."},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			errs := s.profile.Validate(time.Now())
			if err := errs[s.field]; err == nil || err.Error() != s.want {
				t.Fatalf("expected %q, got %v", s.want, err)
			}
		})
	}
}
