package routes

import (
	"database/sql"
	"errors"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

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
	// Private data must not outlive sign-out in the browser's cache.
	e.Response.Header().Set("Cache-Control", "no-store")
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

// errSessionEnded reports that the caller's token was revoked while the request was in flight.
var errSessionEnded = errors.New("session ended during the request")

// updateUser re-reads the caller's record inside a transaction, applies change and saves it. The
// record the auth middleware loaded may be minutes old (a slow request body): saving it would
// write back stale columns and undo a concurrent password change or sign-out everywhere. A token
// key that changed meanwhile means the session was revoked, and nothing is written.
func updateUser(e *core.RequestEvent, message string, change func(fresh *core.Record) error) (*core.Record, error) {
	var saved *core.Record
	err := e.App.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(migrations.Users, e.Auth.Id)
		if err != nil {
			return err
		}
		if fresh.TokenKey() != e.Auth.TokenKey() {
			return errSessionEnded
		}
		if err := change(fresh); err != nil {
			return err
		}
		if err := tx.Save(fresh); err != nil {
			return err
		}
		saved = fresh
		return nil
	})
	switch {
	case err == nil:
		return saved, nil
	case errors.Is(err, errSessionEnded), errors.Is(err, sql.ErrNoRows):
		return nil, e.UnauthorizedError("Your session ended while the request was running; sign in again.", nil)
	}
	var apiErr *router.ApiError
	if errors.As(err, &apiErr) {
		return nil, apiErr
	}
	return nil, saveError(e, message, err)
}
