package cycle

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// describePatch renders the fields a patch sets, in a fixed order.
func describePatch(p Patch) string {
	var parts []string
	if p.CycleLength != nil {
		parts = append(parts, fmt.Sprintf("cycleLength=%d", *p.CycleLength))
	}
	if p.LastPeriodDate != nil {
		if *p.LastPeriodDate == nil {
			parts = append(parts, "lastPeriodDate=null")
		} else {
			parts = append(parts, "lastPeriodDate="+(*p.LastPeriodDate).String())
		}
	}
	if p.NotificationTime != nil {
		parts = append(parts, fmt.Sprintf("notificationTime=%q", *p.NotificationTime))
	}
	if p.Timezone != nil {
		parts = append(parts, fmt.Sprintf("timezone=%q", *p.Timezone))
	}
	return strings.Join(parts, " ")
}

// TestParsePatch covers each error class of the PATCH /api/user body (the
// body as a whole, field names, value types) and each way to succeed.
func TestParsePatch(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name      string
		body      string
		wantPatch string
		wantErrs  string
	}{
		// The body as a whole.
		{"empty body", ``, "", "body:validation_invalid_body"},
		{"whitespace only", " \n", "", "body:validation_invalid_body"},
		{"array", `[{"cycleLength":28}]`, "", "body:validation_invalid_body"},
		{"null", `null`, "", "body:validation_invalid_body"},
		{"string", `"cycleLength"`, "", "body:validation_invalid_body"},
		{"number", `28`, "", "body:validation_invalid_body"},
		{"syntax error", `{"cycleLength":}`, "", "body:validation_invalid_body"},
		{"trailing comma", `{"cycleLength":28,}`, "", "body:validation_invalid_body"},
		{"unterminated object", `{"cycleLength":28`, "", "body:validation_invalid_body"},
		{"second object", `{"cycleLength":28}{"cycleLength":30}`, "", "body:validation_invalid_body"},
		{"trailing garbage", `{"cycleLength":28} x`, "", "body:validation_invalid_body"},
		{"empty object", `{}`, "", "body:validation_nothing_to_update"},
		{"empty object with spaces", ` { } `, "", "body:validation_nothing_to_update"},

		// Field names.
		{"unknown field", `{"cycleLength":28,"colour":"red"}`, "", "colour:validation_unknown_field"},
		{"field names are case-sensitive", `{"CycleLength":28}`, "", "CycleLength:validation_unknown_field"},
		{"snake case is not accepted", `{"cycle_length":28}`, "", "cycle_length:validation_unknown_field"},
		{"id is read-only", `{"id":"x"}`, "", "id:validation_read_only"},
		{"email is read-only", `{"email":"a@example.com"}`, "", "email:validation_read_only"},
		{"garminConnected is read-only", `{"garminConnected":true}`, "", "garminConnected:validation_read_only"},
		{"mfa is read-only", `{"mfa":false}`, "", "mfa:validation_read_only"},
		{"approved is read-only", `{"approved":true}`, "", "approved:validation_read_only"},
		{"verified is read-only", `{"verified":true}`, "", "verified:validation_read_only"},
		{"calendarTokenHash is read-only", `{"calendarTokenHash":"x"}`, "", "calendarTokenHash:validation_read_only"},
		{"password is read-only", `{"password":"hunter2hunter2"}`, "", "password:validation_read_only"},
		{"tokenKey is read-only", `{"tokenKey":"x"}`, "", "tokenKey:validation_read_only"},
		{"created and updated are read-only", `{"created":"x","updated":"y"}`, "", "created:validation_read_only updated:validation_read_only"},
		{"duplicate field", `{"cycleLength":28,"cycleLength":30}`, "", "cycleLength:validation_duplicate_field"},
		{"duplicate field via an escape", `{"cycleLength":28,"cycle\u004cength":30}`, "", "cycleLength:validation_duplicate_field"},

		// Value types.
		{"cycleLength as a string", `{"cycleLength":"28"}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength with a fraction", `{"cycleLength":28.5}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength as 28.0", `{"cycleLength":28.0}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength with an exponent", `{"cycleLength":2.8e1}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength as a boolean", `{"cycleLength":true}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength as an array", `{"cycleLength":[28]}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength as an object", `{"cycleLength":{"days":28}}`, "", "cycleLength:validation_invalid_type"},
		{"cycleLength null", `{"cycleLength":null}`, "", "cycleLength:validation_required"},
		{"cycleLength too large for an int", `{"cycleLength":123456789012345678901234567890}`, "", "cycleLength:validation_out_of_range"},
		{"lastPeriodDate as a number", `{"lastPeriodDate":20240105}`, "", "lastPeriodDate:validation_invalid_type"},
		{"lastPeriodDate as a boolean", `{"lastPeriodDate":false}`, "", "lastPeriodDate:validation_invalid_type"},
		{"lastPeriodDate that does not exist", `{"lastPeriodDate":"2023-02-29"}`, "", "lastPeriodDate:validation_invalid_date"},
		{"lastPeriodDate with a single digit month", `{"lastPeriodDate":"2024-1-05"}`, "", "lastPeriodDate:validation_invalid_date"},
		{"lastPeriodDate with a time", `{"lastPeriodDate":"2024-01-05T00:00:00Z"}`, "", "lastPeriodDate:validation_invalid_date"},
		{"lastPeriodDate empty", `{"lastPeriodDate":""}`, "", "lastPeriodDate:validation_invalid_date"},
		{"notificationTime as a number", `{"notificationTime":800}`, "", "notificationTime:validation_invalid_type"},
		{"timezone as a number", `{"timezone":1}`, "", "timezone:validation_invalid_type"},
		{"timezone null", `{"timezone":null}`, "", "timezone:validation_required"},
		{"every field wrong at once", `{"cycleLength":"x","lastPeriodDate":1,"notificationTime":[],"timezone":{},"email":"","foo":1}`, "",
			"cycleLength:validation_invalid_type email:validation_read_only foo:validation_unknown_field lastPeriodDate:validation_invalid_type notificationTime:validation_invalid_type timezone:validation_invalid_type"},

		// Success; ranges and formats are Validate's business.
		{"cycleLength", `{"cycleLength":28}`, "cycleLength=28", ""},
		{"cycleLength out of range still parses", `{"cycleLength":-5}`, "cycleLength=-5", ""},
		{"lastPeriodDate", `{"lastPeriodDate":"2024-02-29"}`, "lastPeriodDate=2024-02-29", ""},
		{"lastPeriodDate null clears", `{"lastPeriodDate":null}`, "lastPeriodDate=null", ""},
		{"lastPeriodDate before MinDate cannot be stored", `{"lastPeriodDate":"0001-01-01"}`, "", "lastPeriodDate:validation_date_too_early"},
		{"lastPeriodDate on MinDate", `{"lastPeriodDate":"1900-01-01"}`, "lastPeriodDate=1900-01-01", ""},
		{"notificationTime", `{"notificationTime":"07:30"}`, `notificationTime="07:30"`, ""},
		{"notificationTime null clears", `{"notificationTime":null}`, `notificationTime=""`, ""},
		{"notificationTime empty clears", `{"notificationTime":""}`, `notificationTime=""`, ""},
		{"timezone", `{"timezone":"Europe/Berlin"}`, `timezone="Europe/Berlin"`, ""},
		{"all fields with whitespace", " {\n \"timezone\" : \"UTC\", \"notificationTime\":\"08:00\",\n\"lastPeriodDate\":\"2026-01-31\", \"cycleLength\" : 30 }\n",
			`cycleLength=30 lastPeriodDate=2026-01-31 notificationTime="08:00" timezone="UTC"`, ""},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			patch, errs := ParsePatch([]byte(s.body))
			if got := codes(t, errs); got != s.wantErrs {
				t.Fatalf("expected %q, got %q", s.wantErrs, got)
			}
			if s.wantErrs == "" && errs != nil {
				t.Fatalf("expected nil errors, got %#v", errs)
			}
			if got := describePatch(patch); got != s.wantPatch {
				t.Fatalf("expected %q, got %q", s.wantPatch, got)
			}
		})
	}
}

