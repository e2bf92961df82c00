package hooks

import (
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/config"
	"phaseflow/cycle"
	"phaseflow/migrations"
)

// ProfileFromRecord reads the cycle profile of a users record. It is the one place that maps the
// record to cycle.Profile; ProfileToRecord is its inverse.
func ProfileFromRecord(r *core.Record) cycle.Profile {
	p := cycle.Profile{
		CycleLength:      r.GetInt(migrations.FieldCycleLength),
		NotificationTime: r.GetString(migrations.FieldNotificationTime),
		Timezone:         r.GetString(migrations.FieldTimezone),
	}
	if dt := r.GetDateTime(migrations.FieldLastPeriodDate); !dt.IsZero() {
		d := cycle.DateOf(dt.Time().UTC())
		p.LastPeriodDate = &d
	}
	return p
}

// ProfileToRecord writes p into a users record.
func ProfileToRecord(p cycle.Profile, r *core.Record) {
	r.Set(migrations.FieldCycleLength, p.CycleLength)
	r.Set(migrations.FieldNotificationTime, p.NotificationTime)
	r.Set(migrations.FieldTimezone, p.Timezone)
	if p.LastPeriodDate == nil {
		r.Set(migrations.FieldLastPeriodDate, "")
	} else {
		r.Set(migrations.FieldLastPeriodDate, p.LastPeriodDate.String()+" 00:00:00.000Z")
	}
}

func bindProfile(app core.App, cfg config.Config) {
	// Defaults for every new account, however it is created (sign-up, OAuth2, admin UI, Go).
	app.OnRecordCreate(migrations.Users).BindFunc(func(e *core.RecordEvent) error {
		def := cycle.DefaultProfile()
		if e.Record.GetInt(migrations.FieldCycleLength) == 0 {
			e.Record.Set(migrations.FieldCycleLength, def.CycleLength)
		}
		if e.Record.GetString(migrations.FieldTimezone) == "" {
			e.Record.Set(migrations.FieldTimezone, def.Timezone)
		}
		if e.Record.GetString(migrations.FieldNotificationTime) == "" {
			e.Record.Set(migrations.FieldNotificationTime, def.NotificationTime)
		}
		if !cfg.RegistrationApproval {
			e.Record.Set(migrations.FieldApproved, true)
		}
		return e.Next()
	})

	// An account that becomes verified may have been pre-registered by someone else with the
	// owner's email; a calendar feed they made must not survive the owner's takeover.
	app.OnRecordUpdate(migrations.Users).BindFunc(func(e *core.RecordEvent) error {
		if e.Record.Verified() && !e.Record.Original().Verified() {
			e.Record.Set(migrations.FieldCalendarTokenHash, "")
		}
		return e.Next()
	})

	// Profile invariants hold on every write path: /api/user, PocketBase's record API, the admin
	// UI, batch requests and Go code.
	app.OnRecordValidate(migrations.Users).BindFunc(func(e *core.RecordEvent) error {
		if errs := ProfileFromRecord(e.Record).Validate(time.Now()); len(errs) > 0 {
			return ValidationErrors(errs)
		}
		return e.Next()
	})
}

// ValidationErrors converts the cycle package's field errors into PocketBase's validation errors,
// which the API renders as {"data": {field: {code, message}}}.
func ValidationErrors(errs map[string]error) validation.Errors {
	out := make(validation.Errors, len(errs))
	for field, err := range errs {
		code := "validation_invalid_value"
		if c, ok := err.(interface{ Code() string }); ok {
			code = c.Code()
		}
		out[field] = validation.NewError(code, err.Error())
	}
	return out
}
