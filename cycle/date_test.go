package cycle

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestParseDate covers leap years (including the 100- and 400-year rules)
// and the near misses a lenient parser would accept: single digits, a time
// part, surrounding spaces, signs and non-ASCII digits.
func TestParseDate(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name    string
		input   string
		want    Date
		wantErr bool
	}{
		{"ordinary date", "2024-01-05", Date{2024, time.January, 5}, false},
		{"leap day in a leap year", "2024-02-29", Date{2024, time.February, 29}, false},
		{"leap day in a year divisible by 400", "2000-02-29", Date{2000, time.February, 29}, false},
		{"leap day in a common year", "2023-02-29", Date{}, true},
		{"leap day in a century that is not a leap year", "2100-02-29", Date{}, true},
		{"last day of the year", "2025-12-31", Date{2025, time.December, 31}, false},
		{"first supported year", "0001-01-01", Date{1, time.January, 1}, false},
		{"the day before MinDate", "1899-12-31", Date{1899, time.December, 31}, false},
		{"MinDate", "1900-01-01", Date{1900, time.January, 1}, false},
		{"last supported day", "9999-12-31", Date{9999, time.December, 31}, false},
		{"year zero", "0000-01-01", Date{}, true},
		{"April 31st", "2024-04-31", Date{}, true},
		{"month 13", "2024-13-01", Date{}, true},
		{"month zero", "2024-00-10", Date{}, true},
		{"day zero", "2024-01-00", Date{}, true},
		{"day 32", "2024-01-32", Date{}, true},
		{"single digit month", "2024-1-05", Date{}, true},
		{"single digit day", "2024-01-5", Date{}, true},
		{"with a time", "2024-01-05T00:00:00Z", Date{}, true},
		{"leading space", " 2024-01-05", Date{}, true},
		{"trailing space", "2024-01-05 ", Date{}, true},
		{"slashes", "2024/01/05", Date{}, true},
		{"signed month", "2024-+1-05", Date{}, true},
		{"signed day", "2024-01-+5", Date{}, true},
		{"signed year", "+024-01-05", Date{}, true},
		{"negative year", "-024-01-05", Date{}, true},
		{"space inside the month", "2024- 1-05", Date{}, true},
		{"space inside the day", "2024-01- 5", Date{}, true},
		{"month name", "2024-Jan-05", Date{}, true},
		{"three digit day", "2024-01-005", Date{}, true},
		{"five digit year", "12024-01-05", Date{}, true},
		{"empty", "", Date{}, true},
		{"non-ASCII digits", "２０２４-01-05", Date{}, true},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDate(s.input)
			if (err != nil) != s.wantErr {
				t.Fatalf("expected error %v, got %v", s.wantErr, err)
			}
			if err != nil && !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("expected ErrInvalidDate, got %v", err)
			}
			if got != s.want {
				t.Fatalf("expected %v, got %v", s.want, got)
			}
			if err == nil && got.String() != s.input {
				t.Fatalf("expected String() %q, got %q", s.input, got.String())
			}
		})
	}
}

// TestDateSubAcrossDSTChanges counts days across the spring and autumn DST
// changes of New York and Berlin, where the hours between two local
// midnights are 23 or 25 and dividing a duration by 24 h would be wrong.
func TestDateSubAcrossDSTChanges(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name string
		zone string
		from Date
		to   Date
		want int
		// dst says the two local midnights are not a whole number of
		// days apart, so the scenario really crosses a DST change.
		dst bool
	}{
		{"New York spring forward", "America/New_York", Date{2026, time.March, 7}, Date{2026, time.March, 9}, 2, true},
		{"New York fall back", "America/New_York", Date{2026, time.October, 31}, Date{2026, time.November, 2}, 2, true},
		{"Berlin spring forward", "Europe/Berlin", Date{2026, time.March, 28}, Date{2026, time.March, 30}, 2, true},
		{"Berlin fall back", "Europe/Berlin", Date{2026, time.October, 24}, Date{2026, time.October, 26}, 2, true},
		{"whole year across both changes", "Europe/Berlin", Date{2026, time.January, 1}, Date{2027, time.January, 1}, 365, false},
		{"leap year", "UTC", Date{2024, time.January, 1}, Date{2025, time.January, 1}, 366, false},
		{"backwards is negative", "UTC", Date{2026, time.March, 9}, Date{2026, time.March, 7}, -2, false},
		{"same day", "UTC", Date{2026, time.March, 9}, Date{2026, time.March, 9}, 0, false},
		{"beyond time.Duration's range", "UTC", Date{1, time.January, 1}, Date{9999, time.December, 31}, 3652058, false},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			if got := s.to.Sub(s.from); got != s.want {
				t.Fatalf("expected %d, got %d", s.want, got)
			}
			if got := s.from.AddDays(s.want); got != s.to {
				t.Fatalf("expected AddDays to give %v, got %v", s.to, got)
			}
			loc, err := LoadZone(s.zone)
			if err != nil {
				t.Fatal(err)
			}
			if s.want < 1000 {
				hours := s.to.In(loc).Sub(s.from.In(loc)).Hours()
				if dst := hours != float64(24*s.want); dst != s.dst {
					t.Fatalf("expected DST change %v, got %v hours", s.dst, hours)
				}
			}
			if got := DateOf(s.to.In(loc)).Sub(DateOf(s.from.In(loc))); got != s.want {
				t.Fatalf("expected %d, got %d", s.want, got)
			}
		})
	}
}