// TestParsePatchMessages pins the messages clients show next to a field.
func TestParsePatchMessages(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		body  string
		field string
		want  string
	}{
		{`{}`, "body", "Nothing to update."},
		{`{"foo":1}`, "foo", "Unknown field."},
		{`{"email":"x"}`, "email", "This field cannot be changed."},
	}

	for _, s := range scenarios {
		t.Run(s.body, func(t *testing.T) {
			t.Parallel()
			_, errs := ParsePatch([]byte(s.body))
			if err := errs[s.field]; err == nil || err.Error() != s.want {
				t.Fatalf("expected %q, got %v", s.want, err)
			}
		})
	}
}

func mustPatch(t testing.TB, body string) Patch {
	t.Helper()
	patch, errs := ParsePatch([]byte(body))
	if errs != nil {
		t.Fatalf("expected no errors for %s, got %v", body, errs)
	}
	return patch
}

// TestProfileApply checks that Apply merges exactly the fields a patch sets,
// keeping every value as it is, valid or not, and leaves the input untouched;
// and that Validate on the result then gives each rule's verdict, including
// a last period date judged in the time zone the same patch sets.
func TestProfileApply(t *testing.T) {
	t.Parallel()

	now := mustTime(t, "2026-03-01T23:30:00Z")
	date := func(s string) *Date { d := mustDate(t, s); return &d }
	base := Profile{28, date("2026-02-10"), "08:00", "UTC"}

	scenarios := []struct {
		name     string
		base     Profile
		body     string
		want     Profile
		wantErrs string
	}{
		{"set cycleLength", base, `{"cycleLength":35}`, Profile{35, date("2026-02-10"), "08:00", "UTC"}, ""},
		{"shortest cycleLength", base, `{"cycleLength":20}`, Profile{20, date("2026-02-10"), "08:00", "UTC"}, ""},
		{"longest cycleLength", base, `{"cycleLength":60}`, Profile{60, date("2026-02-10"), "08:00", "UTC"}, ""},
		{"cycleLength too short", base, `{"cycleLength":19}`, Profile{19, date("2026-02-10"), "08:00", "UTC"}, "cycleLength:validation_out_of_range"},
		{"cycleLength too long", base, `{"cycleLength":61}`, Profile{61, date("2026-02-10"), "08:00", "UTC"}, "cycleLength:validation_out_of_range"},
		{"negative cycleLength", base, `{"cycleLength":-28}`, Profile{-28, date("2026-02-10"), "08:00", "UTC"}, "cycleLength:validation_out_of_range"},
		{"lastPeriodDate today", base, `{"lastPeriodDate":"2026-03-01"}`, Profile{28, date("2026-03-01"), "08:00", "UTC"}, ""},
		{"lastPeriodDate long ago", base, `{"lastPeriodDate":"1999-12-31"}`, Profile{28, date("1999-12-31"), "08:00", "UTC"}, ""},
		{"lastPeriodDate on MinDate", base, `{"lastPeriodDate":"1900-01-01"}`, Profile{28, date("1900-01-01"), "08:00", "UTC"}, ""},
		{"lastPeriodDate tomorrow", base, `{"lastPeriodDate":"2026-03-02"}`, Profile{28, date("2026-03-02"), "08:00", "UTC"}, "lastPeriodDate:validation_future_date"},
		{"lastPeriodDate null clears it", base, `{"lastPeriodDate":null}`, Profile{28, nil, "08:00", "UTC"}, ""},
		{"lastPeriodDate first set", DefaultProfile(), `{"lastPeriodDate":"2026-02-01"}`, Profile{28, date("2026-02-01"), "", "UTC"}, ""},
		{"future date made valid by the new time zone", base, `{"lastPeriodDate":"2026-03-02","timezone":"Pacific/Auckland"}`,
			Profile{28, date("2026-03-02"), "08:00", "Pacific/Auckland"}, ""},
		{"date that is today in the new time zone west of UTC", base, `{"lastPeriodDate":"2026-03-01","timezone":"America/Los_Angeles"}`,
			Profile{28, date("2026-03-01"), "08:00", "America/Los_Angeles"}, ""},
		{"future date in the new time zone", Profile{28, nil, "", "Pacific/Auckland"}, `{"lastPeriodDate":"2026-03-02","timezone":"America/Los_Angeles"}`,
			Profile{28, date("2026-03-02"), "", "America/Los_Angeles"}, "lastPeriodDate:validation_future_date"},
		// The whole result is validated: moving west of the date line can
		// turn a stored date into a future one.
		{"time zone change that makes the stored date future", Profile{28, date("2026-03-02"), "", "Pacific/Auckland"}, `{"timezone":"UTC"}`,
			Profile{28, date("2026-03-02"), "", "UTC"}, "lastPeriodDate:validation_future_date"},
		{"set notificationTime", base, `{"notificationTime":"21:15"}`, Profile{28, date("2026-02-10"), "21:15", "UTC"}, ""},
		{"notificationTime null clears it", base, `{"notificationTime":null}`, Profile{28, date("2026-02-10"), "", "UTC"}, ""},
		{"notificationTime empty clears it", base, `{"notificationTime":""}`, Profile{28, date("2026-02-10"), "", "UTC"}, ""},
		{"notificationTime single digit", base, `{"notificationTime":"7:30"}`, Profile{28, date("2026-02-10"), "7:30", "UTC"}, "notificationTime:validation_invalid_time"},
		{"notificationTime 24:00", base, `{"notificationTime":"24:00"}`, Profile{28, date("2026-02-10"), "24:00", "UTC"}, "notificationTime:validation_invalid_time"},
		{"set timezone", base, `{"timezone":"Europe/Berlin"}`, Profile{28, date("2026-02-10"), "08:00", "Europe/Berlin"}, ""},
		{"timezone Local", base, `{"timezone":"Local"}`, Profile{28, date("2026-02-10"), "08:00", "Local"}, "timezone:validation_invalid_timezone"},
		{"timezone empty", base, `{"timezone":""}`, Profile{28, date("2026-02-10"), "08:00", ""}, "timezone:validation_required"},
		{"timezone unknown", base, `{"timezone":"Europe/Atlantis"}`, Profile{28, date("2026-02-10"), "08:00", "Europe/Atlantis"}, "timezone:validation_invalid_timezone"},
		{"one bad field makes the whole result invalid", base, `{"cycleLength":30,"timezone":"Nowhere"}`, Profile{30, date("2026-02-10"), "08:00", "Nowhere"}, "timezone:validation_invalid_timezone"},
		{"several errors at once", base, `{"cycleLength":10,"notificationTime":"noon","lastPeriodDate":"2027-01-01"}`, Profile{10, date("2027-01-01"), "noon", "UTC"},
			"cycleLength:validation_out_of_range lastPeriodDate:validation_future_date notificationTime:validation_invalid_time"},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			before := s.base.clone()
			got := s.base.Apply(mustPatch(t, s.body))
			if !reflect.DeepEqual(got, s.want) {
				t.Fatalf("expected %+v, got %+v", s.want, got)
			}
			if !reflect.DeepEqual(s.base, before) {
				t.Fatalf("expected the input to stay %+v, got %+v", before, s.base)
			}
			errs := got.Validate(now)
			if gotCodes := codes(t, errs); gotCodes != s.wantErrs {
				t.Fatalf("expected %q, got %q", s.wantErrs, gotCodes)
			}
			if s.wantErrs == "" && errs != nil {
				t.Fatalf("expected nil errors, got %#v", errs)
			}
		})
	}
}

