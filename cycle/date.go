package cycle

import (
	"cmp"
	"errors"
	"fmt"
	"strings"
	"time"

	// Embedded IANA data, so time zones resolve on a machine (or container)
	// without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// DefaultTimezone is the time zone of a profile that has not chosen one.
const DefaultTimezone = "UTC"

// Date is a calendar date without a time zone.
//
// The zero Date is not a real date; see IsZero and Valid.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ErrInvalidDate is returned by ParseDate for text that is not a real
// calendar date in the form YYYY-MM-DD.
var ErrInvalidDate = errors.New("cycle: invalid date")

// ParseDate parses a strict "YYYY-MM-DD" date (years 0001 to 9999).
//
// Nothing else is accepted: no surrounding spaces, no time part, no single
// digit months or days, and the date must exist (2023-02-29 does not). It
// checks syntax and existence only; how early a profile's date may be is
// Profile.Validate's rule (see MinDate).
func ParseDate(s string) (Date, error) {
	// time.DateOnly takes exactly four year digits and two month and day
	// digits, no sign and nothing around them, and checks the day exists.
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q is not a real date in YYYY-MM-DD format", ErrInvalidDate, s)
	}
	d := DateOf(t)
	// time.Parse takes year 0000 too.
	if !d.Valid() {
		return Date{}, fmt.Errorf("%w: %q is before 0001-01-01", ErrInvalidDate, s)
	}
	return d, nil
}

// MinDate returns the earliest last period date Profile.Validate accepts,
// 1900-01-01. PocketBase stores the zero time (0001-01-01) as an empty date,
// which would silently clear the field, and no real last period is older.
func MinDate() Date {
	return Date{Year: 1900, Month: time.January, Day: 1}
}

// digits parses s as an unsigned decimal made only of ASCII digits
// (strconv.Atoi would also take a sign, and time.Parse's "15" a single digit
// hour).
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// Today returns the date of now in the IANA time zone tz.
//
// tz follows the same rules as a profile's timezone (see LoadZone).
func Today(now time.Time, tz string) (Date, error) {
	loc, err := LoadZone(tz)
	if err != nil {
		return Date{}, err
	}
	return DateOf(now.In(loc)), nil
}

// ErrInvalidTimezone is returned by LoadZone for a name that is not an IANA
// time zone.
var ErrInvalidTimezone = errors.New("cycle: invalid time zone")

// LoadZone loads the IANA time zone name, such as "Europe/Berlin" or "UTC".
//
// Unlike time.LoadLocation it rejects "" and "Local" (both mean "whatever the
// server uses", which is not a user's zone) and names with characters that
// never occur in the IANA database, before touching the file system.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || !zoneChars(name) {
		return nil, fmt.Errorf("%w: %q", ErrInvalidTimezone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrInvalidTimezone, name, err)
	}
	return loc, nil
}

func zoneChars(name string) bool {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return false
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/', c == '_', c == '-', c == '+':
		default:
			return false
		}
	}
	return true
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// MarshalText encodes the date as "YYYY-MM-DD", so JSON shows a plain string.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("%w: %s", ErrInvalidDate, d)
	}
	return []byte(d.String()), nil
}

// UnmarshalText decodes a strict "YYYY-MM-DD" date, as ParseDate does.
func (d *Date) UnmarshalText(text []byte) error {
	parsed, err := ParseDate(string(text))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// Valid reports whether d is a real calendar date in the years 0001 to 9999.
func (d Date) Valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	return DateOf(d.midnight()) == d
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool {
	return d == Date{}
}

// AddDays returns the date n days after d (before d when n is negative).
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Sub returns the number of days from o to d (negative when d is before o).
//
// It counts calendar days, so a DST change in between does not matter.
func (d Date) Sub(o Date) int {
	// Whole seconds between two UTC midnights are an exact multiple of a
	// day; time.Duration would overflow beyond 292 years.
	return int((d.midnight().Unix() - o.midnight().Unix()) / secondsPerDay)
}

const secondsPerDay = 24 * 60 * 60

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return cmp.Compare(d.Year, o.Year)
	case d.Month != o.Month:
		return cmp.Compare(d.Month, o.Month)
	default:
		return cmp.Compare(d.Day, o.Day)
	}
}

// In returns midnight at the start of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

func (d Date) midnight() time.Time {
	return d.In(time.UTC)
}
