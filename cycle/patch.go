package cycle

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// Patch is a validated-syntax partial update; nil fields are absent.
//
// ParsePatch fills it from a PATCH /api/user body, Profile.Apply merges it
// into a profile and Profile.Validate checks the meaning of the result.
type Patch struct {
	// CycleLength sets the cycle length in days.
	CycleLength *int
	// LastPeriodDate sets the last period date when it points to a non-nil
	// *Date and clears it (JSON null) when it points to nil.
	LastPeriodDate **Date
	// NotificationTime sets the notification time; "" (JSON null or "")
	// clears it.
	NotificationTime *string
	// Timezone sets the IANA time zone.
	Timezone *string
}

// readOnlyFields are fields of the user record (see GET /api/user and
// PocketBase's auth collection) that exist but this endpoint never changes;
// naming them tells a client more than "unknown field".
var readOnlyFields = map[string]bool{
	"id":                true,
	"collectionId":      true,
	"collectionName":    true,
	"email":             true,
	"emailVisibility":   true,
	"verified":          true,
	"password":          true,
	"passwordConfirm":   true,
	"oldPassword":       true,
	"tokenKey":          true,
	"created":           true,
	"updated":           true,
	"garminConnected":   true,
	"mfa":               true,
	"approved":          true,
	"calendarTokenHash": true,
}

var (
	errBodyNotObject   = FieldError{CodeInvalidBody, "Body must be one JSON object."}
	errBodyInvalidJSON = FieldError{CodeInvalidBody, "Body must be valid JSON."}
	errNothingToUpdate = FieldError{CodeNothingToUpdate, "Nothing to update."}
	errUnknownField    = FieldError{CodeUnknownField, "Unknown field."}
	errReadOnly        = FieldError{CodeReadOnly, "This field cannot be changed."}
	errDuplicateField  = FieldError{CodeDuplicateField, "This field appears more than once."}
	errRequired        = FieldError{CodeRequired, "Cannot be blank."}

	errCycleLengthType      = FieldError{CodeInvalidType, "Must be a whole number of days."}
	errLastPeriodDateType   = FieldError{CodeInvalidType, "Must be a date string in YYYY-MM-DD format, or null."}
	errNotificationTimeType = FieldError{CodeInvalidType, "Must be a time string in HH:MM format, or null."}
	errTimezoneType         = FieldError{CodeInvalidType, "Must be a time zone name string."}
)

// ParsePatch reads the JSON body of PATCH /api/user and checks its syntax and
// value types, returning problems keyed by JSON field name ("body" for the
// body as a whole), or nil when there are none.
//
// The body must be exactly one JSON object with at least one field. Field
// names match exactly (case-sensitive) and may appear once. Unknown and
// read-only fields are errors rather than being ignored, so a typo never
// looks like a successful update. Ranges, formats of strings other than the
// date, and whether the date is too early or in the future are left to
// Profile.Validate.
func ParsePatch(body []byte) (Patch, map[string]error) {
	var patch Patch
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()

	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return Patch{}, bodyError(errBodyInvalidJSON)
		}
		return Patch{}, bodyError(errBodyNotObject)
	}

	errs := map[string]error{}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return Patch{}, bodyError(errBodyInvalidJSON)
		}
		// Inside an object the decoder only yields string keys here.
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return Patch{}, bodyError(errBodyInvalidJSON)
		}
		if seen[key] {
			errs[key] = errDuplicateField
			continue
		}
		seen[key] = true
		if err := patch.set(key, bytes.TrimSpace(raw)); err != nil {
			errs[key] = err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return Patch{}, bodyError(errBodyInvalidJSON)
	}
	if _, err := dec.Token(); err != io.EOF {
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return Patch{}, bodyError(errBodyInvalidJSON)
		}
		return Patch{}, bodyError(errBodyNotObject)
	}

	if len(seen) == 0 {
		return Patch{}, bodyError(errNothingToUpdate)
	}
	if len(errs) > 0 {
		return Patch{}, errs
	}
	return patch, nil
}

func bodyError(err FieldError) map[string]error {
	return map[string]error{FieldBody: err}
}

// set decodes the raw JSON value of the field key into the patch.
func (p *Patch) set(key string, raw json.RawMessage) error {
	switch key {
	case FieldCycleLength:
		switch kind(raw) {
		case 'n':
			return errRequired
		case '0':
			// A JSON number is an integer when it has no fraction or
			// exponent; 28.0 is rejected too, as no client sends it.
			if bytes.ContainsAny(raw, ".eE") {
				return errCycleLengthType
			}
			n, err := strconv.Atoi(string(raw))
			if err != nil {
				return errCycleLengthRange // too many digits for an int
			}
			p.CycleLength = &n
			return nil
		}
		return errCycleLengthType

	case FieldLastPeriodDate:
		switch kind(raw) {
		case 'n':
			var none *Date
			p.LastPeriodDate = &none
			return nil
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return errLastPeriodDateType
			}
			d, err := ParseDate(s)
			if err != nil {
				return errDate
			}
			// The store keeps no earlier date (year 0001 reads back as "no date"): refuse it
			// here, while the value is still the one the client sent.
			if d.Before(MinDate()) {
				return errDateTooEarly
			}
			pd := &d
			p.LastPeriodDate = &pd
			return nil
		}
		return errLastPeriodDateType

	case FieldNotificationTime:
		switch kind(raw) {
		case 'n':
			p.NotificationTime = new("")
			return nil
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return errNotificationTimeType
			}
			p.NotificationTime = &s
			return nil
		}
		return errNotificationTimeType

	case FieldTimezone:
		switch kind(raw) {
		case 'n':
			return errRequired
		case '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return errTimezoneType
			}
			p.Timezone = &s
			return nil
		}
		return errTimezoneType
	}

	if readOnlyFields[key] {
		return errReadOnly
	}
	return errUnknownField
}

// kind classifies a syntactically valid JSON value by its first byte: 'n' for
// null, '"' for a string, '0' for a number, and the byte itself otherwise.
func kind(raw json.RawMessage) byte {
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; {
	case c == '-' || (c >= '0' && c <= '9'):
		return '0'
	default:
		return c
	}
}

// Apply returns p with the fields that patch sets replaced by the patch's
// values. The result shares no memory with p or with patch.
//
// Apply does not validate: the caller checks the result once with Validate
// (the app does on every write of a profile), so that, for instance, the last
// period date is judged in the time zone the same patch sets, and a stored
// date that a new time zone turns into a future one is refused.
func (p Profile) Apply(patch Patch) Profile {
	next := p.clone()
	if patch.CycleLength != nil {
		next.CycleLength = *patch.CycleLength
	}
	if patch.LastPeriodDate != nil {
		next.LastPeriodDate = nil
		if d := *patch.LastPeriodDate; d != nil {
			date := *d
			next.LastPeriodDate = &date
		}
	}
	if patch.NotificationTime != nil {
		next.NotificationTime = *patch.NotificationTime
	}
	if patch.Timezone != nil {
		next.Timezone = *patch.Timezone
	}
	return next
}