// TestApplyDoesNotAlias checks that the result shares no memory with the
// input profile or the patch, so changing one can never change the other.
func TestApplyDoesNotAlias(t *testing.T) {
	t.Parallel()

	last := Date{2026, time.February, 1}
	p := Profile{28, &last, "", "UTC"}

	got := p.Apply(mustPatch(t, `{"cycleLength":30}`))
	if got.LastPeriodDate == p.LastPeriodDate {
		t.Fatalf("expected a copy of the last period date, got the same pointer")
	}
	got.LastPeriodDate.Day = 20
	if last.Day != 1 {
		t.Fatalf("expected the input date to stay 1, got %d", last.Day)
	}

	d := Date{2026, time.February, 15}
	pd := &d
	patch := Patch{LastPeriodDate: &pd}
	got = p.Apply(patch)
	if got.LastPeriodDate == pd {
		t.Fatalf("expected a copy of the patch's date, got the same pointer")
	}
	d.Day = 28
	if got.LastPeriodDate.Day != 15 {
		t.Fatalf("expected the result to keep day 15, got %d", got.LastPeriodDate.Day)
	}
}

// TestApplyEmptyPatchIsNoOp checks that Apply without changes returns the
// profile as it was.
func TestApplyEmptyPatchIsNoOp(t *testing.T) {
	t.Parallel()

	last := Date{2026, time.February, 1}
	p := Profile{31, &last, "07:00", "Europe/Berlin"}
	if got := p.Apply(Patch{}); !reflect.DeepEqual(got, p) {
		t.Fatalf("expected %+v, got %+v", p, got)
	}
}

