package routes

import (
	"errors"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/migrations"
)

// requireUser allows only a signed-in user (users collection) through. The token comes from the
// Authorization header alone: PocketBase does not read cookies, so a cookie cannot drive these
// routes (no CSRF surface).
func requireUser(e *core.RequestEvent) error {
	if e.Auth == nil {
		return e.UnauthorizedError("Sign in first: this endpoint needs a valid user token in the Authorization header.", nil)
	}
	if e.Auth.Collection().Name != migrations.Users {
		return e.ForbiddenError("Only user accounts have a profile; superuser tokens are not accepted here.", nil)
	}
	return e.Next()
}

// saveError answers a failed save: field validation problems are the client's (400, with the
// fields in data); anything else is the server's (500, details only in the log).
func saveError(e *core.RequestEvent, message string, err error) error {
	var fields validation.Errors
	if errors.As(err, &fields) {
		return e.BadRequestError(message, fields)
	}
	return e.InternalServerError("", err)
}
