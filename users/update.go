package users

import (
	"database/sql"
	"errors"

	"github.com/pocketbase/pocketbase/core"
)

// ErrSessionEnded reports that the caller's session was ended (sign-out everywhere, a password
// or email change) while the request was in flight, or that the account is gone.
var ErrSessionEnded = errors.New("the session ended during the request")

// Update re-reads the account of auth inside a transaction, applies change to the fresh copy and
// saves it. The record the auth middleware loaded may be minutes old (a slow request body):
// saving it would write back stale columns and undo a concurrent password change or sign-out
// everywhere. A token key that changed meanwhile means the session was ended, and nothing is
// written: Update returns ErrSessionEnded. Errors of change and of the save (validation.Errors
// for invalid values) are returned as they are, for the caller to map to an answer.
func Update(app core.App, auth *core.Record, change func(fresh *core.Record) error) (*core.Record, error) {
	var saved *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		fresh, err := tx.FindRecordById(Collection, auth.Id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrSessionEnded
		}
		if err != nil {
			return err
		}
		if fresh.TokenKey() != auth.TokenKey() {
			return ErrSessionEnded
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
	if err != nil {
		return nil, err
	}
	return saved, nil
}
