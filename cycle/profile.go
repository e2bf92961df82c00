package cycle

import (
	"fmt"
	"time"
)

// JSON field names of the profile, used as keys of field error maps.
const (
	// FieldCycleLength is the JSON name of Profile.CycleLength.
	FieldCycleLength = "cycleLength"
	// FieldLastPeriodDate is the JSON name of Profile.LastPeriodDate.
	FieldLastPeriodDate = "lastPeriodDate"
	// FieldNotificationTime is the JSON name of Profile.NotificationTime.
	FieldNotificationTime = "notificationTime"
	// FieldTimezone is the JSON name of Profile.Timezone.
	FieldTimezone = "timezone"
	// FieldBody keys errors about the request body as a whole.
	FieldBody = "body"
)

// Profile is the cycle-relevant part of a user's profile.
type Profile struct {
	// CycleLength is the usual cycle length in days.
	CycleLength int
	// LastPeriodDate is the date the last period started; nil when unknown.
	LastPeriodDate *Date
	// NotificationTime is the daily notification time as "HH:MM" (24 h) in
	// Timezone; "" when unset, meaning no notifications.
	NotificationTime string
	// Timezone is the person's IANA time zone, such as "Europe/Berlin". It
	// decides which date is "today".
	Timezone string
}

// DefaultProfile returns the profile of a new user: a 28-day cycle, no last
// period date, time zone UTC and no notification time.
//
// Notifications are opt-in: they carry health information, so none is sent
// until the person picks a time.
func DefaultProfile() Profile {
	return Profile{
		CycleLength: DefaultCycleLength,
		Timezone:    DefaultTimezone,
	}
}

// clone returns a copy of p that shares no memory with it.
func (p Profile) clone() Profile {
	if p.LastPeriodDate != nil {
		d := *p.LastPeriodDate
		p.LastPeriodDate = &d
	}
	return p
}

// Validate checks every field of p and returns the problems keyed by JSON
// field name, or nil when p is valid. It is the one rule for a stored
// profile: callers that change a profile (see Apply) validate the result.
//
// The last period date may not be before MinDate nor after today in p's
// time zone at now. When the time zone itself is invalid, only dates that are
// in the future everywhere on Earth are reported, so that one mistake gives
// one error.
func (p Profile) Validate(now time.Time) map[string]error {
	errs := map[string]error{}
	if p.CycleLength < MinCycleLength || p.CycleLength > MaxCycleLength {
		errs[FieldCycleLength] = errCycleLengthRange
	}
	loc, tzErr := LoadZone(p.Timezone)
	if tzErr != nil {
		errs[FieldTimezone] = errTimezone
		if p.Timezone == "" {
			errs[FieldTimezone] = errRequired
		}
		// UTC+14 (Line Islands) is the earliest zone to reach any date.
		loc = time.FixedZone("UTC+14", 14*60*60)
	}
	if d := p.LastPeriodDate; d != nil {
		switch {
		case !d.Valid():
			errs[FieldLastPeriodDate] = errDate
		case d.Before(MinDate()):
			errs[FieldLastPeriodDate] = errDateTooEarly
		case d.After(DateOf(now.In(loc))):
			errs[FieldLastPeriodDate] = errFutureDate
		}
	}
	if p.NotificationTime != "" && !validClock(p.NotificationTime) {
		errs[FieldNotificationTime] = errClock
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// validClock reports whether s is "HH:MM" from 00:00 to 23:59, two digits each.
func validClock(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	h, okH := digits(s[:2])
	m, okM := digits(s[3:])
	return okH && okM && h <= 23 && m <= 59
}

// ----------------------------------------------------------------------------
// Field errors
// ----------------------------------------------------------------------------

// Error codes of FieldError, in PocketBase's validation_* style.
const (
	// CodeInvalidBody means the body is not exactly one JSON object.
	CodeInvalidBody = "validation_invalid_body"
	// CodeNothingToUpdate means a patch has no fields.
	CodeNothingToUpdate = "validation_nothing_to_update"
	// CodeUnknownField means a field is not part of the profile.
	CodeUnknownField = "validation_unknown_field"
	// CodeReadOnly means a field exists but cannot be changed here.
	CodeReadOnly = "validation_read_only"
	// CodeDuplicateField means a field appears more than once.
	CodeDuplicateField = "validation_duplicate_field"
	// CodeInvalidType means a value has the wrong JSON type.
	CodeInvalidType = "validation_invalid_type"
	// CodeRequired means a value that cannot be cleared is null or empty.
	CodeRequired = "validation_required"
	// CodeOutOfRange means the cycle length is outside its bounds.
	CodeOutOfRange = "validation_out_of_range"
	// CodeInvalidDate means a date is not a real YYYY-MM-DD date.
	CodeInvalidDate = "validation_invalid_date"
	// CodeDateTooEarly means the last period date is before MinDate.
	CodeDateTooEarly = "validation_date_too_early"
	// CodeFutureDate means the last period date is after today.
	CodeFutureDate = "validation_future_date"
	// CodeInvalidTime means a time is not HH:MM from 00:00 to 23:59.
	CodeInvalidTime = "validation_invalid_time"
	// CodeInvalidTimezone means a time zone is not an IANA name.
	CodeInvalidTimezone = "validation_invalid_timezone"
)

// FieldError is one problem with one field, as a machine-readable code and
// a message for people.
//
// Its Code and Error methods are what PocketBase reads when a plain
// map[string]error is passed as the data of an API error, giving
// {"field": {"code": …, "message": …}}.
type FieldError struct {
	code    string
	message string
}

// Code returns the machine-readable code, such as "validation_invalid_type".
func (e FieldError) Code() string { return e.code }

// Error returns the message for people, a full sentence ending in a period.
func (e FieldError) Error() string { return e.message }

var (
	errCycleLengthRange = FieldError{CodeOutOfRange,
		fmt.Sprintf("Must be between %d and %d days.", MinCycleLength, MaxCycleLength)}
	errDate         = FieldError{CodeInvalidDate, "Must be a real date in YYYY-MM-DD format."}
	errDateTooEarly = FieldError{CodeDateTooEarly, fmt.Sprintf("Must be on or after %s.", MinDate())}
	errFutureDate   = FieldError{CodeFutureDate, "Cannot be in the future."}
	errClock        = FieldError{CodeInvalidTime, "Must be a time from 00:00 to 23:59 in HH:MM format."}
	errTimezone     = FieldError{CodeInvalidTimezone, "Must be an IANA time zone name, such as Europe/Berlin."}
)
