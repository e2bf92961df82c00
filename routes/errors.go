package routes

import (
	"errors"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/users"
)

// msgSessionEnded answers a write whose session ended while it was in flight.
const msgSessionEnded = "Your session ended while the request was running; sign in again."

// writeError maps the error of a users.Update to an answer: an ended session is 401, invalid
// values are the client's (400 with the fields in data, under message), anything else is the
// server's (500, details only in the log).
func writeError(e *core.RequestEvent, message string, err error) error {
	var fields validation.Errors
	switch {
	case errors.Is(err, users.ErrSessionEnded):
		return e.UnauthorizedError(msgSessionEnded, nil)
	case errors.As(err, &fields):
		return e.BadRequestError(message, fields)
	}
	return e.InternalServerError("", err)
}
