package migrations

import (
	"fmt"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"phaseflow/audit"
	"phaseflow/signup"
	"phaseflow/throttle"
	"phaseflow/users"
)

// Credentials that hold against an attacker: the auth_locks collection (failed sign-ins per
// account, superusers only; deleting a row unlocks), the signups collection (sign-ups waiting
// for their emailed code), the audit values of locks, password changes and sign-up, and emails
// in lower case (collisions are reported and left as they are).
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection(throttle.LocksCollection)
		c.Fields.Add(
			&core.TextField{Name: throttle.FieldKey, Required: true, Max: 400, Help: "Collection id and email (lower case) of the identity tried."},
			&core.NumberField{Name: throttle.FieldFailures, OnlyInt: true, Help: "Failures in the current 15-minute window."},
			&core.DateField{Name: throttle.FieldWindowStart},
			&core.NumberField{Name: throttle.FieldConsecutive, OnlyInt: true, Help: "Failures in a row (a lock at 100 at the latest)."},
			&core.NumberField{Name: throttle.FieldLocks, OnlyInt: true, Help: "Locks in a row: each doubles the next, 15 minutes to 24 hours."},
			&core.DateField{Name: throttle.FieldLockedUntil},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_auth_locks_key", true, throttle.FieldKey, "")
		if err := app.Save(c); err != nil {
			return err
		}
		if err := signupsCollection(app); err != nil {
			return err
		}
		if err := setSelectValues(app, audit.Collection, audit.FieldMethod, append(methodsV1(),
			"oidc_unlink", "logout", "session_end", "logout_others",
			"account_lock", "password_change", "signup", "signup_request", "email_change_request")); err != nil {
			return err
		}
		if err := setSelectValues(app, audit.Collection, audit.FieldOutcome, []string{
			"success", "failure", "rate_limited", "mfa_required", "locked"}); err != nil {
			return err
		}
		return lowerCaseEmails(app)
	}, func(app core.App) error {
		for _, name := range []string{throttle.LocksCollection, signup.Collection} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		if err := setSelectValues(app, audit.Collection, audit.FieldOutcome, []string{
			"success", "failure", "rate_limited", "mfa_required"}); err != nil {
			return err
		}
		return setSelectValues(app, audit.Collection, audit.FieldMethod, append(methodsV1(),
			"oidc_unlink", "logout", "session_end", "logout_others"))
	})
}

// lowerCaseEmails stores every account's email in lower case. Two accounts whose emails differ
// only in case cannot both be lowered: they are reported in the log and left for the operator.
func lowerCaseEmails(app core.App) error {
	var rows []struct {
		ID    string `db:"id"`
		Email string `db:"email"`
	}
	err := app.DB().NewQuery("SELECT [[id]], [[email]] FROM {{" + users.Collection + "}} WHERE [[email]] != lower([[email]])").All(&rows)
	if err != nil {
		return err
	}
	var collisions []string
	for _, r := range rows {
		lower := strings.ToLower(r.Email)
		var taken int
		if err := app.DB().NewQuery("SELECT count(*) FROM {{" + users.Collection + "}} WHERE [[email]] = {:e} AND [[id]] != {:id}").
			Bind(dbx.Params{"e": lower, "id": r.ID}).Row(&taken); err != nil {
			return err
		}
		if taken > 0 {
			collisions = append(collisions, fmt.Sprintf("%s (%s)", r.Email, r.ID))
			continue
		}
		if _, err := app.DB().Update(users.Collection, dbx.Params{"email": lower}, dbx.HashExp{"id": r.ID}).Execute(); err != nil {
			return err
		}
	}
	if len(collisions) > 0 {
		app.Logger().Warn("Accounts whose emails differ only in case were left as they are; merge or rename them in the admin UI",
			"accounts", strings.Join(collisions, ", "))
	}
	return nil
}

// signupsCollection is the pending sign-ups (superusers only).
func signupsCollection(app core.App) error {
	c := core.NewBaseCollection(signup.Collection)
	c.Fields.Add(
		&core.EmailField{Name: signup.FieldEmail, Required: true},
		&core.TextField{Name: signup.FieldCodeHash, Hidden: true, Required: true, Max: 64},
		&core.DateField{Name: signup.FieldExpires, Required: true},
		&core.NumberField{Name: signup.FieldAttempts, OnlyInt: true},
		&core.BoolField{Name: signup.FieldDecoy, Help: "The address already had an account: no code completes this sign-up."},
		&core.AutodateField{Name: "created", OnCreate: true},
	)
	c.AddIndex("idx_signups_expires", false, signup.FieldExpires, "")
	return app.Save(c)
}
