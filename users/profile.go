package users

import (
	"errors"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/cycle"
)

// Profile is the account as GET /api/user shows it: exactly these fields, in this order.
type Profile struct {
	ID               string  `json:"id"`
	Email            string  `json:"email"`
	GarminConnected  bool    `json:"garminConnected"`
	CycleLength      int     `json:"cycleLength"`
	LastPeriodDate   *string `json:"lastPeriodDate"`
	NotificationTime string  `json:"notificationTime"`
	Timezone         string  `json:"timezone"`
}

// ProfileOf returns the /api/user view of a users record.
func ProfileOf(r *core.Record) Profile {
	p := Cycle(r)
	out := Profile{
		ID:               r.Id,
		Email:            r.Email(),
		GarminConnected:  r.GetBool(FieldGarminConnected),
		CycleLength:      p.CycleLength,
		NotificationTime: p.NotificationTime,
		Timezone:         p.Timezone,
	}
	if p.LastPeriodDate != nil {
		s := p.LastPeriodDate.String()
		out.LastPeriodDate = &s
	}
	return out
}

// Cycle reads the cycle profile of a users record. It is the one place that maps the record to
// cycle.Profile; SetCycle is its inverse.
func Cycle(r *core.Record) cycle.Profile {
	p := cycle.Profile{
		CycleLength:      r.GetInt(FieldCycleLength),
		NotificationTime: r.GetString(FieldNotificationTime),
		Timezone:         r.GetString(FieldTimezone),
	}
	if dt := r.GetDateTime(FieldLastPeriodDate); !dt.IsZero() {
		d := cycle.DateOf(dt.Time().UTC())
		p.LastPeriodDate = &d
	}
	return p
}

// SetCycle writes p into a users record. Dates are stored as midnight UTC.
func SetCycle(r *core.Record, p cycle.Profile) {
	r.Set(FieldCycleLength, p.CycleLength)
	r.Set(FieldNotificationTime, p.NotificationTime)
	r.Set(FieldTimezone, p.Timezone)
	if p.LastPeriodDate == nil {
		r.Set(FieldLastPeriodDate, "")
	} else {
		r.Set(FieldLastPeriodDate, p.LastPeriodDate.In(time.UTC))
	}
}

// SetDefaults gives a new account the profile defaults, however it is created (sign-up, OAuth2,
// the admin UI, Go). With approval off, new accounts are approved at once. It is an
// OnRecordCreate handler.
func SetDefaults(e *core.RecordEvent, approval bool) error {
	def := cycle.DefaultProfile()
	if e.Record.GetInt(FieldCycleLength) == 0 {
		e.Record.Set(FieldCycleLength, def.CycleLength)
	}
	if e.Record.GetString(FieldTimezone) == "" {
		e.Record.Set(FieldTimezone, def.Timezone)
	}
	if e.Record.GetString(FieldNotificationTime) == "" {
		e.Record.Set(FieldNotificationTime, def.NotificationTime)
	}
	if !approval {
		e.Record.Set(FieldApproved, true)
	}
	return e.Next()
}

// Validate is the one check of the profile invariants (cycle.Profile.Validate), on every write
// path: /api/user, PocketBase's record API, the admin UI, batch requests and Go code. It is an
// OnRecordValidate handler; the problems leave Save as validation.Errors, which PocketBase's API
// renders as {"data": {field: {code, message}}}.
func Validate(e *core.RecordEvent) error {
	if errs := Cycle(e.Record).Validate(time.Now()); len(errs) > 0 {
		return ValidationErrors(errs)
	}
	return e.Next()
}

// ValidationErrors converts the cycle package's field errors into PocketBase's validation errors.
func ValidationErrors(errs map[string]error) validation.Errors {
	out := make(validation.Errors, len(errs))
	for field, err := range errs {
		code := "validation_invalid_value"
		var coded interface{ Code() string }
		if errors.As(err, &coded) {
			code = coded.Code()
		}
		out[field] = validation.NewError(code, err.Error())
	}
	return out
}

// ClearFeedOnVerification removes the calendar feed of an account that becomes verified: the
// account may have been pre-registered by someone else with the owner's email, and a feed they
// made must not survive the owner's takeover. It is an OnRecordUpdate handler.
func ClearFeedOnVerification(e *core.RecordEvent) error {
	if e.Record.Verified() && !e.Record.Original().Verified() {
		e.Record.Set(FieldCalendarTokenHash, "")
	}
	return e.Next()
}

// EndSessionsOnAccessChange rotates the token key of an account that becomes verified (its
// pre-registrant, if any, must lose every session) or loses its approval, so every token of the
// account stops working in the same save. A password or email change rotates it already
// (PocketBase). It is an OnRecordUpdate handler; the sessions rows follow the key.
func EndSessionsOnAccessChange(e *core.RecordEvent) error {
	old := e.Record.Original()
	verifiedNow := e.Record.Verified() && !old.Verified()
	approvalRevoked := !e.Record.GetBool(FieldApproved) && old.GetBool(FieldApproved)
	if (verifiedNow || approvalRevoked) && e.Record.TokenKey() == old.TokenKey() {
		e.Record.RefreshTokenKey()
	}
	return e.Next()
}