// TestToday checks that "today" is the date in the person's zone, not the
// server's, around midnight and month ends; and that zones a server might
// resolve on its own ("", "Local", a path) are refused.
func TestToday(t *testing.T) {
	t.Parallel()

	scenarios := []struct {
		name    string
		now     string
		zone    string
		want    string
		wantErr bool
	}{
		{"late evening UTC is the next day in Auckland", "2026-03-01T23:30:00Z", "Pacific/Auckland", "2026-03-02", false},
		{"late evening UTC in UTC", "2026-03-01T23:30:00Z", "UTC", "2026-03-01", false},
		{"early UTC morning is the previous day in Los Angeles", "2026-03-01T05:00:00Z", "America/Los_Angeles", "2026-02-28", false},
		{"February 28th rolls to March 1st in a common year", "2026-02-28T23:30:00Z", "Europe/Berlin", "2026-03-01", false},
		{"February 28th stays in UTC", "2026-02-28T23:30:00Z", "UTC", "2026-02-28", false},
		{"February 29th in a leap year", "2028-02-28T23:30:00Z", "Europe/Berlin", "2028-02-29", false},
		{"the time zone of now is ignored", "2026-03-01T23:30:00+09:00", "UTC", "2026-03-01", false},
		{"unknown zone", "2026-03-01T12:00:00Z", "Mars/Olympus_Mons", "", true},
		{"empty zone", "2026-03-01T12:00:00Z", "", "", true},
		{"the server's Local zone", "2026-03-01T12:00:00Z", "Local", "", true},
		{"path traversal", "2026-03-01T12:00:00Z", "../../etc/passwd", "", true},
	}

	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			now, err := time.Parse(time.RFC3339, s.now)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Today(now, s.zone)
			if (err != nil) != s.wantErr {
				t.Fatalf("expected error %v, got %v", s.wantErr, err)
			}
			if err != nil {
				if !errors.Is(err, ErrInvalidTimezone) {
					t.Fatalf("expected ErrInvalidTimezone, got %v", err)
				}
				return
			}
			if got.String() != s.want {
				t.Fatalf("expected %s, got %s", s.want, got)
			}
		})
	}
}

// TestDateCompare checks the ordering helpers, which Predict and Validate
// rely on, and that impossible dates are not Valid.
func TestDateCompare(t *testing.T) {
	t.Parallel()

	a := Date{2026, time.March, 1}
	b := Date{2026, time.February, 28}
	if !b.Before(a) || a.Before(b) || a.Before(a) {
		t.Fatalf("expected %v before %v only", b, a)
	}
	if !a.After(b) || b.After(a) || a.After(a) {
		t.Fatalf("expected %v after %v only", a, b)
	}
	if !(Date{}).IsZero() || a.IsZero() {
		t.Fatalf("expected only the zero Date to be zero")
	}
	if (Date{}).Valid() || (Date{2026, time.February, 30}).Valid() {
		t.Fatalf("expected the zero Date and February 30th to be invalid")
	}
}

// TestDateJSON checks that a *Date marshals as the "YYYY-MM-DD" string the
// HTTP contract promises and refuses an impossible date on the way in.
func TestDateJSON(t *testing.T) {
	t.Parallel()

	d := Date{2024, time.February, 29}
	b, err := json.Marshal(struct{ D *Date }{&d})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"D":"2024-02-29"}` {
		t.Fatalf("expected %s, got %s", `{"D":"2024-02-29"}`, b)
	}
	var back struct{ D *Date }
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.D == nil || *back.D != d {
		t.Fatalf("expected %v, got %v", d, back.D)
	}
	if err := json.Unmarshal([]byte(`{"D":"2023-02-29"}`), &back); err == nil {
		t.Fatalf("expected an error for 2023-02-29")
	}
}

// FuzzParseDate checks that every accepted string is exactly what String
// prints back, so ParseDate accepts one spelling per date and nothing else.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"2024-01-05", "2024-02-29", "2023-02-29", "2000-02-29", "2100-02-29",
		"0001-01-01", "9999-12-31", "0000-00-00", "2024-1-05", " 2024-01-05",
		"2024-01-05T00:00:00Z", "-024-01-05", "2024-+1-05", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if d != (Date{}) {
				t.Fatalf("expected the zero Date with an error, got %v", d)
			}
			return
		}
		if !d.Valid() {
			t.Fatalf("expected a valid date from %q, got %v", s, d)
		}
		if d.String() != s {
			t.Fatalf("expected %q, got %q", s, d.String())
		}
		again, err := ParseDate(d.String())
		if err != nil || again != d {
			t.Fatalf("expected %v, got %v (%v)", d, again, err)
		}
		if got := d.AddDays(1).Sub(d); got != 1 {
			t.Fatalf("expected 1 day to the next date, got %d", got)
		}
	})
}