// FuzzParsePatch checks that ParsePatch never panics, that every error it or
// Validate returns is a proper FieldError, that a refused body yields no
// patch, and that Apply of an accepted patch sets exactly the patch's fields
// without changing its input.
func FuzzParsePatch(f *testing.F) {
	for _, body := range []string{
		`{"cycleLength":28}`,
		`{"cycleLength":20,"lastPeriodDate":"2024-02-29","notificationTime":"08:00","timezone":"Europe/Berlin"}`,
		`{"lastPeriodDate":null,"notificationTime":null}`,
		`{"lastPeriodDate":"2026-03-02","timezone":"Pacific/Auckland"}`,
		`{"lastPeriodDate":"0001-01-01"}`,
		`{"lastPeriodDate":"1899-12-31"}`,
		`{"cycleLength":28.5}`,
		`{"cycleLength":"28"}`,
		`{"CycleLength":28}`,
		`{"cycleLength":28,"cycleLength":29}`,
		`{"email":"a@example.com","id":"x"}`,
		`{"timezone":"Local"}`,
		`{"timezone":"../../etc/passwd"}`,
		`{"notificationTime":"24:00"}`,
		`{}`, `[]`, `null`, `"x"`, ``, `{"a":`, `{} {}`,
		"{\"timezone\":\"\xff\"}",
	} {
		f.Add([]byte(body))
	}
	now := time.Date(2026, time.March, 1, 23, 30, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, body []byte) {
		patch, errs := ParsePatch(body)
		if errs != nil {
			if len(errs) == 0 {
				t.Fatalf("expected nil rather than an empty error map")
			}
			codes(t, errs)
			if got := describePatch(patch); got != "" {
				t.Fatalf("expected an empty patch with errors, got %s", got)
			}
			return
		}
		if describePatch(patch) == "" {
			t.Fatalf("expected a non-empty patch without errors for %q", body)
		}

		p := DefaultProfile()
		before := p.clone()
		got := p.Apply(patch)
		if !reflect.DeepEqual(p, before) {
			t.Fatalf("expected the input to stay %+v, got %+v", before, p)
		}
		// Every field the patch sets has its value; the others keep p's.
		want := before
		if patch.CycleLength != nil {
			want.CycleLength = *patch.CycleLength
		}
		if patch.LastPeriodDate != nil {
			want.LastPeriodDate = *patch.LastPeriodDate
		}
		if patch.NotificationTime != nil {
			want.NotificationTime = *patch.NotificationTime
		}
		if patch.Timezone != nil {
			want.Timezone = *patch.Timezone
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("expected %+v, got %+v", want, got)
		}
		if verrs := got.Validate(now); verrs != nil {
			if len(verrs) == 0 {
				t.Fatalf("expected nil rather than an empty error map")
			}
			codes(t, verrs)
		}
	})
}
