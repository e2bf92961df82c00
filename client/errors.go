package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Error is an answer outside 2xx, in PocketBase's shape {"status", "message", "data"}. Use
// errors.As to read it.
type Error struct {
	// Status is the HTTP status code of the answer.
	Status int
	// Message is the server's message, a sentence for people ("" when the answer had none).
	Message string
	// Data holds the field errors by field name (for example "cycleLength"); nil when there are
	// none.
	Data map[string]FieldError
}

// FieldError is the problem with one field of a request.
type FieldError struct {
	// Code is a stable, machine-readable code such as "validation_out_of_range".
	Code string `json:"code"`
	// Message is the problem, a sentence for people.
	Message string `json:"message"`
}

// Error returns the status, the message and the field errors in field order.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "server answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if len(e.Data) > 0 {
		fields := make([]string, 0, len(e.Data))
		for name := range e.Data {
			fields = append(fields, name)
		}
		slices.Sort(fields)
		b.WriteString(" (")
		for i, name := range fields {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s: %s", name, e.Data[name].Message)
		}
		b.WriteString(")")
	}
	return b.String()
}

// MFARequiredError reports that the first factor was right and the account needs a second
// one: repeat the sign-in with another method (usually RequestOTP and AuthWithOTP) and
// WithMFA(MFAID). The server answers 401 {"mfaId": …}; the MFAID expires after the collection's
// MFA duration (10 minutes by default).
type MFARequiredError struct {
	// MFAID identifies the half-finished sign-in.
	MFAID string
}

// Error says that a second factor is needed; it does not include the MFAID.
func (e *MFARequiredError) Error() string {
	return "a second sign-in factor is required"
}

// StatusCode returns the HTTP status of an *Error in err's chain, or 0 when there is none (a
// network failure, or an *MFARequiredError).
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsUnauthorized reports whether err is a 401 answer: no token, or one that expired or was
// revoked. Sign in again.
func IsUnauthorized(err error) bool {
	return StatusCode(err) == http.StatusUnauthorized
}

// decodeError turns an answer outside 2xx into an *Error or an *MFARequiredError.
func decodeError(res *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(res.Body, maxResponseBody))
	var body struct {
		Message string                     `json:"message"`
		Data    map[string]json.RawMessage `json:"data"`
		MFAID   string                     `json:"mfaId"`
	}
	// An answer that is not PocketBase's JSON (a proxy's HTML page) still yields its status.
	_ = json.Unmarshal(raw, &body)
	if res.StatusCode == http.StatusUnauthorized && body.MFAID != "" {
		return &MFARequiredError{MFAID: body.MFAID}
	}
	e := &Error{Status: res.StatusCode, Message: body.Message}
	for name, v := range body.Data {
		var fe FieldError
		if json.Unmarshal(v, &fe) != nil || fe.Code == "" && fe.Message == "" {
			continue // not a field error (PocketBase nests other data here)
		}
		if e.Data == nil {
			e.Data = map[string]FieldError{}
		}
		e.Data[name] = fe
	}
	return e
}
