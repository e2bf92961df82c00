package routes

import (
	"encoding/json"
	"errors"
	"io"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"phaseflow/audit"
	"phaseflow/passwords"
	"phaseflow/throttle"
	"phaseflow/users"
)

// msgNeedPresence asks for proof of presence.
const msgNeedPresence = "Confirm it is you: enter your password, or sign in again and try within 10 minutes."

// presenceBody is the optional body of an action that needs proof of presence.
type presenceBody struct {
	Password string `json:"password"`
}

// requirePresence checks proof of presence for a sensitive action whose body is empty or
// {"password": "…"}; see provePresence.
func requirePresence(e *core.RequestEvent, limits throttle.Limits, method string) error {
	var in presenceBody
	dec := json.NewDecoder(e.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		return e.BadRequestError(`Send nothing, or {"password": "…"}.`, nil)
	}
	return provePresence(e, limits, method, "password", in.Password)
}

// provePresence checks proof of presence: a password that is sent (in the body's field) must be
// right (a wrong one is a 400 naming the field, counts towards the account's lock as a failed
// sign-in does, and a locked account cannot try); without one, the session must come from a
// sign-in within users.RecentSignIn. It returns the answer to give, or nil.
func provePresence(e *core.RequestEvent, limits throttle.Limits, method, field, password string) error {
	key := throttle.AccountKey(e.Auth.Collection().Id, e.Auth.Email())
	now := time.Now()
	if until, err := throttle.Locked(e.App, key, now); err != nil {
		return e.InternalServerError("", err)
	} else if !until.IsZero() {
		return e.TooManyRequestsError("This account is locked after too many failed attempts; try again later or reset your password by email.", nil)
	}
	if password != "" {
		if e.Auth.ValidatePassword(passwords.Normalize(password)) || e.Auth.ValidatePassword(password) {
			return nil
		}
		throttle.CountFailure(e, limits, key)
		audit.Request(e, method, audit.OutcomeFailure, "Wrong password for a sensitive action.")
		return e.BadRequestError("The password is wrong.", validation.Errors{
			field: validation.NewError("validation_invalid_password", "This is not your current password."),
		})
	}
	if users.SignedInRecently(e, now) {
		return nil
	}
	audit.Request(e, method, audit.OutcomeFailure, "No proof of presence.")
	return e.ForbiddenError(msgNeedPresence, nil)
}
